import numpy as np
import pytest

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
