"""Learned absolute position embeddings."""

from __future__ import annotations

import keras
from keras import ops

from keras_seq._validation import check_positive_ints


@keras.saving.register_keras_serializable(package="keras_seq")
class PositionEmbedding(keras.layers.Layer):
    """A learned embedding per position, as in GPT and BERT.

    Holds a `[sequence_length, D]` table and returns rows
    `start_index .. start_index + T - 1` broadcast to the shape of `inputs`
    (add it to the token embeddings yourself). Inputs may be shorter than
    `sequence_length`; longer ones raise a `ValueError` when the length is
    known statically. Keras masks pass through.

    Args:
        sequence_length: int, the largest number of positions.
        initializer: initializer for the table. Defaults to `"glorot_uniform"`.

    Call arguments:
        inputs: tensor `[B, T, D]`.
        start_index: int or scalar tensor, first position. Defaults to `0`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.layers import PositionEmbedding
    >>> layer = PositionEmbedding(sequence_length=8)
    >>> tuple(layer(np.zeros((2, 5, 4), "float32")).shape)
    (2, 5, 4)
    """

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        check_positive_ints({"sequence_length": sequence_length})
        self.sequence_length = sequence_length
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        if inputs_shape[-1] is None:
            raise ValueError("The last dimension of `inputs` must be known.")
        self.position_embeddings = self.add_weight(
            name="embeddings",
            shape=(self.sequence_length, inputs_shape[-1]),
            initializer=self.initializer,
            trainable=True,
        )

    def call(self, inputs, start_index=0):
        length = inputs.shape[-2]
        if isinstance(length, int) and isinstance(start_index, int):
            if length + start_index > self.sequence_length:
                raise ValueError(
                    f"`inputs` has {length} positions starting at {start_index}, "
                    f"more than `sequence_length`={self.sequence_length}."
                )
        shape = ops.shape(inputs)
        rows = ops.slice(
            ops.convert_to_tensor(self.position_embeddings),
            (start_index, 0),
            (shape[-2], inputs.shape[-1]),
        )
        return ops.broadcast_to(ops.cast(rows, self.compute_dtype), shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config
