import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.layers import PositionEmbedding
from keras_seq.testing import run_layer_test


def test_layer_contract(rng):
    run_layer_test(
        PositionEmbedding,
        {"sequence_length": 10},
        rng.normal(size=(2, 6, 4)).astype("float32"),
        expected_output_shape=(2, 6, 4),
        masked_inputs=("inputs",),
    )


def test_rows_are_the_table_from_start_index():
    layer = PositionEmbedding(sequence_length=8)
    x = np.zeros((2, 3, 5), "float32")
    layer(x)
    table = layer.get_weights()[0]
    np.testing.assert_array_equal(np.asarray(layer(x))[1], table[:3])
    np.testing.assert_array_equal(np.asarray(layer(x, start_index=4))[0], table[4:7])


def test_too_long_and_bad_arguments_raise():
    with pytest.raises(ValueError, match="sequence_length"):
        PositionEmbedding(sequence_length=0)
    with pytest.raises(ValueError, match="sequence_length`=4"):
        PositionEmbedding(sequence_length=4)(np.zeros((1, 6, 2), "float32"))


# -- keras-hub parity ----------------------------------------------------------


def twin(sequence_length, inputs):
    import keras_hub

    ours = PositionEmbedding(sequence_length)
    peer = keras_hub.layers.PositionEmbedding(sequence_length)
    ours(inputs)
    peer(inputs)
    peer.set_weights(ours.get_weights())
    return ours, peer


def test_matches_keras_hub_for_3d_and_4d_inputs_start_index_and_positions(rng):
    for shape in ((4, 9, 6), (2, 3, 9, 6)):
        x = rng.normal(size=shape).astype("float32")
        ours, peer = twin(12, x)
        np.testing.assert_array_equal(ours(x), peer(x))
        np.testing.assert_array_equal(ours(x[..., :4, :]), peer(x[..., :4, :]))
        np.testing.assert_array_equal(ours(x, start_index=3), peer(x, start_index=3))
    x = rng.normal(size=(2, 4, 6)).astype("float32")
    ours, peer = twin(12, x)
    for positions in (np.array([7, 0, 11, 3]), np.array([[1, 2, 3, 4], [9, 9, 0, 5]])):
        # Explicit positions take precedence over start_index.
        np.testing.assert_array_equal(
            ours(x, start_index=2, positions=positions), peer(x, start_index=2, positions=positions)
        )
        np.testing.assert_array_equal(ours(x, positions=positions), peer(x, positions=positions))


def test_step_by_step_equals_full_and_dynamic_shapes(rng):
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    layer = PositionEmbedding(5)
    full = np.asarray(layer(x))
    steps = [np.asarray(layer(x[:, i : i + 1], start_index=i)) for i in range(5)]
    np.testing.assert_array_equal(np.concatenate(steps, 1), full)
    by_position = [np.asarray(layer(x[:, i : i + 1], positions=[i])) for i in range(5)]
    np.testing.assert_array_equal(np.concatenate(by_position, 1), full)
    inputs = keras.Input((None, None, 3))
    assert tuple(PositionEmbedding(8)(inputs).shape) == (None, None, None, 3)


def test_callable_initializer_and_float16():
    def counting(shape, dtype=None):
        return np.arange(np.prod(shape), dtype="float32").reshape(shape)

    layer = PositionEmbedding(4, initializer=counting)
    out = np.asarray(layer(np.zeros((2, 4, 3), "float32")))
    np.testing.assert_array_equal(out[1], np.arange(12).reshape(4, 3))
    half = PositionEmbedding(6, dtype="float16")(keras.Input((6, 4)))
    assert half.dtype == "float16" and tuple(half.shape) == (None, 6, 4)


def test_positions_beyond_sequence_length_raise():
    layer = PositionEmbedding(sequence_length=6)
    x = np.zeros((1, 2, 3), "float32")
    with pytest.raises(ValueError, match=r"`inputs` has 2 positions starting at 5, more than"):
        layer(x, start_index=5)
    with pytest.raises(ValueError, match=r"starting at 5"):
        layer(x, start_index=tf.constant(5))
    with pytest.raises(ValueError, match=r"`positions` must lie in \[0, 6\)"):
        layer(x, positions=np.array([2, 6]))
    with pytest.raises(ValueError, match=r"`positions` must lie in \[0, 6\)"):
        layer(x, positions=np.array([-1, 0]))
    with pytest.raises(ValueError, match="`positions` must hold integer positions"):
        layer(x, positions=np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="`start_index` must be >= 0"):
        layer(x, start_index=-1)
