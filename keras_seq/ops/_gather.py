"""`take` for indices known to be in range.

`keras.ops.take` on TensorFlow first maps negative indices to positive ones
(`where(i < 0, i + shape[axis], i)`: nine graph ops around each `tf.gather`).
The LSH rounds and the decoding loops gather with indices that are never
negative, and their traced graphs (a decoding loop traces the whole model)
pay for those ops at every trace and every graph set-up: on TensorFlow they
call `tf.gather` directly, elsewhere `keras.ops.take`.
"""

from __future__ import annotations

import keras
from keras import ops


def take(x, indices, axis):
    """`x` gathered along `axis` at `indices`, all in `[0, x.shape[axis])`
    (same result as `keras.ops.take` for such indices).

    Example:
    >>> import numpy as np
    >>> from keras_seq.ops._gather import take
    >>> x = np.arange(6).reshape(2, 3)
    >>> np.asarray(take(x, np.array([2, 0]), axis=1)).tolist()
    [[2, 0], [5, 3]]
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.gather(x, indices, axis=axis)
    return ops.take(x, indices, axis=axis)

