"""GLUE's official metrics and its macro score.

Matthews correlation (CoLA), F1 of the positive class and accuracy (MRPC,
QQP), Pearson and Spearman correlation (STS-B), accuracy (the others). The
GLUE score averages, per task, its metrics (MRPC: (F1 + accuracy) / 2,
STS-B: (Pearson + Spearman) / 2; MNLI: (matched + mismatched accuracy) / 2)
and then the tasks, as the leaderboard does; AX is not part of it.

All are computed in NumPy, and tested equal to scikit-learn's
`matthews_corrcoef`, `f1_score`, `accuracy_score` and SciPy's `pearsonr`,
`spearmanr`. Where those return NaN or warn because a side is constant
(Pearson/Spearman of a constant prediction, MCC when a class is never
predicted), the value here is 0: a constant prediction carries no
information, and the leaderboard needs a number.
"""

from __future__ import annotations

import numpy as np

from applications.glue.formats import EVALUATIONS, TASKS


def _pair(labels, predictions):
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 1 or not labels.size:
        raise ValueError(
            f"`labels` and `predictions` must be non-empty 1-D arrays of one length; received shapes "
            f"{labels.shape} and {predictions.shape}."
        )
    return labels, predictions


def accuracy(labels, predictions):
    """Share of exact matches.

    >>> accuracy([1, 0, 1], [1, 1, 1])
    0.6666666666666666
    """
    labels, predictions = _pair(labels, predictions)
    return float(np.mean(labels == predictions))


def f1(labels, predictions, positive=1):
    """F1 of the `positive` class (0 when it is neither predicted nor present).

    >>> f1([1, 0, 1, 1], [1, 1, 0, 1])
    0.6666666666666666
    """
    labels, predictions = _pair(labels, predictions)
    true_positives = np.sum((predictions == positive) & (labels == positive))
    denominator = np.sum(predictions == positive) + np.sum(labels == positive)
    return float(2 * true_positives / denominator) if denominator else 0.0


def matthews_corrcoef(labels, predictions):
    """Matthews correlation of two binary labellings (phi coefficient).

    >>> round(matthews_corrcoef([1, 1, 0, 0], [1, 0, 0, 0]), 4)
    0.5774
    """
    labels, predictions = _pair(labels, predictions)
    classes = np.unique(np.concatenate([labels, predictions]))
    if classes.size > 2:
        raise ValueError(f"Matthews correlation here is for two classes; received {classes.tolist()}.")
    positive = classes[-1]
    y, p = (labels == positive).astype(np.float64), (predictions == positive).astype(np.float64)
    tp, tn = np.sum(y * p), np.sum((1 - y) * (1 - p))
    fp, fn = np.sum((1 - y) * p), np.sum(y * (1 - p))
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return float((tp * tn - fp * fn) / denominator) if denominator else 0.0


def pearson(labels, predictions):
    """Pearson's r (0 when either side is constant).

    >>> pearson([1.0, 2.0, 3.0], [2.0, 4.0, 7.0])
    0.9933992677987828
    """
    labels, predictions = _pair(labels, predictions)
    x, y = labels.astype(np.float64), predictions.astype(np.float64)
    x, y = x - x.mean(), y - y.mean()
    denominator = np.sqrt(np.sum(x * x) * np.sum(y * y))
    if denominator == 0 or _constant(labels) or _constant(predictions):
        return 0.0
    return float(np.clip(np.sum(x * y) / denominator, -1.0, 1.0))


def _constant(values):
    return bool(np.all(values == values[0]))


def _ranks(values):
    """Average ranks (ties share the mean of their positions), 1-based."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), np.float64)
    sorted_values = values[order]
    boundaries = np.flatnonzero(np.diff(sorted_values) != 0) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(values)]])
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    return ranks


def spearman(labels, predictions):
    """Spearman's rho: Pearson's r of the average ranks.

    >>> spearman([1.0, 2.0, 3.0], [2.0, 4.0, 7.0])
    1.0
    """
    labels, predictions = _pair(labels, predictions)
    return pearson(_ranks(labels.astype(np.float64)), _ranks(predictions.astype(np.float64)))


METRICS = {"mcc": matthews_corrcoef, "accuracy": accuracy, "f1": f1, "pearson": pearson, "spearman": spearman}
METRIC_NAMES = {"mcc": "Matthews corr.", "accuracy": "accuracy", "f1": "F1", "pearson": "Pearson", "spearman": "Spearman"}


def task_metrics(task, labels, predictions):
    """`{metric: value}` of one task's official metrics. Labels and
    predictions are the task's label strings, or scores for STS-B; F1 is of
    the positive class "1"."""
    task = TASKS[task] if isinstance(task, str) else task
    result = {}
    for name in task.metrics:
        if name == "f1":
            result[name] = f1(np.asarray(labels, object), np.asarray(predictions, object), positive="1")
        elif task.is_regression:
            result[name] = METRICS[name](np.asarray(labels, np.float64), np.asarray(predictions, np.float64))
        else:
            result[name] = METRICS[name](np.asarray(labels, object), np.asarray(predictions, object))
    return result


def evaluation_score(metrics):
    """One evaluation set's score: the mean of its metrics."""
    return float(np.mean(list(metrics.values())))


def glue_score(results):
    """The GLUE macro score of `{evaluation: {metric: value}}` (evaluation
    sets as named in `EVALUATIONS`: "CoLA", ..., "MNLI-m", "MNLI-mm"):
    each task's score is the mean of its metrics, MNLI's the mean of
    matched and mismatched; the GLUE score is the mean over tasks. AX is
    left out. Values are in the units given (the leaderboard uses x100).

    >>> round(glue_score({"CoLA": {"mcc": 0.5}, "MRPC": {"f1": 0.9, "accuracy": 0.8},
    ...                   "MNLI-m": {"accuracy": 0.7}, "MNLI-mm": {"accuracy": 0.8}}), 6)  # (0.5 + 0.85 + 0.75) / 3
    0.7
    """
    per_task = {}
    for evaluation, metrics in results.items():
        if evaluation not in EVALUATIONS:
            raise ValueError(f"`results` keys must be GLUE evaluation sets {list(EVALUATIONS)}; received {evaluation!r}.")
        task = EVALUATIONS[evaluation][0].name
        if evaluation != "AX":
            per_task.setdefault(task, []).append(evaluation_score(metrics))
    if not per_task:
        raise ValueError("`results` holds no GLUE task to score.")
    return float(np.mean([np.mean(scores) for scores in per_task.values()]))
