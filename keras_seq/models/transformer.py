"""The encoder-decoder Transformer (Vaswani et al., 2017)."""

from __future__ import annotations

import keras
from keras import ops

from keras_seq.decoding.step import static_step
from keras_seq.layers.token_and_position_embedding import TokenAndPositionEmbedding
from keras_seq.layers.transformer_encoder_block import TransformerEncoderBlock
from keras_seq.models._generation import (
    GenerationMixin,
    check_max_length,
    decoding_options,
)
from keras_seq.models._transformer_common import (
    StoredConfig,
    check_token_ids,
    decoder_stack,
    output_projection,
    seq2seq_inputs,
)


@keras.saving.register_keras_serializable(package="keras_seq")
class Transformer(GenerationMixin, StoredConfig, keras.Model):
    """Encoder-decoder Transformer for sequence-to-sequence tasks.

    The encoder embeds `encoder_tokens` (sinusoidal positions by default) and
    applies `num_encoder_layers` `TransformerEncoderBlock`s; the decoder
    embeds `decoder_tokens` (teacher forcing: the targets shifted right,
    `keras_seq.text.shift_right`) and applies `num_decoder_layers`
    `TransformerDecoderBlock`s (causal self-attention, cross-attention to the
    encoder output), then projects to logits `[B, T, V]` (float32 under
    mixed precision). Id 0 is padding on both sides and is masked.

    `generate` encodes once, precomputes every layer's cross-attention
    keys/values, and decodes with a self-attention key/value cache in a
    compiled loop over a fixed-size token buffer (XLA-compiled with
    `jit_compile=True`).

    Args:
        encoder_vocabulary_size, decoder_vocabulary_size: ints.
        sequence_length: int, the longest source or target sequence.
        num_encoder_layers, num_decoder_layers: ints. Default to `2`.
        hidden_dim: int, divisible by `num_heads`. Defaults to `128`.
        num_heads: int. Defaults to `4`.
        intermediate_dim: int. Defaults to `512`.
        dropout: float. Defaults to `0.1`.
        activation: FFN activation. Defaults to `"relu"`.
        norm_first: bool. Defaults to `False` (the paper's post-norm).
        position: `"sinusoidal"` or `"learned"`. Defaults to `"sinusoidal"`.
        tie_embeddings: bool; the output projection reuses the decoder's
            token embedding, and when the two vocabularies have the same size
            the encoder shares that embedding too. Defaults to `False`.
        start_id, end_id: ints for `generate`. Default to `2` and `3`.

    Call arguments:
        inputs: dict with `"encoder_tokens"` `[B, S]` and `"decoder_tokens"`
            `[B, T]`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.models import Transformer
    >>> model = Transformer(40, 30, 16, hidden_dim=16, num_heads=2,
    ...                     intermediate_dim=32)
    >>> batch = {"encoder_tokens": np.ones((2, 9), "int32"),
    ...          "decoder_tokens": np.ones((2, 5), "int32")}
    >>> tuple(model(batch).shape)
    (2, 5, 30)
    >>> tuple(model.generate(np.ones((2, 9), "int32"), max_length=6).shape)
    (2, 6)
    """

    def __init__(
        self,
        encoder_vocabulary_size,
        decoder_vocabulary_size,
        sequence_length,
        num_encoder_layers=2,
        num_decoder_layers=2,
        hidden_dim=128,
        num_heads=4,
        intermediate_dim=512,
        dropout=0.1,
        activation="relu",
        norm_first=False,
        position="sinusoidal",
        tie_embeddings=False,
        start_id=2,
        end_id=3,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.store_config(locals())
        policy = self.dtype_policy

        def embedding(size, name):
            return TokenAndPositionEmbedding(
                size, sequence_length, hidden_dim, position=position, dtype=policy, name=name
            )

        self.decoder_embedding = embedding(decoder_vocabulary_size, "decoder_embedding")
        self.shared_embeddings = tie_embeddings and encoder_vocabulary_size == decoder_vocabulary_size
        self.encoder_embedding = (
            self.decoder_embedding
            if self.shared_embeddings
            else embedding(encoder_vocabulary_size, "encoder_embedding")
        )
        self.embedding_dropout = keras.layers.Dropout(dropout, dtype=policy)
        self.encoder_blocks = [
            TransformerEncoderBlock(
                num_heads, intermediate_dim, dropout=dropout, activation=activation,
                norm_first=norm_first, dtype=policy, name=f"encoder_block_{i}",
            )
            for i in range(num_encoder_layers)
        ]
        self.decoder_blocks = decoder_stack(
            num_decoder_layers, num_heads, intermediate_dim, dropout, activation, norm_first,
            True, policy, "decoder_block",
        )
        norm = keras.layers.LayerNormalization
        self.encoder_norm = norm(epsilon=1e-5, dtype=policy, name="encoder_norm") if norm_first else None
        self.decoder_norm = norm(epsilon=1e-5, dtype=policy, name="decoder_norm") if norm_first else None
        self.head = output_projection(
            tie_embeddings, self.decoder_embedding.token_embedding, decoder_vocabulary_size
        )

    def build(self, inputs_shape=None):
        if self.built:
            return
        source = target = None
        if isinstance(inputs_shape, dict):
            source = tuple(inputs_shape.get("encoder_tokens", (None, None)))[1]
            target = tuple(inputs_shape.get("decoder_tokens", (None, None)))[1]
        self.encoder_embedding.build((None, source))
        self.decoder_embedding.build((None, target))
        encoded = (None, source, self.hidden_dim)
        decoded = (None, target, self.hidden_dim)
        for block in self.encoder_blocks:
            block.build(encoded)
        for block in self.decoder_blocks:
            block.build(decoded, encoded)
        for norm, shape in ((self.encoder_norm, encoded), (self.decoder_norm, decoded)):
            if norm is not None:
                norm.build(shape)
        self.head.build(decoded)
        self.built = True

    def encode(self, encoder_tokens, training=False):
        """Returns `(encoder_outputs [B, S, D], encoder_padding_mask [B, S])`."""
        encoder_tokens = check_token_ids(
            "encoder_tokens", encoder_tokens, self.encoder_vocabulary_size
        )
        mask = ops.not_equal(encoder_tokens, 0)
        x = self.embedding_dropout(self.encoder_embedding(encoder_tokens), training=training)
        for block in self.encoder_blocks:
            x = block(x, padding_mask=mask, training=training)
        if self.encoder_norm is not None:
            x = self.encoder_norm(x)
        return x, mask

    def _logits(self, x):
        if self.decoder_norm is not None:
            x = self.decoder_norm(x)
        return self.head(x)

    def call(self, inputs, training=False):
        encoder_tokens, decoder_tokens = seq2seq_inputs(inputs)
        encoded, encoder_mask = self.encode(encoder_tokens, training)
        decoder_tokens = check_token_ids(
            "decoder_tokens", decoder_tokens, self.decoder_vocabulary_size
        )
        decoder_mask = ops.not_equal(decoder_tokens, 0)
        x = self.embedding_dropout(self.decoder_embedding(decoder_tokens), training=training)
        for block in self.decoder_blocks:
            x = block(
                x,
                encoded,
                decoder_padding_mask=decoder_mask,
                encoder_padding_mask=encoder_mask,
                training=training,
            )
        return self._logits(x)

    # -- cached inference ----------------------------------------------------

    def initial_state(self, encoder_tokens, max_length):
        """Decoding state: encoder outputs and mask, per-layer cross-attention
        keys/values, and an empty self-attention cache
        `[B, layers, 2, max_length, H, D / H]`."""
        encoded, encoder_mask = self.encode(encoder_tokens)
        batch = ops.shape(encoded)[0]
        head_dim = self.hidden_dim // self.num_heads
        return {
            "encoder_outputs": encoded,
            "encoder_mask": encoder_mask,
            "cross_cache": ops.stack(
                [block.compute_cross_attention_cache(encoded) for block in self.decoder_blocks],
                axis=1,
            ),
            "cache": ops.zeros(
                (batch, self.num_decoder_layers, 2, max_length, self.num_heads, head_dim),
                self.compute_dtype,
            ),
        }

    @static_step
    def step_fn(self, tokens, state, index=None):
        """`keras_seq.decoding` step: the token before `index` through both
        caches, the logits of position `index` (see `TransformerLM.step_fn`)."""
        if index is None:
            index = ops.shape(tokens)[1]
        position = index - 1
        x = self.decoder_embedding(ops.expand_dims(ops.take(tokens, position, axis=1), 1), start_index=position)
        updated = []
        for i, block in enumerate(self.decoder_blocks):
            x, layer_cache = block(
                x,
                state["encoder_outputs"],
                encoder_padding_mask=state["encoder_mask"],
                cache=state["cache"][:, i],
                cache_update_index=position,
                cross_attention_cache=state["cross_cache"][:, i],
            )
            updated.append(layer_cache)
        return self._logits(x)[:, 0], dict(state, cache=ops.stack(updated, axis=1))

    def generate(self, encoder_tokens, max_length, strategy="greedy", beam_width=5, length_penalty=0.0,
                 temperature=1.0, top_k=None, top_p=None, seed=None):  # fmt: skip
        """Decodes `max_length` ids after the start token `[B, max_length]`
        (0 after `end_id`), in a compiled loop.

        Decoding options (`strategy`, `beam_width`, `length_penalty`,
        `temperature`, `top_k`, `top_p`, `seed`) as in
        `keras_seq.models.TransformerLM.generate`.
        """
        options = decoding_options(strategy, beam_width, length_penalty, temperature, top_k, top_p, seed)
        check_max_length(max_length, self.sequence_length - 1, f"sequence_length - 1 = {self.sequence_length - 1}")
        encoder_tokens = check_token_ids("encoder_tokens", ops.convert_to_tensor(encoder_tokens, "int32"))
        return self._generate_ids(encoder_tokens, max_length, options)

    def _decoding_start(self, encoder_tokens, max_length):
        start = ops.full((ops.shape(encoder_tokens)[0], 1), self.start_id, "int32")
        return start, self.initial_state(encoder_tokens, max_length + 1), max_length + 1
