"""The Transformer decoder block: causal self-attention, cross-attention, FFN."""

from __future__ import annotations

import keras

from keras_seq.layers._block_utils import TransformerBlockBase, key_padding_mask


@keras.saving.register_keras_serializable(package="keras_seq")
class TransformerDecoderBlock(TransformerBlockBase):
    """One decoder layer: masked self-attention, cross-attention, FFN.

    Sublayers are wrapped as in `TransformerEncoderBlock` (post-norm by
    default, pre-norm with `norm_first=True`) and built in keras-hub's order,
    so with copied weights it computes what
    `keras_hub.layers.TransformerDecoder` computes, to float rounding (see
    `TransformerEncoderBlock` for how it is faster). Unlike keras-hub's it
    can return its attention weights, for inspection and TensorBoard
    heatmaps, and it gives its output spec without tracing.
    With `cross_attention=False` it is a decoder-only (GPT-style) block.

    Masks: `decoder_padding_mask` `[B, T]` (or the implicit Keras mask of
    `inputs`) masks self-attention keys, combined with the causal mask when
    `use_causal_mask=True`; `encoder_padding_mask` `[B, S]` (or the implicit
    mask of `encoder_outputs`) masks cross-attention keys.

    Incremental decoding: pass the self-attention `cache`
    `[B, 2, max_length, H, D / H]` (zeros to start) and `cache_update_index`
    (the position of the first of this call's tokens); the block writes this
    call's keys and values there, attends causally over the cache, and
    returns the updated cache. Decoding step by step equals one full causal
    pass.

    Args:
        num_heads: int, heads in both attentions; must divide D.
        intermediate_dim: int, hidden width of the feed-forward network.
        dropout: float in `[0, 1)`.
        activation: FFN activation. Defaults to `"relu"`.
        norm_first: bool, pre-norm instead of post-norm.
        cross_attention: bool, whether to attend to `encoder_outputs`.
            Defaults to `True`.
        layer_norm_epsilon: float. Defaults to `1e-5`.
        kernel_initializer, bias_initializer: for all projections.

    Call arguments:
        inputs: decoder sequence `[B, T, D]`.
        encoder_outputs: `[B, S, De]`; required iff `cross_attention`.
        decoder_padding_mask, encoder_padding_mask: optional boolean masks.
        use_causal_mask: bool. Defaults to `True`.
        cache, cache_update_index: see above.
        cross_attention_cache: optional `[B, 2, S, H, D / H]` cross-attention
            keys/values: read-only (e.g. from
            `compute_cross_attention_cache(encoder_outputs)`, which saves
            re-projecting the encoder outputs at every decoding step), or
            written when `cross_attention_cache_update_index` is given.
        cross_attention_cache_update_index: optional int or scalar tensor, as
            keras-hub's: the projected `encoder_outputs` are written into
            `cross_attention_cache` at this index (usually `0`, filling the
            cache on the first step) and the updated cache is returned.
        training: bool.
        return_attention_scores: bool.

    Returns:
        `outputs` `[B, T, D]`, followed (only when requested, in this order)
        by a dict of scores `{"self_attention": [B, H, T, T'],
        "cross_attention": [B, H, T, S]}`, the updated self-attention cache
        (when `cache` is given) and the updated cross-attention cache (when
        `cross_attention_cache_update_index` is given). keras-hub's block
        returns its cross-attention cache whenever one is passed; ours only
        when it was written (a read-only cache comes back unchanged).

    Example:
    >>> import numpy as np
    >>> from keras_seq.layers import TransformerDecoderBlock
    >>> block = TransformerDecoderBlock(num_heads=2, intermediate_dim=32)
    >>> y = np.random.rand(2, 5, 16).astype("float32")
    >>> x = np.random.rand(2, 7, 16).astype("float32")
    >>> tuple(block(y, x).shape)
    (2, 5, 16)
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.0,
        activation="relu",
        norm_first=False,
        cross_attention=True,
        layer_norm_epsilon=1e-5,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(
            num_heads,
            intermediate_dim,
            dropout=dropout,
            activation=activation,
            norm_first=norm_first,
            layer_norm_epsilon=layer_norm_epsilon,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            **kwargs,
        )
        self.cross_attention = bool(cross_attention)

    def build(self, inputs_shape, encoder_outputs_shape=None):
        self._check_inputs_shape(inputs_shape)
        (
            self._self_attention_layer,
            self._self_attention_layer_norm,
            self._self_attention_dropout,
        ) = self._attention_sublayer(
            "self_attention", "self_attention", inputs_shape, inputs_shape
        )
        if self.cross_attention:
            if encoder_outputs_shape is None:
                encoder_outputs_shape = inputs_shape
            self._check_inputs_shape(encoder_outputs_shape, "encoder_outputs")
            (
                self._cross_attention_layer,
                self._cross_attention_layer_norm,
                self._cross_attention_dropout,
            ) = self._attention_sublayer(
                "cross_attention", "cross_attention", inputs_shape, encoder_outputs_shape
            )
        self._build_feedforward(inputs_shape)
        self._feedforward_layer_norm = self._layer_norm(
            inputs_shape, "feedforward_layer_norm"
        )

    def call(
        self,
        inputs,
        encoder_outputs=None,
        decoder_padding_mask=None,
        encoder_padding_mask=None,
        use_causal_mask=True,
        cache=None,
        cache_update_index=None,
        cross_attention_cache=None,
        cross_attention_cache_update_index=None,
        training=None,
        return_attention_scores=False,
        mask=None,
        inputs_mask=None,
        encoder_outputs_mask=None,
    ):
        self._check_call(encoder_outputs, cross_attention_cache, cross_attention_cache_update_index)
        # Keras fills `mask`/`inputs_mask`/`encoder_outputs_mask` with the
        # implicit masks; explicit padding masks win.
        if decoder_padding_mask is None:
            decoder_padding_mask = mask if mask is not None else inputs_mask
        if encoder_padding_mask is None and encoder_outputs is not None:
            encoder_padding_mask = encoder_outputs_mask
        self_mask = key_padding_mask(
            decoder_padding_mask, "decoder_padding_mask", inputs, "inputs"
        )
        if cache is not None:
            self_mask = None  # The padding mask describes this step, not the cache.
        cross_mask = None
        if encoder_outputs is not None:
            cross_mask = key_padding_mask(
                encoder_padding_mask, "encoder_padding_mask", encoder_outputs, "encoder_outputs"
            )

        def self_attend(x):
            return self._attend(
                self._self_attention_layer,
                self._self_attention_dropout,
                x,
                x,
                training,
                return_attention_scores,
                attention_mask=self_mask,
                use_causal_mask=use_causal_mask,
                cache=cache,
                cache_update_index=cache_update_index,
            )

        def cross_attend(x):
            return self._attend(
                self._cross_attention_layer,
                self._cross_attention_dropout,
                x,
                encoder_outputs,
                training,
                return_attention_scores,
                attention_mask=cross_mask,
                cache=cross_attention_cache,
                cache_update_index=cross_attention_cache_update_index,
            )

        x, self_scores, new_cache = self._residual(
            inputs, self_attend, self._self_attention_layer_norm, training
        )
        scores = {"self_attention": self_scores}
        if self.cross_attention:
            x, scores["cross_attention"], new_cross_cache = self._residual(
                x, cross_attend, self._cross_attention_layer_norm, training
            )
        (x,) = self._residual(
            x,
            lambda y: self._feedforward(y, training),
            self._feedforward_layer_norm,
            training,
        )
        results = [x]
        if return_attention_scores:
            results.append(scores)
        if cache is not None:
            results.append(new_cache)
        if cross_attention_cache_update_index is not None:
            results.append(new_cross_cache)
        return results[0] if len(results) == 1 else tuple(results)

    def _check_call(self, encoder_outputs, cross_cache, cross_index):
        if self.cross_attention and encoder_outputs is None:
            raise ValueError(
                "This block was built with `cross_attention=True`, so "
                "`encoder_outputs` is required."
            )
        if not self.cross_attention and encoder_outputs is not None:
            raise ValueError(
                "This block has `cross_attention=False` and takes no "
                "`encoder_outputs`."
            )
        if cross_index is not None and cross_cache is None:
            raise ValueError(
                "`cross_attention_cache_update_index` was given without a "
                "`cross_attention_cache`; pass both or neither."
            )
        if cross_cache is not None and not self.cross_attention:
            raise ValueError(
                "This block has `cross_attention=False` and takes no "
                "`cross_attention_cache`."
            )

    def compute_output_shape(self, inputs_shape, encoder_outputs_shape=None):
        return tuple(inputs_shape)

    def compute_output_spec(
        self,
        inputs,
        encoder_outputs=None,
        cache=None,
        cross_attention_cache=None,
        cross_attention_cache_update_index=None,
        return_attention_scores=False,
        **kwargs,
    ):
        self._check_call(encoder_outputs, cross_attention_cache, cross_attention_cache_update_index)
        dtype = self.compute_dtype
        results = [keras.KerasTensor(tuple(inputs.shape), dtype=dtype)]
        if return_attention_scores:
            batch, length = inputs.shape[0], inputs.shape[1]
            keys = length if cache is None else cache.shape[2]
            scores = {
                "self_attention": keras.KerasTensor(
                    (batch, self.num_heads, length, keys), dtype=dtype
                )
            }
            if self.cross_attention:
                sources = encoder_outputs.shape[1]
                if cross_attention_cache is not None:
                    sources = cross_attention_cache.shape[2]
                scores["cross_attention"] = keras.KerasTensor(
                    (batch, self.num_heads, length, sources), dtype=dtype
                )
            results.append(scores)
        if cache is not None:
            results.append(keras.KerasTensor(tuple(cache.shape), dtype=cache.dtype))
        if cross_attention_cache_update_index is not None:
            results.append(
                keras.KerasTensor(
                    tuple(cross_attention_cache.shape), dtype=cross_attention_cache.dtype
                )
            )
        return results[0] if len(results) == 1 else tuple(results)

    def compute_cross_attention_cache(self, encoder_outputs):
        """The cross-attention keys/values of `encoder_outputs`, computed once.

        Pass the result as `cross_attention_cache` at every decoding step.
        """
        if not self.cross_attention:
            raise ValueError("This block has `cross_attention=False`.")
        return self._cross_attention_layer.compute_cache(encoder_outputs)

    def get_config(self):
        config = super().get_config()
        config["cross_attention"] = self.cross_attention
        return config
