"""Scaled dot-product attention, the seed's Attention(Q, K, V)."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from keras_seq._validation import check_rate


def masked_fill_value(dtype) -> float:
    """The most negative finite value of `dtype`, used for masked logits.

    A literal such as `-1e9` overflows to `-inf` in float16 and turns a fully
    masked softmax row into NaN; the dtype's own minimum never does.
    """
    dtype = keras.backend.standardize_dtype(dtype)
    if dtype == "bfloat16":
        return -3.3895313892515355e38
    return float(np.finfo(dtype).min)


def statistics_dtype(dtype):
    """The dtype softmax statistics run in: float32 for 16-bit inputs,
    otherwise the input's own (float64 stays float64).

    >>> statistics_dtype("bfloat16"), statistics_dtype("float64")
    ('float32', 'float64')
    """
    dtype = keras.backend.standardize_dtype(dtype)
    return "float64" if dtype == "float64" else "float32"


def softmax(logits):
    """`ops.softmax(logits, axis=-1)`. A last axis of static size 1 (a single
    key: the first step of cached decoding, a one-frame source) gives ones
    directly: the same values and a zero gradient, without Keras's warning
    that a softmax over one element is likely a mistake.

    >>> import numpy as np
    >>> np.asarray(softmax(np.array([[2.0], [-1.0]])))
    array([[1.],
           [1.]])
    """
    if logits.shape[-1] == 1:
        return ops.ones_like(logits)
    return ops.softmax(logits, axis=-1)


def merge_masks(*masks):
    """Logical AND of the boolean masks that are not `None` (broadcasting)."""
    merged = None
    for mask in masks:
        if mask is None:
            continue
        mask = ops.cast(mask, "bool")
        merged = mask if merged is None else ops.logical_and(merged, mask)
    return merged


def _check_same_dim(first, second, axis, what):
    """Raise unless the `(name, tensor)` pairs agree on dimension `axis`
    (where both are known)."""
    (first_name, a), (second_name, b) = first, second
    if a.shape[axis] is not None and b.shape[axis] is not None and a.shape[axis] != b.shape[axis]:
        raise ValueError(
            f"`{first_name}` and `{second_name}` must have the same {what}; received "
            f"{first_name} {tuple(a.shape)} and {second_name} {tuple(b.shape)}."
        )


def _check_rank(name, tensor, ranks):
    rank = len(tensor.shape)
    if rank not in ranks:
        expected = " or ".join(str(r) for r in ranks)
        raise ValueError(
            f"`{name}` must have rank {expected} ([B, T, d] or [B, H, T, d]); "
            f"received shape {tuple(tensor.shape)}."
        )


def scaled_dot_product_attention(
    query, key, value, mask=None, dropout_rate=0.0, training=False, seed=None
):
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V.

    The logits and the softmax are computed in float32 whatever the input
    dtype, then the weights are cast back, so float16/bfloat16 inputs keep
    their precision where it matters. Masked positions receive the most
    negative finite float32 value rather than `-inf`, so a row whose keys are
    all masked yields uniform weights instead of NaN.

    Args:
        query: tensor `[B, Tq, d_k]` or, with a head axis, `[B, H, Tq, d_k]`.
        key: tensor `[B, Tk, d_k]` or `[B, H, Tk, d_k]`.
        value: tensor `[B, Tk, d_v]` or `[B, H, Tk, d_v]`.
        mask: optional boolean tensor, True where attention is allowed,
            broadcastable to the weights `[B, (H,) Tq, Tk]` (for example the
            `[Tq, Tk]` causal mask, or a padding mask expanded to
            `[B, 1, Tk]`). Numeric masks are read as `mask > 0.5`.
        dropout_rate: float in `[0, 1)`, dropout applied to the weights in
            training. Defaults to `0.0`.
        training: bool, whether dropout is active. Defaults to `False`.
        seed: optional int or `keras.random.SeedGenerator` for dropout.

    Returns:
        `(outputs, weights)`: outputs shaped like `value` but with `Tq` rows,
        in the input dtype, and the attention weights `[B, (H,) Tq, Tk]`.

    Raises:
        ValueError: if ranks differ from 3/4, `query` and `key` widths differ,
            `key` and `value` lengths differ, `mask` has more dimensions than
            the weights, or `dropout_rate` is outside `[0, 1)`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.ops import scaled_dot_product_attention
    >>> q = np.ones((2, 3, 4), "float32")
    >>> out, w = scaled_dot_product_attention(q, q, q)
    >>> tuple(out.shape), tuple(w.shape)
    ((2, 3, 4), (2, 3, 3))
    """
    query = ops.convert_to_tensor(query)
    key = ops.convert_to_tensor(key)
    value = ops.convert_to_tensor(value)
    _check_rank("query", query, (3, 4))
    _check_rank("key", key, (len(query.shape),))
    _check_rank("value", value, (len(query.shape),))
    _check_same_dim(("query", query), ("key", key), -1, "last dimension d_k")
    _check_same_dim(("key", key), ("value", value), -2, "length Tk")
    check_rate("dropout_rate", dropout_rate)
    rank = len(query.shape)
    if mask is not None:
        mask = ops.convert_to_tensor(mask)
        weights_shape = tuple(query.shape[:-1]) + (key.shape[-2],)
        check_mask_broadcasts(
            "mask", mask, weights_shape, f"the weights [B, (H,) Tq, Tk] (rank {rank})"
        )
        if keras.backend.standardize_dtype(mask.dtype) != "bool":
            mask = ops.greater(mask, 0.5)

    depth = query.shape[-1]
    if depth is None:
        depth = ops.shape(query)[-1]
    stats = statistics_dtype(query.dtype)
    scale = 1.0 / math.sqrt(depth) if isinstance(depth, int) else ops.rsqrt(
        ops.cast(depth, stats)
    )
    logits = ops.matmul(
        ops.cast(query, stats), ops.swapaxes(ops.cast(key, stats), -1, -2)
    )
    logits = logits * scale
    if mask is not None:
        logits = ops.where(mask, logits, masked_fill_value(stats))
    weights = softmax(logits)
    if dropout_rate > 0.0 and training:
        weights = keras.random.dropout(weights, dropout_rate, seed=seed)
    weights = ops.cast(weights, value.dtype)
    return ops.matmul(weights, value), weights


# -- shape checks ------------------------------------------------------------


def broadcast_error(mask_shape, target_shape):
    """Why `mask_shape` does not broadcast to `target_shape`, else `None`.

    Only statically known dimensions are compared (`None` matches anything);
    the mask may have fewer dimensions than the target (they align on the
    right, as in NumPy).

    >>> broadcast_error((2, 1, 1, 5), (2, 4, 3, 5)) is None
    True
    >>> broadcast_error((2, 6), (2, 4, 3, 5))
    'dimension -1 is 6, not 1 or 5'
    """
    mask_shape, target_shape = tuple(mask_shape), tuple(target_shape)
    if len(mask_shape) > len(target_shape):
        return f"it has {len(mask_shape)} dimensions, more than {len(target_shape)}"
    for axis in range(1, len(mask_shape) + 1):
        m, t = mask_shape[-axis], target_shape[-axis]
        if m is None or t is None or m == 1 or m == t:
            continue
        return f"dimension -{axis} is {m}, not 1 or {t}"
    return None


def check_mask_broadcasts(name, mask, target_shape, target_name):
    """Raise a `ValueError` naming `name` and both shapes if `mask` (a tensor
    or a shape) cannot broadcast to `target_shape`."""
    if mask is None:
        return
    shape = tuple(mask.shape) if hasattr(mask, "shape") else tuple(mask)
    reason = broadcast_error(shape, target_shape)
    if reason is not None:
        raise ValueError(
            f"`{name}` of shape {shape} does not broadcast to {target_name} "
            f"of shape {tuple(target_shape)}: {reason}."
        )


# -- the multi-head core ------------------------------------------------------


def _probabilities(logits, mask):
    """softmax over the last axis in (at least) float32, masked entries -> 0."""
    dtype = statistics_dtype(logits.dtype)
    logits = ops.cast(logits, dtype)
    if mask is not None:
        logits = ops.where(mask, logits, masked_fill_value(dtype))
    return softmax(logits)


def _fused_softmax_attention(query, key_t, value, mask):
    """softmax(Q Kt) V over `[B, H, ., .]` tensors with a hand-written backward.

    The backward pass uses rowsum(dP * P) = rowsum(dO * O) (O = P V), so the
    softmax gradient takes two passes over the `[B, H, T, S]` weights instead
    of four; the products are batched matmuls whose transposes graph
    optimisers fold into the matmul flags. Equal to automatic differentiation
    of the same forward pass up to float rounding.
    """
    dtype = value.dtype

    @ops.custom_gradient
    def attend(query, key_t, value):
        weights = _probabilities(ops.matmul(query, key_t), mask)
        cast_weights = ops.cast(weights, dtype)
        outputs = ops.matmul(cast_weights, value)

        def grad(*upstream, **unused):
            (d_outputs,) = upstream[:1]
            d_value = ops.matmul(ops.swapaxes(cast_weights, -1, -2), d_outputs)
            d_weights = ops.matmul(d_outputs, ops.swapaxes(value, -1, -2))
            stats = weights.dtype
            rows = ops.sum(
                ops.cast(d_outputs, stats) * ops.cast(outputs, stats),
                axis=-1,
                keepdims=True,
            )
            d_logits = weights * (ops.cast(d_weights, stats) - rows)
            if mask is not None:
                d_logits = ops.where(mask, d_logits, 0.0)
            d_logits = ops.cast(d_logits, dtype)
            d_query = ops.matmul(d_logits, ops.swapaxes(key_t, -1, -2))
            d_key_t = ops.matmul(ops.swapaxes(query, -1, -2), d_logits)
            return d_query, d_key_t, d_value

        return outputs, grad

    return attend(query, key_t, value)


def multi_head_attention_core(
    query,
    key,
    value,
    mask=None,
    return_scores=False,
    dropout_fn=None,
):
    """Attention of projected, already scaled heads in `[B, T, H, d]` layout.

    Args:
        query: `[B, T, H, d]`, multiplied by the softmax scale already.
        key: `[B, S, H, d]`.
        value: `[B, S, H, dv]`.
        mask: optional boolean, True = attend, broadcastable to
            `[B, H, T, S]`.
        return_scores: whether to also return the weights `[B, H, T, S]`.
        dropout_fn: optional callable applied to the weights (dropout); when
            given, or when scores are returned, the backward pass is left to
            automatic differentiation.

    Returns:
        `(outputs [B, T, H, dv], scores or None)`, in the dtype of `value`.
    """
    query_heads = ops.transpose(query, (0, 2, 1, 3))
    key_t = ops.transpose(key, (0, 2, 3, 1))
    value_heads = ops.transpose(value, (0, 2, 1, 3))
    if return_scores or dropout_fn is not None:
        weights = _probabilities(ops.matmul(query_heads, key_t), mask)
        scores = ops.cast(weights, value.dtype)
        dropped = scores if dropout_fn is None else dropout_fn(scores)
        outputs = ops.matmul(dropped, value_heads)
    else:
        scores = None
        outputs = _fused_softmax_attention(query_heads, key_t, value_heads, mask)
    return ops.transpose(outputs, (0, 2, 1, 3)), scores


def linear(inputs, kernel, bias=None):
    """`inputs @ kernel + bias` for 2-D `inputs`, with a cheaper backward.

    The bias gradient is the column sum of the output gradient; computed as
    a `[1, N] @ [N, units]` matmul it takes a fraction of the time of the
    generic reduction automatic differentiation emits. Same values up to
    float rounding.
    """
    if bias is None:
        return ops.matmul(inputs, kernel)

    @ops.custom_gradient
    def project(inputs, kernel, bias):
        outputs = ops.matmul(inputs, kernel) + bias

        def grad(*upstream, **unused):
            (d_outputs,) = upstream[:1]
            d_inputs = ops.matmul(d_outputs, ops.transpose(kernel))
            d_kernel = ops.matmul(ops.transpose(inputs), d_outputs)
            ones = ops.ones((1, ops.shape(d_outputs)[0]), d_outputs.dtype)
            d_bias = ops.reshape(ops.matmul(ones, d_outputs), ops.shape(bias))
            return d_inputs, d_kernel, d_bias

        return outputs, grad

    return project(inputs, kernel, bias)
