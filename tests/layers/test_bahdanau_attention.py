import numpy as np
import pytest

from keras_seq.layers import BahdanauAttention
from keras_seq.testing import run_layer_test


def reference(layer, query, values, mask=None):
    """e = v^T tanh(W_q s + W_v a), softmax over unmasked a, c = sum alpha a."""
    if layer.score == "additive":
        wq = layer.query_dense.get_weights()[0]
        wv, bv = layer.values_dense.get_weights()
        (v,) = layer.energy_dense.get_weights()
        hidden = np.tanh((query @ wq)[:, :, None, :] + (values @ wv + bv)[:, None, :, :])
        energies = (hidden @ v)[..., 0]
    else:
        w, b = layer.concat_dense.get_weights()
        v, bias = layer.energy_dense.get_weights()
        tq, tk = query.shape[1], values.shape[1]
        pairs = np.concatenate(
            [np.repeat(query[:, :, None], tk, 2), np.repeat(values[:, None], tq, 1)], -1
        )
        energies = (np.tanh(pairs @ w + b) @ v + bias)[..., 0]
    if mask is not None:
        energies = np.where(mask[:, None, :], energies, -np.inf)
    weights = np.exp(energies - energies.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return weights @ values, weights


@pytest.fixture
def data(rng):
    query = rng.normal(size=(2, 3, 6)).astype("float32")
    values = rng.normal(size=(2, 5, 4)).astype("float32")
    values[1, 3:] = 0.0
    return query, values


@pytest.mark.parametrize("score", ["additive", "concat"])
def test_layer_contract(data, score):
    query, values = data
    run_layer_test(
        BahdanauAttention,
        {"units": 8, "score": score},
        {"query": query, "values": values},
        expected_output_shape=((2, 3, 4), (2, 3, 5)),
        masked_inputs=("values",),
    )
    run_layer_test(
        BahdanauAttention,
        {"units": 8, "score": score},
        {"query": query[:, 0], "values": values},
        expected_output_shape=((2, 4), (2, 5)),
        dynamic_length=False,
    )


@pytest.mark.parametrize("score", ["additive", "concat"])
def test_matches_formula_with_and_without_mask(data, score):
    query, values = data
    layer = BahdanauAttention(units=7, score=score)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    for m in (None, mask):
        context, weights = layer(query, values, mask=m)
        ref_context, ref_weights = reference(layer, query, values, m)
        np.testing.assert_allclose(weights, ref_weights, atol=1e-5)
        np.testing.assert_allclose(context, ref_context, atol=1e-5)
    # One decoder step: the same numbers without the time axis.
    context, weights = layer(query[:, 1], values, mask=mask)
    ref_context, ref_weights = reference(layer, query[:, 1:2], values, mask)
    np.testing.assert_allclose(weights, ref_weights[:, 0], atol=1e-5)
    np.testing.assert_allclose(context, ref_context[:, 0], atol=1e-5)


def test_fully_masked_row_is_finite(data):
    query, values = data
    _, weights = BahdanauAttention(units=4, dtype="mixed_float16")(
        query, values, mask=np.zeros((2, 5), bool)
    )
    assert np.all(np.isfinite(np.asarray(weights, "float32")))


def test_errors(data):
    query, values = data
    with pytest.raises(ValueError, match="`units` must be a positive integer"):
        BahdanauAttention(units=0)
    with pytest.raises(ValueError, match="`score` must be one of"):
        BahdanauAttention(units=3, score="dot")
    with pytest.raises(ValueError, match="`values` must have rank 3"):
        BahdanauAttention(units=3)(query, values[:, 0])
    with pytest.raises(ValueError, match="`mask` must have rank 2"):
        BahdanauAttention(units=3)(query, values, mask=np.ones((2,), bool))


@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
def test_output_shapes_without_tracing_and_mask_errors(data, policy):
    import keras

    query, values = data
    layer = BahdanauAttention(8, dtype=policy)
    assert layer.compute_output_shape((2, 3, 6), (2, 5, 4)) == ((2, 3, 4), (2, 3, 5))
    assert layer.compute_output_shape((2, 6), (2, 5, 4)) == ((2, 4), (2, 5))
    context, weights = layer(keras.Input((None, 6)), keras.Input((5, 4)))
    compute = keras.dtype_policies.get(policy).compute_dtype
    assert tuple(context.shape) == (None, None, 4) and tuple(weights.shape) == (None, None, 5)
    assert context.dtype == weights.dtype == compute
    eager_context, eager_weights = layer(query, values)
    assert eager_context.shape == (2, 3, 4) and eager_weights.shape == (2, 3, 5)
    with pytest.raises(ValueError, match=r"`mask` of shape \(2, 1, 4\) does not broadcast to"
                       r" \[batch, query_time, values_time\] of shape \(2, 3, 5\)"):
        layer(query, values, mask=np.ones((2, 4), bool))
