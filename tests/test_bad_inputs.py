"""Bad inputs across the library: each raises the expected exception with a
message that names the argument and the expectation.

The table is a list of `Case`s; to add checks (decoding, metrics, loaders,
CLIs), append to the list of your area or add a new list to `CASES`. Each
case is a zero-argument callable that must raise `error` with a message
matching the regular expression `match`. Keep the inputs tiny: the whole
table runs in a few seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[], object]
    error: type
    match: str


def _x(*shape):
    return np.random.default_rng(0).normal(size=shape).astype("float32")


def _ids(*rows):
    return np.asarray(rows, "int32")


def _layers():
    from keras_seq import layers

    return layers


def _models():
    from keras_seq import models

    return models


# -- layers: constructor arguments --------------------------------------------


def _mha(**kwargs):
    return _layers().MultiHeadAttention(**{"num_heads": 2, "key_dim": 4, **kwargs})


LAYER_ARGUMENT_CASES = [
    Case("mha-num_heads-zero", lambda: _mha(num_heads=0), ValueError,
         r"argument `num_heads` must be a positive integer; received 0"),
    Case("mha-key_dim-float", lambda: _mha(key_dim=1.5), ValueError,
         r"argument `key_dim` must be a positive integer; received 1.5"),
    Case("mha-value_dim-negative", lambda: _mha(value_dim=-2), ValueError, r"argument `value_dim`"),
    Case("mha-dropout-one", lambda: _mha(dropout=1.0), ValueError,
         r"`dropout` must be a float in \[0, 1\); received 1.0"),
    Case("mha-output_shape-float", lambda: _mha(output_shape=8.0), ValueError,
         r"Invalid `output_shape`"),
    Case("mha-sliding_window-zero", lambda: _mha(sliding_window=0), ValueError,
         r"`sliding_window` must be a positive integer or None; received 0"),
    Case("mha-attention_axes-string", lambda: _mha(attention_axes="1"), ValueError,
         r"`attention_axes` must be None, an int"),
    Case("mha-flash-with-dropout", lambda: _mha(flash_attention=True, dropout=0.1), ValueError,
         r"Dropout is not supported when flash attention is enabled"),
    Case("encoder-dropout-negative",
         lambda: _layers().TransformerEncoderBlock(2, 8, dropout=-0.1), ValueError,
         r"`dropout` must be a float in \[0, 1\); received -0.1"),
    Case("decoder-intermediate_dim-zero", lambda: _layers().TransformerDecoderBlock(2, 0),
         ValueError, r"`intermediate_dim` must be a positive integer; received 0"),
    Case("encoder-layer_norm_epsilon", lambda: _layers().TransformerEncoderBlock(2, 8, layer_norm_epsilon=0),
         ValueError, r"`layer_norm_epsilon` must be a positive float"),
    Case("chunked-ffn-dropout", lambda: _layers().ChunkedFeedForward(8, 2, dropout=2),
         ValueError, r"`dropout` must be a float in \[0, 1\); received 2"),
    Case("sdpa-dropout_rate", lambda: _layers().ScaledDotProductAttention(dropout_rate=1.5),
         ValueError, r"`dropout_rate` must be a float in \[0, 1\)"),
    Case("position-embedding-sequence_length", lambda: _layers().PositionEmbedding(0),
         ValueError, r"`sequence_length` must be a positive integer; received 0"),
    Case("token-position-kind", lambda: _layers().TokenAndPositionEmbedding(5, 6, 4, position="rotary"),
         ValueError, r"`position` must be one of"),
    Case("sinusoid-max_wavelength", lambda: _layers().SinusoidalPositionEncoding(max_wavelength=1),
         ValueError, r"`max_wavelength` must be a number greater than 1"),
    Case("ctc-layer-pad-equals-blank", lambda: _layers().CTCLoss(blank_index=0, pad_value=0),
         ValueError, r"`pad_value` \(0\) must differ from `blank_index` \(0\)"),
]


# -- layers: call inputs ------------------------------------------------------


def _token_layer(position="learned"):
    return _layers().TokenAndPositionEmbedding(10, 6, 4, position=position)


LAYER_INPUT_CASES = [
    Case("token-ids-at-vocabulary", lambda: _token_layer()(_ids([1, 10])), ValueError,
         r"`inputs` must hold token ids in \[0, 10\) \(the vocabulary size\); received ids from 1 to 10"),
    Case("token-ids-negative", lambda: _token_layer("sinusoidal")(_ids([-1, 3])), ValueError,
         r"received ids from -1 to 3"),
    Case("token-ids-float", lambda: _token_layer()(np.array([[1.0, 2.0]], "float32")), ValueError,
         r"`inputs` must hold integer token ids; received dtype float32"),
    Case("token-ids-rank-3", lambda: _token_layer()(np.zeros((1, 2, 3), "int32")), ValueError,
         r"`inputs` must be integer ids of rank 2"),
    Case("token-sequence-too-long", lambda: _token_layer()(np.ones((1, 7), "int32")), ValueError,
         r"`inputs` has 7 positions starting at 0, more than `sequence_length`=6"),
    Case("token-start-index-too-far", lambda: _token_layer("sinusoidal")(np.ones((1, 2), "int32"), start_index=5),
         ValueError, r"2 positions starting at 5, more than `sequence_length`=6"),
    Case("position-embedding-positions-beyond",
         lambda: _layers().PositionEmbedding(4)(_x(1, 2, 3), positions=np.array([1, 4])),
         ValueError, r"`positions` must lie in \[0, 4\) \(`sequence_length`\); received positions from 1 to 4"),
    Case("position-embedding-float-positions",
         lambda: _layers().PositionEmbedding(4)(_x(1, 2, 3), positions=np.array([0.0, 1.0])),
         ValueError, r"`positions` must hold integer positions"),
    Case("mha-mask-not-broadcastable", lambda: _mha()(_x(2, 3, 8), _x(2, 5, 8), attention_mask=np.ones((2, 3, 4), bool)),
         ValueError, r"`attention_mask` of shape \(2, 3, 4\) does not broadcast to the attention weights of shape \(2, 2, 3, 5\)"),
    Case("mha-mask-too-many-heads", lambda: _mha()(_x(2, 3, 8), _x(2, 5, 8), attention_mask=np.ones((2, 3, 3, 5), bool)),
         ValueError, r"\(2, 3, 3, 5\) does not broadcast"),
    Case("mha-key-value-mismatch", lambda: _mha()(_x(2, 3, 8), _x(2, 5, 8), _x(2, 4, 8)),
         ValueError, r"All dimensions of `value` and `key`, except the last one, must be equal"),
    Case("mha-query-rank-2", lambda: _mha()(_x(2, 8), _x(2, 5, 8)), ValueError,
         r"`query` must have rank >= 3"),
    Case("mha-cache-wrong-shape", lambda: _mha()(_x(2, 1, 8), _x(2, 1, 8), cache=np.zeros((2, 2, 4, 3, 4), "float32"), cache_update_index=0),
         ValueError, r"`cache` must have shape \[batch, 2, max_length, num_heads=2, key_dim=4\]"),
    Case("mha-cache-index-without-cache", lambda: _mha()(_x(2, 3, 8), _x(2, 3, 8), cache_update_index=1),
         ValueError, r"`cache_update_index` was given without a `cache`"),
    Case("encoder-padding-mask-length", lambda: _layers().TransformerEncoderBlock(2, 8)(_x(2, 6, 8), padding_mask=np.ones((2, 5), bool)),
         ValueError, r"`padding_mask` of shape \(2, 5\) does not broadcast to `inputs` \[batch, time\] of shape \(2, 6\)"),
    Case("encoder-attention-mask-shape", lambda: _layers().TransformerEncoderBlock(2, 8)(_x(2, 6, 8), attention_mask=np.ones((2, 6, 5), bool)),
         ValueError, r"`attention_mask` of shape \(2, 6, 5\) does not broadcast to \[batch, query_time, key_time\] of shape \(2, 6, 6\)"),
    Case("encoder-attention-mask-rank", lambda: _layers().TransformerEncoderBlock(2, 8)(_x(2, 6, 8), attention_mask=np.ones((2, 6), bool)),
         ValueError, r"`attention_mask` must have rank 3"),
    Case("encoder-heads-do-not-divide", lambda: _layers().TransformerEncoderBlock(3, 8)(_x(2, 6, 8)),
         ValueError, r"must be divisible by `num_heads` \(3\)"),
    Case("decoder-encoder-padding-mask", lambda: _layers().TransformerDecoderBlock(2, 8)(_x(2, 4, 8), _x(2, 6, 8), encoder_padding_mask=np.ones((2, 4), bool)),
         ValueError, r"`encoder_padding_mask` of shape \(2, 4\) does not broadcast to `encoder_outputs`"),
    Case("decoder-missing-encoder-outputs", lambda: _layers().TransformerDecoderBlock(2, 8)(_x(2, 4, 8)),
         ValueError, r"`encoder_outputs` is required"),
    Case("sdpa-mask-not-broadcastable", lambda: _ops().scaled_dot_product_attention(_x(2, 3, 4), _x(2, 5, 4), _x(2, 5, 4), mask=np.ones((2, 3, 3), bool)),
         ValueError, r"`mask` of shape \(2, 3, 3\) does not broadcast to the weights"),
]


def _ops():
    from keras_seq import ops

    return ops


# -- models -------------------------------------------------------------------


def _lm():
    return _models().TransformerLM(12, 8, num_layers=1, hidden_dim=8, num_heads=2, intermediate_dim=8)


def _transformer():
    return _models().Transformer(10, 11, 8, num_encoder_layers=1, num_decoder_layers=1, hidden_dim=8,
                                 num_heads=2, intermediate_dim=8)


MODEL_CASES = [
    Case("lm-token-id-at-vocabulary", lambda: _lm()(_ids([1, 12])), ValueError,
         r"`token_ids` must hold token ids in \[0, 12\) \(the vocabulary size\); received ids from 1 to 12"),
    Case("lm-float-token-ids", lambda: _lm()(np.array([[1.0, 2.0]], "float32")), ValueError,
         r"`token_ids` must hold integer token ids; received dtype float32"),
    Case("lm-too-long", lambda: _lm()(np.ones((1, 9), "int32")), ValueError,
         r"9 positions starting at 0, more than `sequence_length`=8"),
    Case("lm-rank-1-ids", lambda: _lm()(np.ones((4,), "int32")), ValueError,
         r"`token_ids` must be integer ids of rank 2"),
    Case("transformer-encoder-id-out-of-range",
         lambda: _transformer()({"encoder_tokens": _ids([1, 10]), "decoder_tokens": _ids([1, 2])}),
         ValueError, r"`encoder_tokens` must hold token ids in \[0, 10\)"),
    Case("transformer-decoder-negative-id",
         lambda: _transformer()({"encoder_tokens": _ids([1, 2]), "decoder_tokens": _ids([1, -3])}),
         ValueError, r"`decoder_tokens` must hold token ids in \[0, 11\)"),
    Case("bert-token-id-out-of-range",
         lambda: _models().BertEncoder(9, 8, num_layers=1, hidden_dim=8, num_heads=2, intermediate_dim=8)(_ids([1, 9])),
         ValueError, r"`token_ids` must hold token ids in \[0, 9\)"),
    Case("bert-segment-id-out-of-range",
         lambda: _models().BertEncoder(9, 8, num_layers=1, hidden_dim=8, num_heads=2, intermediate_dim=8)(
             {"token_ids": _ids([1, 2]), "segment_ids": _ids([0, 2])}),
         ValueError, r"`segment_ids` must hold token ids in \[0, 2\)"),
    Case("reformer-token-id-out-of-range",
         lambda: _models().ReformerLM(7, 8, num_layers=1, hidden_dim=8, num_heads=2, intermediate_dim=8,
                                      bucket_size=2)(_ids([0, 7])),
         ValueError, r"`token_ids` must hold token ids in \[0, 7\)"),
    Case("seq2seq-source-id-out-of-range",
         lambda: _models().AttentionSeq2Seq(6, 7, embedding_dim=4, encoder_units=4, decoder_units=4,
                                            attention_units=4)({"encoder_tokens": _ids([1, 6]),
                                                                "decoder_tokens": _ids([1, 2])}),
         ValueError, r"`encoder_tokens` must hold token ids in \[0, 6\)"),
    Case("seq2seq-dropout", lambda: _models().AttentionSeq2Seq(6, 7, dropout=1.5), ValueError,
         r"`dropout` must be a float in \[0, 1\); received 1.5"),
]


# -- losses -------------------------------------------------------------------


def _ctc_loss(*args, **kwargs):
    from keras_seq.losses import ctc_loss

    return ctc_loss(*args, **kwargs)


def _ctc_logits():
    return np.zeros((2, 5, 4), "float32")


LOSS_CASES = [
    Case("ctc-label-is-blank", lambda: _ctc_loss(_ids([1, 0], [2, -1]), _ctc_logits()), ValueError,
         r"`labels` must not contain the blank index 0 \(the blank is not a label\); row 0 does: \[1, 0\]"),
    Case("ctc-label-is-last-blank", lambda: _ctc_loss(_ids([1, 3], [2, 2]), _ctc_logits(), blank_index=-1),
         ValueError, r"must not contain the blank index 3"),
    Case("ctc-label-beyond-classes", lambda: _ctc_loss(_ids([1, 4], [2, -1]), _ctc_logits()), ValueError,
         r"`labels` must be class ids in \[0, 4\) \(the logits' last axis\); received labels from 1 to 4"),
    Case("ctc-layer-label-is-blank", lambda: _layers().CTCLoss()(_ids([1, 0], [2, 3]), _ctc_logits()),
         ValueError, r"must not contain the blank index 0"),
    Case("ctc-pad-equals-blank", lambda: _ctc_loss(_ids([1, 2]), np.zeros((1, 3, 3), "float32"), pad_value=0),
         ValueError, r"`pad_value` \(0\) must differ from the blank index \(0\)"),
    Case("ctc-blank-out-of-range", lambda: _ctc_loss(_ids([1, 2]), np.zeros((1, 3, 3), "float32"), blank_index=3),
         ValueError, r"`blank_index` must lie in \[-3, 3\)"),
    Case("ctc-logits-rank", lambda: _ctc_loss(_ids([1, 2]), np.zeros((3, 3), "float32")), ValueError,
         r"`logits` must have rank 3"),
]


# -- decoding and metrics (checks that exist today; extend here) ---------------


def _step(tokens, state):
    import keras

    return keras.ops.zeros((keras.ops.shape(tokens)[0], 5)), state


def _decoding():
    from keras_seq import decoding

    return decoding


def _metrics():
    from keras_seq import metrics

    return metrics


DECODING_METRIC_CASES = [
    Case("greedy-max-length-below-prompt", lambda: _decoding().greedy_search(_step, _ids([1, 2, 3]), 2),
         ValueError, r"`max_length` \(2\) is the total length and must be at least the prompt length \(3\)"),
    Case("greedy-start-tokens-rank", lambda: _decoding().greedy_search(_step, np.ones((3,), "int32"), 4),
         ValueError, r"`start_tokens` must be integer ids of rank 2"),
    Case("beam-num-return-above-width", lambda: _decoding().beam_search(_step, _ids([1]), 3, beam_width=2, num_return=3),
         ValueError, r"`num_return` \(3\) must be <= `beam_width` \(2\)"),
    Case("beam-width-zero", lambda: _decoding().beam_search(_step, _ids([1]), 3, beam_width=0),
         ValueError, r"`beam_width` must be a positive integer; received 0"),
    Case("sample-top-p", lambda: _decoding().sample(_step, _ids([1]), 3, top_p=1.5), ValueError,
         r"`top_p` must be in \(0, 1\] or None; received 1.5"),
    Case("ctc-greedy-lengths-beyond-time", lambda: _decoding().ctc_greedy_decode(np.zeros((1, 3, 4)), [4]),
         ValueError, r"`logit_lengths` must lie in \[0, 3\]"),
    Case("ctc-greedy-one-class", lambda: _decoding().ctc_greedy_decode(np.zeros((1, 3, 1))), ValueError,
         r"`logits` needs at least 2 classes"),
    Case("bleu-max-order", lambda: _metrics().corpus_bleu(["a b"], [["a b"]], max_order=0), ValueError,
         r"`max_order` must be a positive integer; received 0"),
    Case("bleu-smooth", lambda: _metrics().corpus_bleu(["a b"], [["a b"]], smooth="magic"), ValueError,
         r"`smooth` must be one of"),
    Case("rouge-n-zero", lambda: _metrics().rouge_n("a b", "a b", n=0), ValueError,
         r"`n` must be a positive integer; received 0"),
]


CASES = LAYER_ARGUMENT_CASES + LAYER_INPUT_CASES + MODEL_CASES + LOSS_CASES + DECODING_METRIC_CASES


def test_table_is_large_and_ids_are_unique():
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_raises_a_clear_error(case):
    with pytest.raises(case.error, match=case.match):
        case.call()
