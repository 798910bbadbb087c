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
    errors = positive_int_errors(values, allow_none, allow_numpy)
    if errors:
        raise ValueError(" ".join(errors))
