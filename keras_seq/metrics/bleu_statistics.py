"""BLEU from its sufficient statistics, with SacreBLEU's four smoothing methods.

Given, per n-gram order n = 1..N, the clipped matches `correct[n]` and the
hypothesis n-grams `total[n]`, and the summed hypothesis length `sys_len` and
closest-reference length `ref_len`:

    BLEU = BP * exp(mean_{n <= N'} log p_n),  p_n = 100 * correct_n / total_n,
    BP = min(1, exp(1 - ref_len / sys_len))  (0 when sys_len = 0),

where N' = N, or with the *effective order* the highest order before the first
order whose `total` is 0 (the hypothesis is too short for it). Orders without a
match are smoothed (Chen and Cherry, 2014):

- `"none"`: p_n = 0, so the score is 0;
- `"floor"` (their method 1): p_n = 100 * smooth_value / total_n
  (`smooth_value` defaults to 0.1);
- `"add-k"` (method 2): `smooth_value` (default 1) is added to `correct_n` and
  `total_n` for every n >= 2 before anything else, so every order n >= 2 then has
  n-grams and the effective order is N;
- `"exp"` (method 3, NIST's): the k-th order without a match gets
  p_n = 100 / (2^k * total_n).

With no match at any order the score is 0 whatever the smoothing.

References:
    Chen and Cherry, 2014, "A Systematic Comparison of Smoothing Techniques for
    Sentence-Level BLEU". Post, 2018, "A Call for Clarity in Reporting BLEU
    Scores" (SacreBLEU).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Sequence

from keras_seq._validation import check_positive_ints

SMOOTH_DEFAULTS = {"exp": None, "floor": 0.1, "add-k": 1, "none": None}


@dataclasses.dataclass(frozen=True)
class BleuScore:
    """A BLEU score with the statistics it was computed from (as SacreBLEU's).

    Attributes:
        score: float, BLEU in [0, 100].
        counts: list, clipped n-gram matches per order (after `"add-k"`
            smoothing, which adds `smooth_value` from order 2 on, as SacreBLEU
            reports them).
        totals: list, hypothesis n-grams per order (smoothed likewise).
        precisions: list of floats, n-gram precisions in percent (smoothed).
        bp: float, the brevity penalty.
        sys_len: total hypothesis length in tokens.
        ref_len: total closest-reference length in tokens.
    """

    score: float
    counts: list
    totals: list
    precisions: list
    bp: float
    sys_len: float
    ref_len: float

    @property
    def ratio(self) -> float:
        """Hypothesis length over reference length (0 without reference tokens)."""
        return self.sys_len / self.ref_len if self.ref_len else 0


def check_smoothing(smooth, smooth_value) -> None:
    """Raise a `ValueError` for an unknown method or a bad `smooth_value`."""
    if smooth not in SMOOTH_DEFAULTS:
        raise ValueError(
            f"`smooth` must be one of {tuple(SMOOTH_DEFAULTS)}; received {smooth!r}."
        )
    if smooth_value is None:
        return
    if (
        isinstance(smooth_value, bool)
        or not isinstance(smooth_value, numbers.Real)
        or not smooth_value >= 0
    ):
        raise ValueError(
            "`smooth_value` must be a non-negative number or None; received "
            f"{smooth_value!r}."
        )


def _brevity_penalty(sys_len, ref_len) -> float:
    if sys_len >= ref_len:
        return 1.0
    return math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0


def _check_statistics(correct, total, max_order) -> tuple[list, list]:
    check_positive_ints({"max_order": max_order})
    correct, total = list(correct), list(total)
    for name, values in (("correct", correct), ("total", total)):
        if len(values) != max_order:
            raise ValueError(
                f"`{name}` must hold one count per n-gram order ({max_order}); "
                f"received {len(values)}."
            )
    return correct, total


def bleu_from_statistics(
    correct: Sequence[float],
    total: Sequence[float],
    sys_len: float,
    ref_len: float,
    smooth: str = "exp",
    smooth_value: float | None = None,
    use_effective_order: bool = False,
    max_order: int = 4,
) -> BleuScore:
    """BLEU from sufficient statistics, equal to SacreBLEU's `BLEU.compute_bleu`.

    Turns summed (or streamed) counts into a corpus score, as `corpus_bleu`
    and `Bleu` do. The lists passed in are not modified (SacreBLEU's `"add-k"`
    adds to them); the returned `counts`/`totals` are the smoothed ones, as
    SacreBLEU returns them. SacreBLEU defaults to `smooth_method="none"` here;
    we default to `"exp"`, like `corpus_bleu`.

    Args:
        correct: list of numbers, clipped n-gram matches for orders 1..N.
        total: list of numbers, hypothesis n-grams for orders 1..N.
        sys_len: number, the hypothesis length in tokens.
        ref_len: number, the closest-reference length in tokens.
        smooth: str, `"exp"`, `"floor"`, `"add-k"` or `"none"` (see the
            module docstring). Defaults to `"exp"`.
        smooth_value: optional number, the constant of `"floor"` (default
            0.1) and `"add-k"` (default 1). Defaults to `None`.
        use_effective_order: bool, average the orders up to the last one with
            n-grams only. Defaults to `False`.
        max_order: int, N. Defaults to `4`.

    Returns:
        A `BleuScore`.

    Raises:
        ValueError: for an unknown `smooth`, a negative `smooth_value`, or a
            bad `max_order` or list length.

    Example:
    >>> from keras_seq.metrics import bleu_from_statistics
    >>> result = bleu_from_statistics([9, 7, 5, 3], [10, 8, 6, 4], 11, 11)
    >>> round(result.score, 4)
    83.7592
    >>> bleu_from_statistics([3, 1, 0, 0], [3, 2, 1, 0], 3, 4).score
    0.0
    >>> short = bleu_from_statistics([3, 1, 0, 0], [3, 2, 1, 0], 3, 4,
    ...                              use_effective_order=True)
    >>> round(short.score, 4), short.precisions
    (45.1386, [100.0, 50.0, 50.0, 0.0])
    >>> bleu_from_statistics([3, 1, 0, 0], [3, 2, 1, 0], 3, 4, smooth="add-k").counts
    [3, 2, 1, 1]
    """
    check_smoothing(smooth, smooth_value)
    correct, total = _check_statistics(correct, total, max_order)
    if smooth_value is None:
        smooth_value = SMOOTH_DEFAULTS[smooth]
    bp = _brevity_penalty(sys_len, ref_len)
    precisions = [0.0] * max_order
    if not any(correct):
        return BleuScore(0.0, correct, total, precisions, bp, sys_len, ref_len)
    used_orders = max_order
    halvings = 1.0
    for order in range(max_order):
        if smooth == "add-k" and order > 0:
            correct[order] += smooth_value
            total[order] += smooth_value
        if total[order] == 0:
            break
        if use_effective_order:
            used_orders = order + 1
        if correct[order] != 0:
            precisions[order] = 100.0 * correct[order] / total[order]
        elif smooth == "exp":
            # Each further order without a match gets half the previous credit.
            halvings *= 2
            precisions[order] = 100.0 / (halvings * total[order])
        elif smooth == "floor":
            precisions[order] = 100.0 * smooth_value / total[order]
    log_precisions = [math.log(p) if p > 0 else -math.inf for p in precisions]
    score = bp * math.exp(sum(log_precisions[:used_orders]) / used_orders)
    return BleuScore(score, correct, total, precisions, bp, sys_len, ref_len)
