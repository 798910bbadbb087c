"""Per-utterance feature normalisation."""

from __future__ import annotations

import keras

from keras_seq._config import AttributeConfig
from keras_seq._same_shape import SameShape


@keras.saving.register_keras_serializable(package="keras_seq")
class UtteranceNormalization(AttributeConfig, SameShape, keras.layers.Layer):
    """Normalises each feature to zero mean and unit variance per utterance.

    For every example and every feature bin, the mean and variance are taken
    over the utterance's real frames, so loudness and channel differences
    between recordings are removed (cepstral-mean-and-variance
    normalisation): `y = (x - mean) / sqrt(var + epsilon)`. Padding frames
    (mask False) do not enter the statistics and are set to 0. Statistics run
    in float32 whatever the dtype policy. No weights.

    Args:
        epsilon: float added to the variance. Defaults to `1e-5`.
        scale: bool, divide by the standard deviation (else only subtract the
            mean). Defaults to `True`.

    Call arguments:
        inputs: features [B, T, F].
        mask: optional bool [B, T], True on real frames (the implicit Keras
            mask is used when not given).

    Returns:
        Normalised features [B, T, F]; the mask propagates.

    Raises:
        ValueError: for a non-positive `epsilon`, inputs not of rank 3, or a
            mask whose shape is not [B, T].

    Example:
    >>> import numpy as np
    >>> from keras_seq.audio import UtteranceNormalization
    >>> x = np.array([[[1.0], [3.0], [0.0]]], "float32")
    >>> y = UtteranceNormalization(epsilon=0.0)(x, mask=np.array([[True, True, False]]))
    >>> (np.round(np.asarray(y)[0, :, 0], 4) + 0.0).tolist()
    [-1.0, 1.0, 0.0]
    """

    config_attributes = ("epsilon", "scale")

    def __init__(self, epsilon=1e-5, scale=True, **kwargs):
        super().__init__(**kwargs)
        if not epsilon >= 0:
            raise ValueError(f"`epsilon` must be >= 0; received {epsilon!r}.")
        self.epsilon = float(epsilon)
        self.scale = bool(scale)
        self.supports_masking = True

    def build(self, inputs_shape):
        if len(inputs_shape) != 3:
            raise ValueError(
                "`UtteranceNormalization` expects features [batch, time, features]; "
                f"received shape {tuple(inputs_shape)}."
            )
        super().build(inputs_shape)

    def call(self, inputs, mask=None):
        ops = keras.ops
        x = ops.cast(inputs, "float32")
        if mask is None:
            weights = ops.ones_like(x[..., :1])
        else:
            if len(mask.shape) != 2:
                raise ValueError(
                    f"`mask` must be shaped [batch, time]; received shape {tuple(mask.shape)}."
                )
            weights = ops.cast(mask, "float32")[..., None]
        count = ops.maximum(ops.sum(weights, axis=1, keepdims=True), 1.0)
        mean = ops.sum(x * weights, axis=1, keepdims=True) / count
        centred = (x - mean) * weights
        if self.scale:
            variance = ops.sum(ops.square(centred), axis=1, keepdims=True) / count
            centred = centred / ops.sqrt(variance + self.epsilon)
        return ops.cast(centred, self.compute_dtype)
