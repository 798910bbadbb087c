"""Additive (Bahdanau) attention."""

from __future__ import annotations

import keras
from keras import ops

from keras_seq._validation import positive_int_errors, raise_errors
from keras_seq.ops.attention import (
    check_mask_broadcasts,
    masked_fill_value,
    merge_masks,
    softmax,
)

_SCORES = ("additive", "concat")


@keras.saving.register_keras_serializable(package="keras_seq")
class BahdanauAttention(keras.layers.Layer):
    """Additive attention of a decoder state over encoder annotations.

    Energies e_tj = v^T tanh(W_q s_t + W_v a_j); weights alpha_t = softmax_j
    (e_tj) over the unmasked annotations; context c_t = sum_j alpha_tj a_j.
    `score="concat"` computes the same family of scores in the form used by
    the Coursera date-translation assignment: the state is repeated over
    time, concatenated with each annotation, and passed through
    Dense(units, tanh) then Dense(1).

    The softmax runs in float32 under any dtype policy. Masks: `mask`
    (`[B, Tk]` or `[B, Tq, Tk]`, True = a real annotation) is merged with
    `&` with the implicit Keras mask of `values`; a row with nothing
    unmasked gets uniform weights rather than NaN.

    Args:
        units: int, width of the hidden scoring layer.
        score: `"additive"` or `"concat"`. Defaults to `"additive"`.
        kernel_initializer: initializer for the kernels.
            Defaults to `"glorot_uniform"`.

    Call arguments:
        query: `[B, Dq]` (one decoder step) or `[B, Tq, Dq]` (all steps, as
            under teacher forcing).
        values: encoder annotations `[B, Tk, Dv]`.
        mask: optional boolean mask over `values`.

    Returns:
        `(context, weights)`: `[B, Dv]` and `[B, Tk]` for a rank-2 query,
        `[B, Tq, Dv]` and `[B, Tq, Tk]` for a rank-3 query.

    Example:
    >>> import numpy as np
    >>> from keras_seq.layers import BahdanauAttention
    >>> attention = BahdanauAttention(units=16)
    >>> s = np.zeros((2, 32), "float32"); a = np.ones((2, 7, 64), "float32")
    >>> context, weights = attention(s, a)
    >>> tuple(context.shape), tuple(weights.shape)
    ((2, 64), (2, 7))

    References:
        Bahdanau, Cho and Bengio, "Neural Machine Translation by Jointly
        Learning to Align and Translate", 2015.
    """

    def __init__(self, units, score="additive", kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        errors = positive_int_errors({"units": units})
        if score not in _SCORES:
            errors.append(f"`score` must be one of {_SCORES}; received {score!r}.")
        raise_errors(errors)
        self.units = units
        self.score = score
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

    def _dense(self, units, name, use_bias=True, activation=None):
        return keras.layers.Dense(
            units,
            use_bias=use_bias,
            activation=activation,
            kernel_initializer=self.kernel_initializer.__class__.from_config(
                self.kernel_initializer.get_config()
            ),
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, query_shape, values_shape):
        if len(query_shape) not in (2, 3):
            raise ValueError(
                "`query` must have rank 2 [batch, features] or 3 [batch, time, "
                f"features]; received shape {tuple(query_shape)}."
            )
        if len(values_shape) != 3:
            raise ValueError(
                "`values` must have rank 3 [batch, time, features]; received "
                f"shape {tuple(values_shape)}."
            )
        if self.score == "additive":
            self.query_dense = self._dense(self.units, "query_dense", use_bias=False)
            self.query_dense.build(query_shape)
            self.values_dense = self._dense(self.units, "values_dense")
            self.values_dense.build(values_shape)
        else:
            self.concat_dense = self._dense(self.units, "concat_dense", activation="tanh")
            self.concat_dense.build((None, query_shape[-1] + values_shape[-1]))
        self.energy_dense = self._dense(1, "energy_dense", use_bias=self.score == "concat")
        self.energy_dense.build((None, self.units))

    def call(self, query, values, mask=None, values_mask=None):
        single_step = len(query.shape) == 2
        if single_step:
            query = ops.expand_dims(query, 1)
        if self.score == "additive":
            hidden = ops.tanh(
                ops.expand_dims(self.query_dense(query), 2)
                + ops.expand_dims(self.values_dense(values), 1)
            )
        else:
            steps = ops.shape(query)[1]
            length = ops.shape(values)[1]
            tiled_query = ops.repeat(ops.expand_dims(query, 2), length, axis=2)
            tiled_values = ops.repeat(ops.expand_dims(values, 1), steps, axis=1)
            hidden = self.concat_dense(
                ops.concatenate([tiled_query, tiled_values], axis=-1)
            )
        energies = ops.cast(ops.squeeze(self.energy_dense(hidden), -1), "float32")
        if mask is not None:
            mask = ops.convert_to_tensor(mask)
            if len(mask.shape) not in (2, 3):
                raise ValueError(
                    "`mask` must have rank 2 [batch, values_time] or 3 [batch, "
                    f"query_time, values_time]; received shape {tuple(mask.shape)}."
                )
            if len(mask.shape) == 2:
                mask = ops.expand_dims(mask, 1)
            target = (values.shape[0], query.shape[1], values.shape[1])
            check_mask_broadcasts("mask", mask, target, "[batch, query_time, values_time]")
        if values_mask is not None:
            values_mask = ops.expand_dims(values_mask, 1)
        merged = merge_masks(mask, values_mask)
        if merged is not None:
            energies = ops.where(merged, energies, masked_fill_value("float32"))
        weights = ops.cast(softmax(energies), values.dtype)
        context = ops.matmul(weights, values)
        if single_step:
            return ops.squeeze(context, 1), ops.squeeze(weights, 1)
        return context, weights

    def compute_mask(self, *args, **kwargs):
        return None

    def compute_output_shape(self, query_shape, values_shape):
        query_shape, values_shape = tuple(query_shape), tuple(values_shape)
        context = query_shape[:-1] + (values_shape[-1],)
        weights = query_shape[:-1] + (values_shape[1],)
        return context, weights

    def compute_output_spec(self, query, values, mask=None, values_mask=None):
        context, weights = self.compute_output_shape(query.shape, values.shape)
        return (
            keras.KerasTensor(context, dtype=self.compute_dtype),
            keras.KerasTensor(weights, dtype=self.compute_dtype),
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "score": self.score,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config
