"""Decoder-only (GPT-style) Transformer language model."""

from __future__ import annotations

import keras
from keras import ops

from keras_seq.layers.token_and_position_embedding import TokenAndPositionEmbedding
from keras_seq.models._generation import compiled, decoding_options, search
from keras_seq.models._transformer_common import (
    StoredConfig,
    check_heads,
    check_token_ids,
    decoder_stack,
    output_projection,
)


@keras.saving.register_keras_serializable(package="keras_seq")
class TransformerLM(StoredConfig, keras.Model):
    """A GPT-style language model: embeddings, causal decoder blocks, logits.

    Token ids `[B, T]` (0 = padding, masked as keys) are embedded with
    positions, passed through `num_layers` `TransformerDecoderBlock`s without
    cross-attention (causal self-attention + FFN) and projected to
    next-token logits `[B, T, V]` (float32 under mixed precision). Train it
    with `model.fit(tokens[:, :-1], tokens[:, 1:])` and
    `SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)`.

    `generate` decodes greedily with a key/value cache in a compiled loop:
    every step feeds one token and attends over the cached keys/values, so
    it equals recomputing the full causal pass at every step.

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
        self.store_config(
            locals(),
            positive=(
                "vocabulary_size",
                "sequence_length",
                "num_layers",
                "hidden_dim",
                "num_heads",
                "intermediate_dim",
            ),
        )
        check_heads(hidden_dim, num_heads)
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

    def step_fn(self, tokens, state):
        """`keras_seq.decoding` step: feeds the newest token through the cache."""
        index = ops.shape(tokens)[1] - 1
        logits, cache = self.call_with_cache(tokens[:, -1:], state["cache"], index)
        return logits[:, 0], {"cache": cache}

    def generate(
        self,
        prompt_tokens,
        max_length,
        strategy="greedy",
        beam_width=5,
        length_penalty=0.0,
        temperature=1.0,
        top_k=None,
        top_p=None,
        seed=None,
    ):
        """Continues `prompt_tokens` to `max_length` tokens in total; after
        `end_id` a row is padded with 0. Prompts are right-padded with 0
        (beam search needs prompts of one length).

        Decoding: `strategy="greedy"` (default), `"beam"` (`beam_width`,
        `length_penalty` alpha; see `keras_seq.decoding.beam_search`, the
        best hypothesis is returned) or `"sample"` (`temperature`, `top_k`,
        `top_p`, `seed`; see `keras_seq.decoding.sample`).
        """
        options = decoding_options(strategy, beam_width, length_penalty, temperature, top_k, top_p, seed)
        if not isinstance(max_length, int) or not 0 < max_length <= self.sequence_length:
            raise ValueError(
                f"`max_length` must be an integer in [1, sequence_length={self.sequence_length}]; "
                f"received {max_length!r}."
            )
        prompt_tokens = check_token_ids("prompt_tokens", ops.convert_to_tensor(prompt_tokens, "int32"))
        if not self.built:
            self.build()
        run = compiled(self, options, max_length, lambda x, length: self._generate(x, length, options))
        return ops.convert_to_numpy(run(prompt_tokens))

    def _generate(self, prompt_tokens, max_length, options):
        state = {"cache": self.empty_cache(ops.shape(prompt_tokens)[0], max_length)}
        return search(options, self.step_fn, prompt_tokens, max_length, self.end_id, state)
