import keras
import numpy as np
import pytest

from keras_seq.layers import Adapter, TransformerEncoderBlock, freeze_except_adapters
from keras_seq.testing import run_layer_test


def test_layer_contract(rng):
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    x[1, 3:] = 0
    run_layer_test(Adapter, {"bottleneck_dim": 3}, x, expected_output_shape=(2, 5, 8), masked_inputs=("inputs",))


def test_fresh_adapter_is_identity_and_formula(rng):
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    adapter = Adapter(3)
    np.testing.assert_array_equal(np.asarray(adapter(x)), x)
    w_up = rng.normal(size=(3, 8)).astype("float32")
    adapter.up.set_weights([w_up, np.zeros(8, "float32")])
    w_down, b_down = adapter.down.get_weights()
    np.testing.assert_allclose(np.asarray(adapter(x)), x + np.maximum(x @ w_down + b_down, 0) @ w_up, atol=1e-5)


def test_only_adapters_and_head_train(rng):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, 8))
    block = TransformerEncoderBlock(2, 16)
    adapter = Adapter(4)
    head = keras.layers.Dense(1)
    model = keras.Model(inputs, head(adapter(block(inputs))))
    count = freeze_except_adapters(model, trainable_layers=[head])
    assert count == sum(int(np.prod(w.shape)) for w in adapter.weights + head.weights)
    frozen = [w.numpy().copy() for w in block.weights]
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    model.fit(rng.normal(size=(16, 5, 8)), rng.normal(size=(16, 5, 1)), epochs=2, verbose=0)
    for before, after in zip(frozen, block.weights):
        np.testing.assert_array_equal(before, after.numpy())
    assert np.abs(adapter.up.get_weights()[0]).max() > 0


def test_errors():
    with pytest.raises(ValueError, match="`bottleneck_dim` must be a positive integer"):
        Adapter(0)
