"""Locality-sensitive-hashing attention (Reformer) as functions on tensors.

The layer `keras_seq.layers.LSHSelfAttention` is built from these. They work on
per-head tensors `[B, H, L, d]` whose length `L` is already a multiple of the
chunk size (the layer pads), and follow the algorithm of trax and Hugging Face
`transformers` (Kitaev et al., 2020), with two numerical differences noted in
`lsh_attention`.
"""

from __future__ import annotations

import math

from keras import ops
from keras.backend import backend, standardize_dtype

from keras_seq.ops.attention import masked_fill_value

# Keys are length-normalised as x * rsqrt(mean(x^2) + eps), as trax and HF do.
_NORM_EPSILON = 1e-6


def _static_or_dynamic(tensor, axis):
    dim = tensor.shape[axis]
    return ops.shape(tensor)[axis] if dim is None else dim


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
        factor_buckets = ops.cast(
            ops.argmax(ops.concatenate(candidates, axis=-1), axis=-1), "int32"
        )
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
    sort_indices = ops.cast(ops.argsort(keys, axis=-1), "int32")
    undo_indices = ops.cast(ops.argsort(sort_indices, axis=-1), "int32")
    return ops.stop_gradient(sort_indices), ops.stop_gradient(undo_indices)


def _gather_rows(values, indices):
    """values `[B, H, L, d]`, indices `[B, H, M]` in `[0, L)` -> `[B, H, M, d]`."""
    batch = _static_or_dynamic(values, 0)
    heads = values.shape[1]
    length = _static_or_dynamic(values, 2)
    depth = values.shape[-1]
    offsets = ops.reshape(ops.arange(batch * heads, dtype="int32"), (-1, heads, 1))
    flat_indices = indices + offsets * ops.cast(length, "int32")
    flat_values = ops.reshape(values, (-1, depth))
    return ops.take(flat_values, flat_indices, axis=0)


def _permute_rows(values, indices, inverse):
    """`_gather_rows` by a permutation, differentiated by the inverse gather.

    `indices` and `inverse` `[B, H, L]` are a permutation of the `L` rows of
    `values` and its inverse. The gradient of a gather is a scatter-add,
    which XLA runs slowly on CPU; the inverse permutation gives the same
    result as another gather.
    """

    @ops.custom_gradient
    def permute(values):
        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return _gather_rows(upstream, inverse)

        return _gather_rows(values, indices), grad

    return permute(values)


def _after_first(first, chunks):
    """Chunks shifted by one along axis 2, `first` `[B, H, 1, ...]` in front."""
    return ops.concatenate([ops.cast(first, chunks.dtype), chunks[:, :, :-1]], axis=2)


def _statistics_dtype(dtype):
    # Softmax statistics run in float32 under float16/bfloat16 policies.
    return "float64" if standardize_dtype(dtype) == "float64" else "float32"


def _key_scales(vectors):
    """Per-key factor rsqrt(mean(x^2) + eps) / sqrt(d): k_hat = x * factor.

    Applied to the logits' columns instead of materialising normalised keys
    (and their gradient), which saves two chunk-sized tensors.
    """
    vectors = ops.cast(vectors, _statistics_dtype(vectors.dtype))
    variance = ops.mean(ops.square(vectors), axis=-1)
    scale = 1.0 / math.sqrt(float(vectors.shape[-1]))
    return ops.rsqrt(variance + _NORM_EPSILON) * scale


def _round_attention(
    query_key, value, sort_indices, undo_indices, previous_indices, bucket_size,
    causal, valid, mask_self, dropout_fn, round_index,
):
    """One hash round: `(output [B, H, L, d_v], logsumexp [B, H, L])`.

    `sort_indices`/`undo_indices` `[B, H, L]` are the round's permutation and
    its inverse; `previous_indices` `[B, H, bucket_size]` the tokens of the
    last chunk of the previous round (cyclically), which the round's first
    chunk attends to, as in trax and HF, where the rounds are concatenated.
    The output and the per-row logsumexp of the logits are returned in the
    original token order (the logsumexp in the statistics dtype).
    """
    compute_dtype = value.dtype
    stats_dtype = _statistics_dtype(compute_dtype)
    heads = query_key.shape[1]
    depth = query_key.shape[-1]
    value_depth = value.shape[-1]
    length = _static_or_dynamic(query_key, 2)
    batch = _static_or_dynamic(query_key, 0)

    sorted_qk = _permute_rows(query_key, sort_indices, undo_indices)
    sorted_value = _permute_rows(value, sort_indices, undo_indices)
    chunk_shape = (batch, heads, -1, bucket_size)
    queries = ops.reshape(sorted_qk, chunk_shape + (depth,))
    key_scales = _key_scales(queries)
    values = ops.reshape(sorted_value, chunk_shape + (value_depth,))
    positions = ops.reshape(sort_indices, chunk_shape)

    # Each chunk attends to [previous chunk, itself]. The two halves are kept
    # apart (no concatenated copies of keys and values, nor their gradients).
    # The first chunk's previous chunk is the last one of the previous round.
    first_keys = _gather_rows(query_key, previous_indices)[:, :, None]
    first_values = _gather_rows(value, previous_indices)[:, :, None]
    halves = (
        (
            _after_first(first_keys, queries),
            _after_first(first_values, values),
            _after_first(previous_indices[:, :, None], positions),
            _after_first(_key_scales(first_keys), key_scales),
        ),
        (queries, values, positions, key_scales),
    )
    masked_value = masked_fill_value(stats_dtype)
    query_pos = positions[..., :, None]
    if valid is not None:
        flat_valid = ops.reshape(valid, (-1,))
        batch_offsets = ops.reshape(
            ops.arange(batch, dtype="int32") * ops.cast(length, "int32"), (-1, 1, 1, 1)
        )
    all_logits = []
    for half_keys, _, half_positions, half_scales in halves:
        logits = ops.einsum("bhcid,bhcjd->bhcij", queries, half_keys)
        logits = ops.cast(logits, stats_dtype) * half_scales[..., None, :]
        key_pos = half_positions[..., None, :]
        allowed = None
        if causal:
            allowed = query_pos >= key_pos
        if valid is not None:
            key_valid = ops.take(flat_valid, batch_offsets + half_positions, axis=0)
            key_valid = key_valid[..., None, :]
            allowed = key_valid if allowed is None else ops.logical_and(allowed, key_valid)
        if allowed is not None:
            logits = ops.where(allowed, logits, masked_value)
        if mask_self:
            logits = ops.where(query_pos != key_pos, logits, 0.5 * masked_value)
        all_logits.append(logits)

    row_max = ops.stop_gradient(
        ops.maximum(
            ops.max(all_logits[0], axis=-1, keepdims=True),
            ops.max(all_logits[1], axis=-1, keepdims=True),
        )
    )
    shifted = [ops.exp(logits - row_max) for logits in all_logits]
    total = ops.sum(shifted[0], axis=-1, keepdims=True) + ops.sum(
        shifted[1], axis=-1, keepdims=True
    )
    round_lse = row_max + ops.log(total)
    # Normalising after the value product (divide [c, d] rather than the
    # weights [c, 2c]) leaves one chunk-sized tensor per half to keep for
    # the backward pass instead of two. Dropout commutes with the division.
    attended = None
    for half, (part, (_, half_values, _, _)) in enumerate(zip(shifted, halves)):
        part = ops.cast(part, compute_dtype)
        if dropout_fn is not None:
            part = dropout_fn(part, 2 * round_index + half)
        term = ops.einsum("bhcij,bhcjd->bhcid", part, half_values)
        attended = term if attended is None else attended + term
    attended = attended / ops.cast(total, compute_dtype)

    # Undo the sort.
    attended = ops.reshape(attended, (batch, heads, -1, value_depth))
    round_lse = ops.reshape(round_lse, (batch, heads, -1, 1))
    attended = _permute_rows(attended, undo_indices, sort_indices)
    round_lse = _permute_rows(round_lse, undo_indices, sort_indices)
    return attended, round_lse[..., 0]


def _merge_round(state, output, lse):
    """Online softmax over rounds: adds one round to `(sum, max, normaliser)`."""
    total, running_max, normaliser = state
    new_max = ops.maximum(running_max, lse)
    rescale = ops.exp(running_max - new_max)
    weight = ops.exp(lse - new_max)
    total = total * rescale[..., None] + ops.cast(output, total.dtype) * weight[..., None]
    return total, new_max, normaliser * rescale + weight


def _combine_rounds(query_key, value, round_fn, num_hashes):
    """Ordinary autodiff: the rounds one after another, merged online."""
    stats_dtype = _statistics_dtype(value.dtype)
    output, lse = round_fn(query_key, value, 0)
    state = (ops.cast(output, stats_dtype), lse, ops.ones_like(lse))
    for r in range(1, num_hashes):
        state = _merge_round(state, *round_fn(query_key, value, r))
    total, _, normaliser = state
    return ops.cast(total / normaliser[..., None], value.dtype)


def _combine_rounds_tf(query_key, value, round_fn, num_hashes, indices):
    """TensorFlow: the rounds in a loop under a custom gradient that recomputes.

    The forward pass runs the rounds one at a time (`tf.while_loop`, one
    iteration in flight) and keeps only the combined output and each row's
    running max and log-normaliser over the rounds; the backward pass runs
    the rounds again one at a time, recomputing each round under a tape and
    backpropagating through it alone. So only one round's chunk-sized
    tensors are alive at any time, in the forward and in the backward pass
    (XLA cannot merge the recomputation with the forward either: the loop
    bodies are separate computations).

    Gradients: with `out = sum_r w_r o_r`, `w_r = exp(lse_r - LSE)`,
    `d o_r = w_r d_out` and `d lse_r = w_r (d_out . o_r - d_out . out)`.
    `LSE` is kept as `max + log(normaliser)`, so rows whose logsumexps are
    all the huge negative self-mask value still get exact weights.

    `round_fn(query_key, value, r, indices)`; in the backward pass `indices`
    (the sort permutations and the padding mask) are passed through
    identities that wait for the incoming gradient: otherwise a graph
    runtime computes everything that depends only on them (the sorted
    positions, the causal and self masks of every round) as soon as the
    forward pass has produced them, and keeps it until the backward pass
    of this layer runs.
    """
    import tensorflow as tf

    from keras_seq._private_api import stop_recording

    stats_dtype = _statistics_dtype(value.dtype)

    def loop(body, initial):
        return tf.while_loop(
            lambda r, *_: r < num_hashes, body, initial, parallel_iterations=1
        )

    def forward(query_key, value):
        # One copy of the round in the graph (no peeled first round): the
        # running max starts at -inf, which the first round replaces
        # (logsumexps are finite: masked logits are finite).
        rows = tf.shape(value)[:-1]
        initial = (
            tf.zeros(tf.shape(value), stats_dtype),
            tf.fill(rows, tf.constant(-float("inf"), stats_dtype)),
            tf.zeros(rows, stats_dtype),
        )

        def body(r, *state):
            return (r + 1,) + tuple(_merge_round(state, *round_fn(query_key, value, r)))

        _, *state = loop(body, (tf.constant(0, "int32"),) + initial)
        total, running_max, normaliser = state
        return total / normaliser[..., None], running_max, tf.math.log(normaliser)

    @tf.custom_gradient
    def combined(query_key, value):
        with stop_recording():
            output, running_max, log_normaliser = forward(query_key, value)

        def grad(upstream):
            upstream = tf.cast(upstream, stats_dtype)
            with tf.control_dependencies([upstream]):
                gated = tuple(None if t is None else tf.identity(t) for t in indices)

            def body(r, query_key_grad, value_grad):
                # Identities inside the body: the tape watches the body's own
                # tensors, not the loop's captured inputs.
                qk, v = tf.identity(query_key), tf.identity(value)
                with tf.GradientTape(watch_accessed_variables=False) as tape:
                    tape.watch([qk, v])
                    round_output, lse = round_fn(qk, v, r, gated)
                weight = tf.exp(lse - running_max - log_normaliser)
                round_output_stats = tf.cast(round_output, stats_dtype)
                output_grad = weight[..., None] * upstream
                lse_grad = weight * tf.reduce_sum(
                    upstream * (round_output_stats - output), axis=-1
                )
                # Accumulated by subtracting the gradients of the negated
                # outputs: Grappler rewrites `sum + gradient` (an add tree
                # with the tape's own sums) into an accumulation with a
                # full-size zeros constant per loop body, resident for the
                # graph's lifetime (2 x 8 MiB per layer at L=8192).
                qk_grad, v_grad = tape.gradient(
                    [round_output, lse],
                    [qk, v],
                    output_gradients=[
                        tf.cast(-output_grad, round_output.dtype), -lse_grad
                    ],
                )
                return r + 1, query_key_grad - qk_grad, value_grad - v_grad

            _, query_key_grad, value_grad = loop(
                body,
                (tf.constant(0, "int32"), tf.zeros_like(query_key), tf.zeros_like(value)),
            )
            return query_key_grad, value_grad

        return tf.cast(output, value.dtype), grad

    return combined(query_key, value)


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

    def round_fn(query_key, value, r, indices=indices):
        sort_indices, undo_indices, last_chunks, valid = indices
        if isinstance(r, int):
            sort_r, undo_r = sort_indices[:, :, r], undo_indices[:, :, r]
            previous = last_chunks[:, :, (r - 1) % num_hashes]
        else:
            sort_r = ops.take(sort_indices, r, axis=2)
            undo_r = ops.take(undo_indices, r, axis=2)
            previous = ops.take(last_chunks, (r + num_hashes - 1) % num_hashes, axis=2)
        return _round_attention(
            query_key, value, sort_r, undo_r, previous, bucket_size, causal, valid,
            mask_self, dropout_fn, r,
        )

    if recompute is None:
        recompute = backend() == "tensorflow"
    if recompute:
        return _combine_rounds_tf(query_key, value, round_fn, num_hashes, indices)
    return _combine_rounds(query_key, value, round_fn, num_hashes)
