"""Sequence-model evaluation: BLEU, chrF, TER, ROUGE, F1, perplexity, WER/CER.

The functions reproduce the field's reference implementations exactly
(`sacrebleu` for BLEU, chrF and TER, Google's `rouge-score` for ROUGE, `jiwer`
for WER/CER and the other speech measures); the `keras.metrics.Metric` classes
stream the same sufficient statistics over batches, so their final result is
the corpus score, not an average of per-batch scores.

BLEU, chrF and TER references follow SacreBLEU: a list of reference *streams*,
each with one reference per hypothesis (a flat list of strings is a single
stream).

Example:

>>> from keras_seq.metrics import corpus_bleu, word_error_rate
>>> round(corpus_bleu(["the cat sat on the mat"], [["the cat sat on the mat"]]).score, 1)
100.0
>>> word_error_rate(["a b c"], ["a b d"])
0.3333333333333333
"""

from keras_seq.metrics.bleu import Bleu, corpus_bleu, sentence_bleu
from keras_seq.metrics.bleu_statistics import BleuScore, bleu_from_statistics
from keras_seq.metrics.chrf import ChrFScore, corpus_chrf, sentence_chrf
from keras_seq.metrics.edit_distance import (
    EditDistance,
    char_error_rate,
    word_error_rate,
)
from keras_seq.metrics.error_measures import (
    AlignmentChunk,
    ErrorMeasures,
    error_measures,
)
from keras_seq.metrics.f1 import f1_score
from keras_seq.metrics.perplexity import Perplexity, perplexity
from keras_seq.metrics.rouge import RougeN, rouge_l, rouge_lsum, rouge_n
from keras_seq.metrics.ter import TerScore, corpus_ter, sentence_ter

__all__ = [
    "AlignmentChunk",
    "Bleu",
    "BleuScore",
    "ChrFScore",
    "EditDistance",
    "ErrorMeasures",
    "Perplexity",
    "RougeN",
    "TerScore",
    "bleu_from_statistics",
    "char_error_rate",
    "corpus_bleu",
    "corpus_chrf",
    "corpus_ter",
    "error_measures",
    "f1_score",
    "perplexity",
    "rouge_l",
    "rouge_lsum",
    "rouge_n",
    "sentence_bleu",
    "sentence_chrf",
    "sentence_ter",
    "word_error_rate",
]
