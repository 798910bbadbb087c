"""Attention masks: padding and causal (look-ahead). True = attend / real token."""

from __future__ import annotations

from keras import ops


def padding_mask(token_ids, pad_id: int = 0):
    """Boolean mask `[B, T]`, True where `token_ids` is a real token.

    Args:
        token_ids: integer tensor `[B, T]`.
        pad_id: int, the padding id. Defaults to `0`.

    Raises:
        ValueError: if `token_ids` is not of rank 2.

    Example:
    >>> from keras_seq.layers import padding_mask
    >>> padding_mask([[5, 7, 0, 0]]).numpy().tolist()
    [[True, True, False, False]]
    """
    token_ids = ops.convert_to_tensor(token_ids)
    if len(token_ids.shape) != 2:
        raise ValueError(
            "`token_ids` must have rank 2 [batch, time]; received shape "
            f"{tuple(token_ids.shape)}."
        )
    return ops.not_equal(token_ids, ops.cast(pad_id, token_ids.dtype))


def causal_mask(length, query_length=None, offset=0):
    """The look-ahead mask: boolean `[Tq, T]`, True on and below the diagonal.

    Query position `i` (shifted by `offset`, for incremental decoding with a
    cache) may attend to key positions `j <= i + offset`.

    Args:
        length: int or scalar tensor, the key length `T`.
        query_length: optional query length `Tq`; defaults to `length`.
        offset: int or scalar tensor added to query positions. Defaults to 0.

    Example:
    >>> from keras_seq.layers import causal_mask
    >>> causal_mask(3).numpy().astype(int).tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    if isinstance(length, int) and length < 1:
        raise ValueError(f"`length` must be a positive integer; received {length}.")
    if query_length is None:
        query_length = length
    rows = ops.expand_dims(ops.arange(query_length, dtype="int32"), -1)
    rows = rows + ops.cast(offset, "int32")
    cols = ops.expand_dims(ops.arange(length, dtype="int32"), 0)
    return ops.greater_equal(rows, cols)
