import keras
import keras_hub
import numpy as np
import pytest

from keras_seq.layers import SinusoidalPositionEncoding
from keras_seq.testing import run_layer_test


def test_layer_contract(rng):
    run_layer_test(
        SinusoidalPositionEncoding,
        {"max_wavelength": 10000.0},
        rng.normal(size=(2, 7, 6)).astype("float32"),
        expected_output_shape=(2, 7, 6),
        run_training=False,
        masked_inputs=("inputs",),
    )


@pytest.mark.parametrize("depth", [1, 4, 7, 16])
def test_equals_seed_formula_interleaved_and_odd_width(depth, seed_pe):
    out = SinusoidalPositionEncoding()(np.zeros((3, 50, depth), "float32"))
    np.testing.assert_allclose(np.asarray(out)[1], seed_pe(50, depth), atol=1e-5)
    # Broadcast over the batch: every row is the same table.
    np.testing.assert_array_equal(np.asarray(out)[0], np.asarray(out)[2])


def test_start_index_continues_the_table(seed_pe):
    layer = SinusoidalPositionEncoding()
    out = layer(np.zeros((1, 4, 8), "float32"), start_index=10)
    np.testing.assert_allclose(np.asarray(out)[0], seed_pe(4, 8, start=10), atol=1e-5)


def test_bfloat16_stays_close_at_long_positions_unlike_keras_hub(seed_pe):
    length, depth = 2049, 64
    exact = seed_pe(length, depth)
    inputs = np.zeros((1, length, depth), "float32")
    ours = SinusoidalPositionEncoding(dtype="mixed_bfloat16")(inputs)
    assert keras.backend.standardize_dtype(ours.dtype) == "bfloat16"
    ours_error = np.abs(np.asarray(ours, "float32")[0] - exact).max()
    assert ours_error < 1e-2
    peer = keras_hub.layers.SinePositionEncoding(dtype="mixed_bfloat16")(inputs)
    peer_error = np.abs(np.asarray(peer, "float32")[0] - exact).max()
    assert peer_error > 0.5, peer_error
    assert ours_error < peer_error / 50


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="max_wavelength"):
        SinusoidalPositionEncoding(max_wavelength=0)
    with pytest.raises(ValueError, match="inputs"):
        SinusoidalPositionEncoding()(np.zeros((5,), "float32"))
