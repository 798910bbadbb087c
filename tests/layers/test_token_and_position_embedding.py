import math

import numpy as np
import pytest

from keras_seq.layers import TokenAndPositionEmbedding
from keras_seq.testing import run_layer_test


@pytest.mark.parametrize("position", ["sinusoidal", "learned"])
def test_layer_contract(position):
    ids = np.array([[4, 2, 7, 0, 0], [1, 3, 3, 9, 0]], "int32")
    run_layer_test(
        TokenAndPositionEmbedding,
        {"vocabulary_size": 10, "sequence_length": 8, "embedding_dim": 6, "position": position},
        ids,
        expected_output_shape=(2, 5, 6),
    )


def test_sinusoidal_scales_tokens_by_sqrt_d_and_adds_the_encoding(seed_pe):
    layer = TokenAndPositionEmbedding(12, 6, 8)
    ids = np.array([[3, 5, 0]])
    out = np.asarray(layer(ids))
    table = layer.token_embedding.get_weights()[0]
    expected = table[ids[0]] * math.sqrt(8) + seed_pe(3, 8)
    np.testing.assert_allclose(out[0], expected, atol=1e-5)


def test_learned_adds_unscaled_positions_and_mask():
    layer = TokenAndPositionEmbedding(12, 6, 4, position="learned")
    ids = np.array([[3, 5, 0]])
    out = layer(ids)
    tokens = layer.token_embedding.get_weights()[0]
    positions = layer.position_embedding.get_weights()[0]
    np.testing.assert_allclose(np.asarray(out)[0], tokens[ids[0]] + positions[:3], atol=1e-6)
    np.testing.assert_array_equal(np.asarray(layer.compute_mask(ids)), [[True, True, False]])
    assert TokenAndPositionEmbedding(12, 6, 4, mask_zero=False).compute_mask(ids) is None


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="vocabulary_size"):
        TokenAndPositionEmbedding(0, 6, 4)
    with pytest.raises(ValueError, match="position"):
        TokenAndPositionEmbedding(5, 6, 4, position="rotary")
    with pytest.raises(ValueError, match="rank 2"):
        TokenAndPositionEmbedding(5, 6, 4)(np.zeros((1, 2, 3), "int32"))
