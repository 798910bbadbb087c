"""Shared machinery for streaming metrics whose statistics are computed in Python.

BLEU, ROUGE and edit distances work on strings, so their per-batch sufficient
statistics are computed on the host. `HostStatisticsMetric` keeps those statistics
in float32 Keras variables (so the metric serialises and resets like any other)
and adds one batch at a time: directly when running eagerly, through
`tf.py_function` inside a `tf.function` (for example a compiled `evaluate` step).
`tf.py_function` has no XLA kernel, so such metrics need `jit_compile=False`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import ops


def is_text_tensor(values) -> bool:
    """True for a tensor or array holding strings (as opposed to token ids)."""
    if isinstance(values, tf.Tensor):
        return values.dtype == tf.string
    if isinstance(values, np.ndarray):
        return values.dtype.kind in "OSU"
    return False


def is_token_tensor(values) -> bool:
    """True for a numeric tensor or array (token ids to be detokenized)."""
    if isinstance(values, tf.Tensor | np.ndarray):
        return not is_text_tensor(values)
    return False


def _to_text(item, argument: str) -> str | None:
    if item is None:
        return None
    if isinstance(item, bytes):
        return item.decode("utf-8")
    if isinstance(item, str):
        return item
    raise TypeError(
        f"`{argument}` must hold strings; received an item of type "
        f"{type(item).__name__}: {item!r}."
    )


def text_rows(values, argument: str) -> list:
    """Strings from a list, a NumPy array or a string tensor.

    Rank 0 gives a one-item list, rank 1 a list of strings, rank 2 a list of
    lists of strings. Python lists are returned with bytes decoded, unchanged
    otherwise (nested lists stay nested).
    """
    if isinstance(values, tf.Tensor):
        values = values.numpy()
    if isinstance(values, np.ndarray):
        if values.ndim > 2:
            raise ValueError(
                f"`{argument}` must have rank 1 or 2; received shape {values.shape}."
            )
        values = values.tolist() if values.ndim else [values.item()]
    if isinstance(values, str | bytes):
        return [_to_text(values, argument)]
    if not isinstance(values, Sequence):
        raise TypeError(
            f"`{argument}` must be a list of strings or a string tensor; received "
            f"{type(values).__name__}."
        )
    return [
        [_to_text(x, argument) for x in item]
        if isinstance(item, list | tuple)
        else _to_text(item, argument)
        for item in values
    ]


def check_same_segment_count(first_name: str, first, second_name: str, second) -> None:
    """Raise a `ValueError` unless the two lists hold as many segments.

    >>> check_same_segment_count("hypotheses", ["a"], "references", ["a", "b"])
    Traceback (most recent call last):
    ...
    ValueError: `hypotheses` has 1 segments but `references` has 2.
    """
    if len(first) != len(second):
        raise ValueError(
            f"`{first_name}` has {len(first)} segments but `{second_name}` has "
            f"{len(second)}."
        )


def segment_weights(sample_weight, batch_size: int) -> np.ndarray:
    """One float64 weight per segment from `None`, a scalar, `[B]` or `[B, 1]`."""
    if sample_weight is None:
        return np.ones(batch_size)
    if isinstance(sample_weight, tf.Tensor):
        sample_weight = sample_weight.numpy()
    weights = np.asarray(sample_weight, dtype="float64")
    if weights.ndim == 0:
        return np.full(batch_size, float(weights))
    if weights.size != batch_size:
        raise ValueError(
            "`sample_weight` must be a scalar or hold one weight per segment "
            f"({batch_size}); received shape {weights.shape}."
        )
    return weights.reshape(batch_size)


class HostStatisticsMetric(keras.metrics.Metric):
    """A metric that sums per-batch statistics computed by Python code.

    Subclasses call `_add_statistics({"name": shape, ...})` in `__init__` and
    implement `_batch_statistics(references, hypotheses, sample_weight)`,
    returning the statistics flattened into one float vector, in that order.
    """

    def _add_statistics(self, shapes: dict[str, tuple]) -> None:
        self._statistic_sizes = {
            name: math.prod(shape) for name, shape in shapes.items()
        }
        for name, shape in shapes.items():
            variable = self.add_variable(
                shape=shape,
                initializer="zeros",
                dtype="float32",
                name=name,
            )
            setattr(self, name, variable)

    def _batch_statistics(self, references, hypotheses, sample_weight) -> np.ndarray:
        """The flat statistics of one batch; each streaming metric defines it."""
        raise TypeError(f"{type(self).__name__} does not define _batch_statistics().")

    def _host_statistics(self, references, hypotheses, sample_weight):
        flat = self._batch_statistics(references, hypotheses, sample_weight)
        return np.asarray(flat, dtype="float32")

    def update_state(self, references, hypotheses, sample_weight=None):
        """Adds the statistics of one batch of segments (see the class docstring)."""
        if tf.executing_eagerly():
            flat = self._host_statistics(references, hypotheses, sample_weight)
        else:
            for argument, values in (
                ("references", references),
                ("hypotheses", hypotheses),
            ):
                if isinstance(values, list | tuple) and any(
                    isinstance(item, list | tuple) for item in values
                ):
                    # A nested list would become a [streams, batch] tensor here
                    # but means [batch, ...] for tensors: refuse the ambiguity.
                    raise ValueError(
                        f"Inside a `tf.function`, pass `{argument}` as a string "
                        "tensor ([batch] or [batch, num_references]), not nested "
                        "Python lists."
                    )
            weight = 1.0 if sample_weight is None else sample_weight
            flat = tf.py_function(
                self._host_statistics,
                [references, hypotheses, weight],
                Tout=tf.float32,
            )
            flat.set_shape([sum(self._statistic_sizes.values())])
        start = 0
        for name, size in self._statistic_sizes.items():
            variable = getattr(self, name)
            part = ops.reshape(flat[start : start + size], variable.shape)
            variable.assign_add(ops.cast(part, "float32"))
            start += size

    def _statistic_values(self) -> dict[str, np.ndarray]:
        return {
            name: np.asarray(ops.convert_to_numpy(getattr(self, name)), "float64")
            for name in self._statistic_sizes
        }
