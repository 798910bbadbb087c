"""Token embedding plus sinusoidal or learned position information."""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_seq._validation import check_token_ids, positive_int_errors, raise_errors
from keras_seq.layers.position_embedding import PositionEmbedding, check_positions
from keras_seq.layers.sinusoidal_position_encoding import SinusoidalPositionEncoding

_POSITIONS = ("sinusoidal", "learned")


def _clone(initializer):
    """A fresh initializer with the same config (stateless initializers
    would otherwise give the token and position tables the same values)."""
    return initializer.__class__.from_config(initializer.get_config())


@keras.saving.register_keras_serializable(package="keras_seq")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Embeds token ids and adds their positions.

    With `position="sinusoidal"` the token embeddings are multiplied by
    sqrt(D) before the fixed encoding is added (as in the Transformer paper,
    so the two have comparable scale); with `position="learned"` a
    `PositionEmbedding` is added unscaled, its table initialised with
    `embeddings_initializer` like the token table (as in keras-hub). With
    `mask_zero=True` the output carries a Keras mask, True where the id is
    not 0 (padding), exactly as keras-hub's layer; keras-hub defaults to
    `mask_zero=False`, we default to `True`.

    Inputs are checked: ids must be integers (checked at trace time too) in
    `[0, vocabulary_size)` (checked in eager calls), and positions must stay
    below `sequence_length` for both kinds of position, so a model never
    silently meets positions it was not built for.

    Args:
        vocabulary_size: int, number of token ids.
        sequence_length: int, the largest number of positions (the size of
            the learned table; an upper bound documented for sinusoidal).
        embedding_dim: int, the model width D.
        position: `"sinusoidal"` or `"learned"`. Defaults to `"sinusoidal"`.
        mask_zero: bool, whether id 0 is padding. Defaults to `True`.
        embeddings_initializer: initializer of the token table (and of the
            learned position table). Defaults to `"uniform"`.

    Call arguments:
        inputs: integer tensor `[B, T]`.
        start_index: int or scalar tensor, position of the first token.
        positions: optional integer `[T]` or `[B, T]` positions; take
            precedence over `start_index`.

    Returns:
        Tensor `[B, T, D]`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.layers import TokenAndPositionEmbedding
    >>> layer = TokenAndPositionEmbedding(100, 16, 8)
    >>> tuple(layer(np.array([[5, 3, 0]])).shape)
    (1, 3, 8)
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        embedding_dim,
        position="sinusoidal",
        mask_zero=True,
        embeddings_initializer="uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        errors = positive_int_errors(
            {
                "vocabulary_size": vocabulary_size,
                "sequence_length": sequence_length,
                "embedding_dim": embedding_dim,
            }
        )
        if position not in _POSITIONS:
            errors.append(f"`position` must be one of {_POSITIONS}; received {position!r}.")
        raise_errors(errors)
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.position = position
        self.mask_zero = mask_zero
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size,
            embedding_dim,
            embeddings_initializer=_clone(self.embeddings_initializer),
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        if position == "learned":
            self.position_embedding = PositionEmbedding(
                sequence_length,
                initializer=_clone(self.embeddings_initializer),
                dtype=self.dtype_policy,
                name="position_embedding",
            )
        else:
            self.position_embedding = SinusoidalPositionEncoding(
                dtype=self.dtype_policy, name="position_embedding"
            )
        self.supports_masking = mask_zero

    def build(self, inputs_shape):
        self.token_embedding.build(inputs_shape)
        self.position_embedding.build(tuple(inputs_shape) + (self.embedding_dim,))

    def call(self, inputs, start_index=0, positions=None):
        if len(inputs.shape) != 2:
            raise ValueError(
                "`inputs` must be integer ids of rank 2 [batch, time]; received "
                f"shape {tuple(inputs.shape)}."
            )
        check_token_ids(inputs, self.vocabulary_size, "inputs")
        check_positions(positions, start_index, inputs.shape[1], self.sequence_length)
        x = self.token_embedding(inputs)
        if self.position == "sinusoidal":
            x = x * ops.cast(math.sqrt(self.embedding_dim), x.dtype)
        return x + self.position_embedding(x, start_index=start_index, positions=positions)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape) + (self.embedding_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length,
                "embedding_dim": self.embedding_dim,
                "position": self.position,
                "mask_zero": self.mask_zero,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
            }
        )
        return config
