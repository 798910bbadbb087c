"""The harness must catch the defects it claims to catch."""

import keras
import numpy as np
import pytest

from keras_seq.testing import run_layer_test

X = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")


class Scale(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, inputs_shape):
        self.w = self.add_weight(shape=(inputs_shape[-1],), initializer="ones")

    def call(self, inputs):
        return inputs * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="harness_test")
class GoodScale(Scale):
    pass


@keras.saving.register_keras_serializable(package="harness_test")
class ForgetsConfig(Scale):
    def get_config(self):
        return keras.layers.Layer.get_config(self)


@keras.saving.register_keras_serializable(package="harness_test")
class IgnoresPolicy(Scale):
    def call(self, inputs):
        return keras.ops.cast(super().call(inputs), "float32")


@keras.saving.register_keras_serializable(package="harness_test")
class FrozenGradient(Scale):
    def call(self, inputs):
        return inputs * keras.ops.stop_gradient(self.w) * self.factor


@keras.saving.register_keras_serializable(package="harness_test")
class UnsavedState(Scale):
    """Hidden state drawn at build time: a rebuilt layer computes otherwise."""

    def build(self, inputs_shape):
        super().build(inputs_shape)
        self.noise = np.random.normal(size=inputs_shape[-1]).astype("float32")

    def call(self, inputs):
        return super().call(inputs) + self.noise


@keras.saving.register_keras_serializable(package="harness_test")
class ForgetsWeightsOnLoad(Scale):
    def build(self, inputs_shape):
        self.w = self.add_weight(shape=(inputs_shape[-1],), initializer="random_normal")

    def load_own_variables(self, store):
        pass


def test_a_correct_layer_passes():
    run_layer_test(GoodScale, {"factor": 3.0}, X, expected_output_shape=(2, 3, 4))


@pytest.mark.parametrize(
    "layer_cls, message",
    [
        (ForgetsConfig, "round trip"),
        (IgnoresPolicy, "output dtype"),
        (FrozenGradient, "no trainable weight changed"),
        (UnsavedState, "round trip"),
        (ForgetsWeightsOnLoad, "save/load"),
    ],
)
def test_defects_are_caught(layer_cls, message):
    with pytest.raises(AssertionError, match=message):
        run_layer_test(layer_cls, {"factor": 3.0}, X)


def test_wrong_expected_shape_is_caught():
    with pytest.raises(AssertionError, match="output shape"):
        run_layer_test(GoodScale, {}, X, expected_output_shape=(2, 3, 5))
