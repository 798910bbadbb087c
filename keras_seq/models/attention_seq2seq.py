"""Sequence-to-sequence with a Bi-LSTM encoder and additive attention."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_seq._validation import (
    check_positive_ints,
    check_rate,
    check_token_ids,
)
from keras_seq.decoding.step import static_step
from keras_seq.layers.bahdanau_attention import BahdanauAttention
from keras_seq.models._generation import GenerationMixin, decoding_options
from keras_seq.models._transformer_common import StoredConfig, seq2seq_inputs
from keras_seq.text.vocabulary import Vocabulary


def _as_vocabulary(value):
    if value is None or isinstance(value, Vocabulary):
        return value
    if isinstance(value, dict):
        return Vocabulary.from_config(value)
    raise ValueError(
        "A vocabulary must be a `keras_seq.text.Vocabulary`, its config dict or "
        f"None; received {type(value).__name__}."
    )


@keras.saving.register_keras_serializable(package="keras_seq")
class AttentionSeq2Seq(GenerationMixin, StoredConfig, keras.Model):
    """Bi-LSTM encoder, additive attention and an LSTM decoder.

    The encoder reads the embedded source with a bidirectional LSTM into
    annotations a_j (forward and backward states concatenated); its final
    states, through a tanh bridge, initialise the decoder. The decoder LSTM
    reads the previous target token (teacher forcing in training: feed
    `keras_seq.text.shift_right(targets, start_id)`), its state s_t queries
    `BahdanauAttention` over the annotations (e_tj = v^T tanh(W_q s_t +
    W_v a_j)), and the attentional state tanh(W_c [s_t; c_t]) predicts the
    next token. Using the current state s_t as the query (Luong et al.'s
    ordering, with Bahdanau's additive score) lets training run the decoder
    LSTM over all steps at once; inference decodes one step at a time inside
    a compiled loop over a fixed-size token buffer (XLA-compiled with
    `jit_compile=True`).

    Padding id 0 is masked in the source (the attention ignores it) and in
    the target. Logits are float32 under mixed precision.

    Args:
        source_vocabulary_size: int, number of source token ids.
        target_vocabulary_size: int, number of target token ids.
        embedding_dim: int. Defaults to `32`.
        encoder_units: int, LSTM units per direction. Defaults to `64`.
        decoder_units: int, decoder LSTM units. Defaults to `128`.
        attention_units: int. Defaults to `64`.
        score: `"additive"` or `"concat"`, see `BahdanauAttention`.
        dropout: float, dropout on embeddings and the attentional state.
        start_id: int, the start-of-sequence id fed first when decoding.
            Defaults to `2` (`Vocabulary.SOS`).
        end_id: int, the end-of-sequence id. Defaults to `3`.
        source_vocabulary, target_vocabulary: optional `Vocabulary` objects
            (or their configs) saved with the model, which enable
            `translate` on strings.

    Call arguments:
        inputs: dict with `"encoder_tokens"` `[B, Tx]` and
            `"decoder_tokens"` `[B, Ty]` integer ids.

    Returns:
        Logits `[B, Ty, target_vocabulary_size]`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.models import AttentionSeq2Seq
    >>> model = AttentionSeq2Seq(20, 15, embedding_dim=8, encoder_units=8,
    ...                          decoder_units=16, attention_units=8)
    >>> batch = {"encoder_tokens": np.ones((2, 7), "int32"),
    ...          "decoder_tokens": np.ones((2, 4), "int32")}
    >>> tuple(model(batch).shape)
    (2, 4, 15)
    >>> tuple(model.generate(np.ones((2, 7), "int32"), max_length=5).shape)
    (2, 5)

    References:
        Bahdanau, Cho and Bengio, 2015; Luong, Pham and Manning, 2015.
    """

    def __init__(
        self,
        source_vocabulary_size,
        target_vocabulary_size,
        embedding_dim=32,
        encoder_units=64,
        decoder_units=128,
        attention_units=64,
        score="additive",
        dropout=0.0,
        start_id=Vocabulary.SOS,
        end_id=Vocabulary.EOS,
        source_vocabulary=None,
        target_vocabulary=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.store_config(locals())
        check_rate("dropout", dropout)
        self.dropout = float(dropout)
        self.start_id = int(start_id)
        self.end_id = int(end_id)
        self.source_vocabulary = _as_vocabulary(source_vocabulary)
        self.target_vocabulary = _as_vocabulary(target_vocabulary)

        policy = self.dtype_policy
        self.source_embedding = keras.layers.Embedding(
            source_vocabulary_size, embedding_dim, mask_zero=True, dtype=policy,
            name="source_embedding",
        )
        self.encoder = keras.layers.Bidirectional(
            keras.layers.LSTM(encoder_units, return_sequences=True, return_state=True, dtype=policy),
            dtype=policy,
            name="encoder",
        )
        self.bridge_h = keras.layers.Dense(decoder_units, activation="tanh", dtype=policy, name="bridge_h")
        self.bridge_c = keras.layers.Dense(decoder_units, activation="tanh", dtype=policy, name="bridge_c")
        self.target_embedding = keras.layers.Embedding(
            target_vocabulary_size, embedding_dim, mask_zero=True, dtype=policy,
            name="target_embedding",
        )
        self.decoder = keras.layers.LSTM(
            decoder_units, return_sequences=True, return_state=True, dtype=policy, name="decoder"
        )
        self.attention = BahdanauAttention(attention_units, score=score, dtype=policy, name="attention")
        self.combine = keras.layers.Dense(decoder_units, activation="tanh", dtype=policy, name="combine")
        self.output_dropout = keras.layers.Dropout(self.dropout, dtype=policy)
        self.embedding_dropout = keras.layers.Dropout(self.dropout, dtype=policy)
        self.output_projection = keras.layers.Dense(
            target_vocabulary_size, dtype="float32", name="output_projection"
        )

    # -- building blocks ------------------------------------------------------

    def build(self, inputs_shape=None):
        if self.built:
            return
        source_length = None
        target_length = None
        if isinstance(inputs_shape, dict):
            source_length = tuple(inputs_shape.get("encoder_tokens", (None, None)))[1]
            target_length = tuple(inputs_shape.get("decoder_tokens", (None, None)))[1]
        self.source_embedding.build((None, source_length))
        self.encoder.build((None, source_length, self.embedding_dim))
        self.bridge_h.build((None, 2 * self.encoder_units))
        self.bridge_c.build((None, 2 * self.encoder_units))
        self.target_embedding.build((None, target_length))
        self.decoder.build((None, target_length, self.embedding_dim))
        self.attention.build(
            (None, target_length, self.decoder_units),
            (None, source_length, 2 * self.encoder_units),
        )
        self.combine.build((None, target_length, self.decoder_units + 2 * self.encoder_units))
        self.output_projection.build((None, target_length, self.decoder_units))
        self.built = True

    def encode(self, encoder_tokens, training=False):
        """Returns `(annotations [B, Tx, 2U], source_mask [B, Tx], [h, c])`."""
        encoder_tokens = ops.convert_to_tensor(encoder_tokens)
        if len(encoder_tokens.shape) != 2:
            raise ValueError(
                "`encoder_tokens` must be integer ids of rank 2 [batch, time]; "
                f"received shape {tuple(encoder_tokens.shape)}."
            )
        check_token_ids(encoder_tokens, self.source_vocabulary_size, "encoder_tokens")
        source_mask = ops.not_equal(encoder_tokens, 0)
        embedded = self.embedding_dropout(self.source_embedding(encoder_tokens), training=training)
        annotations, fh, fc, bh, bc = self.encoder(embedded, mask=source_mask, training=training)
        state = [
            self.bridge_h(ops.concatenate([fh, bh], -1)),
            self.bridge_c(ops.concatenate([fc, bc], -1)),
        ]
        return annotations, source_mask, state

    def _decode(self, decoder_tokens, annotations, source_mask, state, training=False):
        check_token_ids(decoder_tokens, self.target_vocabulary_size, "decoder_tokens")
        embedded = self.embedding_dropout(self.target_embedding(decoder_tokens), training=training)
        outputs, h, c = self.decoder(embedded, initial_state=state, training=training)
        context, weights = self.attention(outputs, annotations, mask=source_mask)
        attentional = self.combine(ops.concatenate([outputs, context], -1))
        attentional = self.output_dropout(attentional, training=training)
        return self.output_projection(attentional), [h, c], weights

    def call(self, inputs, training=False):
        encoder_tokens, decoder_tokens = seq2seq_inputs(inputs)
        annotations, source_mask, state = self.encode(encoder_tokens, training)
        logits, _, _ = self._decode(decoder_tokens, annotations, source_mask, state, training)
        return logits

    def attention_weights(self, encoder_tokens, decoder_tokens):
        """Teacher-forced attention weights `[B, Ty, Tx]`."""
        annotations, source_mask, state = self.encode(encoder_tokens)
        _, _, weights = self._decode(decoder_tokens, annotations, source_mask, state)
        return weights

    # -- inference ----------------------------------------------------------

    @static_step
    def step_fn(self, tokens, state, index=None):
        """One decoder step for `keras_seq.decoding`: the token before
        `index` of the buffer `tokens` -> `(logits [B, V] of position index,
        state)` (with the prefix `[B, t]` and no `index`: position `t`).

        The state (from `initial_state`) holds the LSTM state `h`, `c`, the
        encoder `annotations` and `source_mask`, and an `attention` history
        `[B, max_length, Tx]` into which the step for `index` writes its
        weights at row `index - 1`; searches may repeat and reorder all of it
        along the batch.
        """
        if index is None:
            index = ops.shape(tokens)[1]
        newest = ops.expand_dims(ops.take(tokens, index - 1, axis=1), 1)
        logits, (h, c), weights = self._decode(
            newest, state["annotations"], state["source_mask"], [state["h"], state["c"]]
        )
        history = ops.slice_update(
            state["attention"], (0, index - 1, 0), ops.cast(weights, state["attention"].dtype)
        )
        return logits[:, 0], dict(state, h=h, c=c, attention=history)

    def initial_state(self, encoder_tokens, max_length):
        """Decoding state for `step_fn` after encoding `encoder_tokens`."""
        annotations, source_mask, (h, c) = self.encode(encoder_tokens)
        batch, length = ops.shape(annotations)[0], ops.shape(annotations)[1]
        return {
            "h": h,
            "c": c,
            "annotations": annotations,
            "source_mask": source_mask,
            "attention": ops.zeros((batch, max_length, length), "float32"),
        }

    def generate(self, encoder_tokens, max_length, return_attention=False, strategy="greedy", beam_width=5,
                 length_penalty=0.0, temperature=1.0, top_k=None, top_p=None, seed=None):  # fmt: skip
        """Decodes in a compiled loop.

        Returns `max_length` token ids per row `[B, max_length]` (positions
        after `end_id` are 0; the start token is not included); with
        `return_attention=True` (greedy decoding only) also the weights
        `[B, max_length, Tx]`.

        Decoding options (`strategy`, `beam_width`, `length_penalty`,
        `temperature`, `top_k`, `top_p`, `seed`) as in
        `keras_seq.models.TransformerLM.generate`.
        """
        options = decoding_options(strategy, beam_width, length_penalty, temperature, top_k, top_p, seed)
        if return_attention and strategy != "greedy":
            raise ValueError("`return_attention=True` is supported with strategy='greedy' only.")
        check_positive_ints({"max_length": max_length})
        encoder_tokens = np.asarray(encoder_tokens, "int32")
        if encoder_tokens.ndim != 2:
            raise ValueError(
                "`encoder_tokens` must be integer ids of rank 2 [batch, time]; "
                f"received shape {encoder_tokens.shape}."
            )
        result = self._generate_ids(
            ops.convert_to_tensor(encoder_tokens), max_length, options, return_results=return_attention
        )
        if return_attention:
            tokens, results = result
            return tokens, results["attention"]
        return result

    def _decoding_start(self, encoder_tokens, max_length):
        start = ops.full((ops.shape(encoder_tokens)[0], 1), self.start_id, "int32")
        return start, self.initial_state(encoder_tokens, max_length), max_length + 1

    def _decoding_results(self, state):
        return {"attention": state["attention"]}

    def translate(self, texts, max_length=None, return_attention=False, **decoding):
        """Strings in, strings out; needs the vocabularies saved with the model.
        `decoding` options (`strategy`, `beam_width`, ...) go to `generate`."""
        if self.source_vocabulary is None or self.target_vocabulary is None:
            raise ValueError(
                "`translate` needs `source_vocabulary` and `target_vocabulary`; "
                "construct the model with them or call `generate` on ids."
            )
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        ids = self.source_vocabulary.encode(texts, add_eos=True)
        max_length = max_length or 2 * ids.shape[1] + 2
        if return_attention:
            tokens, attention = self.generate(ids, max_length, return_attention=True, **decoding)
        else:
            tokens = self.generate(ids, max_length, **decoding)
        outputs = self.target_vocabulary.decode(tokens)
        outputs = outputs[0] if single else outputs
        if return_attention:
            return outputs, attention
        return outputs

    def get_config(self):
        config = super().get_config()
        for name in ("source_vocabulary", "target_vocabulary"):
            vocabulary = getattr(self, name)
            config[name] = vocabulary.get_config() if vocabulary else None
        return config
