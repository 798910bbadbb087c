"""Locality-sensitive-hashing attention (Reformer) as functions on tensors.

The layer `keras_seq.layers.LSHSelfAttention` is built from these. They work on
per-head tensors `[B, H, L, d]` whose length `L` is already a multiple of the
chunk size (the layer pads), and follow the algorithm of trax and Hugging Face
`transformers` (Kitaev et al., 2020), with two numerical differences noted in
`lsh_attention`.

This module holds the hashing and sorting maths and `lsh_attention`, which
combines the hash rounds; one round's chunked attention is in
`keras_seq.ops.lsh_rounds` (both backend-agnostic, `keras.ops`), and the
TensorFlow path that recomputes rounds in the backward pass in
`keras_seq.ops.lsh_tf`.
"""

from __future__ import annotations

import math

from keras import ops
from keras.backend import backend

from keras_seq.ops._gather import take
from keras_seq.ops.attention import masked_fill_value
from keras_seq.ops.lsh_rounds import (
    _merge_round,
    _round_attention,
    _static_or_dynamic,
    _statistics_dtype,
)


def _is_static(*values):
    return all(isinstance(v, int) for v in values)


def bucket_factors(length, bucket_size):
    """Default bucket count for a padded length, as `(n1, n2)` factors.

    As HF `transformers`: n = 2 * length // bucket_size rounded down to a
    power of two (at least 2), so the average bucket holds about half a
    chunk. Above 2 * max(bucket_size, sqrt(length / bucket_size)) buckets
    the hash is factorised into two rotations of n1 and n2 buckets
    (n = n1 * n2, bucket = b1 + n1 * b2), which keeps hashing O(L sqrt(L))
    instead of O(L^2 / bucket_size). `n2 == 1` means one unfactorised
    hash. Works on Python ints and on scalar tensors (dynamic lengths).

    Example:
    >>> from keras_seq.ops.lsh import bucket_factors
    >>> bucket_factors(2048, 64), bucket_factors(32768, 64), bucket_factors(10, 64)
    ((64, 1), (32, 32), (2, 1))
    """
    if _is_static(length, bucket_size):
        n = max(2, 2 * (length // bucket_size))
        power = n.bit_length() - 1
        limit = 2 * max(bucket_size, math.isqrt(length // bucket_size))
        if 2**power <= limit:
            return 2**power, 1
        return 2 ** (power // 2), 2 ** (power - power // 2)
    n = ops.maximum(2, 2 * (length // bucket_size))
    power = ops.cast(ops.floor(ops.log2(ops.cast(n, "float32")) + 1e-3), "int32")
    power = ops.where(2**power > n, power - 1, power)
    chunks = length // bucket_size
    root = ops.cast(ops.floor(ops.sqrt(ops.cast(chunks, "float32")) + 1e-3), "int32")
    root = ops.where(root * root > chunks, root - 1, root)
    limit = 2 * ops.maximum(bucket_size, root)
    whole = 2**power <= limit
    first = ops.where(whole, 2**power, 2 ** (power // 2))
    second = ops.where(whole, 1, 2 ** (power - power // 2))
    return first, second


def default_num_buckets(length, bucket_size):
    """`bucket_factors` as `num_buckets` takes it: an int, or `[n1, n2]`.

    Example:
    >>> from keras_seq.ops.lsh import default_num_buckets
    >>> default_num_buckets(2048, 64), default_num_buckets(8192, 64)
    (64, [16, 16])
    """
    first, second = bucket_factors(length, bucket_size)
    return first if second == 1 else [first, second]


def check_num_buckets(num_buckets):
    """Raises `ValueError` unless `num_buckets` is an even int >= 2 or a list of them.

    A list `[n1, n2, ...]` is a factorised hash with `n1 * n2 * ...` buckets.
    """
    factors = num_buckets if isinstance(num_buckets, (list, tuple)) else [num_buckets]
    if not factors or any(
        isinstance(n, bool) or not isinstance(n, int) or n < 2 or n % 2
        for n in factors
    ):
        raise ValueError(
            "`num_buckets` must be an even integer >= 2, or a list of them for a "
            "factorised hash (rotation hashing takes the argmax over [xR; -xR]); "
            f"received {num_buckets!r}."
        )


def _factors(num_buckets, rotation_columns):
    if num_buckets is None:
        return (2 * rotation_columns,)
    if isinstance(num_buckets, (list, tuple)):
        return tuple(num_buckets)
    return (num_buckets,)


def _total(factors):
    total = 1
    for n in factors:
        total = total * n
    return total


def _first_argmax(candidates):
    """int32 argmax along the last axis of the concatenated `candidates` (the
    first index holding the maximum, as `argmax`), without concatenating:
    the maximum, then the smallest index that holds it. Two plain
    reductions, which XLA vectorises on CPU, where its arg-reduction is
    scalar."""
    best = None
    for candidate in candidates:
        top = ops.max(candidate, axis=-1, keepdims=True)
        best = top if best is None else ops.maximum(best, top)
    index, offset = None, 0
    for candidate in candidates:
        width = _static_or_dynamic(candidate, -1)
        columns = ops.arange(width, dtype="int32") + offset
        limit = ops.cast(2**31 - 1, "int32")
        first = ops.min(ops.where(candidate == best, columns, limit), axis=-1)
        index = first if index is None else ops.minimum(index, first)
        offset = offset + width
    return index


def lsh_hash(vectors, rotations, padding_mask=None, num_buckets=None):
    """Angular LSH: bucket = argmax over [xR; -xR] for each hash round.

    Args:
        vectors: float tensor `[B, H, L, d]` (the shared query/key vectors).
        rotations: float tensor `[H, d, num_hashes, sum(n_i) // 2]` of
            random Gaussian rotations.
        padding_mask: optional boolean `[B, L]`, True for real tokens; padded
            positions get the extra bucket `n = prod(n_i)`, which sorts them
            after every real token of their round.
        num_buckets: `None` (one hash with `2 * rotations.shape[-1]`
            buckets), an even int, or factors `(n1, n2, ...)` (ints or scalar
            tensors; a factor 1 is skipped): factor i hashes with its own
            `n_i // 2` rotation columns and bucket = b1 + n1 * (b2 + n2 * ...).

    Returns:
        int32 bucket ids `[B, H, num_hashes, L]` in `[0, n]` (`n` only for
        padding). No gradient flows through them.

    Example:
    >>> import numpy as np
    >>> from keras_seq.ops.lsh import lsh_hash
    >>> x = np.random.rand(1, 2, 5, 4).astype("float32")
    >>> r = np.random.randn(2, 4, 3, 4).astype("float32")
    >>> b = np.asarray(lsh_hash(x, r))
    >>> b.shape, bool(((b >= 0) & (b < 8)).all())
    ((1, 2, 3, 5), True)
    >>> b = np.asarray(lsh_hash(x, r, num_buckets=(4, 4)))  # factorised: 16
    >>> bool(((b >= 0) & (b < 16)).all())
    True
    """
    vectors = ops.cast(ops.stop_gradient(vectors), "float32")
    rotations = ops.cast(ops.stop_gradient(rotations), "float32")
    factors = _factors(num_buckets, _static_or_dynamic(rotations, -1))
    rotated = ops.einsum("bhtd,hdrk->bhrtk", vectors, rotations)
    buckets = None
    start, product = 0, 1
    for n in factors:
        if _is_static(n) and n == 1:
            continue
        part = rotated[..., start : start + n // 2]
        candidates = [part, -part]
        if not _is_static(n):
            # A dynamic factor may be 1 (no columns): a never-winning extra
            # column then yields bucket 0.
            fill = ops.full_like(rotated[..., :1], masked_fill_value("float32"))
            candidates.append(fill)
        factor_buckets = _first_argmax(candidates)
        term = factor_buckets if _is_static(product) and product == 1 else (
            factor_buckets * ops.cast(product, "int32")
        )
        buckets = term if buckets is None else buckets + term
        start = start + n // 2
        product = product * n
    if padding_mask is not None:
        valid = ops.cast(padding_mask, "bool")[:, None, None, :]
        buckets = ops.where(valid, buckets, ops.cast(_total(factors), "int32"))
    return ops.stop_gradient(buckets)


def sort_by_bucket(buckets, num_buckets=None):
    """Per-round permutation sorting tokens by (bucket, position), and its inverse.

    Args:
        buckets: int tensor `[..., L]` of bucket ids (one round per row).
        num_buckets: optional int, the largest id is at most `num_buckets`
            (the padding bucket); lets the sort keys stay int32 when
            `(num_buckets + 1) * L` fits.

    Returns:
        `(sort_indices, undo_indices)`, int32 tensors `[..., L]`:
        `take_along_axis(x, sort_indices)` sorts, and
        `take_along_axis(sorted, undo_indices)` restores the original order.

    Example:
    >>> import numpy as np
    >>> from keras_seq.ops.lsh import sort_by_bucket
    >>> s, u = sort_by_bucket(np.array([[2, 0, 1, 0]]))
    >>> np.asarray(s).tolist(), np.asarray(u).tolist()
    ([[1, 3, 2, 0]], [[3, 0, 2, 1]])
    """
    buckets = ops.convert_to_tensor(buckets)
    length = _static_or_dynamic(buckets, -1)
    # bucket * L + position is unique, so the sort is stable by construction.
    key_dtype = "int64"
    if isinstance(length, int):
        largest = num_buckets if isinstance(num_buckets, int) else 2 * length
        if (largest + 1) * length < 2**31:
            key_dtype = "int32"
    positions = ops.arange(length, dtype=key_dtype)
    keys = ops.cast(buckets, key_dtype) * ops.cast(length, key_dtype) + positions
    # The keys are unique, so sorting them (no index payload) and taking them
    # modulo L gives the permutation; its inverse is one scatter, not a
    # second sort.
    sort_indices = ops.cast(ops.sort(keys, axis=-1) % ops.cast(length, key_dtype), "int32")
    rows = ops.reshape(sort_indices, (-1, length))
    offsets = ops.arange(ops.shape(rows)[0], dtype="int32")[:, None] * ops.cast(length, "int32")
    flat = ops.reshape(rows + offsets, (-1, 1))
    position_ids = ops.reshape(ops.broadcast_to(ops.arange(length, dtype="int32"), ops.shape(rows)), (-1,))
    undo_indices = ops.reshape(
        ops.scatter(flat, position_ids, (ops.size(rows),)), ops.shape(sort_indices)
    )
    return ops.stop_gradient(sort_indices), ops.stop_gradient(undo_indices)


def _combine_rounds(query_key, value, round_fn, num_hashes):
    """Ordinary autodiff: the rounds one after another, merged online."""
    stats_dtype = _statistics_dtype(value.dtype)
    output, lse, _ = round_fn(query_key, value, 0)
    state = (ops.cast(output, stats_dtype), lse, ops.ones_like(lse))
    for r in range(1, num_hashes):
        output, lse, _ = round_fn(query_key, value, r)
        state = _merge_round(state, output, lse)
    total, _, normaliser = state
    return ops.cast(total / normaliser[..., None], value.dtype)


def _round_function(indices, num_hashes, bucket_size, causal, mask_self, dropout_fn):
    """`round_fn(query_key, value, r, indices=indices)`: round `r` (an int or
    a scalar tensor) of `_round_attention`, its permutations taken from
    `indices` = `(sort, undo, last chunks, valid)` at `slot` (defaults to
    `r`; `keras_seq.ops.lsh_tf` rotates the rounds and reads slot 0). `round_fn.options` holds
    `(num_hashes, bucket_size, causal, mask_self, dropout_fn)` for the
    hand-written backward pass of `keras_seq.ops.lsh_tf`."""

    def round_fn(query_key, value, r, indices=indices, slot=None):
        slot = r if slot is None else slot
        sort_r, undo_r, previous, valid = _round_indices(indices, slot, num_hashes)
        return _round_attention(
            query_key, value, sort_r, undo_r, previous, bucket_size, causal, valid,
            mask_self, dropout_fn, r,
        )

    round_fn.options = (num_hashes, bucket_size, causal, mask_self, dropout_fn)
    return round_fn


def _round_indices(indices, r, num_hashes):
    """Round `r`'s `(sort, undo, previous chunk's tokens, valid)` from `indices`
    (`r` an int or a scalar tensor)."""
    sort_indices, undo_indices, last_chunks, valid = indices
    if isinstance(r, int):
        return (
            sort_indices[:, :, r], undo_indices[:, :, r],
            last_chunks[:, :, (r - 1) % num_hashes], valid,
        )
    return (
        take(sort_indices, r, axis=2),
        take(undo_indices, r, axis=2),
        take(last_chunks, (r + num_hashes - 1) % num_hashes, axis=2),
        valid,
    )


def lsh_attention(
    query_key,
    value,
    buckets,
    bucket_size,
    causal=False,
    padding_mask=None,
    mask_self=True,
    dropout_fn=None,
    num_buckets=None,
    recompute=None,
):
    """Shared-QK attention within sorted LSH chunks, all hash rounds combined.

    For each round the tokens are sorted by (bucket, position) and split into
    chunks of `bucket_size`; every chunk attends to itself and the previous
    chunk (the first chunk of a round to the last chunk of the round before,
    cyclically, as trax and HF do). Keys are the length-normalised query/key
    vectors and the logits q . k_hat / sqrt(d) are scaled once. A token never
    attends to itself unless nothing else is available; with `causal` a token
    attends only to original positions <= its own; keys at padded positions
    are masked. Each round's output is unsorted and the rounds are combined
    with weights softmax(logsumexp_r) over the rounds.

    Memory: the rounds are computed one at a time. On TensorFlow a custom
    gradient recomputes each round in the backward pass instead of storing
    its chunk-sized intermediates, so one round's worth of them is alive at
    any time (about `1 / num_hashes` of computing all rounds at once, for one
    extra forward computation); other backends use ordinary autodiff.

    Differences from HF `transformers` (both numerical): masked logits use the
    most negative finite float32 and the self logit half of it (HF: -1e9 and
    -1e5), and the round weights are a max-subtracted softmax (HF's
    `exp(lse_r - logsumexp(lse))` is off by ~4e-3 in float32 on rows that can
    only see themselves).

    Args:
        query_key: `[B, H, L, d]` shared query/key vectors, `L` a multiple of
            `bucket_size`.
        value: `[B, H, L, d_v]`.
        buckets: int `[B, H, num_hashes, L]` from `lsh_hash`.
        bucket_size: int, the chunk length.
        causal: bool, mask keys at later original positions.
        padding_mask: optional boolean `[B, L]`, True for real tokens.
        mask_self: bool, apply the self mask. Defaults to `True`; `False`
            exists for tests against plain attention.
        dropout_fn: optional callable `(weights, index)` applied to the
            (unnormalised) attention weights of one half of a round, `index`
            an int32 scalar (a Python int on other backends) distinct per
            round and half. It must be a deterministic function of its
            arguments: the backward pass calls it again to recompute a round.
        num_buckets: optional int, the bucket count of `buckets` (padded
            tokens carry `num_buckets`); only used to size the sort keys.
        recompute: optional bool, recompute the rounds in the backward pass
            (TensorFlow only). Defaults to `None`: on TensorFlow. `False`
            uses ordinary autodiff (same values and gradients).

    Returns:
        `[B, H, L, d_v]` in the dtype of `value`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.ops.lsh import lsh_attention, lsh_hash
    >>> qk = np.random.rand(1, 2, 8, 4).astype("float32")
    >>> buckets = lsh_hash(qk, np.random.randn(2, 4, 3, 2).astype("float32"))
    >>> tuple(lsh_attention(qk, qk, buckets, bucket_size=4).shape)
    (1, 2, 8, 4)
    """
    query_key = ops.convert_to_tensor(query_key)
    value = ops.convert_to_tensor(value)
    buckets = ops.convert_to_tensor(buckets)
    num_hashes = buckets.shape[2]

    valid = None
    if padding_mask is not None:
        valid = ops.cast(padding_mask, "bool")
        padding_bucket = num_buckets if num_buckets is not None else ops.max(buckets) + 1
        buckets = ops.where(
            valid[:, None, None, :], buckets, ops.cast(padding_bucket, buckets.dtype)
        )
    sort_indices, undo_indices = sort_by_bucket(buckets, num_buckets)
    indices = (sort_indices, undo_indices, sort_indices[..., -bucket_size:], valid)

    round_fn = _round_function(
        indices, num_hashes, bucket_size, causal, mask_self, dropout_fn
    )

    if recompute is None:
        recompute = backend() == "tensorflow"
    if recompute:
        from keras_seq.ops.lsh_tf import combine_rounds_recomputed

        return combine_rounds_recomputed(query_key, value, round_fn, num_hashes, indices)
    return _combine_rounds(query_key, value, round_fn, num_hashes)
