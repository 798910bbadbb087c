"""Decoder-only (GPT-style) Transformer language model."""

from __future__ import annotations

import keras
from keras import ops

from keras_seq.decoding.step import static_step
from keras_seq.layers.token_and_position_embedding import TokenAndPositionEmbedding
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
)


@keras.saving.register_keras_serializable(package="keras_seq")
class TransformerLM(GenerationMixin, StoredConfig, keras.Model):
    """A GPT-style language model: embeddings, causal decoder blocks, logits.

    Token ids `[B, T]` (0 = padding, masked as keys) are embedded with
    positions, passed through `num_layers` `TransformerDecoderBlock`s without
    cross-attention (causal self-attention + FFN) and projected to
    next-token logits `[B, T, V]` (float32 under mixed precision). Train it
    with `model.fit(tokens[:, :-1], tokens[:, 1:])` and
    `SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)`.

    `generate` decodes with a key/value cache in a compiled loop over a
    fixed-size token buffer: every step feeds one token and attends over the
    cached keys/values, so it equals recomputing the full causal pass at
    every step. With `jit_compile=True` (in `compile`, or set
    `model.jit_compile = True`) the whole loop is XLA-compiled.

    Args:
        vocabulary_size: int.
        sequence_length: int, the longest sequence (positions).
        num_layers: int. Defaults to `2`.
        hidden_dim: int, model width; divisible by `num_heads`.
            Defaults to `128`.
        num_heads: int. Defaults to `4`.
        intermediate_dim: int, FFN width. Defaults to `512`.
        dropout: float. Defaults to `0.1`.
        activation: FFN activation. Defaults to `"gelu"`.
        norm_first: bool, pre-norm blocks and a final LayerNorm (GPT-2).
            Defaults to `True`.
        position: `"learned"` or `"sinusoidal"`. Defaults to `"learned"`.
        tie_embeddings: bool, reuse the token embedding as the output
            projection. Defaults to `True`.
        end_id: int, the end-of-sequence id for `generate`. Defaults to `3`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.models import TransformerLM
    >>> lm = TransformerLM(50, 16, num_layers=1, hidden_dim=16, num_heads=2,
    ...                    intermediate_dim=32)
    >>> tuple(lm(np.ones((2, 7), "int32")).shape)
    (2, 7, 50)
    >>> tuple(lm.generate(np.array([[2, 5, 0], [2, 0, 0]]), max_length=8).shape)
    (2, 8)
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        num_layers=2,
        hidden_dim=128,
        num_heads=4,
        intermediate_dim=512,
        dropout=0.1,
        activation="gelu",
        norm_first=True,
        position="learned",
        tie_embeddings=True,
        end_id=3,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.store_config(locals())
        policy = self.dtype_policy
        self.embedding = TokenAndPositionEmbedding(
            vocabulary_size, sequence_length, hidden_dim, position=position,
            dtype=policy, name="embedding",
        )
        self.embedding_dropout = keras.layers.Dropout(dropout, dtype=policy)
        self.blocks = decoder_stack(
            num_layers, num_heads, intermediate_dim, dropout, activation, norm_first,
            False, policy, "decoder_block",
        )
        self.final_norm = (
            keras.layers.LayerNormalization(epsilon=1e-5, dtype=policy, name="final_norm")
            if norm_first
            else None
        )
        self.head = output_projection(
            tie_embeddings, self.embedding.token_embedding, vocabulary_size, name="lm_head"
        )

    def build(self, inputs_shape=None):
        if self.built:
            return
        if inputs_shape is not None and len(inputs_shape) != 2:
            raise ValueError(
                "`token_ids` must be integer ids of rank 2 [batch, time]; received "
                f"shape {tuple(inputs_shape)}."
            )
        length = None if inputs_shape is None else inputs_shape[1]
        self.embedding.build((None, length))
        hidden = (None, length, self.hidden_dim)
        for block in self.blocks:
            block.build(hidden)
        if self.final_norm is not None:
            self.final_norm.build(hidden)
        self.head.build(hidden)
        self.built = True

    def _hidden_to_logits(self, x):
        if self.final_norm is not None:
            x = self.final_norm(x)
        return self.head(x)

    def call(self, token_ids, training=False):
        token_ids = check_token_ids("token_ids", token_ids, self.vocabulary_size)
        padding = ops.not_equal(token_ids, 0)
        x = self.embedding_dropout(self.embedding(token_ids), training=training)
        for block in self.blocks:
            x = block(x, decoder_padding_mask=padding, training=training)
        return self._hidden_to_logits(x)

    # -- cached inference ----------------------------------------------------

    def empty_cache(self, batch_size, max_length):
        """Zeros `[B, num_layers, 2, max_length, H, D / H]`."""
        return ops.zeros(
            (batch_size, self.num_layers, 2, max_length, self.num_heads, self.hidden_dim // self.num_heads),
            self.compute_dtype,
        )

    def call_with_cache(self, token_ids, cache, cache_update_index):
        """Logits for `token_ids` `[B, t]` placed at `cache_update_index`,
        attending over (and updating) the cache; returns `(logits, cache)`."""
        x = self.embedding(token_ids, start_index=cache_update_index)
        updated = []
        for i, block in enumerate(self.blocks):
            x, layer_cache = block(x, cache=cache[:, i], cache_update_index=cache_update_index)
            updated.append(layer_cache)
        return self._hidden_to_logits(x), ops.stack(updated, axis=1)

    @static_step
    def step_fn(self, tokens, state, index=None):
        """`keras_seq.decoding` step: feeds the token before `index` through
        the cache and returns the logits of position `index` (with the
        prefix `[B, t]` and no `index`: position `t`)."""
        if index is None:
            index = ops.shape(tokens)[1]
        newest = ops.expand_dims(ops.take(tokens, index - 1, axis=1), 1)
        logits, cache = self.call_with_cache(newest, state["cache"], index - 1)
        return logits[:, 0], {"cache": cache}

    def generate(self, prompt_tokens, max_length, strategy="greedy", beam_width=5, length_penalty=0.0,
                 temperature=1.0, top_k=None, top_p=None, seed=None):  # fmt: skip
        """Continues `prompt_tokens` to `max_length` tokens in total; after
        `end_id` a row is padded with 0. Prompts are right-padded with 0
        (beam search needs prompts of one length).

        Decoding: `strategy="greedy"` (default), `"beam"` (`beam_width`,
        `length_penalty` alpha; see `keras_seq.decoding.beam_search`, the
        best hypothesis is returned) or `"sample"` (`temperature`, `top_k`,
        `top_p`; see `keras_seq.decoding.sample`). Sampling without a `seed`
        advances the model's `sampling_seed_generator`, so calls differ; with
        a `seed` it repeats exactly.
        """
        options = decoding_options(strategy, beam_width, length_penalty, temperature, top_k, top_p, seed)
        check_max_length(max_length, self.sequence_length, f"sequence_length={self.sequence_length}")
        prompt_tokens = check_token_ids("prompt_tokens", ops.convert_to_tensor(prompt_tokens, "int32"))
        return self._generate_ids(prompt_tokens, max_length, options)

    def _decoding_start(self, prompt_tokens, max_length):
        state = {"cache": self.empty_cache(ops.shape(prompt_tokens)[0], max_length)}
        return prompt_tokens, state, max_length
