"""BERT-style encoder, its pretraining heads and a span-QA head."""

from __future__ import annotations

import keras
from keras import ops

from keras_seq._validation import check_positive_ints
from keras_seq._validation import check_token_ids as check_id_values
from keras_seq.layers.position_embedding import PositionEmbedding
from keras_seq.layers.transformer_encoder_block import TransformerEncoderBlock
from keras_seq.models._transformer_common import (
    StoredConfig,
    TiedOutputProjection,
    check_token_ids,
)
from keras_seq.ops.attention import masked_fill_value


def _split_inputs(inputs):
    if isinstance(inputs, dict):
        if "token_ids" not in inputs:
            raise ValueError(
                f"`inputs` must contain 'token_ids' (and optionally 'segment_ids'); received keys {sorted(inputs)}."
            )
        token_ids = check_token_ids("token_ids", inputs["token_ids"])
        segment_ids = inputs.get("segment_ids")
    else:
        token_ids, segment_ids = check_token_ids("token_ids", inputs), None
    if segment_ids is None:
        segment_ids = ops.zeros_like(token_ids)
    return token_ids, segment_ids


@keras.saving.register_keras_serializable(package="keras_seq")
class BertEncoder(StoredConfig, keras.Model):
    """Encoder-only Transformer with token, segment and position embeddings.

    The three embeddings are summed, layer-normalised and passed through
    `num_layers` post-norm `TransformerEncoderBlock`s (as in BERT); id 0 is
    padding and masked. Returns `{"sequence_output": [B, T, D],
    "pooled_output": [B, D]}` where the pooled output is tanh(W h_[CLS]) of
    the first token.

    Args:
        vocabulary_size: int.
        sequence_length: int, number of learned positions.
        num_layers: int. Defaults to `2`.
        hidden_dim: int. Defaults to `128`.
        num_heads: int. Defaults to `4`.
        intermediate_dim: int. Defaults to `512`.
        dropout: float. Defaults to `0.1`.
        num_segments: int, segment (sentence A/B) vocabulary. Defaults to `2`.

    Call arguments:
        inputs: `{"token_ids": [B, T], "segment_ids": [B, T]}` or just
            the token ids (all segment 0).

    Example:
    >>> import numpy as np
    >>> from keras_seq.models import BertEncoder
    >>> encoder = BertEncoder(100, 16, num_layers=1, hidden_dim=16, num_heads=2,
    ...                       intermediate_dim=32)
    >>> out = encoder({"token_ids": np.ones((2, 8), "int32"),
    ...                "segment_ids": np.zeros((2, 8), "int32")})
    >>> tuple(out["sequence_output"].shape), tuple(out["pooled_output"].shape)
    ((2, 8, 16), (2, 16))

    References:
        Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers
        for Language Understanding", 2019.
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
        num_segments=2,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.store_config(locals())
        policy = self.dtype_policy
        init = keras.initializers.TruncatedNormal(stddev=0.02)
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size, hidden_dim, embeddings_initializer=init, dtype=policy, name="token_embedding"
        )
        self.segment_embedding = keras.layers.Embedding(
            num_segments, hidden_dim, embeddings_initializer=init, dtype=policy, name="segment_embedding"
        )
        self.position_embedding = PositionEmbedding(
            sequence_length, initializer=init, dtype=policy, name="position_embedding"
        )
        self.embedding_norm = keras.layers.LayerNormalization(epsilon=1e-12, dtype=policy, name="embedding_norm")
        self.embedding_dropout = keras.layers.Dropout(dropout, dtype=policy)
        self.blocks = [
            TransformerEncoderBlock(
                num_heads, intermediate_dim, dropout=dropout, activation="gelu",
                layer_norm_epsilon=1e-12, kernel_initializer=init, dtype=policy,
                name=f"encoder_block_{i}",
            )
            for i in range(num_layers)
        ]
        self.pooler = keras.layers.Dense(hidden_dim, activation="tanh", kernel_initializer=init, dtype=policy, name="pooler")

    def build(self, inputs_shape=None):
        if self.built:
            return
        hidden = (None, None, self.hidden_dim)
        self.token_embedding.build((None, None))
        self.segment_embedding.build((None, None))
        self.position_embedding.build(hidden)
        self.embedding_norm.build(hidden)
        for block in self.blocks:
            block.build(hidden)
        self.pooler.build((None, self.hidden_dim))
        self.built = True

    def call(self, inputs, training=False):
        token_ids, segment_ids = _split_inputs(inputs)
        check_id_values(token_ids, self.vocabulary_size, "token_ids")
        check_id_values(segment_ids, self.num_segments, "segment_ids")
        x = self.token_embedding(token_ids) + self.segment_embedding(segment_ids)
        x = x + self.position_embedding(x)
        x = self.embedding_dropout(self.embedding_norm(x), training=training)
        padding = ops.not_equal(token_ids, 0)
        for block in self.blocks:
            x = block(x, padding_mask=padding, training=training)
        return {"sequence_output": x, "pooled_output": self.pooler(x[:, 0])}



@keras.saving.register_keras_serializable(package="keras_seq")
class BertPretrainer(keras.Model):
    """Masked-LM and next-sentence-prediction heads on a `BertEncoder`.

    MLM: Dense(D, gelu) -> LayerNorm -> logits over the vocabulary with the
    projection weight-tied to the encoder's token embedding (plus a bias).
    NSP: a 2-way classifier on the pooled output. `model.fit` minimises the
    sum of the two losses: the MLM cross-entropy averaged over the selected
    positions only (`mlm_weights`, as produced by `keras_seq.text.mlm_mask`)
    and the NSP cross-entropy; both accuracies are reported as metrics.

    Fit with `x = {"token_ids", "segment_ids"}` and
    `y = {"mlm_labels": [B, T], "mlm_weights": [B, T], "nsp_labels": [B]}`;
    just `model.compile(optimizer)` — the loss is built in.

    Args:
        encoder: a `BertEncoder`.

    Returns (call):
        `{"mlm_logits": [B, T, V], "nsp_logits": [B, 2]}` in float32.

    Example:
    >>> import numpy as np
    >>> from keras_seq.models import BertEncoder, BertPretrainer
    >>> encoder = BertEncoder(50, 16, num_layers=1, hidden_dim=16, num_heads=2,
    ...                       intermediate_dim=32)
    >>> model = BertPretrainer(encoder)
    >>> out = model({"token_ids": np.ones((2, 8), "int32")})
    >>> tuple(out["mlm_logits"].shape), tuple(out["nsp_logits"].shape)
    ((2, 8, 50), (2, 2))
    """

    def __init__(self, encoder, **kwargs):
        super().__init__(**kwargs)
        if isinstance(encoder, dict):
            encoder = keras.saving.deserialize_keras_object(encoder)
        if not isinstance(encoder, BertEncoder):
            raise ValueError(f"`encoder` must be a BertEncoder; received {type(encoder).__name__}.")
        self.encoder = encoder
        policy = self.dtype_policy
        self.mlm_dense = keras.layers.Dense(encoder.hidden_dim, activation="gelu", dtype=policy, name="mlm_dense")
        self.mlm_norm = keras.layers.LayerNormalization(epsilon=1e-12, dtype=policy, name="mlm_norm")
        self.mlm_output = TiedOutputProjection(encoder.token_embedding, name="mlm_output")
        self.nsp_output = keras.layers.Dense(2, dtype="float32", name="nsp_output")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mlm_loss_tracker = keras.metrics.Mean(name="mlm_loss")
        self.nsp_loss_tracker = keras.metrics.Mean(name="nsp_loss")
        self.mlm_accuracy = keras.metrics.SparseCategoricalAccuracy(name="mlm_accuracy")
        self.nsp_accuracy = keras.metrics.SparseCategoricalAccuracy(name="nsp_accuracy")

    def build(self, inputs_shape=None):
        if self.built:
            return
        self.encoder.build()
        hidden = (None, None, self.encoder.hidden_dim)
        self.mlm_dense.build(hidden)
        self.mlm_norm.build(hidden)
        self.mlm_output.build(hidden)
        self.nsp_output.build((None, self.encoder.hidden_dim))
        self.built = True

    def call(self, inputs, training=False):
        encoded = self.encoder(inputs, training=training)
        hidden = self.mlm_norm(self.mlm_dense(encoded["sequence_output"]))
        return {
            "mlm_logits": self.mlm_output(hidden),
            "nsp_logits": self.nsp_output(encoded["pooled_output"]),
        }

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not isinstance(y, dict) or not {"mlm_labels", "mlm_weights", "nsp_labels"} <= set(y):
            received = sorted(y) if isinstance(y, dict) else type(y).__name__
            raise ValueError(
                "BertPretrainer needs `y = {'mlm_labels', 'mlm_weights', 'nsp_labels'}`; "
                f"received {received}."
            )
        weights = ops.cast(y["mlm_weights"], "float32")
        per_token = keras.losses.sparse_categorical_crossentropy(
            y["mlm_labels"], y_pred["mlm_logits"], from_logits=True
        )
        mlm_loss = ops.sum(per_token * weights) / ops.maximum(ops.sum(weights), 1.0)
        nsp_loss = ops.mean(
            keras.losses.sparse_categorical_crossentropy(y["nsp_labels"], y_pred["nsp_logits"], from_logits=True)
        )
        self.mlm_loss_tracker.update_state(mlm_loss)
        self.nsp_loss_tracker.update_state(nsp_loss)
        self.mlm_accuracy.update_state(y["mlm_labels"], y_pred["mlm_logits"], sample_weight=weights)
        self.nsp_accuracy.update_state(y["nsp_labels"], y_pred["nsp_logits"])
        total = mlm_loss + nsp_loss
        losses = self.losses
        if losses:
            total = total + ops.sum(ops.stack(losses))
        self.loss_tracker.update_state(total)
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return self.get_metrics_result()

    @property
    def metrics(self):
        return [
            self.loss_tracker,
            self.mlm_loss_tracker,
            self.nsp_loss_tracker,
            self.mlm_accuracy,
            self.nsp_accuracy,
        ]

    def get_config(self):
        config = super().get_config()
        config["encoder"] = keras.saving.serialize_keras_object(self.encoder)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)


def best_span(start_logits, end_logits, max_answer_length, mask=None):
    """The highest-scoring span with start <= end <= start + max_answer_length - 1.

    Scores are start_logits[i] + end_logits[j]; positions where `mask` is
    False are never chosen. Returns `(start [B], end [B], score [B])`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.models import best_span
    >>> start = np.array([[0., 5., 1., 9.]]); end = np.array([[0., 1., 6., 4.]])
    >>> [np.asarray(t).tolist() for t in best_span(start, end, 2)]
    [[3], [3], [13.0]]
    """
    check_positive_ints({"max_answer_length": max_answer_length})
    start_logits = ops.cast(start_logits, "float32")
    end_logits = ops.cast(end_logits, "float32")
    length = ops.shape(start_logits)[1]
    scores = ops.expand_dims(start_logits, 2) + ops.expand_dims(end_logits, 1)  # [B, i, j]
    i = ops.expand_dims(ops.arange(length), 1)
    j = ops.expand_dims(ops.arange(length), 0)
    valid = ops.logical_and(j >= i, j - i < max_answer_length)[None]
    if mask is not None:
        mask = ops.cast(mask, "bool")
        valid = ops.logical_and(valid, ops.logical_and(mask[:, :, None], mask[:, None, :]))
    scores = ops.where(valid, scores, masked_fill_value("float32"))
    flat = ops.reshape(scores, (ops.shape(scores)[0], -1))
    best = ops.argmax(flat, axis=-1)
    start = best // length
    end = best % length
    return start, end, ops.max(flat, axis=-1)


@keras.saving.register_keras_serializable(package="keras_seq")
class SpanQAHead(keras.layers.Layer):
    """Start/end logits for extractive question answering.

    A Dense(2) over the encoder's `sequence_output` gives, per token, the
    logit of being the answer's start and its end; padding positions (the
    Keras mask, or `padding_mask`) get the most negative value. Train with
    sparse cross-entropy against the gold start and end indices;
    `predict_spans` returns the best valid span with
    start <= end <= start + max_answer_length - 1.

    Args:
        max_answer_length: int, longest answer in tokens. Defaults to `30`.

    Call arguments:
        inputs: `[B, T, D]`.
        padding_mask: optional boolean `[B, T]`.

    Returns:
        `(start_logits [B, T], end_logits [B, T])` in float32.

    Example:
    >>> import numpy as np
    >>> from keras_seq.models import SpanQAHead
    >>> head = SpanQAHead(max_answer_length=3)
    >>> start, end = head(np.random.rand(2, 6, 8).astype("float32"))
    >>> tuple(start.shape), tuple(end.shape)
    ((2, 6), (2, 6))
    """

    def __init__(self, max_answer_length=30, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints({"max_answer_length": max_answer_length})
        self.max_answer_length = max_answer_length
        self.supports_masking = True
        self.dense = keras.layers.Dense(2, dtype=self.dtype_policy, name="span_logits")

    def build(self, inputs_shape):
        self.dense.build(inputs_shape)

    def call(self, inputs, padding_mask=None, mask=None):
        logits = ops.cast(self.dense(inputs), "float32")
        start, end = logits[..., 0], logits[..., 1]
        padding_mask = padding_mask if padding_mask is not None else mask
        if padding_mask is not None:
            fill = masked_fill_value("float32")
            start = ops.where(padding_mask, start, fill)
            end = ops.where(padding_mask, end, fill)
        return start, end

    def compute_mask(self, *args, **kwargs):
        return None

    def predict_spans(self, inputs, padding_mask=None):
        start, end = self(inputs, padding_mask=padding_mask)
        return best_span(start, end, self.max_answer_length, mask=padding_mask)

    def get_config(self):
        config = super().get_config()
        config["max_answer_length"] = self.max_answer_length
        return config
