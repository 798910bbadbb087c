"""Input conversion for `WordPieceTokenizer`'s eager (Python) path: strings
and token ids from Python values, NumPy arrays and tensors."""

from __future__ import annotations

from collections.abc import Iterable

import keras
import numpy as np
import tensorflow as tf


def _as_str(value, what):
    if isinstance(value, bytes | np.bytes_):
        return value.decode("utf-8")
    if isinstance(value, str):
        return str(value)
    raise ValueError(f"`inputs` must be strings; {what} is {value!r}.")


def _python_strings(inputs):
    """`(texts, batched)` for a string or a rank-1 batch of strings, `None`
    for inputs the graph path handles (ragged, rank >= 2)."""
    if isinstance(inputs, tf.RaggedTensor):
        return None
    if isinstance(inputs, str | bytes):
        return [_as_str(inputs, "the input")], False
    if isinstance(inputs, tf.Tensor):
        if inputs.dtype != tf.string:
            raise ValueError(
                f"`inputs` must be strings; got a tensor of {inputs.dtype.name}."
            )
        inputs = inputs.numpy()
    if isinstance(inputs, np.ndarray):
        if inputs.ndim == 0:
            return [_as_str(inputs.item(), "the input")], False
        if inputs.ndim > 1:
            return None
        inputs = inputs.tolist()
    if isinstance(inputs, Iterable):
        items = list(inputs)
        if any(isinstance(item, list | tuple | np.ndarray) for item in items):
            return None
        return [
            _as_str(item, f"item {index}") for index, item in enumerate(items)
        ], True
    raise ValueError(
        f"`inputs` must be a string, a list of strings or a string tensor; got {inputs!r}."
    )


def _python_ids(inputs):
    """`(rows, batched)`: lists of Python ints from ids of rank 0, 1 or 2
    (lists, NumPy arrays, dense or ragged tensors)."""
    if isinstance(inputs, tf.RaggedTensor):
        return [[int(i) for i in row] for row in inputs.to_list()], True
    if isinstance(inputs, tf.Tensor) or keras.ops.is_tensor(inputs):
        inputs = keras.ops.convert_to_numpy(inputs)
    if isinstance(inputs, int | np.integer):
        return [[int(inputs)]], False
    if isinstance(inputs, np.ndarray):
        if inputs.ndim == 0:
            return [[int(inputs)]], False
        if inputs.ndim == 1:
            return [[int(i) for i in inputs]], False
        if inputs.ndim == 2:
            return inputs.astype("int64").tolist(), True
        raise ValueError(
            f"`inputs` must be ids of rank 0, 1 or 2; got shape {inputs.shape}."
        )
    if isinstance(inputs, list | tuple):
        if not inputs or isinstance(inputs[0], int | np.integer):
            return [[int(i) for i in inputs]], False
        return [[int(i) for i in np.asarray(row).tolist()] for row in inputs], True
    raise ValueError(f"`inputs` must be token ids; got {inputs!r}.")
