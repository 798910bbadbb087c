"""chrF and chrF++ (Popović, 2015 and 2017), computed exactly as SacreBLEU does.

For every order n the hypothesis and reference n-grams are counted, characters
for n = 1..`char_order` (whitespace removed unless `whitespace=True`) and, for
chrF++, words for n = 1..`word_order` (words split on whitespace, then one
punctuation mark split off the end, else the start, of each longer word). Each
order contributes `[hypothesis n-grams, reference n-grams, matches]`; matches
are clipped counts. A hypothesis n-gram of an order the reference has none of
is not counted. These statistics add up over a corpus, and with
beta-weighted F:

- default (`eps_smoothing=False`, SacreBLEU >= 2.0's default): precision and
  recall are averaged over the orders where both sides have n-grams, then
  chrF = 100 * (1 + beta^2) P R / (beta^2 P + R);
- `eps_smoothing=True` (chrF++.py, NLTK, Moses): the per-order F scores are
  averaged over all orders, an order with no n-grams counting as 1e-16.

With several references, each segment keeps the statistics of the reference
that gives it the best (first best) F score.

References:
    Popović, 2015, "chrF: character n-gram F-score for automatic MT evaluation".
    Popović, 2017, "chrF++: words helping character n-grams".
"""

from __future__ import annotations

import dataclasses
import numbers
from collections import Counter
from collections.abc import Sequence

from keras_seq._validation import check_positive_ints
from keras_seq.metrics._references import (
    hypothesis_list,
    reference_sets,
    sentence_references,
)

_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_EPSILON = 1e-16


@dataclasses.dataclass(frozen=True)
class ChrFScore:
    """A chrF (or chrF++) score, with its settings (as SacreBLEU's `CHRFScore`).

    Attributes:
        score: float, in [0, 100].
        char_order: int, the largest character n-gram order.
        word_order: int, the largest word n-gram order (2 for chrF++).
        beta: the recall weight.
        statistics: list of numbers, `[hypothesis, reference, matches]` per
            order (character orders first), summed over the corpus.
    """

    score: float
    char_order: int
    word_order: int
    beta: float
    statistics: list

    @property
    def name(self) -> str:
        """`"chrF2"` for chrF with beta 2, `"chrF2++"` for chrF++."""
        return f"chrF{self.beta}" + "+" * self.word_order


@dataclasses.dataclass(frozen=True)
class _Options:
    char_order: int
    word_order: int
    beta: float
    lowercase: bool
    whitespace: bool
    eps_smoothing: bool


def _check_options(char_order, word_order, beta, *flags) -> _Options:
    check_positive_ints({"char_order": char_order})
    if (
        isinstance(word_order, bool)
        or not isinstance(word_order, int)
        or word_order < 0
    ):
        raise ValueError(
            f"`word_order` must be a non-negative integer; received {word_order!r}."
        )
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not beta > 0:
        raise ValueError(f"`beta` must be a positive number; received {beta!r}.")
    return _Options(char_order, word_order, beta, *flags)


def _words(text: str) -> list[str]:
    """Whitespace words with one leading or trailing punctuation mark split off."""
    words = []
    for word in text.split():
        if len(word) > 1 and word[-1] in _PUNCTUATION:
            words += [word[:-1], word[-1]]
        elif len(word) > 1 and word[0] in _PUNCTUATION:
            words += [word[0], word[1:]]
        else:
            words.append(word)
    return words


def _ngram_counters(text: str, options: _Options) -> list[Counter]:
    """One n-gram `Counter` per order: characters first, then words."""
    if options.lowercase:
        text = text.lower()
    characters = text if options.whitespace else "".join(text.split())
    counters = [
        Counter(characters[i : i + n] for i in range(len(characters) - n + 1))
        for n in range(1, options.char_order + 1)
    ]
    if options.word_order:
        words = _words(text)
        counters += [
            Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
            for n in range(1, options.word_order + 1)
        ]
    return counters


def _order_statistics(hypothesis: Counter, reference: Counter) -> list[int]:
    matches = sum(
        min(count, reference[ngram])
        for ngram, count in hypothesis.items()
        if ngram in reference
    )
    hypothesis_total = sum(hypothesis.values()) if reference else 0
    return [hypothesis_total, sum(reference.values()), matches]


def _f_score(statistics: Sequence[float], options: _Options) -> float:
    """chrF in [0, 100] from flat `[hyp, ref, match] * orders` statistics.

    The arithmetic follows SacreBLEU's operation for operation, so scores are
    equal to the last bit.
    """
    factor = options.beta**2
    orders = options.char_order + options.word_order
    f_sum = precision_sum = recall_sum = 0.0
    effective_orders = 0
    for order in range(orders):
        hypothesis, reference, matches = statistics[3 * order : 3 * order + 3]
        precision = matches / hypothesis if hypothesis > 0 else _EPSILON
        recall = matches / reference if reference > 0 else _EPSILON
        denominator = factor * precision + recall
        f_sum += (
            (1 + factor) * precision * recall / denominator
            if denominator > 0
            else _EPSILON
        )
        if hypothesis > 0 and reference > 0:
            precision_sum += precision
            recall_sum += recall
            effective_orders += 1
    if options.eps_smoothing:
        return 100 * f_sum / orders
    if effective_orders == 0:
        return 0.0
    precision = precision_sum / effective_orders
    recall = recall_sum / effective_orders
    if not precision + recall:
        return 0.0
    score = (1 + factor) * precision * recall
    return 100 * (score / (factor * precision + recall))


def _segment_statistics(
    hypothesis: str, references: list[str], options: _Options
) -> list[int]:
    hypothesis_counters = _ngram_counters(hypothesis, options)
    best, best_score = None, -1.0
    for reference in references:
        statistics = []
        for ours, theirs in zip(
            hypothesis_counters, _ngram_counters(reference, options), strict=True
        ):
            statistics += _order_statistics(ours, theirs)
        score = _f_score(statistics, options)
        if score > best_score:
            best, best_score = statistics, score
    return best


def _result(statistics, options: _Options) -> ChrFScore:
    return ChrFScore(
        score=_f_score(statistics, options),
        char_order=options.char_order,
        word_order=options.word_order,
        beta=options.beta,
        statistics=list(statistics),
    )


def corpus_chrf(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str | None]] | Sequence[str],
    char_order: int = 6,
    word_order: int = 0,
    beta: float = 2,
    lowercase: bool = False,
    whitespace: bool = False,
    eps_smoothing: bool = False,
) -> ChrFScore:
    """Corpus chrF / chrF++, equal to SacreBLEU's `CHRF(...).corpus_score`.

    Statistics are summed over segments before the score is formed.

    Args:
        hypotheses: list of str, one system output per segment.
        references: reference streams as in `corpus_bleu` (`references[k][i]`
            is the k-th reference of segment i; `None` where missing; a flat
            list of strings is one stream).
        char_order: int, the largest character n-gram order. Defaults to `6`.
        word_order: int, the largest word n-gram order; `2` gives chrF++.
            Defaults to `0`.
        beta: number, recall is `beta` times as important as precision.
            Defaults to `2`.
        lowercase: bool, compare case-insensitively. Defaults to `False`.
        whitespace: bool, keep whitespace in character n-grams (SacreBLEU's
            `whitespace=True`, i.e. `remove_whitespace=False`). Defaults to
            `False`.
        eps_smoothing: bool, average per-order F scores with 1e-16 for empty
            orders (chrF++.py/NLTK/Moses) instead of averaging precision and
            recall over the orders present. Defaults to `False`.

    Returns:
        A `ChrFScore` with `.score` in [0, 100] and the summed `.statistics`.

    Raises:
        ValueError: for a non-positive `char_order` or `beta`, a negative
            `word_order`, a reference stream whose length differs from
            `hypotheses`, or a segment without a reference.
        TypeError: if `hypotheses` or `references` do not hold strings.

    Example:
    >>> from keras_seq.metrics import corpus_chrf
    >>> hypotheses = ["the cat sat on the mat", "a dog barks"]
    >>> references = [["the cat sat on a mat", "the dog barks"]]
    >>> round(corpus_chrf(hypotheses, references).score, 4)
    69.8117
    >>> result = corpus_chrf(hypotheses, references, word_order=2)
    >>> result.name, round(result.score, 4)
    ('chrF2++', 69.2239)
    """
    options = _check_options(
        char_order, word_order, beta, lowercase, whitespace, eps_smoothing
    )
    hypotheses = hypothesis_list(hypotheses, "sentence_chrf")
    references = reference_sets(references, len(hypotheses))
    summed = [0] * (3 * (char_order + word_order))
    for hypothesis, segment_references in zip(hypotheses, references, strict=True):
        statistics = _segment_statistics(hypothesis, segment_references, options)
        summed = [
            total + value for total, value in zip(summed, statistics, strict=True)
        ]
    return _result(summed, options)


def sentence_chrf(
    hypothesis: str,
    references: Sequence[str] | str,
    char_order: int = 6,
    word_order: int = 0,
    beta: float = 2,
    lowercase: bool = False,
    whitespace: bool = False,
    eps_smoothing: bool = False,
) -> ChrFScore:
    """chrF / chrF++ of one sentence, equal to SacreBLEU's `sentence_score`.

    Args:
        hypothesis: str, the system output.
        references: a str or a list of str; the best-scoring one is used.
        char_order, word_order, beta, lowercase, whitespace, eps_smoothing: as
            in `corpus_chrf`.

    Returns:
        A `ChrFScore`.

    Raises:
        ValueError: for bad options or no reference.
        TypeError: if `hypothesis` is not a string.

    Example:
    >>> from keras_seq.metrics import sentence_chrf
    >>> round(sentence_chrf("the cat sat", ["a cat sat", "the cat sits"]).score, 4)
    67.2313
    """
    options = _check_options(
        char_order, word_order, beta, lowercase, whitespace, eps_smoothing
    )
    references = sentence_references(hypothesis, references)
    return _result(_segment_statistics(hypothesis, references, options), options)
