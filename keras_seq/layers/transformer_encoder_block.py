"""The Transformer encoder block: self-attention and a feed-forward network."""

from __future__ import annotations

import keras

from keras_seq.layers._block_utils import (
    TransformerBlockBase,
    check_attention_mask,
    key_padding_mask,
)
from keras_seq.ops.attention import merge_masks


@keras.saving.register_keras_serializable(package="keras_seq")
class TransformerEncoderBlock(TransformerBlockBase):
    """One encoder layer: multi-head self-attention, then a position-wise FFN.

    Each sublayer is wrapped as LayerNorm(x + Dropout(Sublayer(x))) (post-norm,
    the paper's form) or x + Dropout(Sublayer(LayerNorm(x))) with
    `norm_first=True` (pre-norm, as in GPT-2 and most modern stacks). Heads
    have width D / num_heads. With copied weights it computes what
    `keras_hub.layers.TransformerEncoder` computes, to float rounding (its
    `normalize_first` is our `norm_first`), faster: the attention is our
    `MultiHeadAttention` and the feed-forward network runs as 2-D matmuls on
    the `Dense` kernels (on TensorFlow with the bias and a ReLU fused into
    the matmul); on TensorFlow the LayerNorms (Keras `LayerNormalization`
    sublayers) are computed as `(x - mean) * (rsqrt(var + eps) * gamma) +
    beta`, fewer element-wise passes than Keras's form. It can also return
    the attention weights, and gives
    its output shape and dtype without tracing (`compute_output_shape` /
    `compute_output_spec`, also under mixed precision).

    Masks: `padding_mask` `[B, T]` (or the implicit Keras mask of `inputs`)
    masks keys; `attention_mask` `[B, T, T]` is merged with it by `&`.

    Args:
        num_heads: int, number of attention heads; must divide D.
        intermediate_dim: int, hidden width of the feed-forward network.
        dropout: float in `[0, 1)`, used on attention weights and residuals.
        activation: FFN activation. Defaults to `"relu"`.
        norm_first: bool, pre-norm instead of post-norm. Defaults to `False`.
        layer_norm_epsilon: float. Defaults to `1e-5`.
        kernel_initializer, bias_initializer: for all projections.

    Call arguments:
        inputs: `[B, T, D]`.
        padding_mask: optional boolean `[B, T]`, True at real tokens.
        attention_mask: optional boolean `[B, T, T]`.
        training: bool.
        return_attention_scores: bool; if True returns `(outputs, scores)`
            with scores `[B, H, T, T]`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.layers import TransformerEncoderBlock
    >>> block = TransformerEncoderBlock(num_heads=2, intermediate_dim=32)
    >>> tuple(block(np.random.rand(2, 6, 16).astype("float32")).shape)
    (2, 6, 16)
    """

    def build(self, inputs_shape):
        self._check_inputs_shape(inputs_shape)
        (
            self._self_attention_layer,
            self._self_attention_layer_norm,
            self._self_attention_dropout,
        ) = self._attention_sublayer(
            "self_attention", "self_attention_layer", inputs_shape, inputs_shape
        )
        self._feedforward_layer_norm = self._layer_norm(
            inputs_shape, "feedforward_layer_norm"
        )
        self._build_feedforward(inputs_shape)

    def call(
        self,
        inputs,
        padding_mask=None,
        attention_mask=None,
        training=None,
        return_attention_scores=False,
        mask=None,
        inputs_mask=None,
    ):
        # Keras fills `mask` (or `inputs_mask`, when other tensors are passed)
        # with the implicit mask of `inputs`; an explicit padding mask wins.
        if padding_mask is None:
            padding_mask = mask if mask is not None else inputs_mask
        mask = merge_masks(
            key_padding_mask(padding_mask, "padding_mask", inputs, "inputs"),
            check_attention_mask(attention_mask, "attention_mask", inputs.shape, inputs.shape),
        )

        def attend(x):
            x, scores, _ = self._attend(
                self._self_attention_layer,
                self._self_attention_dropout,
                x,
                x,
                training,
                return_attention_scores,
                attention_mask=mask,
            )
            return x, scores

        x, scores = self._residual(
            inputs, attend, self._self_attention_layer_norm, training
        )
        (x,) = self._residual(
            x,
            lambda y: self._feedforward(y, training),
            self._feedforward_layer_norm,
            training,
        )
        if return_attention_scores:
            return x, scores
        return x

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape)

    def compute_output_spec(self, inputs, return_attention_scores=False, **kwargs):
        outputs = keras.KerasTensor(tuple(inputs.shape), dtype=self.compute_dtype)
        if not return_attention_scores:
            return outputs
        batch, length = inputs.shape[0], inputs.shape[1]
        scores_shape = (batch, self.num_heads, length, length)
        return outputs, keras.KerasTensor(scores_shape, dtype=self.compute_dtype)
