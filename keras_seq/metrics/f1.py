"""The F1 score: the harmonic mean of precision and recall."""

from __future__ import annotations

import numbers

from keras import ops


def f1_score(precision, recall):
    """Harmonic mean 2PR / (P + R), defined as 0 when P + R is 0.

    Python numbers give a Python float (computed exactly as rouge-score does);
    arrays and tensors give a float32 tensor, element-wise.

    Args:
        precision: float, array or tensor, in [0, 1].
        recall: float, array or tensor, broadcastable against `precision`.

    Returns:
        A float for number inputs, otherwise a tensor.

    Raises:
        ValueError: if a number input is negative.

    Example:
    >>> from keras_seq.metrics import f1_score
    >>> f1_score(0.5, 1.0)
    0.6666666666666666
    >>> f1_score(0.0, 0.0)
    0.0
    >>> [round(float(x), 4) for x in f1_score([1.0, 0.0], [0.5, 0.0])]
    [0.6667, 0.0]
    """
    if isinstance(precision, numbers.Real) and isinstance(recall, numbers.Real):
        for argument, value in (("precision", precision), ("recall", recall)):
            if value < 0:
                raise ValueError(
                    f"`{argument}` must be non-negative; received {value}."
                )
        if precision + recall > 0:
            return 2 * precision * recall / (precision + recall)
        return 0.0
    precision = ops.cast(precision, "float32")
    recall = ops.cast(recall, "float32")
    return ops.divide_no_nan(2.0 * precision * recall, precision + recall)
