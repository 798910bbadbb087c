"""SpecAugment-style time and frequency masking (training only)."""

from __future__ import annotations

import keras

from keras_seq._config import AttributeConfig
from keras_seq._same_shape import SameShape


def _non_negative_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer; received {value!r}.")
    return value


@keras.saving.register_keras_serializable(package="keras_seq")
class SpecAugment(AttributeConfig, SameShape, keras.layers.Layer):
    """Masks random blocks of time steps and frequency bins while training.

    SpecAugment (Park et al., 2019) without time warping: each example gets
    `num_freq_masks` bands of `f ~ U{0..freq_mask_param}` consecutive
    feature bins starting at `f0 ~ U{0..F-f}`, and `num_time_masks` blocks of
    `t ~ U{0..time_mask_param}` consecutive frames starting at
    `t0 ~ U{0..T-t}`, set to `mask_value`. Masks are drawn independently per
    example from a seeded `keras.random.SeedGenerator`. At inference
    (`training` false or unset) the layer is the identity. No weights.

    Args:
        freq_mask_param: int, largest band width F. Defaults to `8`.
        time_mask_param: int, largest block length T. Defaults to `20`.
        num_freq_masks: int. Defaults to `1`.
        num_time_masks: int. Defaults to `1`.
        mask_value: float written into masked cells. Defaults to `0.0` (the
            mean after `UtteranceNormalization`).
        seed: optional int for reproducible masks.

    Call arguments:
        inputs: features [B, T, F].
        training: bool; masks are applied only when true.

    Returns:
        Features [B, T, F]; an implicit mask propagates unchanged.

    Raises:
        ValueError: for negative parameters or inputs that are not rank 3.

    Example:
    >>> import numpy as np
    >>> from keras_seq.audio import SpecAugment
    >>> layer = SpecAugment(freq_mask_param=2, time_mask_param=3, seed=0)
    >>> x = np.ones((2, 10, 6), "float32")
    >>> bool(np.all(np.asarray(layer(x)) == x))  # inference: identity
    True
    >>> bool(np.any(np.asarray(layer(x, training=True)) == 0.0))
    True

    References:
        D. S. Park et al., SpecAugment: A Simple Data Augmentation Method for
        Automatic Speech Recognition, Interspeech 2019.
    """

    config_attributes = (
        "freq_mask_param",
        "time_mask_param",
        "num_freq_masks",
        "num_time_masks",
        "mask_value",
        "seed",
    )

    def __init__(
        self,
        freq_mask_param=8,
        time_mask_param=20,
        num_freq_masks=1,
        num_time_masks=1,
        mask_value=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.freq_mask_param = _non_negative_int(freq_mask_param, "freq_mask_param")
        self.time_mask_param = _non_negative_int(time_mask_param, "time_mask_param")
        self.num_freq_masks = _non_negative_int(num_freq_masks, "num_freq_masks")
        self.num_time_masks = _non_negative_int(num_time_masks, "num_time_masks")
        self.mask_value = float(mask_value)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"`seed` must be an integer or None; received {seed!r}.")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def build(self, inputs_shape):
        if len(inputs_shape) != 3:
            raise ValueError(
                f"`SpecAugment` expects features [batch, time, features]; received shape {tuple(inputs_shape)}."
            )
        super().build(inputs_shape)

    def _band_mask(self, batch, length, max_width, count):
        """Bool [B, length]: union of `count` random bands of width <= max_width."""
        ops = keras.ops
        positions = ops.arange(length, dtype="int32")[None, :]
        masked = ops.zeros((batch, length), dtype="bool")
        for _ in range(count):
            width = keras.random.randint((batch, 1), 0, max_width + 1, seed=self.seed_generator)
            width = ops.minimum(width, length)
            room = ops.cast(length - width + 1, "float32")
            start = ops.cast(
                ops.floor(keras.random.uniform((batch, 1), seed=self.seed_generator) * room), "int32"
            )
            masked = masked | ((positions >= start) & (positions < start + width))
        return masked

    def call(self, inputs, training=None):
        if not training:
            return inputs
        ops = keras.ops
        shape = ops.shape(inputs)
        batch, time, features = shape[0], shape[1], shape[2]
        masked = ops.zeros((batch, time, features), dtype="bool")
        if self.num_time_masks and self.time_mask_param:
            masked = masked | self._band_mask(batch, time, self.time_mask_param, self.num_time_masks)[:, :, None]
        if self.num_freq_masks and self.freq_mask_param:
            masked = masked | self._band_mask(batch, features, self.freq_mask_param, self.num_freq_masks)[:, None, :]
        return ops.where(masked, ops.cast(self.mask_value, inputs.dtype), inputs)
