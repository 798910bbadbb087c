import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.layers import MultiHeadAttention
from keras_seq.testing import run_layer_test


def twin_layers(query, value, **kwargs):
    """A Keras MultiHeadAttention and ours with the same weights."""
    peer = keras.layers.MultiHeadAttention(**kwargs)
    ours = MultiHeadAttention(**kwargs)
    peer(query, value)
    ours(query, value)
    assert [w.shape for w in peer.weights] == [w.shape for w in ours.weights]
    ours.set_weights(peer.get_weights())
    return peer, ours


@pytest.fixture
def data(rng):
    query = rng.normal(size=(3, 5, 16)).astype("float32")
    value = rng.normal(size=(3, 7, 12)).astype("float32")
    return query, value


def test_layer_contract(data):
    query, value = data
    value = value.copy()
    value[0, 5:] = 0.0
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 2, "key_dim": 4, "dropout": 0.1, "seed": 1},
        {"query": query, "value": value},
        call_kwargs={"return_attention_scores": True},
        expected_output_shape=((3, 5, 16), (3, 2, 5, 7)),
        masked_inputs=("query", "value"),
    )


def test_layer_contract_with_output_shape_and_key(data):
    query, value = data
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 3, "key_dim": 4, "value_dim": 6, "output_shape": 10},
        {"query": query, "value": value, "key": value[..., :8]},
        expected_output_shape=(3, 5, 10),
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"num_heads": 2, "key_dim": 4},
        {"num_heads": 4, "key_dim": 3, "value_dim": 5, "use_bias": False},
        {"num_heads": 2, "key_dim": 4, "output_shape": 9},
    ],
)
def test_cross_attention_matches_keras(data, rng, kwargs):
    query, value = data
    peer, ours = twin_layers(query, value, **kwargs)
    mask = rng.random((3, 5, 7)) > 0.3
    for call in ({}, {"attention_mask": mask}):
        np.testing.assert_allclose(ours(query, value, **call), peer(query, value, **call), atol=1e-5)
    o1, s1 = ours(query, value, attention_mask=mask, return_attention_scores=True)
    o2, s2 = peer(query, value, attention_mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(o1, o2, atol=1e-5)
    np.testing.assert_allclose(s1, s2, atol=1e-6)


def test_self_attention_causal_and_separate_key(rng):
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    key = rng.normal(size=(2, 6, 5)).astype("float32")
    peer, ours = twin_layers(x, x, num_heads=2, key_dim=4)
    np.testing.assert_allclose(
        ours(x, x, use_causal_mask=True), peer(x, x, use_causal_mask=True), atol=1e-5
    )
    peer2 = keras.layers.MultiHeadAttention(2, 4)
    ours2 = MultiHeadAttention(2, 4)
    peer2(x, x, key)
    ours2(x, x, key)
    ours2.set_weights(peer2.get_weights())
    np.testing.assert_allclose(ours2(x, x, key), peer2(x, x, key), atol=1e-5)


def test_implicit_keras_masks_match_keras(rng):
    ids_q = np.array([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5]])
    ids_v = np.array([[7, 8, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0, 0]])
    embed = keras.layers.Embedding(10, 8, mask_zero=True)
    peer, ours = twin_layers(embed(ids_q), embed(ids_v), num_heads=2, key_dim=4)
    unmasked = ours(np.asarray(embed(ids_q)), np.asarray(embed(ids_v)))
    for causal in (False, True):
        # Keras' layer strips the masks off its inputs: embed afresh each call.
        expected = peer(embed(ids_q), embed(ids_v), use_causal_mask=causal)
        actual = ours(embed(ids_q), embed(ids_v), use_causal_mask=causal)
        np.testing.assert_allclose(actual, expected, atol=1e-5)
    assert np.abs(np.asarray(expected) - np.asarray(unmasked)).max() > 1e-3
    # Ours leaves the caller's masks in place.
    query = embed(ids_q)
    ours(query, embed(ids_v))
    assert query._keras_mask is not None
    # In a functional model the mask flows from Embedding(mask_zero=True).
    q_in, v_in = keras.Input((None,), dtype="int32"), keras.Input((None,), dtype="int32")
    model = keras.Model([q_in, v_in], ours(embed(q_in), embed(v_in)))
    np.testing.assert_allclose(
        model([ids_q, ids_v]), peer(embed(ids_q), embed(ids_v)), atol=1e-5
    )


def test_inference_with_dropout_uses_fused_path_and_matches(data, monkeypatch):
    query, value = data
    peer, ours = twin_layers(query, value, num_heads=2, key_dim=4, dropout=0.3)
    calls = []
    fused = keras.ops.dot_product_attention

    def spy(*args, **kwargs):
        calls.append(1)
        return fused(*args, **kwargs)

    monkeypatch.setattr(keras.ops, "dot_product_attention", spy)
    np.testing.assert_allclose(ours(query, value, training=False), peer(query, value, training=False), atol=1e-5)
    assert calls, "inference with dropout > 0 did not take the fused path"
    calls.clear()
    ours(query, value, training=True)
    ours(query, value, return_attention_scores=True)
    assert not calls, "weights were needed but the fused path was taken"


def test_training_dropout_changes_outputs(data):
    query, value = data
    _, ours = twin_layers(query, value, num_heads=2, key_dim=4, dropout=0.5)
    a = ours(query, value, training=True)
    b = ours(query, value, training=False)
    assert np.abs(np.asarray(a) - np.asarray(b)).max() > 1e-3


def test_cached_decoding_equals_full_causal_pass(rng):
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    full = np.asarray(layer(x, x, use_causal_mask=True))
    cache = np.zeros((2, 2, 6, 2, 4), "float32")
    steps = []
    for i in range(6):
        out, cache = layer(
            x[:, i : i + 1], x[:, i : i + 1], use_causal_mask=True, cache=cache, cache_update_index=i
        )
        steps.append(np.asarray(out))
    np.testing.assert_allclose(np.concatenate(steps, 1), full, atol=1e-5)
    # A prefix of 3 tokens at once, then single steps, inside a tf.function.
    step = tf.function(
        lambda t, c, i: layer(t, t, use_causal_mask=True, cache=c, cache_update_index=i)
    )
    cache = tf.zeros((2, 2, 6, 2, 4))
    out, cache = step(x[:, :3], cache, 0)
    pieces = [np.asarray(out)]
    for i in range(3, 6):
        out, cache = step(x[:, i : i + 1], cache, tf.constant(i))
        pieces.append(np.asarray(out))
    np.testing.assert_allclose(np.concatenate(pieces, 1), full, atol=1e-5)
    # Read-only cache (e.g. cross-attention keys computed once).
    out, scores, same = layer(x[:, :2], x, cache=cache, return_attention_scores=True)
    assert scores.shape == (2, 2, 2, 6) and same.shape == cache.shape


def test_softmax_in_float32_under_mixed_float16(data):
    query, value = data
    keras.utils.set_random_seed(7)
    reference = MultiHeadAttention(num_heads=2, key_dim=4)
    mixed = MultiHeadAttention(num_heads=2, key_dim=4, dtype="mixed_float16")
    reference(query, value)
    mixed(query, value)
    mixed.set_weights(reference.get_weights())
    # Large inputs give peaked softmaxes whose logits need float32 statistics.
    out, scores = mixed(query * 4.0, value * 4.0, return_attention_scores=True)
    ref_out, ref_scores = reference(query * 4.0, value * 4.0, return_attention_scores=True)
    assert out.dtype == "float16" and scores.dtype == "float16"
    assert np.all(np.isfinite(np.asarray(out, "float32")))
    np.testing.assert_allclose(np.asarray(scores, "float32"), ref_scores, atol=2e-2)
    np.testing.assert_allclose(np.asarray(scores, "float32").sum(-1), 1.0, atol=3e-3)


def test_errors_name_argument_and_expectation(data):
    query, value = data
    with pytest.raises(ValueError, match="`num_heads` must be a positive integer"):
        MultiHeadAttention(num_heads=0, key_dim=4)
    with pytest.raises(ValueError, match="`key_dim`"):
        MultiHeadAttention(num_heads=2, key_dim="4")
    with pytest.raises(ValueError, match="`dropout` must be a float in"):
        MultiHeadAttention(num_heads=2, key_dim=4, dropout=1.0)
    with pytest.raises(ValueError, match="`attention_axes`"):
        MultiHeadAttention(num_heads=2, key_dim=4, attention_axes=(1, 2))
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    with pytest.raises(ValueError, match="`query` must have rank 3"):
        layer(query[:, 0], value)
    with pytest.raises(ValueError, match="`attention_mask` must have rank 3"):
        layer(query, value, attention_mask=np.ones((3, 1, 5, 7, 1), bool))
    with pytest.raises(ValueError, match="`cache` must have shape"):
        layer(query, query, cache=np.zeros((3, 2, 5, 4, 4), "float32"), cache_update_index=0)
    with pytest.raises(ValueError, match="`cache_update_index` was given without"):
        layer(query, value, cache_update_index=1)
    with pytest.raises(ValueError, match="same length"):
        MultiHeadAttention(num_heads=2, key_dim=4)(query, value, value[:, :3])
