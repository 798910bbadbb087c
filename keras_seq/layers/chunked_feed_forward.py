"""Position-wise feed-forward network computed chunk by chunk along time."""

from __future__ import annotations

import keras
from keras import ops

from keras_seq._same_shape import SameShape
from keras_seq._validation import positive_int_errors, raise_errors, rate_error

__all__ = ["ChunkedFeedForward"]


@keras.saving.register_keras_serializable(package="keras_seq")
class ChunkedFeedForward(SameShape, keras.layers.Layer):
    """Position-wise FFN `W2 · dropout(act(W1 x + b1)) + b2`, in time chunks.

    The Transformer's feed-forward sublayer acts on every position
    independently, so it can run on `num_chunks` slices of the time axis one
    after another (Kitaev et al., 2020, section 3): the `[B, T,
    intermediate_dim]` hidden activation then only exists for `T /
    num_chunks` positions at a time in the forward pass. The result equals
    the unchunked FFN (same weights, same ops per position). Lengths that
    `num_chunks` does not divide are handled (the last chunk is shorter; no
    padding is computed). On TensorFlow each chunk waits for the previous
    one, so graph execution cannot run them side by side. The backward pass
    of ordinary autodiff still keeps every chunk's hidden activation; inside
    a `ReversibleSequence` only one block's are alive at a time.

    The output width equals the input width. Masks pass through (positions
    are independent, so padding cannot leak).

    Args:
        intermediate_dim: int, hidden width.
        num_chunks: int, number of time chunks (1 = ordinary FFN).
        activation: activation of the hidden layer. Defaults to `"relu"`.
        dropout: float in [0, 1), dropout on the hidden activation.
            Defaults to `0.0`.

    Call arguments:
        inputs: `[B, T, D]`.
        training: bool, for dropout.

    Returns:
        `[B, T, D]`.

    Raises:
        ValueError: non-positive `intermediate_dim`/`num_chunks`, `dropout`
            outside [0, 1), inputs not rank 3.

    Example:
    >>> import numpy as np
    >>> from keras_seq.layers import ChunkedFeedForward
    >>> ffn = ChunkedFeedForward(intermediate_dim=16, num_chunks=3)
    >>> tuple(ffn(np.ones((2, 7, 8), "float32")).shape)
    (2, 7, 8)

    References:
        Kitaev, Kaiser & Levskaya, 2020, "Reformer: The Efficient Transformer".
    """

    def __init__(self, intermediate_dim, num_chunks, activation="relu", dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        errors = positive_int_errors(
            {"intermediate_dim": intermediate_dim, "num_chunks": num_chunks}
        )
        errors.append(rate_error("dropout", dropout))
        raise_errors(errors)
        self.intermediate_dim = intermediate_dim
        self.num_chunks = num_chunks
        self.activation = keras.activations.get(activation)
        self.dropout = float(dropout)
        self.supports_masking = True

    def build(self, inputs_shape):
        if len(inputs_shape) != 3:
            raise ValueError(
                f"`inputs` must have rank 3 [batch, time, features]; received shape "
                f"{tuple(inputs_shape)}."
            )
        width = inputs_shape[-1]
        policy = self.dtype_policy
        self.hidden_dense = keras.layers.Dense(
            self.intermediate_dim, activation=self.activation, dtype=policy, name="hidden_dense"
        )
        self.hidden_dense.build(inputs_shape)
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=policy, name="dropout")
        self.output_dense = keras.layers.Dense(width, dtype=policy, name="output_dense")
        self.output_dense.build(tuple(inputs_shape[:-1]) + (self.intermediate_dim,))
        self.built = True

    def _ffn(self, x, training):
        hidden = self.dropout_layer(self.hidden_dense(x), training=training)
        return self.output_dense(hidden)

    def call(self, inputs, training=None):
        if self.num_chunks == 1:
            return self._ffn(inputs, training)
        outputs = []
        previous = None
        for chunk in _split_time(inputs, self.num_chunks):
            if previous is not None:
                chunk = _after(chunk, previous)
            previous = self._ffn(chunk, training)
            outputs.append(previous)
        return ops.concatenate(outputs, axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "intermediate_dim": self.intermediate_dim,
                "num_chunks": self.num_chunks,
                "activation": keras.activations.serialize(self.activation),
                "dropout": self.dropout,
            }
        )
        return config


def _split_time(inputs, num_chunks):
    """`num_chunks` slices of the time axis, the last ones shorter (or empty).

    On TensorFlow one `tf.split`, whose gradient concatenates the chunks'
    gradients; the gradient of each slice `x[:, a:b]` would be a zero-padded
    tensor of the full input's size, one per chunk, all alive until summed.
    """
    length = ops.shape(inputs)[1]
    size = (length + num_chunks - 1) // num_chunks
    if keras.backend.backend() != "tensorflow":
        return [inputs[:, i * size : (i + 1) * size] for i in range(num_chunks)]
    import tensorflow as tf

    sizes = [
        tf.clip_by_value(length - i * size, 0, size) if not isinstance(length, int)
        else min(max(length - i * size, 0), size)
        for i in range(num_chunks)
    ]
    if all(isinstance(s, int) for s in sizes):
        return tf.split(inputs, sizes, axis=1)
    return tf.split(inputs, tf.stack(sizes), num=num_chunks, axis=1)


def _after(tensor, previous):
    """`tensor`, available only once `previous` has been computed (TensorFlow
    graphs would otherwise run every chunk at once); other backends run ops
    in program order."""
    if keras.backend.backend() != "tensorflow":
        return tensor
    import tensorflow as tf

    with tf.control_dependencies([previous]):
        return tf.identity(tensor)
