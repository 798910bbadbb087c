"""Fixed sinusoidal positional encoding (Vaswani et al., 2017)."""

from __future__ import annotations

import keras
from keras import ops

from keras_seq._config import AttributeConfig
from keras_seq._same_shape import SameShape


def sinusoid_table(positions, depth: int, max_wavelength: float = 10000.0):
    """Interleaved sinusoids for float32 `positions` `[T]` -> `[T, depth]`.

    PE(pos, 2i) = sin(pos / w^(2i/d)), PE(pos, 2i+1) = cos(pos / w^(2i/d)),
    with w = `max_wavelength`. Computed in float32 (angles up to thousands of
    radians lose whole periods in bfloat16).
    """
    positions = ops.cast(positions, "float32")
    pair_index = ops.arange(depth, dtype="int32") // 2
    exponent = ops.cast(2 * pair_index, "float32") / float(depth)
    inverse_freq = ops.power(float(max_wavelength), -exponent)
    angles = ops.expand_dims(positions, -1) * ops.expand_dims(inverse_freq, 0)
    is_even = ops.equal(ops.arange(depth, dtype="int32") % 2, 0)
    return ops.where(is_even, ops.sin(angles), ops.cos(angles))


@keras.saving.register_keras_serializable(package="keras_seq")
class SinusoidalPositionEncoding(AttributeConfig, SameShape, keras.layers.Layer):
    """Sinusoidal position encoding, interleaved sin/cos as in the paper.

    Returns the encoding PE(pos, 2i) = sin(pos / 10000^(2i/D)),
    PE(pos, 2i+1) = cos(pos / 10000^(2i/D)) broadcast to the shape of
    `inputs`; add it to your embeddings yourself. Odd widths are allowed (the
    last channel is a sine). The angles and sinusoids are computed in float32
    under every dtype policy and cast to the compute dtype only at the end,
    so the encoding stays within bfloat16's rounding of the exact values at
    any position (keras-hub's drifts by up to 2.0 at position 2048).

    The layer has no weights and passes Keras masks through.

    Args:
        max_wavelength: float, the base `w` of the geometric wavelength
            progression. Defaults to `10000.0`.

    Call arguments:
        inputs: tensor `[..., T, D]` (only its shape is used).
        start_index: int or scalar tensor, position of the first step (for
            incremental decoding). Defaults to `0`.
        positions: optional `[T]` or `[B, T]` positions (integer or float);
            when given they take precedence over `start_index`, as in
            keras-hub.

    Returns:
        Tensor of the shape of `inputs`, in the compute dtype.

    Example:
    >>> import numpy as np
    >>> from keras_seq.layers import SinusoidalPositionEncoding
    >>> pe = SinusoidalPositionEncoding()(np.zeros((1, 4, 6), "float32"))
    >>> tuple(pe.shape)
    (1, 4, 6)
    >>> at_3 = SinusoidalPositionEncoding()(np.zeros((1, 1, 6), "float32"), positions=[3])
    >>> bool(np.allclose(at_3[0, 0], pe[0, 3]))
    True

    References:
        Vaswani et al., "Attention Is All You Need", 2017.
    """

    config_attributes = ("max_wavelength",)

    def __init__(self, max_wavelength=10000.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(max_wavelength, (int, float)) or max_wavelength <= 1:
            raise ValueError(
                "`max_wavelength` must be a number greater than 1; received "
                f"{max_wavelength!r}."
            )
        self.max_wavelength = float(max_wavelength)
        self.supports_masking = True

    def call(self, inputs, start_index=0, positions=None):
        if len(inputs.shape) < 2:
            raise ValueError(
                "`inputs` must have rank >= 2 ([..., T, D]); received shape "
                f"{tuple(inputs.shape)}."
            )
        shape = ops.shape(inputs)
        length, depth = shape[-2], inputs.shape[-1]
        if positions is None:
            positions = ops.arange(length, dtype="float32") + ops.cast(
                start_index, "float32"
            )
        table = sinusoid_table(positions, depth, self.max_wavelength)
        return ops.broadcast_to(ops.cast(table, self.compute_dtype), shape)
