"""Helpers for teacher-forced training of autoregressive decoders."""

from __future__ import annotations

import numpy as np
from keras import ops


def shift_right(targets, start_id: int):
    """Builds teacher-forcing decoder inputs by shifting targets one step right.

    ``start_id`` is prepended to every row and the last column is dropped, so
    the output has the same shape ``[B, T]`` (and dtype) as `targets`:
    position ``t`` of the decoder input holds target ``t - 1``.

    NumPy arrays (and nested lists) give a NumPy array; tensors of the active
    Keras backend (including symbolic tensors inside a ``tf.function`` or a
    functional model) are handled with `keras.ops` and give a tensor.

    Args:
        targets: Integer ids of shape ``[B, T]``.
        start_id: The id to insert at position 0 (usually the ``<sos>`` id).

    Returns:
        The decoder inputs, shape ``[B, T]``.

    Raises:
        ValueError: If `targets` is not rank 2 or `start_id` is not a
            non-negative integer.

    Example:

    >>> import numpy as np
    >>> from keras_seq.text import shift_right
    >>> shift_right(np.array([[5, 6, 7, 3], [8, 3, 0, 0]]), start_id=2).tolist()
    [[2, 5, 6, 7], [2, 8, 3, 0]]
    """
    if isinstance(start_id, bool) or not isinstance(start_id, int | np.integer):
        raise ValueError(
            f"`start_id` must be a non-negative integer; got {start_id!r}."
        )
    if start_id < 0:
        raise ValueError(f"`start_id` must be a non-negative integer; got {start_id}.")
    if isinstance(targets, list | tuple | np.ndarray | np.generic):
        array = np.asarray(targets)
        if array.ndim != 2:
            raise ValueError(
                f"`targets` must have rank 2 ([batch, time]); got shape {array.shape}."
            )
        start = np.full((array.shape[0], 1), start_id, dtype=array.dtype)
        return np.concatenate([start, array], axis=1)[:, :-1]
    try:
        rank = len(targets.shape)
    except (TypeError, ValueError):  # unknown rank: cannot check statically
        rank = None
    if rank is not None and rank != 2:
        raise ValueError(
            "`targets` must have rank 2 ([batch, time]); got shape "
            f"{tuple(targets.shape)}."
        )
    start = ops.full_like(targets[:, :1], start_id)
    return ops.concatenate([start, targets], axis=1)[:, :-1]
