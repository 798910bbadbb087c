"""One hash round of LSH attention: sort into chunks, attend within each
chunk and the one before it, unsort; and the online softmax that merges
rounds. Used by `keras_seq.ops.lsh.lsh_attention` (backend-agnostic,
`keras.ops`)."""

from __future__ import annotations

import math

from keras import ops
from keras.backend import backend, standardize_dtype

from keras_seq.ops._gather import take
from keras_seq.ops.attention import masked_fill_value

# Keys are length-normalised as x * rsqrt(mean(x^2) + eps), as trax and HF do.
_NORM_EPSILON = 1e-6


def _static_or_dynamic(tensor, axis):
    dim = tensor.shape[axis]
    return ops.shape(tensor)[axis] if dim is None else dim


def _gather_rows(values, indices):
    """values `[B, H, L, d]`, indices `[B, H, M]` in `[0, L)` -> `[B, H, M, d]`."""
    if backend() == "tensorflow":
        import tensorflow as tf

        # One gather with batch axes (the flat gather below is ~20 graph ops,
        # which every trace and graph set-up of a decoding loop pays for).
        return tf.gather(values, indices, axis=2, batch_dims=2)
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
    """Per-key factor rsqrt(mean(x^2) + eps) / sqrt(d): k_hat = x * factor
    (the logit scale folded into the keys)."""
    vectors = ops.cast(vectors, _statistics_dtype(vectors.dtype))
    variance = ops.mean(ops.square(vectors), axis=-1)
    scale = 1.0 / math.sqrt(float(vectors.shape[-1]))
    return ops.rsqrt(variance + _NORM_EPSILON) * scale


def _scaled_keys(vectors):
    """`(k_hat, factor)`: the keys `x * factor` and the factor of `_key_scales`."""
    scales = _key_scales(vectors)
    return ops.cast(vectors, scales.dtype) * scales[..., None], scales


def _sorted_halves(query_key, value, sort_indices, undo_indices, previous_indices, bucket_size):
    """The round's sorted chunks: `(queries, halves)`, where `queries` is
    `[B, H, C, bucket, d]` and each half `(keys, values, positions)` is what
    the chunks attend to: the previous chunk, then their own. Keys are the
    scaled, length-normalised vectors `k_hat`.

    The two halves are kept apart (no concatenated copies of keys and values,
    nor their gradients). The first chunk's previous chunk is the last one of
    the previous round (`previous_indices`).
    """
    heads, depth, value_depth = query_key.shape[1], query_key.shape[-1], value.shape[-1]
    batch = _static_or_dynamic(query_key, 0)
    # One gather for both (the cost of a row gather hardly depends on its
    # width); values are cast exactly (float16/bfloat16 into float32).
    both = ops.concatenate([query_key, ops.cast(value, query_key.dtype)], axis=-1)
    sorted_both = _permute_rows(both, sort_indices, undo_indices)
    chunk_shape = (batch, heads, -1, bucket_size)
    sorted_both = ops.reshape(sorted_both, chunk_shape + (depth + value_depth,))
    queries = sorted_both[..., :depth]
    keys, _ = _scaled_keys(queries)
    values = ops.cast(sorted_both[..., depth:], value.dtype)
    positions = ops.reshape(sort_indices, chunk_shape)
    first_keys, _ = _scaled_keys(_gather_rows(query_key, previous_indices)[:, :, None])
    first_values = _gather_rows(value, previous_indices)[:, :, None]
    previous = (
        _after_first(first_keys, keys),
        _after_first(first_values, values),
        _after_first(previous_indices[:, :, None], positions),
    )
    return queries, (previous, (keys, values, positions))


def _key_validity(valid, batch, length):
    """`key_valid_fn(positions)`: the padding validity of keys at original
    `positions` `[B, ...]` (None without a padding mask)."""
    if valid is None:
        return None
    flat_valid = ops.reshape(valid, (-1,))
    batch_offsets = ops.reshape(
        ops.arange(batch, dtype="int32") * ops.cast(length, "int32"), (-1, 1, 1, 1)
    )

    def key_valid_fn(positions):
        return take(flat_valid, batch_offsets + positions, axis=0)

    return key_valid_fn


def _half_logits(queries, half, query_pos, causal, key_valid_fn, mask_self, stats_dtype):
    """Masked logits `[B, H, C, bucket, bucket]` of the queries against one
    half, and `live` (None if nothing is masked): True where a logit depends
    on the inputs (the masked ones are constants). `key_valid_fn(positions)`
    gives keys' padding validity (or is None)."""
    half_keys, _, half_positions = half
    masked_value = masked_fill_value(stats_dtype)
    logits = ops.einsum(
        "bhcid,bhcjd->bhcij", ops.cast(queries, stats_dtype), ops.cast(half_keys, stats_dtype)
    )
    key_pos = half_positions[..., None, :]
    allowed = None
    if causal:
        allowed = query_pos >= key_pos
    if key_valid_fn is not None:
        key_valid = key_valid_fn(half_positions)[..., None, :]
        allowed = key_valid if allowed is None else ops.logical_and(allowed, key_valid)
    if allowed is not None:
        logits = ops.where(allowed, logits, masked_value)
    live = allowed
    if mask_self:
        not_self = query_pos != key_pos
        logits = ops.where(not_self, logits, 0.5 * masked_value)
        live = not_self if live is None else ops.logical_and(live, not_self)
    return logits, live


def _round_attention(
    query_key, value, sort_indices, undo_indices, previous_indices, bucket_size,
    causal, valid, mask_self, dropout_fn, round_index,
):
    """One hash round: `(output [B, H, L, d_v], logsumexp [B, H, L],
    statistics [B, H, L, 2])`.

    `sort_indices`/`undo_indices` `[B, H, L]` are the round's permutation and
    its inverse; `previous_indices` `[B, H, bucket_size]` the tokens of the
    last chunk of the previous round (cyclically), which the round's first
    chunk attends to, as in trax and HF, where the rounds are concatenated.
    The output, the per-row logsumexp of the logits and its two terms, the
    row maximum `m` and `log(sum(exp(logits - m)))` (`statistics`), are
    returned in the original token order (the last two in the statistics
    dtype). The terms are kept apart for the hand-written backward pass of
    `keras_seq.ops.lsh_tf`: the logsumexp of a row that sees only itself is
    about half the dtype's most negative value (the self logit), to which
    adding `log(count)` changes nothing in floating point.
    """
    compute_dtype = value.dtype
    stats_dtype = _statistics_dtype(compute_dtype)
    heads, value_depth = query_key.shape[1], value.shape[-1]
    length = _static_or_dynamic(query_key, 2)
    batch = _static_or_dynamic(query_key, 0)
    queries, halves = _sorted_halves(
        query_key, value, sort_indices, undo_indices, previous_indices, bucket_size
    )
    query_pos = ops.reshape(sort_indices, (batch, heads, -1, bucket_size))[..., :, None]
    key_valid_fn = _key_validity(valid, batch, length)
    all_logits = [
        _half_logits(queries, half, query_pos, causal, key_valid_fn, mask_self, stats_dtype)[0]
        for half in halves
    ]
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
    log_total = ops.log(total)
    # Normalising after the value product (divide [c, d] rather than the
    # weights [c, 2c]) leaves one chunk-sized tensor per half to keep for
    # the backward pass instead of two. Dropout commutes with the division.
    attended = None
    for half, (part, (_, half_values, _)) in enumerate(zip(shifted, halves)):
        part = ops.cast(part, compute_dtype)
        if dropout_fn is not None:
            part = dropout_fn(part, 2 * round_index + half)
        term = ops.einsum("bhcij,bhcjd->bhcid", part, half_values)
        attended = term if attended is None else attended + term
    attended = attended / ops.cast(total, compute_dtype)

    # Undo the sort (one gather for the output and the row statistics; the
    # output is cast exactly into the statistics dtype and back).
    attended = ops.reshape(attended, (batch, heads, -1, value_depth))
    statistics = ops.reshape(
        ops.concatenate([row_max + log_total, row_max, log_total], axis=-1),
        (batch, heads, -1, 3),
    )
    both = ops.concatenate([ops.cast(attended, stats_dtype), statistics], axis=-1)
    both = _permute_rows(both, undo_indices, sort_indices)
    return ops.cast(both[..., :-3], compute_dtype), both[..., -3], both[..., -2:]


def _merge_round(state, output, lse):
    """Online softmax over rounds: adds one round to `(sum, max, normaliser)`."""
    total, running_max, normaliser = state
    new_max = ops.maximum(running_max, lse)
    rescale = ops.exp(running_max - new_max)
    weight = ops.exp(lse - new_max)
    total = total * rescale[..., None] + ops.cast(output, total.dtype) * weight[..., None]
    return total, new_max, normaliser * rescale + weight
