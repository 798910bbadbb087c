"""The Reformer language model: LSH attention, reversible layers, chunked FFN."""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_seq._same_shape import SameShape
from keras_seq.decoding.step import static_step
from keras_seq.layers.chunked_feed_forward import ChunkedFeedForward
from keras_seq.layers.lsh_self_attention import LSHSelfAttention
from keras_seq.layers.reversible import ReversibleBlock, ReversibleSequence
from keras_seq.layers.sinusoidal_position_encoding import SinusoidalPositionEncoding
from keras_seq.models._generation import (
    GenerationMixin,
    check_max_length,
    decoding_options,
)
from keras_seq.models._transformer_common import (
    StoredConfig,
    check_token_ids,
)
from keras_seq.ops._gather import take

__all__ = ["AxialPositionEmbedding", "ReformerAttention", "ReformerFeedForward", "ReformerLM"]


@keras.saving.register_keras_serializable(package="keras_seq")
class ReformerAttention(SameShape, keras.layers.Layer):
    """Pre-norm LSH self-attention sublayer: `LSHSelfAttention(LayerNorm(x))`.

    It is the `f` of a Reformer `ReversibleBlock` (no residual here: the
    block adds it). It forwards `compute_buckets` and `buckets=` to the
    attention, so a `ReversibleSequence` hashes once per forward pass and
    reuses the buckets in its backward pass.

    Args:
        num_heads, key_dim, bucket_size, num_hashes, causal, dropout, seed,
        num_buckets: as `keras_seq.layers.LSHSelfAttention`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.models.reformer import ReformerAttention
    >>> layer = ReformerAttention(2, 4, bucket_size=4, num_hashes=1, seed=0)
    >>> x = np.random.rand(1, 8, 8).astype("float32")
    >>> bool(np.allclose(layer(x), layer(x, buckets=layer.compute_buckets(x))))
    True
    """

    def __init__(
        self, num_heads, key_dim, bucket_size=64, num_hashes=4, causal=False,
        dropout=0.0, seed=None, num_buckets=None, **kwargs,
    ):
        super().__init__(**kwargs)
        self.attention = LSHSelfAttention(
            num_heads, key_dim, bucket_size=bucket_size, num_hashes=num_hashes,
            causal=causal, dropout=dropout, seed=seed, num_buckets=num_buckets,
            dtype=self.dtype_policy, name="lsh_attention",
        )
        self.norm = keras.layers.LayerNormalization(
            epsilon=1e-5, dtype=self.dtype_policy, name="norm"
        )
        self.supports_masking = True

    def build(self, inputs_shape):
        if not self.norm.built:
            self.norm.build(inputs_shape)
        if not self.attention.built:
            self.attention.build(inputs_shape)
        self.built = True

    def compute_buckets(self, inputs, padding_mask=None):
        """The attention's buckets for `inputs` (see `LSHSelfAttention`)."""
        if not self.built:
            self.build(tuple(inputs.shape))
        return self.attention.compute_buckets(self.norm(inputs), padding_mask=padding_mask)

    def call(self, inputs, padding_mask=None, training=None, buckets=None):
        return self.attention(
            self.norm(inputs), padding_mask=padding_mask, training=training, buckets=buckets
        )

    def get_config(self):
        config = super().get_config()
        attention = self.attention
        config.update(
            {
                name: getattr(attention, name)
                for name in (
                    "num_heads", "key_dim", "bucket_size", "num_hashes", "causal",
                    "dropout", "seed", "num_buckets",
                )
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_seq")
class ReformerFeedForward(SameShape, keras.layers.Layer):
    """Pre-norm chunked feed-forward sublayer: `dropout(FFN(LayerNorm(x)))`.

    The `g` of a Reformer `ReversibleBlock`; see `ChunkedFeedForward`.

    Args:
        intermediate_dim, num_chunks, activation: as `ChunkedFeedForward`.
        dropout: float, on the hidden activation and on the output.

    Example:
    >>> import numpy as np
    >>> from keras_seq.models.reformer import ReformerFeedForward
    >>> tuple(ReformerFeedForward(16, 2)(np.ones((1, 5, 8), "float32")).shape)
    (1, 5, 8)
    """

    def __init__(self, intermediate_dim, num_chunks=1, activation="gelu", dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.feed_forward = ChunkedFeedForward(
            intermediate_dim, num_chunks, activation=activation, dropout=dropout,
            dtype=self.dtype_policy, name="feed_forward",
        )
        self.norm = keras.layers.LayerNormalization(
            epsilon=1e-5, dtype=self.dtype_policy, name="norm"
        )
        self.output_dropout = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self.supports_masking = True

    def build(self, inputs_shape):
        self.norm.build(inputs_shape)
        self.feed_forward.build(inputs_shape)
        self.built = True

    def call(self, inputs, training=None):
        return self.output_dropout(
            self.feed_forward(self.norm(inputs), training=training), training=training
        )

    def get_config(self):
        config = super().get_config()
        ffn = self.feed_forward
        config.update(
            {
                "intermediate_dim": ffn.intermediate_dim,
                "num_chunks": ffn.num_chunks,
                "activation": keras.activations.serialize(ffn.activation),
                "dropout": ffn.dropout,
            }
        )
        return config


def default_axial_shape(sequence_length):
    """Two factors `(rows, columns)` with `rows * columns >= sequence_length`,
    as close to a square as possible."""
    columns = math.isqrt(sequence_length - 1) + 1 if sequence_length > 1 else 1
    return (-(-sequence_length // columns), columns)


@keras.saving.register_keras_serializable(package="keras_seq")
class AxialPositionEmbedding(keras.layers.Layer):
    """Axial (factorised) learned position embedding of the Reformer.

    Position `p` of a grid `rows x columns` is `(p // columns, p % columns)`;
    its embedding is `concat(E_rows[p // columns], E_columns[p % columns])`
    with `E_rows` `[rows, D - D // 2]` and `E_columns` `[columns, D // 2]`:
    `rows + columns` vectors instead of `rows * columns` (65k positions cost
    about 512 vectors). Returns the position embeddings `[1, T, D]` for the
    first `T` positions of `inputs` `[B, T, ...]`.

    Args:
        axial_shape: `(rows, columns)`.
        hidden_dim: int, D.

    Example:
    >>> import numpy as np
    >>> from keras_seq.models.reformer import AxialPositionEmbedding
    >>> tuple(AxialPositionEmbedding((4, 4), 6)(np.zeros((2, 10))).shape)
    (1, 10, 6)
    """

    def __init__(self, axial_shape, hidden_dim, **kwargs):
        super().__init__(**kwargs)
        axial_shape = tuple(axial_shape)
        if len(axial_shape) != 2 or any(
            isinstance(a, bool) or not isinstance(a, int) or a <= 0 for a in axial_shape
        ):
            raise ValueError(
                f"`axial_shape` must be two positive integers; received {axial_shape!r}."
            )
        if isinstance(hidden_dim, bool) or not isinstance(hidden_dim, int) or hidden_dim < 2:
            raise ValueError(f"`hidden_dim` must be an integer >= 2; received {hidden_dim!r}.")
        self.axial_shape = axial_shape
        self.hidden_dim = hidden_dim

    def build(self, inputs_shape=None):
        rows, columns = self.axial_shape
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.row_embeddings = self.add_weight(
            name="row_embeddings", shape=(rows, self.hidden_dim - self.hidden_dim // 2),
            initializer=init,
        )
        self.column_embeddings = self.add_weight(
            name="column_embeddings", shape=(columns, self.hidden_dim // 2), initializer=init,
        )
        self.built = True

    def call(self, inputs):
        rows, columns = self.axial_shape
        length = ops.shape(inputs)[1]
        positions = ops.arange(rows * columns, dtype="int32")[:length]
        row = ops.take(self.row_embeddings, positions // columns, axis=0)
        column = ops.take(self.column_embeddings, positions % columns, axis=0)
        return ops.expand_dims(ops.concatenate([row, column], axis=-1), 0)

    def compute_output_shape(self, inputs_shape):
        return (1, inputs_shape[1], self.hidden_dim)

    def get_config(self):
        config = super().get_config()
        config.update({"axial_shape": list(self.axial_shape), "hidden_dim": self.hidden_dim})
        return config


@keras.saving.register_keras_serializable(package="keras_seq")
class ReformerLM(GenerationMixin, StoredConfig, keras.Model):
    """A causal Reformer language model (Kitaev, Kaiser & Levskaya, 2020).

    Token ids `[B, T]` (0 = padding) are embedded, plus axial or sinusoidal
    position embeddings (or none); with `token_shift=True` the last
    `hidden_dim // 2` channels of each position's embedding are those of the
    previous token's embedding (zeros at the first position), so every
    position sees the bigram (previous, current) before any attention. The
    result is duplicated into two streams that pass
    through a `ReversibleSequence` of `num_layers` blocks, each
    `y1 = x1 + Attention(x2)`, `y2 = x2 + FeedForward(y1)` with
    `ReformerAttention` (pre-norm causal `LSHSelfAttention`) and
    `ReformerFeedForward` (pre-norm `ChunkedFeedForward`). The two streams
    are concatenated, layer-normalised and projected to next-token logits
    `[B, T, V]` (float32 under mixed precision). Training memory for
    activations does not grow with `num_layers`. Train it with
    `model.fit(tokens[:, :-1], tokens[:, 1:])` and
    `SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)`.

    Causality: no position attends to a later one. Because the LSH sort
    puts all tokens of the sequence into chunks, the chunk a token lands in
    (and so which earlier tokens it can see) depends on the buckets of the
    whole sequence, later tokens included, as in trax and HF; with one
    chunk (`bucket_size >= T`) the logits of a position depend on earlier
    tokens only. Padding (id 0) is hashed after every real token and never
    attended to, so the contents of padded positions never change the
    logits of real positions.

    `generate` has no key/value cache (hashing needs the whole sequence):
    each new token re-runs the model on the fixed-size token buffer with
    every position from the new one on set to 0 (padding), exactly as a
    training batch holds a shorter sequence (padding content never changes
    real positions); the bucket count is fixed from `sequence_length`, so
    every shape is static and the loop compiles with XLA. Steps inside the
    prompt are skipped. Cost: one full forward pass per generated token.

    Args:
        vocabulary_size: int.
        sequence_length: int, the longest sequence (positions).
        num_layers: int. Defaults to `2`.
        hidden_dim: int, width of each stream; divisible by `num_heads`.
            Defaults to `128`.
        num_heads: int. Defaults to `4`.
        intermediate_dim: int, FFN width. Defaults to `512`.
        bucket_size: int, LSH chunk length. Defaults to `64`.
        num_hashes: int, LSH rounds. Defaults to `2`.
        num_chunks: int, FFN time chunks. Defaults to `1`.
        dropout: float. Defaults to `0.0`.
        activation: FFN activation. Defaults to `"gelu"`.
        position: `"axial"`, `"sinusoidal"` or `"none"` (a causal model
            can infer positions from the mask; no position features also
            means nothing to extrapolate when run on sequences longer than
            those it was trained on). Defaults to `"axial"`.
        axial_shape: optional `(rows, columns)` with
            `rows * columns >= sequence_length`; defaults to near-square.
        end_id: int, the end-of-sequence id for `generate`. Defaults to `3`.
        token_shift: bool, shift half of the embedding channels by one
            position (see above). Shared-QK attention matches a position to
            earlier positions that look like it, and a causal model reads
            only what the matched position holds, so recalling "the word
            before an earlier copy of this word" needs the previous word in
            the matched position's own input: a token shift puts it there
            without an attention layer learning it (in LSH attention, a
            previous-token head is hard: nearby positions must hash
            together yet be told apart). Defaults to `False`.
        seed: optional int, seeds of the LSH rotations (layer `i` uses
            `seed + i`). Defaults to `0`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.models import ReformerLM
    >>> lm = ReformerLM(30, 32, num_layers=2, hidden_dim=16, num_heads=2,
    ...                 intermediate_dim=32, bucket_size=4)
    >>> tuple(lm(np.ones((2, 12), "int32")).shape)
    (2, 12, 30)
    >>> tuple(lm.generate(np.array([[2, 5, 0], [2, 0, 0]]), max_length=6).shape)
    (2, 6)
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        num_layers=2,
        hidden_dim=128,
        num_heads=4,
        intermediate_dim=512,
        bucket_size=64,
        num_hashes=2,
        num_chunks=1,
        dropout=0.0,
        activation="gelu",
        position="axial",
        axial_shape=None,
        end_id=3,
        seed=0,
        token_shift=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if axial_shape is not None:
            axial_shape = list(axial_shape)
        self.store_config(locals())
        if position not in ("axial", "sinusoidal", "none"):
            raise ValueError(
                f"`position` must be 'axial', 'sinusoidal' or 'none'; received {position!r}."
            )
        if not isinstance(token_shift, bool):
            raise ValueError(f"`token_shift` must be a bool; received {token_shift!r}.")
        grid = tuple(axial_shape) if axial_shape is not None else default_axial_shape(sequence_length)
        if position == "axial" and (len(grid) != 2 or grid[0] * grid[1] < sequence_length):
            raise ValueError(
                f"`axial_shape` {grid} must be two integers whose product is at least "
                f"`sequence_length` ({sequence_length})."
            )
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"`seed` must be an integer; received {seed!r}.")
        policy = self.dtype_policy
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size, hidden_dim, dtype=policy, name="token_embedding"
        )
        if position == "axial":
            self.position_embedding = AxialPositionEmbedding(
                grid, hidden_dim, dtype=policy, name="position_embedding"
            )
        elif position == "sinusoidal":
            self.position_embedding = SinusoidalPositionEncoding(
                dtype=policy, name="position_embedding"
            )
        else:
            self.position_embedding = None
        self.embedding_dropout = keras.layers.Dropout(dropout, dtype=policy)
        padded = -(-sequence_length // bucket_size)
        num_buckets = max(2, 2 * padded)
        blocks = [
            ReversibleBlock(
                ReformerAttention(
                    num_heads, hidden_dim // num_heads, bucket_size=bucket_size,
                    num_hashes=num_hashes, causal=True, dropout=dropout, seed=seed + i,
                    num_buckets=num_buckets, dtype=policy, name=f"attention_{i}",
                ),
                ReformerFeedForward(
                    intermediate_dim, num_chunks, activation=activation, dropout=dropout,
                    dtype=policy, name=f"feed_forward_{i}",
                ),
                dtype=policy,
                name=f"block_{i}",
            )
            for i in range(num_layers)
        ]
        self.reversible = ReversibleSequence(blocks, dtype=policy, name="reversible")
        self.final_norm = keras.layers.LayerNormalization(
            epsilon=1e-5, dtype=policy, name="final_norm"
        )
        self.head = keras.layers.Dense(vocabulary_size, dtype="float32", name="lm_head")

    def build(self, inputs_shape=None):
        if self.built:
            return
        length = None if inputs_shape is None else inputs_shape[1]
        self.token_embedding.build((None, length))
        if self.position_embedding is not None:
            self.position_embedding.build((None, length, self.hidden_dim))
        both = (None, length, 2 * self.hidden_dim)
        self.reversible.build(both)
        self.final_norm.build(both)
        self.head.build(both)
        self.built = True

    def _embed(self, token_ids, training):
        x = self.token_embedding(token_ids)
        if self.token_shift:
            keep = self.hidden_dim - self.hidden_dim // 2
            previous = ops.pad(x[:, :-1, keep:], [[0, 0], [1, 0], [0, 0]])
            x = ops.concatenate([x[:, :, :keep], previous], axis=-1)
        if self.position == "axial":
            x = x + ops.cast(self.position_embedding(token_ids), x.dtype)
        elif self.position == "sinusoidal":
            x = x + ops.cast(self.position_embedding(x), x.dtype)
        return self.embedding_dropout(x, training=training)

    def call(self, token_ids, training=False):
        token_ids = check_token_ids("token_ids", token_ids, self.vocabulary_size)
        length = token_ids.shape[1]
        if length is not None and length > self.sequence_length:
            raise ValueError(
                f"`token_ids` has {length} positions; the model has `sequence_length` "
                f"{self.sequence_length}."
            )
        padding = ops.not_equal(token_ids, 0)
        x = self._embed(token_ids, training)
        streams = ops.concatenate([x, x], axis=-1)
        streams = self.reversible(streams, padding_mask=padding, training=training)
        return self.head(self.final_norm(streams))

    def with_num_hashes(self, num_hashes):
        """A copy of the model with the same weights whose LSH layers hash
        `num_hashes` rounds. The rotations are not weights, so a model
        trained with few rounds can be evaluated with more: more rounds
        miss fewer matching tokens (the Reformer paper, section 5, evaluates
        its LSH-1/2/4 models with 8 rounds this way).

        Example:
        >>> import numpy as np
        >>> from keras_seq.models import ReformerLM
        >>> lm = ReformerLM(30, 32, hidden_dim=16, num_heads=2,
        ...                 intermediate_dim=32, bucket_size=4, num_hashes=1)
        >>> x = np.ones((1, 12), "int32")
        >>> lm8 = lm.with_num_hashes(8)
        >>> lm8.num_hashes, tuple(lm8(x).shape)
        (8, (1, 12, 30))
        """
        if isinstance(num_hashes, bool) or not isinstance(num_hashes, int) or num_hashes < 1:
            raise ValueError(f"`num_hashes` must be a positive integer; received {num_hashes!r}.")
        # `build` creates every weight without running the model (a forward
        # pass would run all the LSH rounds eagerly, which is most of the
        # start-up of `applications.reformer_lm predict`).
        self.build()
        config = self.get_config()
        config["num_hashes"] = num_hashes
        clone = self.__class__.from_config(config)
        clone.build()
        clone.set_weights(self.get_weights())
        return clone

    # -- generation ------------------------------------------------------------

    @static_step
    def step_fn(self, tokens, state, index=None):
        """`keras_seq.decoding` step: runs the model on the token buffer with
        positions `>= index` set to 0 and returns the logits of position
        `index - 1`, the prediction for position `index` (with the prefix
        `[B, t]` and no `index`: the prefix right-padded with 0 to
        `max(state["total_length"])`, `index = t`). While every row is inside
        its prompt (`index < state["prompt_length"]`, `[B]`) the step is
        skipped (the search does not use those logits)."""
        if index is None:
            index = ops.shape(tokens)[1]
            tokens = ops.pad(tokens, [[0, 0], [0, ops.max(state["total_length"]) - index]])
        visible = ops.expand_dims(ops.arange(ops.shape(tokens)[1]) < index, 0)
        tokens = ops.where(visible, tokens, ops.zeros_like(tokens))

        def run():
            logits = self(tokens, training=False)
            return ops.cast(take(logits, index - 1, axis=1), "float32")

        def skip():
            return ops.zeros((ops.shape(tokens)[0], self.vocabulary_size), "float32")

        return ops.cond(index < ops.min(state["prompt_length"]), skip, run), state

    def generate(self, prompt_tokens, max_length, strategy="greedy", beam_width=5, length_penalty=0.0,
                 temperature=1.0, top_k=None, top_p=None, seed=None):  # fmt: skip
        """Continues `prompt_tokens` (right-padded with 0) to `max_length`
        tokens; after `end_id` a row is padded with 0. `strategy` is
        `"greedy"`, `"beam"` or `"sample"`, with the options of
        `keras_seq.models.TransformerLM.generate`. Each new token re-runs
        the model on the sequence so far (no cache; see the class doc)."""
        options = decoding_options(strategy, beam_width, length_penalty, temperature, top_k, top_p, seed)
        check_max_length(max_length, self.sequence_length, f"sequence_length={self.sequence_length}")
        prompt_tokens = check_token_ids("prompt_tokens", ops.convert_to_tensor(prompt_tokens, "int32"))
        return self._generate_ids(prompt_tokens, max_length, options)

    def _decoding_start(self, prompt_tokens, max_length):
        real = ops.cast(ops.not_equal(prompt_tokens, 0), "int32")
        lengths = ops.sum(ops.cumprod(real, axis=1), axis=1)
        # Skip the model while every row is still inside its prompt.
        state = {"prompt_length": lengths, "total_length": ops.full_like(lengths, max_length)}
        return prompt_tokens, state, max_length
