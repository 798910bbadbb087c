"""Ranking metrics of the dna application, exact (no thresholds binned):
AUROC and AUPRC per label and their means.

`auroc` is the Mann-Whitney U statistic over the positives and negatives
with ties counted as one half, which is scikit-learn's `roc_auc_score`;
`auprc` is the average precision ``sum_n (R_n - R_{n-1}) P_n`` over the
distinct score thresholds, which is scikit-learn's
`average_precision_score` (not the trapezoidal area, which is optimistic).
The tests check both against scikit-learn.

>>> from applications.dna.scoring import auroc, auprc
>>> auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), round(auprc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
(0.75, 0.8333)
"""

from __future__ import annotations

import numpy as np


def _check(labels, scores):
    labels, scores = (
        np.asarray(labels, "float64").ravel(),
        np.asarray(scores, "float64").ravel(),
    )
    if labels.shape != scores.shape:
        raise ValueError(
            f"`labels` and `scores` must have the same size; received {labels.size} and {scores.size}."
        )
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("`labels` must be 0 or 1.")
    if not np.isfinite(scores).all():
        raise ValueError("`scores` must be finite.")
    return labels, scores


def _midranks(values):
    """Ranks 1..n of `values`, tied values sharing their mean rank."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ordered)) + 1]
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values))
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)
    return ranks


def auroc(labels, scores):
    """Area under the ROC curve: the probability that a random positive
    scores above a random negative (ties count one half). NaN when
    `labels` holds one class only."""
    labels, scores = _check(labels, scores)
    positives = labels.sum()
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    rank_sum = _midranks(scores)[labels == 1].sum()
    return float((rank_sum - positives * (positives + 1) / 2) / (positives * negatives))


def auprc(labels, scores):
    """Average precision: the precision at each distinct score threshold,
    weighted by the recall gained there. NaN without positives."""
    labels, scores = _check(labels, scores)
    if labels.sum() == 0:
        return float("nan")
    order = np.argsort(-scores, kind="mergesort")
    labels, scores = labels[order], scores[order]
    last = np.r_[
        np.flatnonzero(np.diff(scores)), labels.size - 1
    ]  # the last index of each threshold
    true_positives = np.cumsum(labels)[last]
    precision = true_positives / (last + 1)
    recall = true_positives / true_positives[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def per_label(labels, scores, label_names):
    """``{name: {"auroc": .., "auprc": .., "positives": n}}`` for ``[N, K]``
    `labels` and `scores`, with the means over the labels where both are
    defined under ``"mean"``.

    >>> result = per_label([[1, 0], [0, 1], [1, 1]], [[0.9, 0.2], [0.1, 0.8], [0.7, 0.1]], ["a", "b"])
    >>> result["a"]["auroc"], result["b"]["auroc"], result["mean"]["auroc"]
    (1.0, 0.5, 0.75)
    """
    labels, scores = np.asarray(labels, "float64"), np.asarray(scores, "float64")
    if (
        labels.ndim != 2
        or labels.shape != scores.shape
        or labels.shape[1] != len(label_names)
    ):
        raise ValueError(
            f"`labels` and `scores` must both be [N, {len(label_names)}]; received {labels.shape} and {scores.shape}."
        )
    result = {}
    for k, name in enumerate(label_names):
        result[name] = {
            "auroc": auroc(labels[:, k], scores[:, k]),
            "auprc": auprc(labels[:, k], scores[:, k]),
            "positives": int(labels[:, k].sum()),
        }
    result["mean"] = {
        metric: float(np.nanmean([result[n][metric] for n in label_names]))
        if not all(np.isnan(result[n][metric]) for n in label_names) else float("nan")
        for metric in ("auroc", "auprc")
    }  # fmt: skip
    return result
