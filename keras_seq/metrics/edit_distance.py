"""Word and character error rates: Levenshtein edits over reference length.

    WER = (S + D + I) / N,

summed over the corpus: total substitutions, deletions and insertions over the
total number of reference words (characters for CER), as jiwer computes it.
Texts are split the way jiwer's default transforms do: for words, runs of two or
more whitespace characters become one space, the ends are stripped and the text
is split on spaces; for characters, the ends are stripped and every remaining
character (spaces included) is a token. When the references hold no token at
all, jiwer (and we) return the number of insertions instead of a rate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_seq._config import AttributeConfig
from keras_seq.metrics._streaming import (
    HostStatisticsMetric,
    check_same_segment_count,
    segment_weights,
    text_rows,
)

_LEVELS = ("word", "char")
_WHITESPACE_RUN = re.compile(r"\s\s+")


def _tokens(text: str, level: str) -> list[str]:
    if level == "char":
        return list(text.strip())
    return [word for word in _WHITESPACE_RUN.sub(" ", text).strip().split(" ") if word]


def _levenshtein(reference: Sequence, hypothesis: Sequence) -> int:
    """Edit distance between two token lists, one vectorised DP row per reference token."""
    if not reference or not hypothesis:
        return max(len(reference), len(hypothesis))
    ids: dict = {}
    hypothesis_ids = np.array([ids.setdefault(t, len(ids)) for t in hypothesis])
    offsets = np.arange(len(hypothesis) + 1)
    row = offsets.copy()  # distances from the empty reference prefix
    for token in reference:
        token_id = ids.get(token, -1)
        diagonal = row[:-1] + (hypothesis_ids != token_id)
        best = np.minimum(diagonal, row[1:] + 1)
        candidates = np.concatenate(([row[0] + 1], best))
        # Insertions chain along the row: new[j] = min_k (candidates[k] + j - k).
        row = np.minimum.accumulate(candidates - offsets) + offsets
    return int(row[-1])


def _text_list(texts, argument: str) -> list[str]:
    texts = text_rows(texts, argument)
    if any(not isinstance(text, str) for text in texts):
        raise TypeError(f"`{argument}` must be a string or a flat list of strings.")
    return texts


def _edit_statistics(hypotheses, references, level: str) -> np.ndarray:
    """`[B, 2]` per-segment edits and reference lengths."""
    hypotheses = _text_list(hypotheses, "hypotheses")
    references = _text_list(references, "references")
    check_same_segment_count("hypotheses", hypotheses, "references", references)
    rows = []
    for hypothesis, reference in zip(hypotheses, references, strict=True):
        reference_tokens = _tokens(reference, level)
        edits = _levenshtein(reference_tokens, _tokens(hypothesis, level))
        rows.append((edits, len(reference_tokens)))
    return np.array(rows, dtype="float64").reshape(-1, 2)


def _error_rate(edits, reference_length):
    return edits / reference_length if reference_length else edits


def word_error_rate(
    hypotheses: str | Sequence[str], references: str | Sequence[str]
) -> float:
    """Corpus word error rate, equal to `jiwer.wer(references, hypotheses)`.

    Note the argument order: hypotheses first, like the rest of
    `keras_seq.metrics` (jiwer takes the reference first).

    Args:
        hypotheses: str or list of str, system outputs.
        references: str or list of str, one reference per hypothesis.

    Returns:
        float, total word edits / total reference words (the number of
        inserted words if the references are all empty).

    Raises:
        ValueError: if the two lists differ in length.
        TypeError: if an item is not a string.

    Example:
    >>> from keras_seq.metrics import word_error_rate
    >>> word_error_rate(["the cat sat", "hello"], ["the cat sat down", "hello"])
    0.2
    """
    edits, reference_length = _edit_statistics(hypotheses, references, "word").sum(0)
    return float(_error_rate(edits, reference_length))


def char_error_rate(
    hypotheses: str | Sequence[str], references: str | Sequence[str]
) -> float:
    """Corpus character error rate, equal to `jiwer.cer(references, hypotheses)`.

    Spaces inside a text count as characters; leading and trailing whitespace
    does not.

    Args:
        hypotheses: str or list of str, system outputs.
        references: str or list of str, one reference per hypothesis.

    Returns:
        float, total character edits / total reference characters.

    Raises:
        ValueError: if the two lists differ in length.
        TypeError: if an item is not a string.

    Example:
    >>> from keras_seq.metrics import char_error_rate
    >>> char_error_rate("kitten", "sitting")
    0.42857142857142855
    """
    edits, reference_length = _edit_statistics(hypotheses, references, "char").sum(0)
    return float(_error_rate(edits, reference_length))


@keras.saving.register_keras_serializable(package="keras_seq")
class EditDistance(AttributeConfig, HostStatisticsMetric):
    """Streaming WER (`level="word"`) or CER (`level="char"`).

    Accumulates weighted edits and weighted reference lengths, so `result()` is
    the corpus error rate over everything seen (equal to `word_error_rate` /
    `char_error_rate` on all segments at once). Computed in Python on the host,
    through `tf.py_function` inside a `tf.function` (needs `jit_compile=False`).

    Args:
        level: str, `"word"` or `"char"`. Defaults to `"word"`.
        name: str. Defaults to `"edit_distance"`.
        dtype: the result dtype. Defaults to float32.

    Call arguments (`update_state`):
        references: list of `B` strings or a string tensor `[B]`.
        hypotheses: list of `B` strings or a string tensor `[B]`.
        sample_weight: optional scalar or `[B]` weights.

    Raises:
        ValueError: for an unknown `level` or mismatched batch sizes.

    Example:
    >>> from keras_seq.metrics import EditDistance
    >>> wer = EditDistance(level="word")
    >>> wer.update_state(["the cat sat down"], ["the cat sat"])
    >>> wer.update_state(["hello"], ["hello"])
    >>> round(float(wer.result()), 4)
    0.2
    """

    config_attributes = ("level",)

    def __init__(self, level: str = "word", name="edit_distance", dtype=None, **kwargs):
        if level not in _LEVELS:
            raise ValueError(f"`level` must be one of {_LEVELS}; received {level!r}.")
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.level = level
        self._add_statistics({"edits": (), "reference_length": ()})

    def _batch_statistics(self, references, hypotheses, sample_weight) -> np.ndarray:
        statistics = _edit_statistics(hypotheses, references, self.level)
        return segment_weights(sample_weight, len(statistics)) @ statistics

    def result(self):
        rate = ops.where(
            self.reference_length > 0,
            ops.divide_no_nan(self.edits, self.reference_length),
            self.edits,
        )
        return ops.cast(rate, self.dtype)
