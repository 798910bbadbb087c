"""Learned absolute position embeddings."""

from __future__ import annotations

import keras
from keras import ops

from keras_seq._same_shape import SameShape
from keras_seq._validation import check_positive_ints, concrete_values


def check_positions(positions, start_index, length, sequence_length, name="inputs"):
    """Raise a `ValueError` when positions reach `sequence_length` or below 0.

    `positions` (explicit ids) win over `start_index` + `length`. Checked
    whenever the values are known: statically, or in eager calls.
    """
    if positions is not None:
        dtype = keras.backend.standardize_dtype(getattr(positions, "dtype", "int32"))
        if "int" not in dtype:
            raise ValueError(
                f"`positions` must hold integer positions; received dtype {dtype}."
            )
        values = concrete_values(positions)
        if values is None or values.size == 0:
            return
        low, high = int(values.min()), int(values.max())
        if low < 0 or high >= sequence_length:
            raise ValueError(
                f"`positions` must lie in [0, {sequence_length}) (`sequence_length`); "
                f"received positions from {low} to {high}."
            )
        return
    start = concrete_values(start_index)
    if start is None:
        return
    start = int(start)
    if start < 0:
        raise ValueError(f"`start_index` must be >= 0; received {start}.")
    if isinstance(length, int) and start + length > sequence_length:
        raise ValueError(
            f"`{name}` has {length} positions starting at {start}, more than "
            f"`sequence_length`={sequence_length}."
        )


@keras.saving.register_keras_serializable(package="keras_seq")
class PositionEmbedding(SameShape, keras.layers.Layer):
    """A learned embedding per position, as in GPT and BERT.

    Holds a `[sequence_length, D]` table and returns rows
    `start_index .. start_index + T - 1` (or the rows given by `positions`)
    broadcast to the shape of `inputs` (add it to the token embeddings
    yourself). The sequence axis is the second to last, so `[B, T, D]` and
    `[B, A, T, D]` inputs both work. Inputs may be shorter than
    `sequence_length`; positions at or beyond it raise a `ValueError`
    whenever they are known (static shapes, eager calls) instead of reusing
    or clamping rows. Keras masks pass through.

    Args:
        sequence_length: int, the largest number of positions.
        initializer: initializer for the table. Defaults to `"glorot_uniform"`.

    Call arguments:
        inputs: tensor `[..., T, D]` (only its shape is used).
        start_index: int or scalar tensor, first position. Defaults to `0`.
        positions: optional integer `[T]` or `[B, T]` positions; when given
            they take precedence over `start_index` (keras-hub's argument,
            for cached decoding or packed sequences).

    Example:
    >>> import numpy as np
    >>> from keras_seq.layers import PositionEmbedding
    >>> layer = PositionEmbedding(sequence_length=8)
    >>> tuple(layer(np.zeros((2, 5, 4), "float32")).shape)
    (2, 5, 4)
    >>> step = layer(np.zeros((2, 1, 4), "float32"), positions=np.array([3]))
    >>> bool(np.allclose(step[0, 0], layer.position_embeddings.numpy()[3]))
    True
    """

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        check_positive_ints({"sequence_length": sequence_length})
        self.sequence_length = sequence_length
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        if len(inputs_shape) < 2:
            raise ValueError(
                "`inputs` must have rank >= 2 ([..., T, D]); received shape "
                f"{tuple(inputs_shape)}."
            )
        if inputs_shape[-1] is None:
            raise ValueError("The last dimension of `inputs` must be known.")
        self.position_embeddings = self.add_weight(
            name="embeddings",
            shape=(self.sequence_length, inputs_shape[-1]),
            initializer=self.initializer,
            trainable=True,
        )

    def call(self, inputs, start_index=0, positions=None):
        check_positions(positions, start_index, inputs.shape[-2], self.sequence_length)
        shape = ops.shape(inputs)
        table = ops.cast(ops.convert_to_tensor(self.position_embeddings), self.compute_dtype)
        if positions is not None:
            rows = ops.take(table, ops.cast(positions, "int32"), axis=0)
        else:
            rows = ops.slice(table, (start_index, 0), (shape[-2], inputs.shape[-1]))
        return ops.broadcast_to(rows, shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config
