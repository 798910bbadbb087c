"""Bottleneck adapters for parameter-efficient fine-tuning."""

from __future__ import annotations

import keras

from keras_seq._validation import check_positive_ints


@keras.saving.register_keras_serializable(package="keras_seq")
class Adapter(keras.layers.Layer):
    """x + W_up act(W_down x): a small residual bottleneck (Houlsby et al., 2019).

    Inserted after a (frozen) sublayer, it adapts a pretrained network to a
    new task with few trainable parameters. The up-projection starts at zero,
    so a fresh adapter is the identity and does not disturb the pretrained
    function. Keras masks pass through.

    Args:
        bottleneck_dim: int, the hidden width.
        activation: defaults to `"relu"`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.layers import Adapter
    >>> x = np.random.rand(2, 3, 8).astype("float32")
    >>> bool(np.allclose(Adapter(4)(x), x))
    True

    References:
        Houlsby et al., "Parameter-Efficient Transfer Learning for NLP", 2019.
    """

    def __init__(self, bottleneck_dim, activation="relu", **kwargs):
        super().__init__(**kwargs)
        check_positive_ints({"bottleneck_dim": bottleneck_dim})
        self.bottleneck_dim = bottleneck_dim
        self.activation = keras.activations.get(activation)
        self.supports_masking = True

    def build(self, inputs_shape):
        self.down = keras.layers.Dense(
            self.bottleneck_dim, activation=self.activation, dtype=self.dtype_policy, name="down"
        )
        self.down.build(inputs_shape)
        self.up = keras.layers.Dense(
            inputs_shape[-1], kernel_initializer="zeros", dtype=self.dtype_policy, name="up"
        )
        self.up.build(tuple(inputs_shape[:-1]) + (self.bottleneck_dim,))

    def call(self, inputs):
        return inputs + self.up(self.down(inputs))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "bottleneck_dim": self.bottleneck_dim,
                "activation": keras.activations.serialize(self.activation),
            }
        )
        return config


def _sublayers(layer):
    return list(getattr(layer, "_layers", None) or [])


def freeze_except_adapters(model, trainable_layers=()):
    """Freezes every weight of `model` except those of its `Adapter`s and of
    `trainable_layers` (e.g. a new task head). Returns the trainable count.

    Example:
    >>> import keras
    >>> from keras_seq.layers import Adapter, freeze_except_adapters
    >>> inputs = keras.Input((4,))
    >>> model = keras.Model(inputs, Adapter(2)(keras.layers.Dense(4)(inputs)))
    >>> freeze_except_adapters(model)
    22
    """
    keep = list(trainable_layers)
    stack, seen = _sublayers(model), []
    while stack:
        layer = stack.pop()
        if any(layer is s for s in seen):
            continue
        seen.append(layer)
        if isinstance(layer, Adapter) or any(layer is k for k in keep):
            layer.trainable = True
        elif _sublayers(layer):
            stack.extend(_sublayers(layer))
        else:
            layer.trainable = False
    return int(sum(keras.ops.size(w) for w in model.trainable_weights))
