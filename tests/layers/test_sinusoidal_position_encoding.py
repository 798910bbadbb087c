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


def test_positions_argument_matches_keras_hub_and_wins_over_start_index(seed_pe):
    x = np.zeros((2, 4, 6), "float32")
    peer = keras_hub.layers.SinePositionEncoding()
    ours = SinusoidalPositionEncoding()
    for positions in (np.array([3, 0, 7, 1]), np.array([[0, 1, 2, 3], [9, 5, 5, 2]])):
        expected = peer(x, positions=positions.astype("float32"))
        actual = ours(x, start_index=4, positions=positions)
        np.testing.assert_allclose(actual, expected, atol=1e-5)
        flat = positions.reshape(-1, 4)
        for row, pos in enumerate(flat):
            reference = np.stack([seed_pe(1, 6, start=int(p))[0] for p in pos])
            np.testing.assert_allclose(np.asarray(actual)[row if flat.shape[0] > 1 else 0], reference, atol=1e-5)
    # Cached decoding asks for position t directly.
    full = np.asarray(ours(np.zeros((1, 6, 6), "float32")))
    for t in range(6):
        np.testing.assert_allclose(ours(np.zeros((1, 1, 6), "float32"), positions=[t])[0, 0], full[0, t], atol=1e-6)


def test_rank_4_inputs_and_symbolic_shapes_as_keras_hub():
    x = np.zeros((1, 2, 4, 6), "float32")
    np.testing.assert_allclose(
        SinusoidalPositionEncoding()(x), keras_hub.layers.SinePositionEncoding()(x), atol=1e-5
    )
    inputs = keras.Input((None, 100, 32))
    assert tuple(SinusoidalPositionEncoding()(inputs).shape) == (None, None, 100, 32)
