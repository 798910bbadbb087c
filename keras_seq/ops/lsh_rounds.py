"""One hash round of LSH attention: sort into chunks, attend within each
chunk and the one before it, unsort; and the online softmax that merges
rounds. Used by `keras_seq.ops.lsh.lsh_attention` (backend-agnostic,
`keras.ops`)."""

from __future__ import annotations

import math

from keras import ops
from keras.backend import standardize_dtype

from keras_seq.ops.attention import masked_fill_value

# Keys are length-normalised as x * rsqrt(mean(x^2) + eps), as trax and HF do.
_NORM_EPSILON = 1e-6


def _static_or_dynamic(tensor, axis):
    dim = tensor.shape[axis]
    return ops.shape(tensor)[axis] if dim is None else dim


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


def _window_indices(sort_indices, previous_indices, bucket_size):
    """Original positions `[B, H, C, 2 * bucket]` of the keys each chunk of a
    round attends to: the previous chunk's tokens, then its own. The first
    chunk's previous chunk is the last one of the previous round
    (`previous_indices` `[B, H, bucket]`)."""
    batch = _static_or_dynamic(sort_indices, 0)
    chunk_shape = (batch, sort_indices.shape[1], -1, bucket_size)
    own = ops.reshape(sort_indices, chunk_shape)
    before = ops.reshape(
        ops.concatenate([previous_indices, sort_indices[..., :-bucket_size]], axis=-1),
        chunk_shape,
    )
    return ops.concatenate([before, own], axis=-1)


def _sorted_window(query_key, value, sort_indices, previous_indices, bucket_size):
    """The round's sorted chunks and what they attend to: `(queries, keys,
    values, key_positions)`, `queries` `[B, H, C, bucket, d]`, the keys
    (scaled, length-normalised vectors `k_hat`), values and original
    positions of each chunk's window `[B, H, C, 2 * bucket, ...]`: the
    previous chunk, then its own (`_window_indices`).

    One gather of the window rows (vectors and values side by side; a row
    gather costs about the same at any width), so each chunk attends to its
    window with one `bucket x 2 bucket` product instead of two halves and
    no shifted copies of the chunks are made.
    """
    heads, depth, value_depth = query_key.shape[1], query_key.shape[-1], value.shape[-1]
    batch = _static_or_dynamic(query_key, 0)
    key_positions = _window_indices(sort_indices, previous_indices, bucket_size)
    # Values are cast exactly (float16/bfloat16 into float32).
    both = ops.concatenate([query_key, ops.cast(value, query_key.dtype)], axis=-1)
    window = ops.reshape(
        _gather_rows(both, ops.reshape(key_positions, (batch, heads, -1))),
        (batch, heads, -1, 2 * bucket_size, depth + value_depth),
    )
    queries = window[..., bucket_size:, :depth]
    keys, _ = _scaled_keys(window[..., :depth])
    values = ops.cast(window[..., depth:], value.dtype)
    return queries, keys, values, key_positions


def _window_dropout(dropout_fn, weights, round_index, bucket_size):
    """Dropout on a round's weights `[..., bucket, 2 * bucket]`, each half
    with its own index (`2 r` for the previous chunk, `2 r + 1` for the own)."""
    return ops.concatenate(
        [
            dropout_fn(weights[..., :bucket_size], 2 * round_index),
            dropout_fn(weights[..., bucket_size:], 2 * round_index + 1),
        ],
        axis=-1,
    )


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
        return ops.take(flat_valid, batch_offsets + positions, axis=0)

    return key_valid_fn


def _window_logits(queries, keys, key_positions, query_pos, causal, key_valid_fn, mask_self,
                   stats_dtype):
    """Masked logits `[B, H, C, bucket, 2 * bucket]` of the queries against
    their chunk's window (`_sorted_window`), and `live` (None if nothing is
    masked): True where a logit depends on the inputs (the masked ones are
    constants). `key_valid_fn(positions)` gives keys' padding validity (or
    is None)."""
    masked_value = masked_fill_value(stats_dtype)
    logits = ops.einsum(
        "bhcid,bhcjd->bhcij", ops.cast(queries, stats_dtype), ops.cast(keys, stats_dtype)
    )
    key_pos = key_positions[..., None, :]
    allowed = None
    if causal:
        allowed = query_pos >= key_pos
    if key_valid_fn is not None:
        key_valid = key_valid_fn(key_positions)[..., None, :]
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
    queries, keys, values, key_positions = _sorted_window(
        query_key, value, sort_indices, previous_indices, bucket_size
    )
    query_pos = ops.reshape(sort_indices, (batch, heads, -1, bucket_size))[..., :, None]
    logits, _ = _window_logits(
        queries, keys, key_positions, query_pos, causal,
        _key_validity(valid, batch, length), mask_self, stats_dtype,
    )
    row_max = ops.stop_gradient(ops.max(logits, axis=-1, keepdims=True))
    weights = ops.exp(logits - row_max)
    total = ops.sum(weights, axis=-1, keepdims=True)
    log_total = ops.log(total)
    # Normalising after the value product (divide [c, d] rather than the
    # weights [c, 2c]) leaves one chunk-sized tensor to keep for the
    # backward pass instead of two. Dropout commutes with the division.
    weights = ops.cast(weights, compute_dtype)
    if dropout_fn is not None:
        weights = _window_dropout(dropout_fn, weights, round_index, bucket_size)
    attended = ops.einsum("bhcij,bhcjd->bhcid", weights, values)
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
