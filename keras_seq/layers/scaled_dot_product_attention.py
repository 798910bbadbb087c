"""Layer form of `keras_seq.ops.scaled_dot_product_attention`."""

from __future__ import annotations

import keras
from keras import ops

from keras_seq._config import AttributeConfig
from keras_seq._validation import check_rate
from keras_seq.ops.attention import merge_masks, scaled_dot_product_attention


@keras.saving.register_keras_serializable(package="keras_seq")
class ScaledDotProductAttention(AttributeConfig, keras.layers.Layer):
    """softmax(Q K^T / sqrt(d_k) + M) V, with dropout on the weights.

    The seed's attention formula as a weight-free layer. Logits and softmax
    run in float32 under any dtype policy. Masks are boolean, True where
    attention is allowed: the explicit `mask` (broadcastable to
    `[B, (H,) Tq, Tk]`) is merged with `&` with the implicit Keras masks of
    `query` (rows) and `key`/`value` (columns) when inputs are rank 3.

    Args:
        dropout_rate: float in `[0, 1)`, dropout on the attention weights
            during training. Defaults to `0.0`.
        seed: optional int seed for dropout.

    Call arguments:
        query: `[B, Tq, d_k]` or `[B, H, Tq, d_k]`.
        key: `[B, Tk, d_k]` or `[B, H, Tk, d_k]`.
        value: `[B, Tk, d_v]` or `[B, H, Tk, d_v]`.
        mask: optional boolean mask, see above.
        training: bool, whether dropout is active.

    Returns:
        `(outputs, weights)`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.layers import ScaledDotProductAttention
    >>> q = np.random.rand(2, 4, 8).astype("float32")
    >>> out, w = ScaledDotProductAttention()(q, q, q)
    >>> tuple(out.shape), tuple(w.shape)
    ((2, 4, 8), (2, 4, 4))
    """

    config_attributes = ("dropout_rate", "seed")

    def __init__(self, dropout_rate=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        check_rate("dropout_rate", dropout_rate)
        self.dropout_rate = float(dropout_rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed) if dropout_rate else None
        self.supports_masking = True

    def call(
        self,
        query,
        key,
        value,
        mask=None,
        training=None,
        query_mask=None,
        key_mask=None,
        value_mask=None,
    ):
        implicit = []
        if len(query.shape) == 3:
            if query_mask is not None:
                implicit.append(ops.expand_dims(query_mask, -1))
            for column_mask in (key_mask, value_mask):
                if column_mask is not None:
                    implicit.append(ops.expand_dims(column_mask, -2))
        merged = merge_masks(mask, *implicit)
        return scaled_dot_product_attention(
            query,
            key,
            value,
            mask=merged,
            dropout_rate=self.dropout_rate,
            training=bool(training),
            seed=self.seed_generator,
        )

    def compute_mask(self, *args, **kwargs):
        return None
