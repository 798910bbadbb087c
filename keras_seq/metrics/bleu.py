"""BLEU (Papineni et al., 2002) computed exactly as SacreBLEU does, and streamed.

For every segment we count, per n-gram order n = 1..N, the hypothesis n-grams
(`totals`) and the clipped matches (`counts`: each hypothesis n-gram counts at
most as often as it occurs in the reference where it is most frequent), the
hypothesis length and the reference length closest to it (ties go to the shorter
reference). These sufficient statistics add up over a corpus, and

    BLEU = BP * exp(mean_n log p_n),  p_n = counts_n / totals_n,
    BP = min(1, exp(1 - ref_len / sys_len)),

with SacreBLEU's smoothing of orders without a match ("exp", "floor", "add-k"
or "none"; see `keras_seq.metrics.bleu_statistics`, which also holds
`bleu_from_statistics`).

Tokenization is SacreBLEU's own (`sacrebleu.tokenizers`), so `"13a"` scores are
the WMT-comparable ones.

References:
    Papineni et al., 2002, "BLEU: a Method for Automatic Evaluation of Machine
    Translation". Post, 2018, "A Call for Clarity in Reporting BLEU Scores".
    Chen and Cherry, 2014, "A Systematic Comparison of Smoothing Techniques for
    Sentence-Level BLEU" (the smoothing methods).
"""

from __future__ import annotations

import functools
import importlib
from collections import Counter
from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from keras_seq._config import AttributeConfig
from keras_seq._validation import check_positive_ints
from keras_seq.metrics._references import (
    hypothesis_list,
    reference_sets,
    sentence_references,
)
from keras_seq.metrics._streaming import (
    HostStatisticsMetric,
    check_same_segment_count,
    is_text_tensor,
    is_token_tensor,
    segment_weights,
    text_rows,
)
from keras_seq.metrics.bleu_statistics import (
    BleuScore,
    bleu_from_statistics,
    check_smoothing,
)

_TOKENIZERS = {
    "13a": ("sacrebleu.tokenizers.tokenizer_13a", "Tokenizer13a"),
    "none": ("sacrebleu.tokenizers.tokenizer_none", "NoneTokenizer"),
    "intl": ("sacrebleu.tokenizers.tokenizer_intl", "TokenizerV14International"),
    "char": ("sacrebleu.tokenizers.tokenizer_char", "TokenizerChar"),
    "zh": ("sacrebleu.tokenizers.tokenizer_zh", "TokenizerZh"),
}


def _validate_options(max_order, smooth, smooth_value, tokenize) -> None:
    check_positive_ints({"max_order": max_order})
    check_smoothing(smooth, smooth_value)
    if tokenize not in _TOKENIZERS:
        raise ValueError(
            f"`tokenize` must be one of {tuple(_TOKENIZERS)}; received {tokenize!r}."
        )


@functools.cache
def _tokenizer(name: str) -> Callable[[str], str]:
    module_name, class_name = _TOKENIZERS[name]
    return getattr(importlib.import_module(module_name), class_name)()


def _words(text: str, tokenize: str, lowercase: bool) -> list[str]:
    # SacreBLEU strips trailing whitespace before tokenizing, then splits.
    if lowercase:
        text = text.lower()
    return _tokenizer(tokenize)(text.rstrip()).split()


def _order_counts(words: list[str], max_order: int) -> list[Counter]:
    """One n-gram `Counter` per order 1..max_order (tuples built by `zip`)."""
    return [
        Counter(zip(*(words[offset:] for offset in range(order))))
        for order in range(1, max_order + 1)
    ]


def _closest_length(length: int, candidates: list[int]) -> int:
    return min(candidates, key=lambda candidate: (abs(length - candidate), candidate))


def _segment_statistics(
    hypothesis: str,
    references: list[str],
    max_order: int,
    tokenize: str,
    lowercase: bool,
) -> list[int]:
    """`[sys_len, ref_len, counts_1..N, totals_1..N]` for one segment."""
    hypothesis_words = _words(hypothesis, tokenize, lowercase)
    reference_lengths = []
    clips = None  # per order, each n-gram's largest count over the references
    for reference in references:
        reference_words = _words(reference, tokenize, lowercase)
        reference_lengths.append(len(reference_words))
        orders = _order_counts(reference_words, max_order)
        if clips is None:
            clips = orders
            continue
        for clip, counts in zip(clips, orders, strict=True):
            for ngram, count in counts.items():
                if count > clip.get(ngram, 0):
                    clip[ngram] = count
    counts, totals = [], []
    for hypothesis_counts, clip in zip(
        _order_counts(hypothesis_words, max_order), clips, strict=True
    ):
        totals.append(sum(hypothesis_counts.values()))
        counts.append(
            sum(min(n, clip.get(ngram, 0)) for ngram, n in hypothesis_counts.items())
        )
    sys_len = len(hypothesis_words)
    return [sys_len, _closest_length(sys_len, reference_lengths), *counts, *totals]


def _score_from_statistics(
    statistics, max_order: int, smooth: str, smooth_value, effective_order: bool
) -> BleuScore:
    """BLEU from one flat `[sys_len, ref_len, counts..., totals...]` vector."""
    return bleu_from_statistics(
        correct=statistics[2 : 2 + max_order],
        total=statistics[2 + max_order : 2 + 2 * max_order],
        sys_len=statistics[0],
        ref_len=statistics[1],
        smooth=smooth,
        smooth_value=smooth_value,
        use_effective_order=effective_order,
        max_order=max_order,
    )


def _corpus_statistics(
    hypotheses: list[str],
    reference_sets: list[list[str]],
    max_order: int,
    tokenize: str,
    lowercase: bool,
) -> list[list[int]]:
    return [
        _segment_statistics(hypothesis, references, max_order, tokenize, lowercase)
        for hypothesis, references in zip(hypotheses, reference_sets, strict=True)
    ]


def corpus_bleu(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str | None]] | Sequence[str],
    max_order: int = 4,
    smooth: str = "exp",
    smooth_value: float | None = None,
    tokenize: str = "13a",
    lowercase: bool = False,
    use_effective_order: bool = False,
) -> BleuScore:
    """Corpus BLEU, identical to `sacrebleu.corpus_bleu`.

    Sufficient statistics are summed over all segments before the score is
    formed, so this is not the mean of sentence BLEUs.

    Args:
        hypotheses: list of str, one system output per segment.
        references: SacreBLEU's convention: a list of reference *streams*, each a
            list holding one reference per hypothesis (`references[k][i]` is the
            k-th reference of hypothesis i; `None` where a segment has fewer
            references). A flat list of strings is taken as a single stream.
        max_order: int, the largest n-gram order N. Defaults to `4`.
        smooth: str, how orders without a match are smoothed: `"exp"`
            (SacreBLEU's default: the k-th such order gets precision
            100 / (2^k * totals)), `"floor"` (100 * smooth_value / totals),
            `"add-k"` (smooth_value added to counts and totals of orders >= 2)
            or `"none"`. Defaults to `"exp"`.
        smooth_value: optional number for `"floor"` (default 0.1) and
            `"add-k"` (default 1). Defaults to `None`.
        tokenize: str, a SacreBLEU tokenizer: `"13a"`, `"none"`, `"intl"`,
            `"char"` or `"zh"`. Defaults to `"13a"`.
        lowercase: bool, lowercase before tokenizing. Defaults to `False`.
        use_effective_order: bool, average only the orders the hypotheses have
            n-grams for. Defaults to `False` (SacreBLEU's corpus default).

    Returns:
        A `BleuScore` with `.score` in [0, 100], `.precisions` (percent), `.bp`,
        `.sys_len`, `.ref_len`, `.counts` and `.totals`.

    Raises:
        ValueError: for an unknown `tokenize` or `smooth`, a negative
            `smooth_value`, a non-positive `max_order`, a reference stream whose length differs from
            `hypotheses`, or a segment with no reference.
        TypeError: if `hypotheses` or `references` do not hold strings.

    Example:
    >>> from keras_seq.metrics import corpus_bleu
    >>> hypotheses = ["the cat sat on the mat", "a dog barks loudly today"]
    >>> references = [["the cat sat on the mat", "a dog barks loudly"],
    ...               ["a cat sat on a mat", "the dog barks loudly today"]]
    >>> result = corpus_bleu(hypotheses, references)
    >>> round(result.score, 2), result.sys_len, result.ref_len
    (100.0, 11, 11)
    >>> round(corpus_bleu(["a cat on the mat"], ["the cat sat on the mat"]).score, 2)
    34.98
    >>> round(corpus_bleu(["a cat on the mat"], ["the cat sat on the mat"],
    ...                   smooth="add-k").score, 2)
    43.54
    """
    _validate_options(max_order, smooth, smooth_value, tokenize)
    hypotheses = hypothesis_list(hypotheses, "sentence_bleu")
    references = reference_sets(references, len(hypotheses))
    statistics = _corpus_statistics(
        hypotheses, references, max_order, tokenize, lowercase
    )
    summed = [sum(column) for column in zip(*statistics)] or [0] * (2 + 2 * max_order)
    return _score_from_statistics(
        summed, max_order, smooth, smooth_value, use_effective_order
    )


def sentence_bleu(
    hypothesis: str,
    references: Sequence[str] | str,
    max_order: int = 4,
    smooth: str = "exp",
    smooth_value: float | None = None,
    tokenize: str = "13a",
    lowercase: bool = False,
    use_effective_order: bool = True,
) -> BleuScore:
    """Sentence BLEU, identical to `sacrebleu.sentence_bleu`.

    Like SacreBLEU, sentence BLEU defaults to `"exp"` smoothing *and* the
    effective order (orders the hypothesis is too short for are left out).
    BLEU is a corpus metric: average sentence BLEUs only for diagnostics.

    Args:
        hypothesis: str, the system output.
        references: list of str (one or more references), or a single str.
        max_order: int, the largest n-gram order. Defaults to `4`.
        smooth: str, `"exp"`, `"floor"`, `"add-k"` or `"none"` (see
            `corpus_bleu`). Defaults to `"exp"`.
        smooth_value: optional number for `"floor"` and `"add-k"`. Defaults to
            `None` (0.1 and 1).
        tokenize: str, a SacreBLEU tokenizer name (see `corpus_bleu`). Defaults
            to `"13a"`.
        lowercase: bool, lowercase before tokenizing. Defaults to `False`.
        use_effective_order: bool, average only the orders up to the last one
            the hypothesis has n-grams for. Defaults to `True` (SacreBLEU's
            sentence default).

    Returns:
        A `BleuScore` (see `corpus_bleu`).

    Raises:
        ValueError: for unknown options or an empty `references`.
        TypeError: if `hypothesis` is not a string.

    Example:
    >>> from keras_seq.metrics import sentence_bleu
    >>> round(sentence_bleu("the cat sat", ["the cat sat down"]).score, 2)
    71.65
    >>> round(sentence_bleu("a cat sat", "the cat sat down", smooth="floor").score, 2)
    23.06
    """
    _validate_options(max_order, smooth, smooth_value, tokenize)
    references = sentence_references(hypothesis, references)
    statistics = _segment_statistics(
        hypothesis, references, max_order, tokenize, lowercase
    )
    return _score_from_statistics(
        statistics, max_order, smooth, smooth_value, use_effective_order
    )


@keras.saving.register_keras_serializable(package="keras_seq")
class Bleu(AttributeConfig, HostStatisticsMetric):
    """Streaming corpus BLEU: sums SacreBLEU's sufficient statistics over batches.

    `update_state` adds each segment's statistics (clipped n-gram matches and
    totals per order, hypothesis length, closest reference length), scaled by
    its `sample_weight`; `result()` is the corpus BLEU over everything seen, so
    after all batches it equals `corpus_bleu` on the concatenated segments (not
    the mean of sentence BLEUs). A weight of 0 removes a segment, 2 counts it
    twice.

    Statistics are computed in Python on the host. Eagerly this is a plain call;
    inside a `tf.function` (e.g. `model.evaluate`) it runs through
    `tf.py_function`, which needs `jit_compile=False`. The state is four float32
    variables, exact for integer counts up to 2^24.

    Args:
        max_order: int, the largest n-gram order. Defaults to `4`.
        smooth: str, `"exp"`, `"floor"`, `"add-k"` or `"none"` (see
            `corpus_bleu`). Defaults to `"exp"`.
        smooth_value: optional number for `"floor"` and `"add-k"`. Defaults to
            `None` (0.1 and 1).
        tokenize: str, a SacreBLEU tokenizer name (see `corpus_bleu`). Defaults
            to `"13a"`.
        lowercase: bool, lowercase before tokenizing. Defaults to `False`.
        detokenize: optional callable turning a token-id tensor `[B, T]` into a
            list (or string tensor) of `B` strings, e.g. a vocabulary's decoder.
            Needed only for token-id inputs; it is not serialised by
            `get_config` (pass it again when reloading). Defaults to `None`.
        name: str, the metric name. Defaults to `"bleu"`.
        dtype: the result dtype. Defaults to float32.

    Call arguments (`update_state`):
        references: what `corpus_bleu` accepts (a list of strings, or a list of
            reference streams); or a string tensor/array `[B]` (one reference
            per segment) or `[B, R]` (batch-major, R references per segment,
            empty strings ignored as padding); or token ids with `detokenize`.
        hypotheses: list of `B` strings, a string tensor `[B]`, or token ids
            `[B, T]` with `detokenize`.
        sample_weight: optional scalar or `[B]` weights.

    Raises:
        ValueError: for unknown options (see `corpus_bleu`), mismatched batch
            sizes, or token ids without `detokenize`.

    Example:
    >>> from keras_seq.metrics import Bleu
    >>> bleu = Bleu()
    >>> bleu.update_state(["the cat sat on the mat"], ["the cat sat on the mat"])
    >>> bleu.update_state(["a dog barks loudly"], ["a dog barks"])
    >>> round(float(bleu.result()), 2)
    89.48
    """

    config_attributes = ("max_order", "smooth", "smooth_value", "tokenize", "lowercase")

    def __init__(
        self,
        max_order: int = 4,
        smooth: str = "exp",
        tokenize: str = "13a",
        lowercase: bool = False,
        detokenize: Callable | None = None,
        name: str = "bleu",
        dtype=None,
        smooth_value: float | None = None,
        **kwargs,
    ):
        _validate_options(max_order, smooth, smooth_value, tokenize)
        if detokenize is not None and not callable(detokenize):
            raise ValueError(
                f"`detokenize` must be callable or None; received {detokenize!r}."
            )
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.max_order = max_order
        self.smooth = smooth
        self.smooth_value = smooth_value
        self.tokenize = tokenize
        self.lowercase = lowercase
        self.detokenize = detokenize
        self._add_statistics(
            {
                "hypothesis_length": (),
                "reference_length": (),
                "matches": (max_order,),
                "totals": (max_order,),
            }
        )

    def _texts(self, values, argument: str):
        if is_token_tensor(values):
            if self.detokenize is None:
                raise ValueError(
                    f"`{argument}` holds token ids; pass `detokenize=` to `Bleu` to "
                    "turn them into strings."
                )
            return self.detokenize(values)
        return values

    def _batch_reference_sets(self, references, batch_size: int) -> list[list[str]]:
        references = self._texts(references, "references")
        if is_text_tensor(references) and len(references.shape) == 2:
            rows = text_rows(references, "references")
            return [[r for r in row if r] or [""] for row in rows]
        if is_text_tensor(references) and len(references.shape) == 1:
            references = text_rows(references, "references")
        return reference_sets(references, batch_size)

    def _batch_statistics(self, references, hypotheses, sample_weight) -> np.ndarray:
        hypotheses = hypothesis_list(
            self._texts(hypotheses, "hypotheses"), "sentence_bleu"
        )
        reference_sets = self._batch_reference_sets(references, len(hypotheses))
        check_same_segment_count("references", reference_sets, "hypotheses", hypotheses)
        weights = segment_weights(sample_weight, len(hypotheses))
        statistics = np.asarray(
            _corpus_statistics(
                hypotheses,
                reference_sets,
                self.max_order,
                self.tokenize,
                self.lowercase,
            ),
            dtype="float64",
        ).reshape(len(hypotheses), 2 + 2 * self.max_order)
        return weights @ statistics

    def _score(self, *variables) -> np.float32:
        flat = np.concatenate(
            [np.reshape(np.asarray(v, "float64"), -1) for v in variables]
        )
        statistics = [float(value) for value in flat]
        score = _score_from_statistics(
            statistics, self.max_order, self.smooth, self.smooth_value, False
        )
        return np.float32(score.score)

    def result(self):
        variables = [
            tf.convert_to_tensor(getattr(self, name)) for name in self._statistic_sizes
        ]
        score = tf.py_function(self._score, variables, Tout=tf.float32)
        score.set_shape([])
        return tf.cast(score, self.dtype)
