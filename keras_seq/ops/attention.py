"""Scaled dot-product attention, the seed's Attention(Q, K, V)."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops


def masked_fill_value(dtype) -> float:
    """The most negative finite value of `dtype`, used for masked logits.

    A literal such as `-1e9` overflows to `-inf` in float16 and turns a fully
    masked softmax row into NaN; the dtype's own minimum never does.
    """
    dtype = keras.backend.standardize_dtype(dtype)
    if dtype == "bfloat16":
        return -3.3895313892515355e38
    return float(np.finfo(dtype).min)


def merge_masks(*masks):
    """Logical AND of the boolean masks that are not `None` (broadcasting)."""
    merged = None
    for mask in masks:
        if mask is None:
            continue
        mask = ops.cast(mask, "bool")
        merged = mask if merged is None else ops.logical_and(merged, mask)
    return merged


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
    if (
        query.shape[-1] is not None
        and key.shape[-1] is not None
        and query.shape[-1] != key.shape[-1]
    ):
        raise ValueError(
            "`query` and `key` must have the same last dimension d_k; received "
            f"query {tuple(query.shape)} and key {tuple(key.shape)}."
        )
    if (
        key.shape[-2] is not None
        and value.shape[-2] is not None
        and key.shape[-2] != value.shape[-2]
    ):
        raise ValueError(
            "`key` and `value` must have the same length Tk; received "
            f"key {tuple(key.shape)} and value {tuple(value.shape)}."
        )
    if not 0.0 <= float(dropout_rate) < 1.0:
        raise ValueError(
            f"`dropout_rate` must be in [0, 1); received {dropout_rate}."
        )
    rank = len(query.shape)
    if mask is not None:
        mask = ops.convert_to_tensor(mask)
        if len(mask.shape) > rank:
            raise ValueError(
                f"`mask` must be broadcastable to the weights [B, (H,) Tq, Tk] "
                f"(rank <= {rank}); received shape {tuple(mask.shape)}."
            )
        if keras.backend.standardize_dtype(mask.dtype) != "bool":
            mask = ops.greater(mask, 0.5)

    depth = query.shape[-1]
    if depth is None:
        depth = ops.shape(query)[-1]
    scale = 1.0 / math.sqrt(depth) if isinstance(depth, int) else ops.rsqrt(
        ops.cast(depth, "float32")
    )
    logits = ops.matmul(
        ops.cast(query, "float32"), ops.swapaxes(ops.cast(key, "float32"), -1, -2)
    )
    logits = logits * scale
    if mask is not None:
        logits = ops.where(mask, logits, masked_fill_value("float32"))
    weights = ops.softmax(logits, axis=-1)
    if dropout_rate > 0.0 and training:
        weights = keras.random.dropout(weights, dropout_rate, seed=seed)
    weights = ops.cast(weights, value.dtype)
    return ops.matmul(weights, value), weights
