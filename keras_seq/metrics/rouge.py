"""ROUGE-N, ROUGE-L and ROUGE-Lsum (Lin, 2004), exactly as Google's rouge-score.

Texts are tokenized by rouge-score's default tokenizer (lowercase, runs of
characters outside [a-z0-9] become separators, optional Porter stemming of
words longer than 3 characters). Then

    ROUGE-N: overlap = sum over reference n-grams of min(count_ref, count_hyp),
             precision = overlap / #hyp n-grams, recall = overlap / #ref n-grams;
    ROUGE-L: the same with the longest common subsequence length as overlap and
             token counts as denominators;
    ROUGE-Lsum: summary-level LCS (Lin's section 3.2): texts are split into
             sentences at newlines; for each reference sentence the union of
             its LCS token positions with every hypothesis sentence is taken,
             and its tokens count as hits while both texts still have unused
             occurrences of them; precision = hits / hypothesis tokens, recall
             = hits / reference tokens,

and F1 is their harmonic mean. With several references the one with the best
F1 is used (rouge-score's `score_multi`).

References:
    Lin, 2004, "ROUGE: A Package for Automatic Evaluation of Summaries".
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_seq._config import AttributeConfig
from keras_seq._validation import check_positive_ints
from keras_seq.metrics._streaming import (
    HostStatisticsMetric,
    check_same_segment_count,
    segment_weights,
    text_rows,
)
from keras_seq.metrics.f1 import f1_score


@functools.cache
def _tokenizer(use_stemmer: bool):
    from rouge_score import tokenizers

    return tokenizers.DefaultTokenizer(use_stemmer=use_stemmer)


def _tokens(text, argument: str, use_stemmer: bool) -> list[str]:
    if not isinstance(text, str):
        raise TypeError(
            f"`{argument}` must be a string; received {type(text).__name__}."
        )
    return _tokenizer(bool(use_stemmer)).tokenize(text)


def _validate_order(n) -> None:
    check_positive_ints({"n": n})


def _reference_list(reference) -> list:
    if isinstance(reference, str):
        return [reference]
    if isinstance(reference, Sequence) and reference:
        return list(reference)
    raise ValueError("`reference` must be a string or a non-empty list of strings.")


def _best_of_references(score_one, hypothesis, reference, use_stemmer):
    hypothesis_tokens = _tokens(hypothesis, "hypothesis", use_stemmer)
    scores = [
        score_one(hypothesis_tokens, _tokens(ref, "reference", use_stemmer))
        for ref in _reference_list(reference)
    ]
    return max(scores, key=lambda score: score[2])  # first best F1, as rouge-score


def _ngram_scores(hypothesis_tokens, reference_tokens, n):
    def ngrams(tokens):
        return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))

    hypothesis_ngrams = ngrams(hypothesis_tokens)
    reference_ngrams = ngrams(reference_tokens)
    overlap = sum(
        min(count, hypothesis_ngrams[ngram])
        for ngram, count in reference_ngrams.items()
    )
    precision = overlap / max(sum(hypothesis_ngrams.values()), 1)
    recall = overlap / max(sum(reference_ngrams.values()), 1)
    return precision, recall, f1_score(precision, recall)


def _lcs_length(first: list[str], second: list[str]) -> int:
    previous = [0] * (len(second) + 1)
    for token in first:
        current = [0]
        for column, other in enumerate(second):
            if token == other:
                current.append(previous[column] + 1)
            else:
                current.append(max(previous[column + 1], current[column]))
        previous = current
    return previous[-1]


def _lcs_scores(hypothesis_tokens, reference_tokens):
    if not hypothesis_tokens or not reference_tokens:
        return 0.0, 0.0, 0.0
    common = _lcs_length(reference_tokens, hypothesis_tokens)
    precision = common / len(hypothesis_tokens)
    recall = common / len(reference_tokens)
    return precision, recall, f1_score(precision, recall)


def _lcs_table(first: list, second: list) -> np.ndarray:
    """`[len(first) + 1, len(second) + 1]` LCS lengths of all prefix pairs.

    Row by row: cell j = max over k <= j of max(above k, above-left k + match),
    one cumulative maximum per row.
    """
    ids: dict = {}
    first_ids = np.array([ids.setdefault(token, len(ids)) for token in first])
    second_ids = np.array([ids.setdefault(token, len(ids)) for token in second])
    table = np.zeros((len(first) + 1, len(second) + 1), dtype=np.int64)
    for row, token in enumerate(first_ids, start=1):
        above = table[row - 1]
        best = np.maximum(above[1:], above[:-1] + (second_ids == token))
        table[row, 1:] = np.maximum.accumulate(best)
    return table


def _lcs_positions(reference: list, hypothesis: list) -> list[int]:
    """Positions in `reference` of one LCS, chosen as rouge-score chooses it."""
    table = _lcs_table(reference, hypothesis).tolist()
    row, column = len(reference), len(hypothesis)
    positions = []
    while row > 0 and column > 0:
        if reference[row - 1] == hypothesis[column - 1]:
            positions.append(row - 1)
            row, column = row - 1, column - 1
        elif table[row][column - 1] > table[row - 1][column]:
            column -= 1
        else:
            row -= 1
    return positions[::-1]


def _sentences(text, argument: str, use_stemmer: bool) -> list[list[str]]:
    if not isinstance(text, str):
        raise TypeError(
            f"`{argument}` must be a string; received {type(text).__name__}."
        )
    return [_tokens(line, argument, use_stemmer) for line in text.split("\n") if line]


def _summary_lcs_scores(hypothesis_sentences, reference_sentences):
    reference_length = sum(map(len, reference_sentences))
    hypothesis_length = sum(map(len, hypothesis_sentences))
    if not reference_length or not hypothesis_length:
        return 0.0, 0.0, 0.0
    unused_reference = Counter(t for s in reference_sentences for t in s)
    unused_hypothesis = Counter(t for s in hypothesis_sentences for t in s)
    hits = 0
    for sentence in reference_sentences:
        union = set()
        for hypothesis_sentence in hypothesis_sentences:
            union.update(_lcs_positions(sentence, hypothesis_sentence))
        for token in (sentence[position] for position in sorted(union)):
            # A token counts once per unused occurrence on both sides.
            if unused_hypothesis[token] > 0 and unused_reference[token] > 0:
                hits += 1
                unused_hypothesis[token] -= 1
                unused_reference[token] -= 1
    precision = hits / hypothesis_length
    recall = hits / reference_length
    return precision, recall, f1_score(precision, recall)


def rouge_n(
    hypothesis: str,
    reference: str | Sequence[str],
    n: int = 1,
    use_stemmer: bool = False,
) -> tuple[float, float, float]:
    """ROUGE-N precision, recall and F1, equal to rouge-score's `rougeN`.

    Args:
        hypothesis: str, the system output (rouge-score's `prediction`).
        reference: str, or a list of str scored by the best F1 (rouge-score's
            `target` / `score_multi`).
        n: int, the n-gram order. Defaults to `1`.
        use_stemmer: bool, Porter-stem tokens longer than 3 characters.
            Defaults to `False`.

    Returns:
        `(precision, recall, f1)` as floats in [0, 1].

    Raises:
        ValueError: if `n` is not a positive integer or `reference` is empty.
        TypeError: if a text is not a string.

    Example:
    >>> from keras_seq.metrics import rouge_n
    >>> rouge_n("the cat was found under the bed", "the cat was under the bed")
    (0.8571428571428571, 1.0, 0.923076923076923)
    >>> [round(x, 4) for x in rouge_n("the cat sits", "the cats sitting", n=1, use_stemmer=True)]
    [1.0, 1.0, 1.0]
    """
    _validate_order(n)
    return _best_of_references(
        lambda hyp, ref: _ngram_scores(hyp, ref, n), hypothesis, reference, use_stemmer
    )


def rouge_l(
    hypothesis: str, reference: str | Sequence[str], use_stemmer: bool = False
) -> tuple[float, float, float]:
    """ROUGE-L (longest common subsequence) precision, recall and F1.

    Equal to rouge-score's sentence-level `rougeL` (not `rougeLsum`).

    Args:
        hypothesis: str, the system output.
        reference: str, or a list of str scored by the best F1.
        use_stemmer: bool, Porter-stem tokens longer than 3 characters.
            Defaults to `False`.

    Returns:
        `(precision, recall, f1)` as floats in [0, 1].

    Raises:
        ValueError: if `reference` is empty.
        TypeError: if a text is not a string.

    Example:
    >>> from keras_seq.metrics import rouge_l
    >>> [round(x, 4) for x in rouge_l("the cat was found under the bed", "the cat was under the bed")]
    [0.8571, 1.0, 0.9231]
    """
    return _best_of_references(_lcs_scores, hypothesis, reference, use_stemmer)


def rouge_lsum(
    hypothesis: str, reference: str | Sequence[str], use_stemmer: bool = False
) -> tuple[float, float, float]:
    """Summary-level ROUGE-L, equal to rouge-score's `rougeLsum`.

    Sentences are the non-empty lines of each text (put one sentence per line;
    rouge-score's optional NLTK sentence splitting is not offered, since it
    needs downloaded data). Without newlines, a text is one sentence and the
    union LCS is the plain LCS, but hits are still capped by token counts.

    Args:
        hypothesis: str, the system summary, one sentence per line.
        reference: str (one sentence per line), or a list of such summaries,
            scored by the best F1.
        use_stemmer: bool, as in `rouge_l`. Defaults to `False`.

    Returns:
        `(precision, recall, f1)`, floats in [0, 1].

    Raises:
        TypeError: if a text is not a string.
        ValueError: for an empty list of references.

    Example:
    >>> from keras_seq.metrics import rouge_lsum
    >>> rouge_lsum("w1 w2 w6 w7 w8\\nw1 w3 w8 w9 w5", "w1 w2 w3 w4 w5")
    (0.4, 0.8, 0.5333333333333333)
    >>> rouge_lsum("Second sentence.\\nFirst sentence.", "First sentence.\\nSecond sentence.")
    (1.0, 1.0, 1.0)
    """
    hypothesis_sentences = _sentences(hypothesis, "hypothesis", use_stemmer)
    scores = [
        _summary_lcs_scores(
            hypothesis_sentences, _sentences(ref, "reference", use_stemmer)
        )
        for ref in _reference_list(reference)
    ]
    return max(scores, key=lambda score: score[2])  # first best F1, as rouge-score


@keras.saving.register_keras_serializable(package="keras_seq")
class RougeN(AttributeConfig, HostStatisticsMetric):
    """Streaming mean ROUGE-N F1 over segments, weighted by `sample_weight`.

    Accumulates the sum of `weight * F1` and the sum of weights; `result()` is
    their ratio (0 before any update). Computed in Python on the host, through
    `tf.py_function` inside a `tf.function` (needs `jit_compile=False`).

    Args:
        n: int, the n-gram order. Defaults to `1`.
        use_stemmer: bool, Porter-stem tokens. Defaults to `False`.
        name: str. Defaults to `"rouge_n"`.
        dtype: the result dtype. Defaults to float32.

    Call arguments (`update_state`):
        references: list of `B` strings (each item may also be a list of
            references, scored by the best F1) or a string tensor `[B]`.
        hypotheses: list of `B` strings or a string tensor `[B]`.
        sample_weight: optional scalar or `[B]` weights.

    Raises:
        ValueError: for a bad `n` or mismatched batch sizes.

    Example:
    >>> from keras_seq.metrics import RougeN
    >>> rouge = RougeN(n=1)
    >>> rouge.update_state(["the cat sat", "a dog"], ["the cat sat", "a cat"])
    >>> round(float(rouge.result()), 4)
    0.75
    """

    config_attributes = ("n", "use_stemmer")

    def __init__(
        self,
        n: int = 1,
        use_stemmer: bool = False,
        name="rouge_n",
        dtype=None,
        **kwargs,
    ):
        _validate_order(n)
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.n = n
        self.use_stemmer = use_stemmer
        self._add_statistics({"f1_sum": (), "weight_sum": ()})

    def _batch_statistics(self, references, hypotheses, sample_weight) -> np.ndarray:
        references = text_rows(references, "references")
        hypotheses = text_rows(hypotheses, "hypotheses")
        check_same_segment_count("references", references, "hypotheses", hypotheses)
        weights = segment_weights(sample_weight, len(hypotheses))
        f1 = np.array(
            [
                rouge_n(hyp, ref, n=self.n, use_stemmer=self.use_stemmer)[2]
                for hyp, ref in zip(hypotheses, references, strict=True)
            ],
            dtype="float64",
        )
        return np.array([weights @ f1, weights.sum()])

    def result(self):
        return ops.cast(ops.divide_no_nan(self.f1_sum, self.weight_sum), self.dtype)
