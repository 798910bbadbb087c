"""Multi-head attention: a drop-in for `keras.layers.MultiHeadAttention`."""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_seq._validation import positive_int_error as _positive_int
from keras_seq.layers.masks import causal_mask
from keras_seq.ops.attention import masked_fill_value, merge_masks


def _without_mask(tensor):
    if getattr(tensor, "_keras_mask", None) is None:
        return tensor
    return ops.copy(tensor)


@keras.saving.register_keras_serializable(package="keras_seq")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head scaled dot-product attention with a key/value cache.

    Computes, for each of `num_heads` heads, softmax(Q_h K_h^T / sqrt(key_dim)
    + M) V_h on linear projections of `query`, `key` and `value`, then
    projects the concatenated heads back to the query width (or
    `output_shape`). Constructor, call arguments and weight layout (the
    `query`, `key`, `value` and `attention_output` `EinsumDense` sublayers,
    in that order) are those of `keras.layers.MultiHeadAttention`, so
    `ours.set_weights(keras_layer.get_weights())` works both ways and the
    outputs agree.

    What it adds:
    - The fused `keras.ops.dot_product_attention` path is taken whenever
      the attention weights are not needed: always at inference (also with
      `dropout > 0`, where Keras's own layer falls back to the unfused path)
      and in training when `dropout == 0`. The explicit path runs only when
      `return_attention_scores=True` or dropout is active.
    - Logits are cast to float32 and the softmax runs in float32 under any
      dtype policy; masked logits get the most negative finite float32, so a
      fully masked row gives uniform weights, never NaN.
    - A key/value cache for incremental decoding, in keras-hub's layout
      `[B, 2, S, num_heads, key_dim]` (requires `value_dim == key_dim`):
      with `cache_update_index=i` the projected keys/values of this call are
      written at position `i` and attention runs over the whole cache; with
      `use_causal_mask=True` query step `t` sees cache positions `<= i + t`.
      With `cache_update_index=None` the cache is used read-only (e.g. a
      precomputed cross-attention cache).

    Masks: boolean, True = attend. `attention_mask` `[B, Tq, Tk]`, the
    implicit Keras masks of `query` (rows), `value` and `key` (columns) and
    the causal mask are merged with `&`, exactly as Keras does. When a
    `cache` is given the implicit `value`/`key` masks are ignored (they
    describe this call's step, not the cache); pass an `attention_mask`
    over the cache length instead.

    Args:
        num_heads: int, number of heads H.
        key_dim: int, size of each query/key head.
        value_dim: int, size of each value head. Defaults to `key_dim`.
        dropout: float in `[0, 1)`, dropout on the attention weights.
        use_bias: bool, whether the projections have biases.
        output_shape: int or tuple, the output's last dimension(s). Defaults
            to the query width.
        attention_axes: only `None` (attention over the time axis of
            `[B, T, D]` inputs) is supported; other values raise.
        flash_attention: `None` (let the backend choose), `True` (require a
            flash kernel; the TensorFlow backend has none and raises) or
            `False` (never use one). Passed to
            `keras.ops.dot_product_attention`.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint,
        bias_constraint: as in `keras.layers.Dense`.
        seed: optional int seed for dropout.

    Call arguments:
        query: `[B, Tq, Dq]`.
        value: `[B, Tk, Dv]`.
        key: optional `[B, Tk, Dk]`; defaults to `value`.
        attention_mask: optional boolean `[B, Tq, Tk]` (or broadcastable).
        use_causal_mask: bool, apply the look-ahead mask.
        return_attention_scores: bool, also return the weights
            `[B, H, Tq, Tk]`.
        training: bool, whether dropout is active.
        cache: optional `[B, 2, S, H, key_dim]` key/value cache.
        cache_update_index: optional int or scalar tensor, where this call's
            keys/values are written into `cache`.

    Returns:
        `outputs` `[B, Tq, D]`; then, in this order and only when requested,
        the scores and the updated cache: `(outputs, scores)`,
        `(outputs, cache)` or `(outputs, scores, cache)`.

    Raises:
        ValueError: on invalid constructor arguments, inputs that are not
            rank 3, mismatched key/value lengths, a mask of the wrong rank,
            or a cache of the wrong shape.

    Example:
    >>> import numpy as np
    >>> from keras_seq.layers import MultiHeadAttention
    >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = np.random.rand(3, 5, 8).astype("float32")
    >>> out, scores = mha(x, x, return_attention_scores=True)
    >>> tuple(out.shape), tuple(scores.shape)
    ((3, 5, 8), (3, 2, 5, 5))

    References:
        Vaswani et al., "Attention Is All You Need", 2017.
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        seed=None,
        **kwargs,
    ):
        errors = [
            _positive_int("num_heads", num_heads),
            _positive_int("key_dim", key_dim),
            _positive_int("value_dim", value_dim, allow_none=True),
        ]
        if not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            errors.append(f"`dropout` must be a float in [0, 1); received {dropout!r}.")
        if attention_axes is not None:
            errors.append(
                "`attention_axes` other than None is not supported: keras_seq "
                "attends over the time axis of [B, T, D] inputs; received "
                f"{attention_axes!r}."
            )
        if flash_attention not in (None, True, False):
            errors.append(
                f"`flash_attention` must be None, True or False; received {flash_attention!r}."
            )
        if output_shape is not None:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(int(d) for d in output_shape)
            except (TypeError, ValueError):
                errors.append(
                    "`output_shape` must be an int or a tuple of ints; received "
                    f"{output_shape!r}."
                )
        errors = [e for e in errors if e]
        if errors:
            raise ValueError(" ".join(errors))
        # Keras' base `Layer` owns an `activity_regularizer` attribute.
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim if value_dim else key_dim
        self.dropout = float(dropout)
        self.use_bias = use_bias
        self.attention_output_shape = output_shape
        self.attention_axes = None
        self.flash_attention = flash_attention
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.seed = seed
        self.supports_masking = True
        self._scale = 1.0 / math.sqrt(float(key_dim))
        self._dropout_layer = keras.layers.Dropout(
            self.dropout, seed=seed, dtype=self.dtype_policy
        )

    # -- construction ---------------------------------------------------------

    def _dense(self, equation, output_shape, bias_axes, name):
        def clone(obj):
            return obj.__class__.from_config(obj.get_config())

        return keras.layers.EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self.use_bias else None,
            kernel_initializer=clone(self.kernel_initializer),
            bias_initializer=clone(self.bias_initializer),
            kernel_regularizer=self.kernel_regularizer,
            bias_regularizer=self.bias_regularizer,
            kernel_constraint=self.kernel_constraint,
            bias_constraint=self.bias_constraint,
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        for name, shape in (
            ("query", query_shape),
            ("value", value_shape),
            ("key", key_shape),
        ):
            if len(shape) != 3:
                raise ValueError(
                    f"`{name}` must have rank 3 [batch, time, features]; received "
                    f"shape {tuple(shape)}."
                )
            if shape[-1] is None:
                raise ValueError(f"The last dimension of `{name}` must be known.")
        if value_shape[1] is not None and key_shape[1] is not None:
            if value_shape[1] != key_shape[1]:
                raise ValueError(
                    "`key` and `value` must have the same length; received "
                    f"key {tuple(key_shape)} and value {tuple(value_shape)}."
                )
        heads = self.num_heads
        self.query_dense = self._dense(
            "abc,cde->abde", (None, heads, self.key_dim), "de", "query"
        )
        self.query_dense.build(query_shape)
        self.key_dense = self._dense(
            "abc,cde->abde", (None, heads, self.key_dim), "de", "key"
        )
        self.key_dense.build(key_shape)
        self.value_dense = self._dense(
            "abc,cde->abde", (None, heads, self.value_dim), "de", "value"
        )
        self.value_dense.build(value_shape)
        out_dims = self.attention_output_shape or (query_shape[-1],)
        letters = "efgh"[: len(out_dims)]
        self.output_dense = self._dense(
            f"abcd,cd{letters}->ab{letters}",
            (None,) + tuple(out_dims),
            letters,
            "attention_output",
        )
        self.output_dense.build((query_shape[0], query_shape[1], heads, self.value_dim))

    # -- computation ----------------------------------------------------------

    def _merged_mask(
        self,
        query,
        key_length,
        query_mask,
        value_mask,
        key_mask,
        attention_mask,
        use_causal_mask,
        offset,
    ):
        masks = []
        if attention_mask is not None:
            rank = len(attention_mask.shape)
            if rank not in (2, 3):
                raise ValueError(
                    "`attention_mask` must have rank 3 [batch, query_time, key_time] "
                    f"(or 2 [query_time, key_time]); received shape "
                    f"{tuple(attention_mask.shape)}."
                )
            masks.append(attention_mask)
        if query_mask is not None:
            masks.append(ops.expand_dims(query_mask, -1))
        for column_mask in (value_mask, key_mask):
            if column_mask is not None:
                masks.append(ops.expand_dims(column_mask, -2))
        if use_causal_mask:
            causal = causal_mask(key_length, ops.shape(query)[1], offset=offset)
            masks.append(ops.expand_dims(causal, 0))
        merged = merge_masks(*masks)
        if merged is None:
            return None
        if len(merged.shape) == 2:
            merged = ops.expand_dims(merged, 0)
        return ops.expand_dims(merged, 1)  # [B, 1, Tq, Tk]: same for all heads.

    def _explicit_attention(self, query, key, value, mask, training):
        query = query * ops.cast(self._scale, query.dtype)
        logits = ops.einsum("bthd,bshd->bhts", query, key)
        logits = ops.cast(logits, "float32")
        if mask is not None:
            logits = ops.where(mask, logits, masked_fill_value("float32"))
        scores = ops.cast(ops.softmax(logits, axis=-1), self.compute_dtype)
        dropped = self._dropout_layer(scores, training=training)
        return ops.einsum("bhts,bshd->bthd", dropped, value), scores

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
        cache=None,
        cache_update_index=None,
    ):
        if key is None:
            key = value
            key_mask = None
        # The projections do not support masking; hand them mask-free views so
        # Keras neither warns nor strips the mask off the caller's tensors.
        query, value, key = (_without_mask(t) for t in (query, value, key))
        projected_query = self.query_dense(query)
        offset = 0
        if cache is not None:
            self._check_cache(cache)
            value_mask = key_mask = None
            key_cache, value_cache = cache[:, 0, ...], cache[:, 1, ...]
            if cache_update_index is None:
                projected_key, projected_value = key_cache, value_cache
            else:
                start = [0, cache_update_index, 0, 0]
                projected_key = ops.slice_update(key_cache, start, self.key_dense(key))
                projected_value = ops.slice_update(
                    value_cache, start, self.value_dense(value)
                )
                cache = ops.stack((projected_key, projected_value), axis=1)
                offset = cache_update_index
        else:
            if cache_update_index is not None:
                raise ValueError(
                    "`cache_update_index` was given without a `cache`; pass both "
                    "or neither."
                )
            projected_key = self.key_dense(key)
            projected_value = self.value_dense(value)

        key_length = ops.shape(projected_key)[1]
        needs_scores = return_attention_scores or (self.dropout > 0.0 and training)
        only_causal = (
            use_causal_mask
            and cache is None
            and attention_mask is None
            and query_mask is None
            and value_mask is None
            and key_mask is None
        )
        if only_causal and not needs_scores:
            mask = None
        else:
            mask = self._merged_mask(
                query,
                key_length,
                query_mask,
                value_mask,
                key_mask,
                attention_mask,
                use_causal_mask,
                offset,
            )
        if needs_scores:
            attended, scores = self._explicit_attention(
                projected_query, projected_key, projected_value, mask, training
            )
        else:
            scores = None
            attended = ops.dot_product_attention(
                projected_query,
                projected_key,
                projected_value,
                mask=mask,
                scale=self._scale,
                is_causal=bool(only_causal),
                flash_attention=self.flash_attention,
            )
        outputs = self.output_dense(attended)
        results = [outputs]
        if return_attention_scores:
            results.append(scores)
        if cache is not None:
            results.append(cache)
        return results[0] if len(results) == 1 else tuple(results)

    def compute_cache(self, value, key=None):
        """Projects `key`/`value` once into a read-only cache `[B, 2, S, H, key_dim]`.

        Use it for cross-attention during decoding: pass the result as
        `cache` with `cache_update_index=None` at every step instead of
        re-projecting the encoder outputs.
        """
        if self.value_dim != self.key_dim:
            raise ValueError(
                "A `cache` needs `value_dim == key_dim`; this layer has "
                f"key_dim={self.key_dim}, value_dim={self.value_dim}."
            )
        key = _without_mask(value if key is None else key)
        value = _without_mask(value)
        return ops.stack((self.key_dense(key), self.value_dense(value)), axis=1)

    def _check_cache(self, cache):
        shape = tuple(cache.shape)
        if len(shape) != 5 or shape[1] != 2 or shape[3:] != (
            self.num_heads,
            self.key_dim,
        ):
            raise ValueError(
                "`cache` must have shape [batch, 2, max_length, num_heads="
                f"{self.num_heads}, key_dim={self.key_dim}]; received {shape}."
            )
        if self.value_dim != self.key_dim:
            raise ValueError(
                "A `cache` needs `value_dim == key_dim`; this layer has "
                f"key_dim={self.key_dim}, value_dim={self.value_dim}."
            )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "value_dim": self.value_dim,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "output_shape": self.attention_output_shape,
                "attention_axes": None,
                "flash_attention": self.flash_attention,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(
                    self.kernel_regularizer
                ),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": keras.constraints.serialize(
                    self.kernel_constraint
                ),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
                "seed": self.seed,
            }
        )
        return config
