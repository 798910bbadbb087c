"""keras_seq models: complete architectures built from keras_seq layers."""

from keras_seq.models.attention_seq2seq import AttentionSeq2Seq
from keras_seq.models.bert import BertEncoder, BertPretrainer, SpanQAHead, best_span
from keras_seq.models.reformer import ReformerLM
from keras_seq.models.transformer import Transformer
from keras_seq.models.transformer_lm import TransformerLM

__all__ = [
    "AttentionSeq2Seq",
    "BertEncoder",
    "BertPretrainer",
    "ReformerLM",
    "SpanQAHead",
    "Transformer",
    "TransformerLM",
    "best_span",
]
