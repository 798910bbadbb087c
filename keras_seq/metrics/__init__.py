"""Sequence-model evaluation: BLEU, ROUGE, F1, perplexity, WER/CER.

The functions reproduce the field's reference implementations exactly
(`sacrebleu` for BLEU, Google's `rouge-score` for ROUGE, `jiwer` for WER/CER);
the `keras.metrics.Metric` classes stream the same sufficient statistics over
batches, so their final result is the corpus score, not an average of
per-batch scores.

BLEU references follow SacreBLEU: a list of reference *streams*, each with one
reference per hypothesis (a flat list of strings is a single stream).

Example:

>>> from keras_seq.metrics import corpus_bleu, word_error_rate
>>> round(corpus_bleu(["the cat sat on the mat"], [["the cat sat on the mat"]]).score, 1)
100.0
>>> word_error_rate(["a b c"], ["a b d"])
0.3333333333333333
"""

from keras_seq.metrics.bleu import Bleu, BleuScore, corpus_bleu, sentence_bleu
from keras_seq.metrics.edit_distance import (
    EditDistance,
    char_error_rate,
    word_error_rate,
)
from keras_seq.metrics.f1 import f1_score
from keras_seq.metrics.perplexity import Perplexity, perplexity
from keras_seq.metrics.rouge import RougeN, rouge_l, rouge_n

__all__ = [
    "Bleu",
    "BleuScore",
    "EditDistance",
    "Perplexity",
    "RougeN",
    "char_error_rate",
    "corpus_bleu",
    "f1_score",
    "perplexity",
    "rouge_l",
    "rouge_n",
    "sentence_bleu",
    "word_error_rate",
]
