"""Minimum Bayes risk selection and beam-search error analysis (seed 9.6, 9.1)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

_UTILITIES = ("rouge1", "rouge2", "rougeL")


def _utility_fn(utility):
    if callable(utility):
        return utility
    if utility not in _UTILITIES:
        raise ValueError(f"`utility` must be one of {_UTILITIES} or a callable; received {utility!r}.")
    from keras_seq.metrics import rouge_l, rouge_n

    if utility == "rougeL":
        return lambda a, b: rouge_l(a, b)[2]
    n = int(utility[-1])
    return lambda a, b: rouge_n(a, b, n=n)[2]


def mbr_select(candidates: Sequence[str], utility: str | Callable = "rouge1") -> int:
    """Minimum Bayes risk: the candidate that agrees most with the others.

    Returns argmax_E mean_{E' != E} utility(E, E') over `candidates` (e.g.
    samples from a model), with ROUGE-1/2/L F1 (`"rouge1"`, `"rouge2"`,
    `"rougeL"`) or any callable `utility(hypothesis, reference) -> float`.
    Ties go to the earliest candidate.

    Example:
    >>> from keras_seq.decoding import mbr_select
    >>> mbr_select(["the cat sat", "a cat sat", "the cat sat down", "dogs bark"])
    0
    """
    candidates = list(candidates)
    if not candidates:
        raise ValueError("`candidates` must not be empty.")
    if len(candidates) == 1:
        return 0
    score = _utility_fn(utility)
    matrix = np.array([[score(a, b) if i != j else 0.0 for j, b in enumerate(candidates)] for i, a in enumerate(candidates)])
    expected = matrix.sum(axis=1) / (len(candidates) - 1)
    return int(np.argmax(expected))


def beam_error_analysis(
    log_prob_fn: Callable,
    sources: Sequence,
    references: Sequence,
    hypotheses: Sequence,
) -> dict:
    """Attributes each translation error to the search or to the model.

    For each example the model scores the human reference y* and the
    decoder's output y_hat: `log_prob_fn(source, target) -> log P(target |
    source)` (length-normalised or not, as the search was). If P(y* | x) >
    P(y_hat | x), the model preferred the right answer and the beam search
    failed to find it: a *search* error (a wider beam may help). Otherwise the
    model itself ranks the wrong output higher: a *model* error (more data,
    regularisation or a better model may help). Exact matches are *correct*.

    Returns:
        dict with `counts` (`{"search", "model", "correct"}`), per-example
        `verdicts`, and the `reference_log_probs` / `hypothesis_log_probs`.

    Example:
    >>> from keras_seq.decoding import beam_error_analysis
    >>> table = {("x", "good"): -1.0, ("x", "bad"): -2.0, ("y", "good"): -3.0, ("y", "bad"): -0.5}
    >>> result = beam_error_analysis(lambda s, t: table[(s, t)], ["x", "y"], ["good", "good"], ["bad", "bad"])
    >>> result["verdicts"], result["counts"]["search"], result["counts"]["model"]
    (['search', 'model'], 1, 1)
    """
    if not len(sources) == len(references) == len(hypotheses):
        raise ValueError(
            "`sources`, `references` and `hypotheses` must have the same length; received "
            f"{len(sources)}, {len(references)} and {len(hypotheses)}."
        )
    verdicts, reference_scores, hypothesis_scores = [], [], []
    for source, reference, hypothesis in zip(sources, references, hypotheses):
        if _same(reference, hypothesis):
            verdicts.append("correct")
            reference_scores.append(None)
            hypothesis_scores.append(None)
            continue
        p_reference = float(log_prob_fn(source, reference))
        p_hypothesis = float(log_prob_fn(source, hypothesis))
        reference_scores.append(p_reference)
        hypothesis_scores.append(p_hypothesis)
        verdicts.append("search" if p_reference > p_hypothesis else "model")
    counts = {name: verdicts.count(name) for name in ("search", "model", "correct")}
    return {
        "counts": counts,
        "verdicts": verdicts,
        "reference_log_probs": reference_scores,
        "hypothesis_log_probs": hypothesis_scores,
    }


def _same(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return np.array_equal(np.asarray(a), np.asarray(b))
