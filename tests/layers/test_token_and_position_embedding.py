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


# -- keras-hub parity ----------------------------------------------------------


def test_learned_equals_keras_hub_with_copied_weights_and_positions():
    import keras_hub

    ids = np.array([[4, 2, 7, 0, 0], [1, 3, 3, 9, 0]], "int32")
    ours = TokenAndPositionEmbedding(10, 8, 6, position="learned", mask_zero=True)
    peer = keras_hub.layers.TokenAndPositionEmbedding(10, 8, 6, mask_zero=True)
    ours(ids)
    peer(ids)
    ours.set_weights(peer.get_weights())
    np.testing.assert_allclose(ours(ids), peer(ids), atol=1e-6)
    np.testing.assert_allclose(ours(ids, start_index=3), peer(ids, start_index=3), atol=1e-6)
    positions = np.array([[7, 1, 0, 2, 5], [0, 1, 2, 3, 4]])
    np.testing.assert_allclose(
        ours(ids, start_index=1, positions=positions), peer(ids, start_index=1, positions=positions),
        atol=1e-6,
    )


@pytest.mark.parametrize("mask_zero", [True, False])
def test_mask_zero_behaves_as_keras_hub(mask_zero):
    import keras
    import keras_hub

    from keras_seq._private_api import get_keras_mask

    ids = np.array([[1, 0], [1, 0]])
    ours = TokenAndPositionEmbedding(5, 4, 3, position="learned", mask_zero=mask_zero)
    peer = keras_hub.layers.TokenAndPositionEmbedding(5, 4, 3, mask_zero=mask_zero)
    for layer in (ours, peer):
        out = layer(ids)
        if mask_zero:
            np.testing.assert_array_equal(get_keras_mask(out), ids != 0)
        else:
            assert get_keras_mask(out) is None
    assert ours.supports_masking == peer.supports_masking == mask_zero
    # In a functional model the mask reaches the next layer too (keras-hub
    # sets it inside `call`, which a symbolic call does not keep).
    symbolic = ours(keras.Input((None,), dtype="int32"))
    assert (get_keras_mask(symbolic) is not None) == mask_zero


def test_embeddings_initializer_applies_to_the_position_table_as_keras_hub():
    import keras_hub

    ids = np.random.default_rng(0).integers(0, 5, size=(2, 4))
    for cls, kwargs in (
        (TokenAndPositionEmbedding, {"position": "learned"}),
        (keras_hub.layers.TokenAndPositionEmbedding, {}),
    ):
        layer = cls(5, 4, 3, embeddings_initializer="ones", **kwargs)
        np.testing.assert_array_equal(layer(ids), np.full((2, 4, 3), 2.0))
    layer = TokenAndPositionEmbedding(50, 40, 8, position="learned", embeddings_initializer="uniform")
    layer(np.zeros((1, 3), "int32"))
    table = layer.position_embedding.get_weights()[0]
    assert np.abs(table).max() <= 0.05  # RandomUniform(-0.05, 0.05), not glorot
    assert not np.allclose(table, layer.token_embedding.get_weights()[0][:40])


@pytest.mark.parametrize("position", ["sinusoidal", "learned"])
def test_bad_ids_and_positions_raise(position):
    layer = TokenAndPositionEmbedding(10, 6, 4, position=position)
    with pytest.raises(ValueError, match=r"`inputs` must hold token ids in \[0, 10\).*from 1 to 10"):
        layer(np.array([[1, 10]]))
    with pytest.raises(ValueError, match=r"from -1 to 3"):
        layer(np.array([[3, -1]]))
    with pytest.raises(ValueError, match="`inputs` must hold integer token ids; received dtype float32"):
        layer(np.array([[1.0, 2.0]], "float32"))
    with pytest.raises(ValueError, match=r"`inputs` has 7 positions starting at 0, more than"):
        layer(np.ones((1, 7), "int32"))
    with pytest.raises(ValueError, match=r"starting at 5"):
        layer(np.ones((1, 2), "int32"), start_index=5)
    with pytest.raises(ValueError, match=r"`positions` must lie in \[0, 6\)"):
        layer(np.ones((1, 2), "int32"), positions=np.array([0, 6]))
