"""Multi-head attention: a drop-in for `keras.layers.MultiHeadAttention`."""

from __future__ import annotations

import collections
import math
import string

import keras
from keras import ops

from keras_seq._validation import positive_int_error, raise_errors, rate_error
from keras_seq.layers._block_utils import plain_projections
from keras_seq.layers.masks import causal_mask
from keras_seq.ops.attention import (
    _probabilities,
    broadcast_error,
    linear,
    masked_fill_value,
    merge_masks,
    multi_head_attention_core,
    softmax,
    statistics_dtype,
)

# The arguments of one call, as `_call_heads` and `_call_general` take them.
_CallState = collections.namedtuple(
    "_CallState",
    "query value key query_mask value_mask key_mask attention_mask use_causal_mask "
    "return_attention_scores training",
)


def _keras_style(message):
    """Keras words these errors "... argument `name` ..."; keep our wording
    and Keras's phrase, so code matching either message still matches."""
    return "Received an invalid value for argument " + message


def _normalise_output_shape(output_shape):
    if output_shape is None:
        return None, None
    if isinstance(output_shape, int) and not isinstance(output_shape, bool):
        output_shape = (output_shape,)
    try:
        dims = tuple(output_shape)
    except TypeError:
        dims = None
    if not dims or not all(
        isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims
    ):
        return None, (
            f"Invalid `output_shape`: it must be a positive int or a tuple/list of "
            f"positive ints; received {output_shape!r}."
        )
    return dims, None


def _normalise_axes(attention_axes):
    if attention_axes is None:
        return None, None
    if isinstance(attention_axes, int) and not isinstance(attention_axes, bool):
        return (attention_axes,), None
    if isinstance(attention_axes, (list, tuple)) and attention_axes and all(
        isinstance(a, int) and not isinstance(a, bool) for a in attention_axes
    ):
        return tuple(attention_axes), None
    return None, (
        "`attention_axes` must be None, an int, or a list/tuple of ints; "
        f"received {attention_axes!r}."
    )


def _window_mask(query_length, key_length, window, offset=0):
    """Boolean `[Tq, Tk]`, True where |i + offset - j| < window."""
    rows = ops.expand_dims(ops.arange(query_length, dtype="int32"), -1)
    rows = rows + ops.cast(offset, "int32")
    cols = ops.expand_dims(ops.arange(key_length, dtype="int32"), 0)
    return ops.less(ops.abs(rows - cols), window)


@keras.saving.register_keras_serializable(package="keras_seq")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head scaled dot-product attention with a key/value cache.

    Computes, for each of `num_heads` heads, softmax(Q_h K_h^T / sqrt(key_dim)
    + M) V_h on linear projections of `query`, `key` and `value`, then
    projects the concatenated heads back to the query width (or
    `output_shape`). Constructor, call arguments and weight layout (the
    `query`, `key`, optional `gate`, `value` and `attention_output`
    `EinsumDense` sublayers, in that order) are those of
    `keras.layers.MultiHeadAttention`, so
    `ours.set_weights(keras_layer.get_weights())` works both ways and the
    outputs agree to float tolerance, for every option Keras 3.15 accepts:
    `use_gate`, `attention_axes` with inputs of rank > 3, `sliding_window`,
    `output_shape` as int or tuple, masks `[T, S]`, `[B, T, S]` and
    `[B, H, T, S]`.

    How it computes (same function as Keras, different arithmetic):
    - Rank-3 inputs on TensorFlow, heads of >= 64 columns: the queries,
      keys and values are projected straight into the `[B, H, T, d]`
      layout of the batched matmuls (one broadcast batched matmul each, no
      transposes; the backward pass uses 2-D GEMMs), the softmax scale is
      folded into the
      query kernel, the keys' bias is left out (q . b_k is the same for
      every key of a row, so the softmax removes it; its gradient is
      exactly zero), without dropout or gate the values' bias is added
      after the weights, through the output projection's bias (each row of
      weights sums to one), and the attention has a hand-written backward
      pass. Narrower heads, and other backends, project with one 2-D
      matmul per projection (the softmax scale folded into the query
      kernel) and combine the heads by batched matmuls in `[B, H, T, d]`
      layout with the same hand-written backward (other backends use their
      fused attention where it can run). The softmax runs
      in float32 under every dtype policy. Quantized or LoRA sublayers, and
      an `activity_regularizer`, run the sublayers themselves instead.
    - Rank > 3 (or explicit `attention_axes`): einsum over the attention
      axes, softmax jointly over them, as Keras.
    - Dropout is applied only in training, so inference never pays for it
      (Keras's own layer leaves its fused path whenever `dropout > 0`).

    Deliberate differences from Keras:
    - A query row whose keys are all masked gets uniform weights (as in
      Keras's fused path); Keras's explicit path, used when it returns
      scores or has dropout, gives such rows zero weights.
    - `flash_attention=False` means "never"; Keras reads it as "auto".
    - The caller's Keras masks stay on the caller's tensors (Keras strips
      them).
    - The scores spec of a symbolic call is `[B, H, T, S]` (Keras reports
      `[B, H, T, T]`, wrong for cross-attention).
    - A key/value cache for incremental decoding, in keras-hub's layout
      `[B, 2, S, num_heads, key_dim]` (requires `value_dim == key_dim` and
      rank-3 inputs): with `cache_update_index=i` the projected keys/values
      of this call are written at position `i` and attention runs over the
      whole cache; with `use_causal_mask=True` (and `sliding_window`) query
      step `t` is placed at position `i + t`. With `cache_update_index=None`
      the cache is read-only (e.g. a precomputed cross-attention cache).

    Masks: boolean, True = attend. `attention_mask` (broadcastable to the
    weights; `[B, T, S]` is expanded over heads), the implicit Keras masks of
    `query` (rows), `value` and `key` (columns), the causal mask and the
    sliding window are merged with `&`, as Keras does. A mask that cannot
    broadcast to the weights raises a `ValueError` showing both shapes. When
    a `cache` is given the implicit `value`/`key` masks are ignored (they
    describe this call's step, not the cache); pass an `attention_mask` over
    the cache length instead.

    Args:
        num_heads: int, number of heads H.
        key_dim: int, size of each query/key head.
        value_dim: int, size of each value head. Defaults to `key_dim`.
        dropout: float in `[0, 1)`, dropout on the attention weights.
        use_bias: bool, whether the projections have biases.
        output_shape: int or tuple, the output's trailing dimension(s).
            Defaults to the query width.
        attention_axes: int or tuple of axes of the inputs to attend over
            (negative counts from the end). Defaults to every axis except the
            batch and the features.
        sliding_window: optional positive int: query position i attends only
            to keys j with |i - j| < sliding_window (with `use_causal_mask`,
            the causal sliding window of Mistral-style models).
        flash_attention: `None` (follow `keras.config`), `True` (require a
            flash kernel; TensorFlow has none and raises at call time) or
            `False` (never).
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint,
        bias_constraint: as in Keras (the activity regularizer applies to
            the projections' outputs, as in Keras).
        use_gate: bool, gated attention (Qiu et al., 2025): the heads'
            outputs are multiplied by sigmoid(query projection) before the
            output projection.
        seed: optional int seed for dropout.

    Call arguments:
        query: `[B, T, Dq]` (or `[B, ..., Dq]` with `attention_axes`).
        value: `[B, S, Dv]`.
        key: optional `[B, S, Dk]`; defaults to `value`.
        attention_mask: optional boolean mask broadcastable to the weights,
            e.g. `[B, T, S]` or `[B, H, T, S]`.
        use_causal_mask: bool, apply the look-ahead mask (over axis 1 of the
            inputs, as Keras).
        return_attention_scores: bool, also return the weights `[B, H, T, S]`.
        training: bool, whether dropout is active.
        cache: optional `[B, 2, S, H, key_dim]` key/value cache.
        cache_update_index: optional int or scalar tensor, where this call's
            keys/values are written into `cache`.

    Returns:
        `outputs` `[B, T, D]`; then, in this order and only when requested,
        the scores and the updated cache: `(outputs, scores)`,
        `(outputs, cache)` or `(outputs, scores, cache)`.

    Raises:
        ValueError: on invalid constructor arguments, `key`/`value` shapes
            that differ except in the last axis, a mask that does not
            broadcast to the weights, or a cache of the wrong shape.

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
        Qiu et al., "Gated Attention for Large Language Models", 2025.
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
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        errors = [
            positive_int_error("num_heads", num_heads),
            positive_int_error("key_dim", key_dim),
            positive_int_error("value_dim", value_dim, allow_none=True),
        ]
        errors = [_keras_style(e) for e in errors if e]
        errors.append(rate_error("dropout", dropout))
        output_shape, error = _normalise_output_shape(output_shape)
        errors.append(error)
        attention_axes, error = _normalise_axes(attention_axes)
        errors.append(error)
        errors.append(positive_int_error("sliding_window", sliding_window, allow_none=True))
        if flash_attention not in (None, True, False):
            errors.append(
                f"`flash_attention` must be None, True or False; received {flash_attention!r}."
            )
        flash = flash_attention
        if flash is None:
            flash = keras.config.is_flash_attention_enabled()
        if flash and isinstance(dropout, (int, float)) and dropout > 0:
            errors.append(
                "Dropout is not supported when flash attention is enabled: set "
                f"`dropout` to 0.0 or `flash_attention` to False; received dropout={dropout!r}."
            )
        raise_errors(errors)
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim if value_dim else key_dim
        self.dropout = float(dropout)
        self.use_bias = use_bias
        self.attention_output_shape = output_shape
        self.attention_axes = attention_axes
        self.sliding_window = sliding_window
        self.flash_attention = flash_attention
        self._flash = bool(flash)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        # As in Keras, the activity regularizer applies to the projections.
        self.projection_activity_regularizer = keras.regularizers.get(
            activity_regularizer
        )
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.use_gate = bool(use_gate)
        self.seed = seed
        self.supports_masking = True
        self._scale = 1.0 / math.sqrt(float(key_dim))
        self._dropout_layer = keras.layers.Dropout(
            self.dropout, seed=seed, dtype=self.dtype_policy
        )

    # -- construction ---------------------------------------------------------

    def _dense(self, free_dims, bound_dims, output_dims, name, activation=None):
        """An `EinsumDense` as Keras builds it: `free_dims` axes kept,
        `bound_dims` contracted, `output_dims` produced."""
        letters = string.ascii_lowercase
        free = letters[:free_dims]
        bound = letters[free_dims : free_dims + bound_dims]
        out = letters[free_dims + bound_dims : free_dims + bound_dims + len(output_dims)]
        equation = f"{free}{bound},{bound}{out}->{free}{out}"

        def clone(obj):
            return obj.__class__.from_config(obj.get_config())

        layer = keras.layers.EinsumDense(
            equation,
            output_shape=(None,) * (free_dims - 1) + tuple(output_dims),
            bias_axes=out if self.use_bias else None,
            activation=activation,
            kernel_initializer=clone(self.kernel_initializer),
            bias_initializer=clone(self.bias_initializer),
            kernel_regularizer=self.kernel_regularizer,
            bias_regularizer=self.bias_regularizer,
            activity_regularizer=self.projection_activity_regularizer,
            kernel_constraint=self.kernel_constraint,
            bias_constraint=self.bias_constraint,
            dtype=self.dtype_policy,
            name=name,
        )
        # Projections keep (and ignore) a caller's Keras mask instead of
        # warning that they drop it: this layer consumes the masks itself.
        layer.supports_masking = True
        return layer

    def _check_shapes(self, query_shape, value_shape, key_shape):
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be "
                f"equal; received value_shape={value_shape} and key_shape={key_shape}."
            )
        for name, shape in (("query", query_shape), ("value", value_shape)):
            if len(shape) < 3:
                raise ValueError(
                    f"`{name}` must have rank >= 3 [batch, ..., features]; received "
                    f"shape {shape}."
                )
            if shape[-1] is None:
                raise ValueError(f"The last dimension of `{name}` must be known.")
        if len(query_shape) != len(value_shape):
            raise ValueError(
                "`query` and `value` must have the same rank; received query_shape="
                f"{query_shape} and value_shape={value_shape}."
            )
        self._resolve_axes(len(query_shape))
        return query_shape, value_shape, key_shape

    def _resolve_axes(self, rank):
        """Attention axes of the inputs (rank `rank`) as non-negative ints."""
        if self.attention_axes is None:
            return tuple(range(1, rank - 1))
        axes = []
        for axis in self.attention_axes:
            resolved = axis + rank if axis < 0 else axis
            if not 1 <= resolved < rank - 1:
                raise ValueError(
                    f"`attention_axes` {self.attention_axes} must index axes between "
                    f"the batch and the features of rank-{rank} inputs; received "
                    f"axis {axis}."
                )
            axes.append(resolved)
        if len(set(axes)) != len(axes):
            raise ValueError(f"`attention_axes` repeats an axis: {self.attention_axes}.")
        return tuple(sorted(axes))

    def build(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape, key_shape = self._check_shapes(
            query_shape, value_shape, key_shape
        )
        rank = len(query_shape)
        heads = self.num_heads
        self._axes = self._resolve_axes(rank)
        self._rank3 = rank == 3
        self.query_dense = self._dense(rank - 1, 1, (heads, self.key_dim), "query")
        self.query_dense.build(query_shape)
        self.key_dense = self._dense(len(key_shape) - 1, 1, (heads, self.key_dim), "key")
        self.key_dense.build(key_shape)
        if self.use_gate:
            self.gate_dense = self._dense(
                rank - 1, 1, (heads, self.value_dim), "gate", activation="sigmoid"
            )
            self.gate_dense.build(query_shape)
        else:
            self.gate_dense = None
        self.value_dense = self._dense(rank - 1, 1, (heads, self.value_dim), "value")
        self.value_dense.build(value_shape)
        out_dims = self.attention_output_shape or (query_shape[-1],)
        self.output_dense = self._dense(rank - 1, 2, out_dims, "attention_output")
        self.output_dense.build(tuple(query_shape[:-1]) + (heads, self.value_dim))

    # -- shapes ---------------------------------------------------------------

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        query_shape, _, _ = self._check_shapes(query_shape, value_shape, key_shape)
        if self.attention_output_shape:
            return tuple(query_shape[:-1]) + tuple(self.attention_output_shape)
        return query_shape

    def _scores_shape(self, query_shape, key_shape):
        """Shape of the weights: batch-like axes, heads, query and key axes."""
        rank = len(query_shape)
        axes = self._resolve_axes(rank)
        others = [query_shape[i] for i in range(rank - 1) if i not in axes]
        return (
            tuple(others[:1])
            + tuple(others[1:])
            + (self.num_heads,)
            + tuple(query_shape[i] for i in axes)
            + tuple(key_shape[i] for i in axes)
        )

    def compute_output_spec(
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
        key_shape = None if key is None else key.shape
        output_shape = self.compute_output_shape(query.shape, value.shape, key_shape)
        results = [keras.KerasTensor(output_shape, dtype=self.compute_dtype)]
        if return_attention_scores:
            source = tuple(value.shape)
            if cache is not None:
                source = (source[0], cache.shape[2]) + source[2:]
            scores = self._scores_shape(tuple(query.shape), source)
            results.append(keras.KerasTensor(scores, dtype=self.compute_dtype))
        if cache is not None:
            results.append(keras.KerasTensor(cache.shape, dtype=cache.dtype))
        return results[0] if len(results) == 1 else tuple(results)

    # -- projections ----------------------------------------------------------

    def _plain(self, *denses):
        """Whether the sublayers' kernels can be used directly (not
        quantized, no LoRA, no activity regularizer)."""
        return plain_projections(*denses)

    def _project(self, dense, inputs_2d, batch_time, scale=None):
        """`inputs_2d` `[N, C]` -> `[B, T, H, d]` by one 2-D matmul."""
        kernel = ops.cast(dense.kernel, self.compute_dtype)
        width = kernel.shape[1] * kernel.shape[2]
        kernel = ops.reshape(kernel, (kernel.shape[0], width))
        bias = None
        if dense.bias is not None:
            bias = ops.reshape(ops.cast(dense.bias, self.compute_dtype), (width,))
        if scale is not None:
            kernel = kernel * ops.cast(scale, kernel.dtype)
            bias = None if bias is None else bias * ops.cast(scale, bias.dtype)
        outputs = linear(inputs_2d, kernel, bias)
        return outputs, (batch_time[0], batch_time[1], dense.kernel.shape[1], dense.kernel.shape[2])

    def _flatten(self, x):
        shape = ops.shape(x)
        return ops.reshape(x, (-1, x.shape[-1])), (shape[0], shape[1])

    # -- masks ----------------------------------------------------------------

    def _merged_mask(
        self,
        query_length,
        key_length,
        query_mask,
        value_mask,
        key_mask,
        attention_mask,
        use_causal_mask,
        offset,
        scores_rank,
    ):
        """All masks &-merged and expanded to the rank of the weights."""
        auto = []
        if query_mask is not None:
            auto.append(ops.expand_dims(ops.cast(query_mask, "bool"), -1))
        for column_mask in (value_mask, key_mask):
            if column_mask is not None:
                auto.append(ops.expand_dims(ops.cast(column_mask, "bool"), -2))
        if use_causal_mask:
            auto.append(
                ops.expand_dims(causal_mask(key_length, query_length, offset=offset), 0)
            )
        if self.sliding_window is not None:
            window = _window_mask(query_length, key_length, self.sliding_window, offset)
            auto.append(ops.expand_dims(window, 0))
        if attention_mask is not None:
            attention_mask = ops.convert_to_tensor(attention_mask)
            if keras.backend.standardize_dtype(attention_mask.dtype) != "bool":
                attention_mask = ops.greater(attention_mask, 0.5)
        merged = merge_masks(attention_mask, *auto)
        if merged is None:
            return None
        # Missing axes (heads, and batch-like axes) go in front of the
        # query/key axes, as in Keras.
        axis = -2 * len(self._axes) - 1
        for _ in range(scores_rank - len(merged.shape)):
            merged = ops.expand_dims(merged, axis)
        return merged

    def _check_attention_mask(self, attention_mask, scores_shape):
        if attention_mask is None:
            return
        rank = len(attention_mask.shape)
        if rank > len(scores_shape) or rank < 2 * len(self._axes):
            raise ValueError(
                f"`attention_mask` of shape {tuple(attention_mask.shape)} does not "
                f"broadcast to the attention weights of shape {tuple(scores_shape)}: "
                f"it needs between {2 * len(self._axes)} and {len(scores_shape)} "
                "dimensions."
            )
        shape = tuple(attention_mask.shape)
        axis = len(shape) - 2 * len(self._axes)
        # Missing axes are inserted before the query/key axes (as in Keras).
        expanded = shape[:axis] + (1,) * (len(scores_shape) - rank) + shape[axis:]
        reason = broadcast_error(expanded, scores_shape)
        if reason is not None:
            raise ValueError(
                f"`attention_mask` of shape {shape} does not broadcast to the attention "
                f"weights of shape {tuple(scores_shape)} (expanded to {expanded}: "
                f"{reason})."
            )

    # -- computation ----------------------------------------------------------

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
        if self._flash and return_attention_scores:
            raise ValueError(
                "Returning attention scores is not supported when flash attention is "
                "enabled: set `flash_attention=False` to get the scores."
            )
        if cache is not None or cache_update_index is not None:
            return self._call_with_cache(
                query,
                value,
                key,
                query_mask,
                attention_mask,
                use_causal_mask,
                return_attention_scores,
                training,
                cache,
                cache_update_index,
            )
        state = _CallState(
            query,
            value,
            key,
            query_mask,
            value_mask,
            key_mask,
            attention_mask,
            use_causal_mask,
            return_attention_scores,
            training,
        )
        if not self._rank3 or self.attention_axes is not None and self._axes != (1,):
            return self._call_general(state)
        scores_shape = (query.shape[0], self.num_heads, query.shape[1], key.shape[1])
        self._check_attention_mask(attention_mask, scores_shape)
        if self._head_major():
            return self._call_heads(state)
        query_2d, batch_time = self._flatten(query)
        gate = None
        if self._plain(self.query_dense, self.key_dense, self.value_dense, self.gate_dense):
            q, q_shape = self._project(self.query_dense, query_2d, batch_time, self._scale)
            q = ops.reshape(q, q_shape)
            key_2d, key_bt = self._flatten(key)
            k, k_shape = self._project(self.key_dense, key_2d, key_bt)
            k = ops.reshape(k, k_shape)
            value_2d = key_2d if value is key else self._flatten(value)[0]
            v, v_shape = self._project(self.value_dense, value_2d, key_bt)
            v = ops.reshape(v, v_shape)
            if self.gate_dense is not None:
                gate, _ = self._project(self.gate_dense, query_2d, batch_time)
                gate = ops.sigmoid(gate)
        else:
            q = self.query_dense(query) * ops.cast(self._scale, self.compute_dtype)
            k = self.key_dense(key)
            v = self.value_dense(value)
            if self.gate_dense is not None:
                gate = ops.reshape(self.gate_dense(query), (-1, self.num_heads * self.value_dim))
        mask = self._merged_mask(
            ops.shape(q)[1],
            ops.shape(k)[1],
            query_mask,
            value_mask,
            key_mask,
            attention_mask,
            use_causal_mask,
            0,
            4,
        )
        attended, scores = self._attend(q, k, v, mask, return_attention_scores, training)
        outputs = self._output(attended, gate, batch_time)
        return (outputs, scores) if return_attention_scores else outputs

    def _head_major(self):
        """Whether `_call_heads` runs: TensorFlow, no flash attention, plain
        projections, heads of >= 64 columns (with narrower heads its
        broadcast projections are B*H GEMMs of few columns, and under XLA H
        copies of the input; the T=512, 32-column rows of
        `benchmarks/attention.py` were slower under XLA)."""
        return (
            keras.backend.backend() == "tensorflow"
            and not self._flash
            and min(self.key_dim, self.value_dim) >= 64
            and self._plain(
                self.query_dense, self.key_dense, self.value_dense, self.gate_dense,
                self.output_dense,
            )
        )

    def _call_heads(self, state):
        """TensorFlow, rank 3, plain projections: head-major computation.

        The projections write `[B, H, T, d]` directly (no transposes of the
        queries, keys and values); the keys' bias is left out (softmax over
        a row removes q . b_k, the same for every key; its gradient is
        exactly zero); without dropout and gate the values' bias moves to
        the output projection (the weights of a row sum to one, so
        P (V + b_v) W_o = P V W_o + b_v W_o).
        """
        query, value, key, query_mask, value_mask, key_mask = state[:6]
        attention_mask, use_causal_mask, return_attention_scores, training = state[6:]
        import tensorflow as tf

        from keras_seq.ops._attention_tf import (
            attention_heads,
            head_projection,
            merge_heads,
        )

        dtype = self.compute_dtype

        def tensor(weight):
            return None if weight is None else tf.convert_to_tensor(ops.cast(weight, dtype))

        # As Keras: the scale goes through a float32 constant (1/sqrt(32) is
        # not exact in float32, so float64 results match Keras's this way).
        scale = tf.convert_to_tensor(ops.cast(self._scale, dtype))
        query_bias = tensor(self.query_dense.bias)
        q = head_projection(
            query,
            tensor(self.query_dense.kernel) * scale,
            None if query_bias is None else query_bias * scale,
        )
        k = head_projection(key, tensor(self.key_dense.kernel), tensor(self.key_dense.bias),
                            add_bias=False)
        dropout_active = self.dropout > 0.0 and bool(training)
        value_bias = tensor(self.value_dense.bias)
        fold_value_bias = (
            value_bias is not None and not dropout_active and self.gate_dense is None
        )
        v = head_projection(
            value, tensor(self.value_dense.kernel), None if fold_value_bias else value_bias
        )
        mask = self._merged_mask(
            ops.shape(query)[1],
            ops.shape(key)[1],
            query_mask,
            value_mask,
            key_mask,
            attention_mask,
            use_causal_mask,
            0,
            4,
        )
        dropout_fn = None
        if dropout_active:

            def dropout_fn(weights):
                return self._dropout_layer(weights, training=True)

        attended, scores = attention_heads(
            q, k, v, _probabilities, mask, return_attention_scores, dropout_fn
        )
        flat = merge_heads(attended)
        query_2d, batch_time = self._flatten(query)
        if self.gate_dense is not None:
            gate, _ = self._project(self.gate_dense, query_2d, batch_time)
            flat = flat * ops.sigmoid(gate)
        width = self.num_heads * self.value_dim
        kernel = tensor(self.output_dense.kernel)
        out_dims = tuple(kernel.shape[2:])
        kernel = tf.reshape(kernel, (width, -1))
        bias = tensor(self.output_dense.bias)
        if bias is not None:
            bias = tf.reshape(bias, (-1,))
        if fold_value_bias:
            moved = tf.reshape(tf.matmul(tf.reshape(value_bias, (1, width)), kernel), (-1,))
            bias = moved if bias is None else bias + moved
        outputs = linear(flat, kernel, bias)
        outputs = ops.reshape(outputs, (batch_time[0], batch_time[1]) + out_dims)
        return (outputs, scores) if return_attention_scores else outputs

    def _attend(self, q, k, v, mask, return_scores, training):
        dropout_fn = None
        if self.dropout > 0.0 and training:

            def dropout_fn(weights):
                return self._dropout_layer(weights, training=True)

        if self._flash or (
            keras.backend.backend() != "tensorflow" and not return_scores and dropout_fn is None
        ):
            # Let the backend's fused kernel run (flash where it has one).
            # The scale is folded into `q` already.
            attended = ops.dot_product_attention(
                q, k, v, mask=mask, scale=1.0, flash_attention=self._flash or None
            )
            return attended, None
        return multi_head_attention_core(q, k, v, mask, return_scores, dropout_fn)

    def _output(self, attended, gate, batch_time):
        """`[B, T, H, dv]` heads (times the gate) -> the output projection."""
        width = self.num_heads * self.value_dim
        if self._plain(self.output_dense):
            flat = ops.reshape(attended, (-1, width))
            if gate is not None:
                flat = flat * gate
            kernel = ops.cast(self.output_dense.kernel, self.compute_dtype)
            out_dims = tuple(kernel.shape[2:])
            kernel = ops.reshape(kernel, (width, -1))
            bias = self.output_dense.bias
            if bias is not None:
                bias = ops.reshape(ops.cast(bias, self.compute_dtype), (-1,))
            outputs = linear(flat, kernel, bias)
            return ops.reshape(outputs, (batch_time[0], batch_time[1]) + out_dims)
        if gate is not None:
            attended = attended * ops.reshape(gate, ops.shape(attended))
        return self.output_dense(attended)

    # -- cached decoding ------------------------------------------------------

    def _call_with_cache(
        self,
        query,
        value,
        key,
        query_mask,
        attention_mask,
        use_causal_mask,
        return_attention_scores,
        training,
        cache,
        cache_update_index,
    ):
        if cache is None:
            raise ValueError(
                "`cache_update_index` was given without a `cache`; pass both or neither."
            )
        if not self._rank3:
            raise ValueError("A `cache` needs rank-3 inputs [batch, time, features].")
        self._check_cache(cache)
        q = self.query_dense(query) * ops.cast(self._scale, self.compute_dtype)
        gate = self.gate_dense(query) if self.gate_dense is not None else None
        key_cache, value_cache = cache[:, 0, ...], cache[:, 1, ...]
        offset = 0
        if cache_update_index is None:
            k, v = key_cache, value_cache
        else:
            start = [0, cache_update_index, 0, 0]
            k = ops.slice_update(key_cache, start, ops.cast(self.key_dense(key), cache.dtype))
            v = ops.slice_update(
                value_cache, start, ops.cast(self.value_dense(value), cache.dtype)
            )
            cache = ops.stack((k, v), axis=1)
            offset = cache_update_index
        k = ops.cast(k, self.compute_dtype)
        v = ops.cast(v, self.compute_dtype)
        scores_shape = (query.shape[0], self.num_heads, query.shape[1], cache.shape[2])
        self._check_attention_mask(attention_mask, scores_shape)
        mask = self._merged_mask(
            ops.shape(q)[1],
            ops.shape(k)[1],
            query_mask,
            None,
            None,
            attention_mask,
            use_causal_mask,
            offset,
            4,
        )
        attended, scores = self._attend(q, k, v, mask, return_attention_scores, training)
        if gate is not None:
            attended = attended * gate
        outputs = self.output_dense(attended)
        if return_attention_scores:
            return outputs, scores, cache
        return outputs, cache

    def compute_cache(self, value, key=None):
        """Projects `key`/`value` once into a read-only cache `[B, 2, S, H, key_dim]`.

        Use it for cross-attention during decoding: pass the result as
        `cache` with `cache_update_index=None` at every step instead of
        re-projecting the encoder outputs.
        """
        self._check_cache_dims()
        key = value if key is None else key
        return ops.stack((self.key_dense(key), self.value_dense(value)), axis=1)

    def _check_cache_dims(self):
        if self.value_dim != self.key_dim:
            raise ValueError(
                "A `cache` needs `value_dim == key_dim`; this layer has "
                f"key_dim={self.key_dim}, value_dim={self.value_dim}."
            )

    def _check_cache(self, cache):
        shape = tuple(cache.shape)
        if len(shape) != 5 or shape[1] != 2 or shape[3:] != (self.num_heads, self.key_dim):
            raise ValueError(
                "`cache` must have shape [batch, 2, max_length, num_heads="
                f"{self.num_heads}, key_dim={self.key_dim}]; received {shape}."
            )
        self._check_cache_dims()

    # -- attention over other axes --------------------------------------------

    def _equations(self, rank):
        """einsum equations for projected tensors of rank `rank` + 1."""
        letters = string.ascii_lowercase
        axes = self._axes
        batch_like = [i for i in range(rank - 1) if i not in axes] + [rank - 1]
        query_sub = letters[: rank + 1]
        key_letters = iter(letters[rank + 1 :])
        key_sub = "".join(
            next(key_letters) if i in axes else query_sub[i] for i in range(rank + 1)
        )
        scores_sub = (
            "".join(query_sub[i] for i in batch_like)
            + "".join(query_sub[i] for i in axes)
            + "".join(key_sub[i] for i in axes)
        )
        return f"{query_sub},{key_sub}->{scores_sub}", f"{scores_sub},{key_sub}->{query_sub}"

    def _call_general(self, state):
        query, value, key, query_mask, value_mask, key_mask = state[:6]
        attention_mask, use_causal_mask, return_attention_scores, training = state[6:]
        rank = len(query.shape)
        scores_shape = self._scores_shape(tuple(query.shape), tuple(key.shape))
        self._check_attention_mask(attention_mask, scores_shape)
        q = self.query_dense(query) * ops.cast(self._scale, self.compute_dtype)
        k = self.key_dense(key)
        v = self.value_dense(value)
        dot, combine = self._equations(rank)
        logits = ops.einsum(dot, q, k)
        logits = ops.cast(logits, statistics_dtype(logits.dtype))
        mask = self._merged_mask(
            ops.shape(query)[1],
            ops.shape(value)[1],
            query_mask,
            value_mask,
            key_mask,
            attention_mask,
            use_causal_mask,
            0,
            len(logits.shape),
        )
        if mask is not None:
            logits = ops.where(mask, logits, masked_fill_value(logits.dtype))
        # Softmax jointly over the key axes, on a 2-D view (oneDNN's softmax
        # takes at most 5 dimensions).
        shape = ops.shape(logits)
        columns = 1
        for dim in shape[len(shape) - len(self._axes) :]:
            columns = columns * dim
        flat = softmax(ops.reshape(logits, (-1, columns)))
        weights = ops.reshape(flat, shape)
        scores = ops.cast(weights, self.compute_dtype)
        dropped = scores
        if self.dropout > 0.0 and training:
            dropped = self._dropout_layer(scores, training=True)
        attended = ops.einsum(combine, dropped, v)
        if self.gate_dense is not None:
            attended = attended * self.gate_dense(query)
        outputs = self.output_dense(attended)
        return (outputs, scores) if return_attention_scores else outputs

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
                "attention_axes": self.attention_axes,
                "sliding_window": self.sliding_window,
                "flash_attention": self.flash_attention,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(
                    self.kernel_regularizer
                ),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": keras.regularizers.serialize(
                    self.projection_activity_regularizer
                ),
                "kernel_constraint": keras.constraints.serialize(
                    self.kernel_constraint
                ),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
                "use_gate": self.use_gate,
                "seed": self.seed,
            }
        )
        return config
