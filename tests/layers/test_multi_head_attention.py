"""keras_seq.layers.MultiHeadAttention against keras.layers.MultiHeadAttention.

Every behaviour Keras 3.15's own layer tests exercise is checked here against
the Keras layer itself, with copied weights, on random and edge-case inputs.
"""

import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq._private_api import get_keras_mask
from keras_seq.layers import MultiHeadAttention
from keras_seq.testing import run_layer_test


def twin_layers(query, value, key=None, seed=0, **kwargs):
    """A Keras MultiHeadAttention and ours with the same random weights
    (biases non-zero too), built on the given inputs."""
    peer = keras.layers.MultiHeadAttention(**kwargs)
    ours = MultiHeadAttention(**kwargs)
    peer(query, value, key)
    ours(query, value, key)
    assert [w.path.split("/", 1)[1] for w in ours.weights] == [
        w.path.split("/", 1)[1] for w in peer.weights
    ]
    rng = np.random.default_rng(seed)
    peer.set_weights([0.4 * rng.normal(size=w.shape) for w in peer.weights])
    ours.set_weights(peer.get_weights())
    return peer, ours


def close(actual, expected, atol=2e-5):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), atol=atol, rtol=1e-5)


@pytest.fixture
def data(rng):
    query = rng.normal(size=(3, 5, 16)).astype("float32")
    value = rng.normal(size=(3, 7, 12)).astype("float32")
    return query, value


# -- the layer contract -------------------------------------------------------


@pytest.mark.parametrize(
    "init, masked",
    [
        ({"num_heads": 2, "key_dim": 4, "dropout": 0.1, "seed": 1}, ("query", "value")),
        ({"num_heads": 2, "key_dim": 4, "use_gate": True, "sliding_window": 3}, ("value",)),
    ],
)
def test_layer_contract(data, init, masked):
    query, value = data
    value = value.copy()
    value[0, 5:] = 0.0
    run_layer_test(
        MultiHeadAttention,
        init,
        {"query": query, "value": value},
        call_kwargs={"return_attention_scores": True},
        expected_output_shape=((3, 5, 16), (3, 2, 5, 7)),
        masked_inputs=masked,
    )


def test_layer_contract_with_output_shape_and_key(data):
    query, value = data
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 3, "key_dim": 4, "value_dim": 6, "output_shape": (5, 2), "use_gate": True},
        {"query": query, "value": value, "key": value[..., :8]},
        expected_output_shape=(3, 5, 5, 2),
    )


def test_layer_contract_rank_4_attention_axes(rng):
    query = rng.normal(size=(2, 3, 4, 8)).astype("float32")
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 2, "key_dim": 2, "attention_axes": (1, 2), "use_gate": True},
        {"query": query, "value": query},
        call_kwargs={"return_attention_scores": True},
        expected_output_shape=((2, 3, 4, 8), (2, 2, 3, 4, 3, 4)),
    )


# -- parity with Keras --------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"num_heads": 2, "key_dim": 4},
        {"num_heads": 4, "key_dim": 3, "value_dim": 5, "use_bias": False},
        {"num_heads": 2, "key_dim": 4, "output_shape": 9},
        {"num_heads": 2, "key_dim": 4, "output_shape": (3, 3)},
        {"num_heads": 2, "key_dim": 4, "use_gate": True},
        {"num_heads": 3, "key_dim": 2, "value_dim": 4, "use_gate": True, "use_bias": False},
        {"num_heads": 2, "key_dim": 4, "sliding_window": 2},
    ],
)
def test_cross_attention_matches_keras(data, rng, kwargs):
    query, value = data
    peer, ours = twin_layers(query, value, **kwargs)
    mask = rng.random((3, 5, 7)) > 0.3
    mask[:, :, 0] = True  # no fully masked row: see test_fully_masked_rows
    heads = kwargs["num_heads"]
    for call in (
        {},
        {"attention_mask": mask},
        {"attention_mask": mask[0]},  # [T, S], broadcast over the batch
        {"attention_mask": np.broadcast_to(mask[:, None], (3, heads, 5, 7))},
        {"attention_mask": rng.random((3, heads, 5, 7)) > 0.2},
    ):
        close(ours(query, value, **call), peer(query, value, **call))
    o1, s1 = ours(query, value, attention_mask=mask, return_attention_scores=True)
    o2, s2 = peer(query, value, attention_mask=mask, return_attention_scores=True)
    close(o1, o2)
    close(s1, s2, atol=1e-6)


def test_one_key_equals_keras_without_the_size_one_softmax_warning(rng):
    """The first step of cached decoding attends over one key: weights of 1
    (Keras's value) and no "softmax over an axis of size 1" warning."""
    query = rng.standard_normal((3, 4, 8)).astype("float32")
    value = rng.standard_normal((3, 1, 8)).astype("float32")
    peer, ours = twin_layers(query, value, num_heads=2, key_dim=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outputs, scores = ours(query, value, return_attention_scores=True)
    assert not [w for w in caught if "softmax" in str(w.message)], [str(w.message) for w in caught]
    close(outputs, peer(query, value))
    np.testing.assert_array_equal(np.asarray(scores), np.ones((3, 2, 4, 1), "float32"))


@pytest.mark.parametrize("gate", [False, True])
@pytest.mark.parametrize("window", [None, 3])
def test_self_attention_causal_windows_and_separate_key(rng, gate, window):
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    key = rng.normal(size=(2, 6, 5)).astype("float32")
    kwargs = {"num_heads": 2, "key_dim": 4, "use_gate": gate, "sliding_window": window}
    peer, ours = twin_layers(x, x, **kwargs)
    for causal in (False, True):
        close(ours(x, x, use_causal_mask=causal), peer(x, x, use_causal_mask=causal))
        _, s1 = ours(x, x, use_causal_mask=causal, return_attention_scores=True)
        _, s2 = peer(x, x, use_causal_mask=causal, return_attention_scores=True)
        close(s1, s2, atol=1e-6)
    peer2, ours2 = twin_layers(x, x, key, **kwargs)
    close(ours2(x, x, key), peer2(x, x, key))
    close(ours2(x, x, key, use_causal_mask=True), peer2(x, x, key, use_causal_mask=True))


def test_sliding_window_band_matches_its_definition(rng):
    x = rng.normal(size=(1, 7, 8)).astype("float32")
    layer = MultiHeadAttention(num_heads=2, key_dim=4, sliding_window=3)
    i, j = np.meshgrid(np.arange(7), np.arange(7), indexing="ij")
    for causal, allowed in ((True, (j <= i) & (i - j < 3)), (False, np.abs(i - j) < 3)):
        _, scores = layer(x, x, use_causal_mask=causal, return_attention_scores=True)
        scores = np.asarray(scores)[0]
        assert np.all(scores[:, ~allowed] == 0.0)
        assert np.all(scores[:, allowed] > 0.0)


HIGH_RANK_CASES = [
    # (query dims, value dims, mask dims (batch included) or None, attention_axes)
    ((3, 4), (3, 2), None, None),
    ((3, 4), (3, 2), (4, 2), (2,)),
    ((3, 4), (3, 2), (3, 3, 4, 2), (2,)),
    ((3, 4), (3, 2), (3, 3, 2, 4, 2), (2,)),
    ((3, 4), (3, 2), (3, 3, 4, 3, 2), (1, 2)),
    ((3, 4), (3, 2), None, -2),
    ((5, 3, 4), (5, 3, 2), (3, 3, 4, 3, 2), (2, 3)),
    ((5, 3, 4), (5, 3, 2), (3, 5, 3, 4, 3, 2), (2, 3)),
]


@pytest.mark.parametrize("q_dims, v_dims, mask_dims, axes", HIGH_RANK_CASES)
@pytest.mark.parametrize("gate", [False, True])
def test_high_rank_inputs_and_attention_axes_match_keras(rng, q_dims, v_dims, mask_dims, axes, gate):
    query = rng.normal(size=(3,) + q_dims + (8,)).astype("float32")
    value = rng.normal(size=(3,) + v_dims + (8,)).astype("float32")
    peer, ours = twin_layers(query, value, num_heads=2, key_dim=2, attention_axes=axes, use_gate=gate)
    call = {}
    if mask_dims is not None:
        mask = rng.random(mask_dims) > 0.3
        key_axes = 1 if axes is None or isinstance(axes, int) else len(axes)
        if axes is None:
            key_axes = len(q_dims)
        mask[(Ellipsis,) + (0,) * key_axes] = True  # every query row sees a key
        call["attention_mask"] = mask
    o1, s1 = ours(query, value, return_attention_scores=True, **call)
    o2, s2 = peer(query, value, return_attention_scores=True, **call)
    assert s1.shape == s2.shape
    # Rows whose keys are all masked differ by design (test_fully_masked_rows);
    # these masks are dense enough that none is.
    close(o1, o2)
    close(s1, s2, atol=1e-6)
    close(ours(query, value, **call), peer(query, value, **call))


def test_negative_attention_axes_equal_positive(rng):
    x = rng.normal(size=(2, 3, 8, 4)).astype("float32")
    positive = MultiHeadAttention(num_heads=2, key_dim=4, attention_axes=2, use_gate=True)
    negative = MultiHeadAttention(num_heads=2, key_dim=4, attention_axes=-2, use_gate=True)
    positive(x, x)
    negative(x, x)
    negative.set_weights(positive.get_weights())
    o1, s1 = positive(x, x, return_attention_scores=True)
    o2, s2 = negative(x, x, return_attention_scores=True)
    close(o1, o2, atol=1e-6)
    close(s1, s2, atol=1e-6)


def test_causal_mask_on_rank_4_inputs_matches_keras(rng):
    x = rng.normal(size=(2, 5, 3, 8)).astype("float32")
    peer, ours = twin_layers(x, x, num_heads=2, key_dim=4, attention_axes=1)
    o1, s1 = ours(x, x, use_causal_mask=True, return_attention_scores=True)
    o2, s2 = peer(x, x, use_causal_mask=True, return_attention_scores=True)
    close(o1, o2)
    close(s1, s2, atol=1e-6)
    future = np.triu(np.ones((5, 5), bool), 1)
    assert np.asarray(s1)[..., future].max() == 0.0


def test_gradients_match_keras(data, rng):
    query, value = data
    mask = rng.random((3, 5, 7)) > 0.3
    mask[:, :, 0] = True
    cotangent = rng.normal(size=(3, 5, 16)).astype("float32")
    for kwargs in ({"num_heads": 2, "key_dim": 4, "use_gate": True}, {"num_heads": 2, "key_dim": 4}):
        peer, ours = twin_layers(query, value, **kwargs)

        def grads(layer, call):
            q = tf.constant(query)
            with tf.GradientTape() as tape:
                tape.watch(q)
                loss = tf.reduce_sum(layer(q, value, training=True, **call) * cotangent)
            return tape.gradient(loss, [q] + [w.value for w in layer.trainable_weights])

        for call in ({}, {"attention_mask": mask}, {"use_causal_mask": True}):
            for a, b in zip(grads(ours, call), grads(peer, call)):
                close(a, b, atol=1e-4)


def test_fully_masked_rows_get_uniform_weights_as_keras_fused_path(data):
    query, value = data
    peer, ours = twin_layers(query, value, num_heads=2, key_dim=4)
    mask = np.ones((3, 5, 7), bool)
    mask[1, 2] = False  # query row 2 of example 1 sees no key
    # Keras's fused path (no scores, no dropout) gives such rows uniform
    # weights, as ours does on every path.
    close(ours(query, value, attention_mask=mask), peer(query, value, attention_mask=mask))
    _, scores = ours(query, value, attention_mask=mask, return_attention_scores=True)
    close(np.asarray(scores)[1, :, 2], np.full((2, 7), 1 / 7), atol=1e-6)
    # Keras's explicit path zeroes them instead (documented difference).
    _, keras_scores = peer(query, value, attention_mask=mask, return_attention_scores=True)
    assert np.asarray(keras_scores)[1, :, 2].max() == 0.0


def test_implicit_keras_masks_match_keras(rng):
    ids_q = np.array([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5]])
    ids_v = np.array([[7, 8, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0, 0]])
    embed = keras.layers.Embedding(10, 8, mask_zero=True)
    peer, ours = twin_layers(embed(ids_q), embed(ids_v), num_heads=2, key_dim=4)
    unmasked = ours(np.asarray(embed(ids_q)), np.asarray(embed(ids_v)))
    for causal in (False, True):
        # Keras's layer strips the masks off its inputs: embed afresh each call.
        expected = peer(embed(ids_q), embed(ids_v), use_causal_mask=causal)
        actual = ours(embed(ids_q), embed(ids_v), use_causal_mask=causal)
        close(actual, expected)
    assert np.abs(np.asarray(expected) - np.asarray(unmasked)).max() > 1e-3
    # Ours leaves the caller's masks in place and gives the output the
    # query's mask, as Keras does.
    query = embed(ids_q)
    out = ours(query, embed(ids_v))
    np.testing.assert_array_equal(get_keras_mask(query), ids_q != 0)
    np.testing.assert_array_equal(get_keras_mask(out), ids_q != 0)
    # In a functional model the mask flows from Embedding(mask_zero=True).
    q_in, v_in = keras.Input((None,), dtype="int32"), keras.Input((None,), dtype="int32")
    model = keras.Model([q_in, v_in], ours(embed(q_in), embed(v_in)))
    close(model([ids_q, ids_v]), peer(embed(ids_q), embed(ids_v)))


def test_no_warning_with_masked_inputs():
    embed = keras.layers.Embedding(9, 8, mask_zero=True)
    query = embed(np.array([[1, 2, 3, 0, 0], [3, 3, 1, 1, 2]]))
    value = embed(np.array([[5, 4, 0], [3, 0, 0]]))
    layer = MultiHeadAttention(num_heads=2, key_dim=2)
    layer(query, value)  # build
    for kwargs in ({}, {"return_attention_scores": True}):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            layer(query, value, **kwargs)
        assert not caught, [str(w.message) for w in caught]


def test_inference_with_dropout_skips_dropout_and_matches(data):
    query, value = data
    peer, ours = twin_layers(query, value, num_heads=2, key_dim=4, dropout=0.3)
    close(ours(query, value, training=False), peer(query, value, training=False))
    a = ours(query, value, training=True)
    b = ours(query, value, training=False)
    assert np.abs(np.asarray(a) - np.asarray(b)).max() > 1e-3


def test_graph_and_xla_match_keras(data, rng):
    query, value = data
    peer, ours = twin_layers(query, value, num_heads=2, key_dim=4, use_gate=True)
    mask = rng.random((3, 5, 7)) > 0.2
    mask[:, :, 0] = True
    expected = peer(query, value, attention_mask=mask)
    for jit in (False, True):
        step = tf.function(lambda q, v, m: ours(q, v, attention_mask=m), jit_compile=jit)
        close(step(query, value, mask), expected)


# -- shapes -------------------------------------------------------------------


SHAPE_CASES = [
    ((4, 8), (2, 8), None, None),
    ((4, 8), (2, 8), (2, 3), None),
    ((4, 8), (2, 8), None, (3, 4)),
    ((4, 8), (2, 8), (2, 3), (1, 5)),
    ((4, 2, 3, 8), (1, 1, 5, 8), (1, 1, 5, 2), None),
    ((4, 2, 3, 8), (1, 1, 5, 8), (1, 1, 5, 2), (3, 2)),
    ((4, 2, 3, 8), (4, 2, 3, 7), (4, 2, 3, 8), None),
]


@pytest.mark.parametrize("q_dims, v_dims, k_dims, output_shape", SHAPE_CASES)
def test_compute_output_shape_matches_outputs_and_keras(q_dims, v_dims, k_dims, output_shape):
    kwargs = {"num_heads": 2, "key_dim": 2, "value_dim": 2, "output_shape": output_shape}
    ours = MultiHeadAttention(**kwargs)
    peer = keras.layers.MultiHeadAttention(**kwargs)
    q_shape, v_shape = (7,) + q_dims, (7,) + v_dims
    k_shape = (7,) + k_dims if k_dims else None
    key = np.ones(k_shape, "float32") if k_shape else None
    out = ours(np.ones(q_shape, "float32"), np.ones(v_shape, "float32"), key)
    for as_list in (False, True):
        args = [q_shape, v_shape, k_shape]
        if as_list:
            args = [list(s) if s is not None else None for s in args]
        assert tuple(ours.compute_output_shape(*args)) == tuple(out.shape)
        assert tuple(ours.compute_output_shape(*args)) == tuple(peer.compute_output_shape(*args))


@pytest.mark.parametrize(
    "q_shape, v_shape, k_shape",
    [((2, 4, 8), (2, 2, 7), (2,)), ((2, 4, 8), (2, 2, 8), (2, 1, 7)),
     ((2, 4, 2, 3, 8), (2, 1, 1, 5, 8), (2, 1, 15, 5, 2))],
)
def test_key_value_shape_mismatch_errors_as_keras(q_shape, v_shape, k_shape):
    for layer in (MultiHeadAttention(4, 2, 2), keras.layers.MultiHeadAttention(4, 2, 2)):
        with pytest.raises(ValueError, match="must be equal"):
            layer.compute_output_shape(q_shape, v_shape, k_shape)
        with pytest.raises(ValueError, match="must be equal"):
            layer(np.ones(q_shape), np.ones(v_shape), np.ones(k_shape))


@pytest.mark.parametrize("policy", ["float32", "mixed_float16", "mixed_bfloat16"])
def test_symbolic_specs_without_tracing(policy):
    layer = MultiHeadAttention(num_heads=4, key_dim=2, dtype=policy)
    query = keras.Input(batch_shape=(2, 3, 5))
    value = keras.Input(batch_shape=(2, 6, 5))
    out, scores = layer(query, value, return_attention_scores=True)
    compute = keras.dtype_policies.get(policy).compute_dtype
    assert out.shape == (2, 3, 5) and out.dtype == compute
    # Keras's own spec says (2, 4, 3, 3) here; the weights are (B, H, T, S).
    assert scores.shape == (2, 4, 3, 6) and scores.dtype == compute
    eager_out, eager_scores = layer(
        np.random.rand(2, 3, 5).astype("float32"),
        np.random.rand(2, 6, 5).astype("float32"),
        return_attention_scores=True,
    )
    assert eager_out.shape == out.shape and eager_scores.shape == scores.shape
    cache = keras.Input(batch_shape=(2, 2, 6, 4, 2))
    out, scores, new_cache = layer(query, query, cache=cache, cache_update_index=0,
                                   return_attention_scores=True)
    assert scores.shape == (2, 4, 3, 6) and new_cache.shape == (2, 2, 6, 4, 2)
    high = MultiHeadAttention(num_heads=2, key_dim=2, attention_axes=2)
    out, scores = high(keras.Input(batch_shape=(2, 3, 4, 6)), keras.Input(batch_shape=(2, 3, 5, 6)),
                       return_attention_scores=True)
    assert out.shape == (2, 3, 4, 6) and scores.shape == (2, 3, 2, 4, 5)


# -- configuration, saving, quantization, LoRA --------------------------------


def test_config_is_keras_compatible_both_ways():
    ours = MultiHeadAttention(
        num_heads=2, key_dim=4, sliding_window=5, use_gate=True, attention_axes=(1,),
        output_shape=(3, 2), activity_regularizer="l2",
    )
    config = ours.get_config()
    assert config["sliding_window"] == 5 and config["use_gate"] is True
    assert MultiHeadAttention.from_config(config).get_config() == config
    assert keras.layers.MultiHeadAttention.from_config(config)._sliding_window == 5
    peer = keras.layers.MultiHeadAttention(num_heads=3, key_dim=2, sliding_window=4, use_gate=True)
    revived = MultiHeadAttention.from_config(peer.get_config())
    assert (revived.num_heads, revived.sliding_window, revived.use_gate) == (3, 4, True)


def test_activity_regularizer_applies_to_projections_as_keras(data):
    query, value = data
    peer, ours = twin_layers(query, value, num_heads=2, key_dim=4, activity_regularizer="l2")
    close(ours(query, value), peer(query, value))
    assert len(ours.losses) == len(peer.losses) == 4
    close(sum(ours.losses), sum(peer.losses), atol=1e-3)


def test_sublayer_initializers_and_constraints_are_independent():
    layer = MultiHeadAttention(
        num_heads=4, key_dim=8, use_gate=True, kernel_constraint="non_neg", bias_constraint="non_neg",
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
    )
    layer.build((2, 4, 8), (2, 4, 8))
    kernels = [layer.query_dense, layer.key_dense, layer.gate_dense, layer.value_dense]
    for a in kernels:
        assert isinstance(a.kernel.constraint, keras.constraints.NonNeg)
        assert isinstance(a.bias.constraint, keras.constraints.NonNeg)
    for i, a in enumerate(kernels):
        for b in kernels[i + 1 :]:
            assert not np.allclose(np.asarray(a.kernel), np.asarray(b.kernel))


@pytest.mark.parametrize("gate", [False, True])
def test_int8_quantization_matches_keras_quantized(gate):
    query = np.array([[[1.0, 0.0], [0.0, 1.0]]], "float32")
    key = np.array([[[0.0, 1.0], [1.0, 0.0]]], "float32")
    value = np.array([[[1.0, 2.0], [3.0, 4.0]]], "float32")
    peer, ours = twin_layers(query, value, key, num_heads=3, key_dim=8, use_bias=False, use_gate=gate)
    float_out = np.asarray(ours(query, value, key))
    for layer in (ours, peer):
        for sub in (layer.query_dense, layer.key_dense, layer.value_dense, layer.output_dense):
            sub.quantize("int8")
        if gate:
            (layer.gate_dense if layer is ours else layer._gate_dense).quantize("int8")
    assert keras.backend.standardize_dtype(ours.query_dense._kernel.dtype) == "int8"
    quantized = np.asarray(ours(query, value, key))
    close(quantized, peer(query, value, key), atol=1e-5)
    assert np.mean((quantized - float_out) ** 2) < 1e-2


def test_dtype_policy_map_quantizes_the_named_sublayers():
    policy_map = keras.dtype_policies.DTypePolicyMap()
    quantized = keras.dtype_policies.QuantizedDTypePolicy("int8", "float32")
    for name in ("mha/query", "mha/key", "mha/value"):
        policy_map[name] = quantized
    layer = MultiHeadAttention(num_heads=3, key_dim=8, use_bias=False, dtype=policy_map, name="mha")
    layer.build((1, 2, 2), (1, 2, 2))
    for sub in (layer.query_dense, layer.key_dense, layer.value_dense):
        assert keras.backend.standardize_dtype(sub._kernel.dtype) == "int8"
    out = layer(np.ones((1, 2, 2), "float32"), np.ones((1, 2, 2), "float32"))
    assert np.all(np.isfinite(np.asarray(out)))


def test_lora_trains_saves_and_loads(tmp_path):
    x = {
        "query": np.array([[[1.0, 0.0], [0.0, 1.0]]], "float32"),
        "key": np.array([[[0.0, 1.0], [1.0, 0.0]]], "float32"),
        "value": np.array([[[1.0, 2.0], [3.0, 4.0]]], "float32"),
    }
    layer = MultiHeadAttention(num_heads=3, key_dim=8, use_bias=False, use_gate=True)
    layer.build((1, 2, 2), (1, 2, 2), (1, 2, 2))
    plain = np.asarray(layer(x["query"], x["value"], x["key"]))
    for sub in (layer.query_dense, layer.key_dense, layer.value_dense):
        sub.enable_lora(2)
    assert len(layer.trainable_variables) == 8 and len(layer.non_trainable_variables) == 3
    # LoRA starts at zero: same function until trained.
    close(layer(x["query"], x["value"], x["key"]), plain, atol=1e-6)
    inputs = {k: keras.Input((2, 2), name=k) for k in x}
    model = keras.Model(inputs, layer(inputs["query"], inputs["value"], inputs["key"]))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.random.default_rng(0).random((1, 2, 2)), verbose=0)
    trained = model.predict(x, verbose=0)
    assert np.abs(trained - plain).max() > 1e-6
    path = os.path.join(tmp_path, "lora.keras")
    model.save(path)
    close(keras.models.load_model(path).predict(x, verbose=0), trained, atol=1e-6)


def test_training_with_masks_and_mixed_precision_softmax_in_float32(data):
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


# -- cache --------------------------------------------------------------------


@pytest.mark.parametrize("gate, window", [(False, None), (True, 2)])
def test_cached_decoding_equals_full_causal_pass(rng, gate, window):
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    layer = MultiHeadAttention(num_heads=2, key_dim=4, use_gate=gate, sliding_window=window)
    full = np.asarray(layer(x, x, use_causal_mask=True))
    cache = np.zeros((2, 2, 6, 2, 4), "float32")
    steps = []
    for i in range(6):
        out, cache = layer(
            x[:, i : i + 1], x[:, i : i + 1], use_causal_mask=True, cache=cache, cache_update_index=i
        )
        steps.append(np.asarray(out))
    close(np.concatenate(steps, 1), full)
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
    close(np.concatenate(pieces, 1), full)
    # Read-only cache (e.g. cross-attention keys computed once).
    out, scores, same = layer(x[:, :2], x, cache=cache, return_attention_scores=True)
    assert scores.shape == (2, 2, 2, 6) and same.shape == cache.shape
    close(layer.compute_cache(x), cache)


# -- errors -------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -2, 1.5])
def test_argument_errors_name_the_argument_as_keras(bad):
    for name, kwargs in (
        ("num_heads", {"num_heads": bad, "key_dim": 4}),
        ("key_dim", {"num_heads": 4, "key_dim": bad}),
        ("value_dim", {"num_heads": 4, "key_dim": 4, "value_dim": bad}),
    ):
        for cls in (MultiHeadAttention, keras.layers.MultiHeadAttention):
            with pytest.raises(ValueError, match=f"argument `{name}`"):
                cls(**kwargs)
        with pytest.raises(ValueError, match=f"`{name}` must be a positive integer"):
            MultiHeadAttention(**kwargs)
    MultiHeadAttention(num_heads=4, key_dim=4, value_dim=None)


def test_other_constructor_errors():
    for cls in (MultiHeadAttention, keras.layers.MultiHeadAttention):
        with pytest.raises(ValueError, match=r"Invalid `output_shape`"):
            cls(num_heads=2, key_dim=16, output_shape=8.0)
        for window in (0, -3):
            with pytest.raises(ValueError, match="sliding_window"):
                cls(num_heads=2, key_dim=4, sliding_window=window)
    with pytest.raises(ValueError, match=r"`dropout` must be a float in \[0, 1\)"):
        MultiHeadAttention(num_heads=2, key_dim=4, dropout=1.0)
    with pytest.raises(ValueError, match="`attention_axes` must be None, an int"):
        MultiHeadAttention(num_heads=2, key_dim=4, attention_axes="1")
    with pytest.raises(ValueError, match="Dropout is not supported when flash attention is enabled"):
        MultiHeadAttention(num_heads=2, key_dim=4, flash_attention=True, dropout=0.1)


def test_flash_attention_is_accepted_as_keras(data):
    query, value = data
    # The TensorFlow backend has no flash kernel: Keras and ours both raise
    # at call time when it is required.
    for cls in (MultiHeadAttention, keras.layers.MultiHeadAttention):
        with pytest.raises(ValueError, match="[Ff]lash attention is not supported"):
            cls(num_heads=2, key_dim=4, flash_attention=True)(query, value)
    layer = MultiHeadAttention(num_heads=2, key_dim=4, flash_attention=True)
    with pytest.raises(ValueError, match="Returning attention scores is not supported"):
        layer(query, value, return_attention_scores=True)
    # False and None compute the same function as Keras.
    for flag in (False, None):
        peer, ours = twin_layers(query, value, num_heads=2, key_dim=4, flash_attention=flag)
        close(ours(query, value), peer(query, value))


def test_call_errors_show_shapes(data):
    query, value = data
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    with pytest.raises(ValueError, match="`query` must have rank >= 3"):
        layer(query[:, 0], value)
    with pytest.raises(ValueError, match=r"`attention_mask` of shape \(3, 5, 6\) does not broadcast"
                       r" to the attention weights of shape \(3, 2, 5, 7\)"):
        layer(query, value, attention_mask=np.ones((3, 5, 6), bool))
    with pytest.raises(ValueError, match=r"\(3, 3, 5, 7\) does not broadcast"):
        layer(query, value, attention_mask=np.ones((3, 3, 5, 7), bool))
    with pytest.raises(ValueError, match="needs between 2 and 4 dimensions"):
        layer(query, value, attention_mask=np.ones((3, 1, 5, 7, 1), bool))
    with pytest.raises(ValueError, match="`cache` must have shape"):
        layer(query, query, cache=np.zeros((3, 2, 5, 4, 4), "float32"), cache_update_index=0)
    with pytest.raises(ValueError, match="`cache_update_index` was given without"):
        layer(query, value, cache_update_index=1)
    with pytest.raises(ValueError, match="must be equal"):
        MultiHeadAttention(num_heads=2, key_dim=4)(query, value, value[:, :3])
    with pytest.raises(ValueError, match="`attention_axes`"):
        MultiHeadAttention(num_heads=2, key_dim=4, attention_axes=3)(query, value)


def test_key_bias_cancels_in_the_softmax_and_value_bias_moves_to_the_output(data, rng):
    """On its head-major path (TensorFlow, heads of >= 64 columns) ours leaves
    the keys' bias out (q . b_k is the same for every key of a row, so the
    softmax removes it) and, without dropout, adds the values' bias after
    the weights (each row of weights sums to one). Both are exact
    identities: Keras's layer, which adds both biases, agrees; its key-bias
    gradient is round-off around zero, ours is exactly zero."""
    query, value = data
    mask = rng.random((3, 5, 7)) > 0.4
    mask[0, 1] = False  # a fully masked row: uniform weights, still summing to one
    peer, ours = twin_layers(query, value, num_heads=2, key_dim=64)
    cotangent = rng.normal(size=(3, 5, 16)).astype("float32")

    def key_bias_gradient(layer):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(query, value, attention_mask=mask) * cotangent)
        return tape.gradient(loss, layer.key_dense.bias.value).numpy()

    assert np.all(key_bias_gradient(ours) == 0.0)
    close(key_bias_gradient(peer), np.zeros((2, 64)), atol=1e-4)
    before = np.asarray(ours(query, value, attention_mask=mask))
    for layer in (ours, peer):
        layer.key_dense.bias.assign(layer.key_dense.bias + 3.0)
        layer.value_dense.bias.assign(layer.value_dense.bias - 0.5)
    after = ours(query, value, attention_mask=mask)
    close(after, peer(query, value, attention_mask=mask), atol=1e-4)
    # A different value bias changes the output; the key bias alone would not.
    assert np.abs(np.asarray(after) - before).max() > 0.1
    ours.value_dense.bias.assign(ours.value_dense.bias + 0.5)
    close(ours(query, value, attention_mask=mask), before, atol=1e-4)


@pytest.mark.parametrize("key_dim", [4, 64])
def test_both_projection_forms_match_keras_with_gradients(rng, key_dim):
    """On TensorFlow, heads of >= 64 columns take the head-major path
    (broadcast projections, keys' bias left out, values' bias moved to the
    output), narrower ones the 2-D-projection path; both must give Keras's
    outputs and gradients, with a mask, in training (dropout 0) and in
    inference with dropout > 0."""
    query = rng.normal(size=(2, 6, 8)).astype("float32")
    value = rng.normal(size=(2, 9, 8)).astype("float32")
    mask = rng.random((2, 6, 9)) > 0.3
    cotangent = rng.normal(size=(2, 6, 8)).astype("float32")
    for dropout in (0.0, 0.2):
        peer, ours = twin_layers(query, value, num_heads=2, key_dim=key_dim, dropout=dropout)
        close(
            ours(query, value, attention_mask=mask, training=False),
            peer(query, value, attention_mask=mask, training=False),
            atol=1e-4,
        )
    peer, ours = twin_layers(query, value, num_heads=2, key_dim=key_dim)

    def grads(layer):
        q = tf.constant(query)
        with tf.GradientTape() as tape:
            tape.watch(q)
            out = layer(q, value, attention_mask=mask, training=True)
            loss = tf.reduce_sum(out * cotangent)
        return tape.gradient(loss, [q] + [w.value for w in layer.trainable_weights])

    for a, b in zip(grads(ours), grads(peer)):
        close(a, b, atol=1e-4)
