"""Padding and length-bucketing helpers for variable-length token sequences."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from keras_seq._validation import check_bools


def padded_batches(
    dataset_or_sequences: tf.data.Dataset | Sequence[Sequence[int]],
    batch_size: int,
    padding_value=0,
    drop_remainder: bool = False,
    shuffle_buffer: int | None = None,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Shuffles (optionally), pads, batches and prefetches token sequences.

    Each batch is padded to its own longest sequence, so batches of short
    sequences stay small.

    Args:
        dataset_or_sequences: A `tf.data.Dataset` whose elements are 1-D
            integer sequences of varying length, or tuples/dicts of tensors
            (scalars such as labels are batched without padding); or a Python
            list of 1-D integer sequences (lists or NumPy arrays; Python ints
            become int32).
        batch_size: The number of examples per batch.
        padding_value: The value numeric components are padded with: a number,
            or a structure matching the elements (e.g. ``{"tokens": 0,
            "labels": -100}``). String components are padded with ``""`` and
            boolean ones with `False`. Defaults to `0`.
        drop_remainder: Whether to drop the last, smaller batch. Defaults to
            `False`.
        shuffle_buffer: If set, examples are shuffled with a buffer of this
            size before batching (reshuffled every epoch). Defaults to `None`.
        seed: The shuffle seed, for a reproducible order; used only with
            `shuffle_buffer`. Defaults to `None`.

    Returns:
        A batched, prefetched `tf.data.Dataset`.

    Raises:
        ValueError: If an argument is invalid.

    Example:

    >>> from keras_seq.data import padded_batches
    >>> batches = padded_batches([[5, 6, 7], [8], [9, 10]], batch_size=2)
    >>> [batch.tolist() for batch in batches.as_numpy_iterator()]
    [[[5, 6, 7], [8, 0, 0]], [[9, 10]]]
    """
    dataset = _as_dataset(dataset_or_sequences, "dataset_or_sequences")
    _check_positive_int(batch_size, "batch_size")
    check_bools({"drop_remainder": drop_remainder})
    if shuffle_buffer is not None:
        _check_positive_int(shuffle_buffer, "shuffle_buffer")
    if seed is not None and not _is_int(seed):
        raise ValueError(f"`seed` must be None or an int; got {seed!r}.")
    padding_values = _padding_values(dataset, padding_value)
    if shuffle_buffer is not None:
        dataset = dataset.shuffle(
            shuffle_buffer, seed=seed, reshuffle_each_iteration=True
        )
    dataset = dataset.padded_batch(
        batch_size, padding_values=padding_values, drop_remainder=drop_remainder
    )
    return dataset.prefetch(tf.data.AUTOTUNE)


def bucket_by_length(
    dataset: tf.data.Dataset | Sequence[Sequence[int]],
    bucket_boundaries: Sequence[int],
    batch_sizes: Sequence[int],
    padding_value=0,
    length_fn: Callable[..., tf.Tensor] | None = None,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Batches sequences of similar length together, to waste less padding.

    Built on `tf.data.Dataset.bucket_by_sequence_length`. With boundaries
    ``[b_0, ..., b_{n-1}]`` there are ``n + 1`` buckets: lengths in
    ``[0, b_0)``, ``[b_0, b_1)``, ..., ``[b_{n-1}, inf)``; bucket ``i`` emits
    batches of ``batch_sizes[i]`` examples (usually smaller for longer
    sequences), each padded to its own longest sequence.

    Args:
        dataset: A `tf.data.Dataset` of 1-D integer sequences (or tuples/dicts
            of tensors), or a Python list of 1-D integer sequences.
        bucket_boundaries: Strictly increasing positive lengths.
        batch_sizes: One batch size per bucket: ``len(bucket_boundaries) + 1``
            positive integers.
        padding_value: As in `padded_batches`. Defaults to `0`.
        length_fn: Maps an element to its integer length (a scalar tensor,
            cast to int32). Following tf.data, a tuple element is passed as
            separate positional arguments. Defaults to the longest first
            dimension among the element's non-scalar tensors (e.g.
            ``max(len(source), len(target))`` for pairs).
        drop_remainder: Whether to drop each bucket's last, smaller batch.
            Defaults to `False`.

    Returns:
        A batched, prefetched `tf.data.Dataset`.

    Raises:
        ValueError: If an argument is invalid, e.g. the number of batch sizes
            is not one more than the number of boundaries.

    Example:

    >>> from keras_seq.data import bucket_by_length
    >>> sequences = [[1], [2, 2, 2, 2], [3], [4, 4, 4, 4, 4]]
    >>> batches = bucket_by_length(sequences, bucket_boundaries=[3],
    ...                            batch_sizes=[2, 2])
    >>> [batch.tolist() for batch in batches.as_numpy_iterator()]
    [[[1], [3]], [[2, 2, 2, 2, 0], [4, 4, 4, 4, 4]]]
    """
    dataset = _as_dataset(dataset, "dataset")
    if isinstance(bucket_boundaries, str) or not isinstance(
        bucket_boundaries, Sequence
    ):
        raise ValueError(
            "`bucket_boundaries` must be a list of increasing positive ints; got "
            f"{bucket_boundaries!r}."
        )
    if not bucket_boundaries:
        raise ValueError("`bucket_boundaries` must hold at least one boundary.")
    for boundary in bucket_boundaries:
        if not _is_int(boundary) or boundary < 1:
            raise ValueError(
                "`bucket_boundaries` must hold positive ints; got "
                f"{list(bucket_boundaries)}."
            )
    if any(b >= c for b, c in zip(bucket_boundaries, bucket_boundaries[1:])):
        raise ValueError(
            "`bucket_boundaries` must be strictly increasing; got "
            f"{list(bucket_boundaries)}."
        )
    if isinstance(batch_sizes, str) or not isinstance(batch_sizes, Sequence):
        raise ValueError(
            f"`batch_sizes` must be a list of positive ints; got {batch_sizes!r}."
        )
    if len(batch_sizes) != len(bucket_boundaries) + 1:
        raise ValueError(
            "`batch_sizes` must have len(bucket_boundaries) + 1 = "
            f"{len(bucket_boundaries) + 1} entries (one per bucket: below the "
            "first boundary, between boundaries, and above the last); got "
            f"{len(batch_sizes)}."
        )
    for size in batch_sizes:
        if not _is_int(size) or size < 1:
            raise ValueError(
                f"`batch_sizes` must hold positive ints; got {list(batch_sizes)}."
            )
    if length_fn is not None and not callable(length_fn):
        raise ValueError(f"`length_fn` must be callable; got {length_fn!r}.")
    check_bools({"drop_remainder": drop_remainder})
    padding_values = _padding_values(dataset, padding_value)
    if length_fn is None:
        _check_has_sequence(dataset)
        length_fn = _longest_length

    def element_length(*element):
        # tf.data compares the length with int32 boundaries.
        return tf.cast(length_fn(*element), tf.int32)

    dataset = dataset.bucket_by_sequence_length(
        element_length_func=element_length,
        bucket_boundaries=[int(b) for b in bucket_boundaries],
        bucket_batch_sizes=[int(s) for s in batch_sizes],
        padding_values=padding_values,
        drop_remainder=drop_remainder,
    )
    return dataset.prefetch(tf.data.AUTOTUNE)


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_positive_int(value, name: str) -> None:
    if not _is_int(value) or value < 1:
        raise ValueError(f"`{name}` must be a positive int; got {value!r}.")


def _as_dataset(data, name: str) -> tf.data.Dataset:
    """Returns `data` itself if it is a dataset, else a dataset of its rows."""
    if isinstance(data, tf.data.Dataset):
        for spec in tf.nest.flatten(data.element_spec):
            if not isinstance(spec, tf.TensorSpec):
                raise ValueError(
                    f"`{name}` elements must be dense tensors to be padded; got "
                    f"{spec}. Convert ragged/sparse components first (e.g. "
                    "`.map(lambda x: x.to_tensor())`)."
                )
        return data
    if isinstance(data, str | bytes) or not isinstance(data, Sequence):
        raise ValueError(
            f"`{name}` must be a tf.data.Dataset or a list of 1-D integer "
            f"sequences; got {type(data).__name__}."
        )
    if not data:
        raise ValueError(f"`{name}` must not be an empty list.")
    rows, dtypes = [], set()
    for index, row in enumerate(data):
        if isinstance(row, np.ndarray):
            dtypes.add(row.dtype)
        array = np.asarray(row)
        if array.size == 0:
            array = array.astype(np.int64)
        if array.ndim != 1 or array.dtype.kind not in "iu":
            raise ValueError(
                f"`{name}` must hold 1-D integer sequences; item {index} is {row!r}."
            )
        rows.append(array)
    dtype = np.result_type(*dtypes) if dtypes else np.int32
    values = tf.constant(np.concatenate(rows).astype(dtype))
    lengths = np.array([len(row) for row in rows], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    # Slicing one flat tensor keeps the elements dense (slicing a RaggedTensor
    # would give ragged elements, which `padded_batch` rejects).
    return tf.data.Dataset.from_tensor_slices((starts, lengths)).map(
        lambda start, length: values[start : start + length]
    )


def _padding_values(dataset: tf.data.Dataset, padding_value):
    """Builds `padded_batch`'s padding_values structure, typed per component."""
    spec = dataset.element_spec

    def typed(component_spec, value):
        dtype = component_spec.dtype
        if dtype == tf.string:
            return tf.constant(b"" if value is None else value, tf.string)
        if dtype == tf.bool:
            return tf.constant(False if value is None else bool(value))
        if not isinstance(value, numbers.Number) or isinstance(value, bool):
            raise ValueError(
                f"`padding_value` must be a number for {dtype.name} components; "
                f"got {value!r}."
            )
        if dtype.is_integer and value != int(value):
            raise ValueError(
                f"`padding_value` must be an integer for {dtype.name} components; "
                f"got {value!r}."
            )
        return tf.constant(value, dtype)

    if isinstance(padding_value, numbers.Number) and not isinstance(
        padding_value, bool
    ):
        return tf.nest.map_structure(lambda s: typed(s, padding_value), spec)
    try:
        tf.nest.assert_same_structure(spec, padding_value)
    except (TypeError, ValueError) as error:
        raise ValueError(
            "`padding_value` must be a number or a structure matching the "
            f"dataset elements {spec}; got {padding_value!r}."
        ) from error
    return tf.nest.map_structure(typed, spec, padding_value)


def _check_has_sequence(dataset: tf.data.Dataset) -> None:
    ranks = [spec.shape.rank for spec in tf.nest.flatten(dataset.element_spec)]
    if not any(rank is None or rank >= 1 for rank in ranks):
        raise ValueError(
            "`dataset` elements have no sequence (all components are scalars); "
            "pass a `length_fn`."
        )


def _longest_length(*element) -> tf.Tensor:
    lengths = [
        tf.shape(tensor)[0]
        for tensor in tf.nest.flatten(element)
        if tensor.shape.rank is None or tensor.shape.rank >= 1
    ]
    return tf.reduce_max(tf.stack(lengths))
