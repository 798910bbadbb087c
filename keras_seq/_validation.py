"""Argument checks shared across keras_seq, so every `ValueError` about a
size or count uses the same test and the same wording."""

from __future__ import annotations

import numpy as np


def positive_int_error(name, value, allow_none=False, allow_numpy=False):
    """The message for a `name` that is not a positive integer, else `None`.

    `bool` is rejected although it subclasses `int`; NumPy integers pass only
    with `allow_numpy=True`, and `None` only with `allow_none=True`.

    >>> positive_int_error("units", 3) is None
    True
    >>> positive_int_error("units", 0)
    '`units` must be a positive integer; received 0.'
    >>> positive_int_error("top_k", True, allow_none=True)
    '`top_k` must be a positive integer or None; received True.'
    """
    if allow_none and value is None:
        return None
    types = (int, np.integer) if allow_numpy else int
    if isinstance(value, bool) or not isinstance(value, types) or value < 1:
        expected = "a positive integer" + (" or None" if allow_none else "")
        return f"`{name}` must be {expected}; received {value!r}."
    return None


def positive_int_errors(values, allow_none=False, allow_numpy=False):
    """Messages for every `(name, value)` pair (or dict item) that fails
    `positive_int_error`, in order.

    >>> positive_int_errors({"a": 1, "b": -2, "c": 1.5})
    ['`b` must be a positive integer; received -2.', '`c` must be a positive integer; received 1.5.']
    """
    items = values.items() if isinstance(values, dict) else values
    errors = (
        positive_int_error(name, value, allow_none, allow_numpy) for name, value in items
    )
    return [error for error in errors if error is not None]


def check_positive_ints(values, allow_none=False, allow_numpy=False):
    """Raise one `ValueError` listing every pair in `values` that is not a
    positive integer.

    >>> check_positive_ints({"beam_width": 4, "num_return": 0})
    Traceback (most recent call last):
    ...
    ValueError: `num_return` must be a positive integer; received 0.
    """
    raise_errors(positive_int_errors(values, allow_none, allow_numpy))


def raise_errors(errors):
    """Raise one `ValueError` joining every message in `errors` (`None` and
    empty messages skipped), so a caller reports all bad arguments at once.

    >>> raise_errors([None, "`a` is bad.", "", "`b` is bad."])
    Traceback (most recent call last):
    ...
    ValueError: `a` is bad. `b` is bad.
    """
    errors = [error for error in errors if error]
    if errors:
        raise ValueError(" ".join(errors))


def check_bools(values):
    """Raise a `ValueError` for the first `(name, value)` pair (or dict item)
    whose value is not `True` or `False`.

    >>> check_bools({"lowercase": True, "strip_accents": 1})
    Traceback (most recent call last):
    ...
    ValueError: `strip_accents` must be True or False; got 1.
    """
    items = values.items() if isinstance(values, dict) else values
    for name, value in items:
        if not isinstance(value, bool):
            raise ValueError(f"`{name}` must be True or False; got {value!r}.")


def rate_error(name, value, low_inclusive=True, high=1.0, high_inclusive=False):
    """The message for a `name` that is not a float rate in `[0, 1)` (by
    default), else `None`. Used for every dropout/rate argument.

    >>> rate_error("dropout", 0.1) is None
    True
    >>> rate_error("dropout", 1.0)
    '`dropout` must be a float in [0, 1); received 1.0.'
    >>> rate_error("rate", 0, low_inclusive=False, high_inclusive=True)
    '`rate` must be a float in (0, 1]; received 0.'
    """
    interval = (
        ("[" if low_inclusive else "(")
        + f"0, {high:g}"
        + ("]" if high_inclusive else ")")
    )
    ok = (
        isinstance(value, (int, float, np.floating, np.integer))
        and not isinstance(value, bool)
        and (value >= 0 if low_inclusive else value > 0)
        and (value <= high if high_inclusive else value < high)
    )
    if ok:
        return None
    return f"`{name}` must be a float in {interval}; received {value!r}."


def check_rate(name, value, **kwargs):
    """Raise the `rate_error` of `name` as a `ValueError`, if any.

    >>> check_rate("dropout", -0.5)
    Traceback (most recent call last):
    ...
    ValueError: `dropout` must be a float in [0, 1); received -0.5.
    """
    error = rate_error(name, value, **kwargs)
    if error:
        raise ValueError(error)


def concrete_values(x):
    """The NumPy values of `x` when they are known now (NumPy or Python
    input, or an eager tensor), else `None` (symbolic or traced tensors)."""
    if x is None:
        return None
    if isinstance(x, (np.ndarray, np.generic, int, float, list, tuple)):
        return np.asarray(x)
    import keras

    if isinstance(x, keras.KerasTensor):
        return None
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if not tf.executing_eagerly() or not hasattr(x, "numpy"):
            return None
        try:
            return x.numpy()
        except (NotImplementedError, AttributeError, TypeError):
            return None
    try:
        return keras.ops.convert_to_numpy(x)
    except Exception:  # a tracer of another backend: values unknown now.
        return None


def id_array(ids, name, vocabulary_size):
    """`ids` as a NumPy integer array of rank 1 (`[time]`) or 2
    (`[batch, time]`) holding ids in [0, vocabulary_size); raises a
    `ValueError` naming `name` otherwise. An empty input is an empty int64
    array whatever its dtype.

    >>> id_array([[1, 4]], "ids", 5).tolist()
    [[1, 4]]
    >>> id_array([1, 5], "ids", 5)
    Traceback (most recent call last):
    ...
    ValueError: `ids` must be in [0, vocabulary_size=5); found 5.
    """
    array = np.asarray(ids)
    if array.size == 0 and array.dtype.kind not in "iu":
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise ValueError(f"`{name}` must hold integers; got dtype {array.dtype}.")
    if array.ndim not in (1, 2):
        raise ValueError(
            f"`{name}` must have rank 1 ([time]) or 2 ([batch, time]); got shape "
            f"{array.shape}."
        )
    if array.size and (array.min() < 0 or array.max() >= vocabulary_size):
        bad = array[(array < 0) | (array >= vocabulary_size)].flat[0]
        raise ValueError(
            f"`{name}` must be in [0, vocabulary_size={vocabulary_size}); "
            f"found {int(bad)}."
        )
    return array


def check_token_ids(ids, vocabulary_size, name="token_ids"):
    """Raise a `ValueError` unless `ids` holds integers in [0, vocabulary_size).

    Checked when the values are concrete (eager calls, NumPy input). At
    trace time a float dtype passes: Keras's `fit` under a `tf.distribute`
    strategy builds the model from the mean of the replicas' first batches,
    a float tensor, and `Embedding` casts ids to int32 as Keras's does.

    >>> check_token_ids(np.array([[1, 4]]), 5)
    >>> check_token_ids(np.array([[1, 5]]), 5)
    Traceback (most recent call last):
    ...
    ValueError: `token_ids` must hold token ids in [0, 5) (the vocabulary size); received ids from 1 to 5.
    >>> check_token_ids(np.array([[1.0, 2.0]]), 5)
    Traceback (most recent call last):
    ...
    ValueError: `token_ids` must hold integer token ids; received dtype float64.
    """
    values = concrete_values(ids)
    if values is None:
        return
    if values.dtype.kind not in "iu":
        import keras

        dtype = keras.backend.standardize_dtype(getattr(ids, "dtype", values.dtype))
        raise ValueError(f"`{name}` must hold integer token ids; received dtype {dtype}.")
    if values.size == 0:
        return
    low, high = values.min(), values.max()
    if low < 0 or high >= vocabulary_size:
        raise ValueError(
            f"`{name}` must hold token ids in [0, {vocabulary_size}) (the vocabulary "
            f"size); received ids from {low} to {high}."
        )
