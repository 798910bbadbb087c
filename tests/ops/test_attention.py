import numpy as np
import pytest
import tensorflow as tf

from keras_seq.layers import ScaledDotProductAttention, causal_mask
from keras_seq.ops import masked_fill_value, scaled_dot_product_attention
from keras_seq.testing import run_layer_test


def numpy_attention(q, k, v, mask=None):
    """softmax(QK^T/sqrt(d_k) + M) V with M = -inf where the mask is False."""
    logits = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        logits = np.where(mask, logits, -np.inf)
    logits = logits - logits.max(-1, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(-1, keepdims=True)
    return weights @ v, weights


@pytest.fixture
def qkv(rng):
    q = rng.normal(size=(2, 4, 5, 8))
    k = rng.normal(size=(2, 4, 6, 8))
    v = rng.normal(size=(2, 4, 6, 3))
    return q, k, v


def padding(rng):
    mask = np.ones((2, 6), bool)
    mask[0, 4:] = False
    mask[1, 5:] = False
    return mask


@pytest.mark.parametrize("mask_kind", ["none", "padding", "causal", "combined"])
@pytest.mark.parametrize("heads", [True, False])
def test_matches_numpy_formula(qkv, rng, mask_kind, heads):
    q, k, v = qkv
    if not heads:
        q, k, v = q[:, 0], k[:, 0], v[:, 0]
    pad = padding(rng)[:, None, :]  # [B, 1, Tk]
    causal = np.tril(np.ones((5, 6), bool))
    mask = {"none": None, "padding": pad, "causal": causal, "combined": pad & causal}[mask_kind]
    if heads and mask is not None and mask.ndim == 3:
        mask = mask[:, None]
    out, weights = scaled_dot_product_attention(
        q.astype("float32"), k.astype("float32"), v.astype("float32"), mask=mask
    )
    ref_out, ref_weights = numpy_attention(q, k, v, mask)
    np.testing.assert_allclose(np.asarray(weights), ref_weights, atol=1e-5)
    np.testing.assert_allclose(np.asarray(out), ref_out, atol=1e-5)


def test_fully_masked_row_gives_no_nan(qkv):
    q, k, v = (x[:, 0].astype("float16") for x in qkv)
    mask = np.ones((2, 5, 6), bool)
    mask[0, 2, :] = False
    out, weights = scaled_dot_product_attention(q, k, v, mask=mask)
    assert np.all(np.isfinite(np.asarray(out, "float32")))
    np.testing.assert_allclose(np.asarray(weights, "float32")[0, 2], np.full(6, 1 / 6), atol=1e-3)


def test_fill_value_is_finite_per_dtype():
    for dtype in ("float16", "bfloat16", "float32"):
        value = masked_fill_value(dtype)
        assert np.isfinite(value) and value < -6e4
        assert np.isfinite(tf.cast(tf.constant(value, dtype), "float32").numpy())


def test_dropout_only_in_training(qkv):
    q, k, v = (x.astype("float32") for x in qkv)
    plain, _ = scaled_dot_product_attention(q, k, v)
    same, _ = scaled_dot_product_attention(q, k, v, dropout_rate=0.5, training=False)
    np.testing.assert_allclose(np.asarray(same), np.asarray(plain), atol=1e-6)
    dropped, w = scaled_dot_product_attention(q, k, v, dropout_rate=0.5, training=True, seed=1)
    assert np.mean(np.asarray(w) == 0) > 0.3


def test_causal_mask_helper_composes(qkv):
    q, k, v = (x[:, 0, :5].astype("float32") for x in qkv)
    out, weights = scaled_dot_product_attention(q, k[:, :5], v[:, :5], mask=causal_mask(5))
    assert np.allclose(np.triu(np.asarray(weights)[0], 1), 0)


def test_errors_name_the_argument(qkv):
    q, k, v = (x.astype("float32") for x in qkv)
    with pytest.raises(ValueError, match="`query` must have rank 3"):
        scaled_dot_product_attention(q[0, 0, 0], k, v)
    with pytest.raises(ValueError, match="`key` must have rank 4"):
        scaled_dot_product_attention(q, k[:, 0], v)
    with pytest.raises(ValueError, match="same last dimension"):
        scaled_dot_product_attention(q, k[..., :3], v)
    with pytest.raises(ValueError, match="same length"):
        scaled_dot_product_attention(q, k, v[:, :, :2])
    with pytest.raises(ValueError, match=r"`mask` of shape \(1, 2, 4, 5, 6\) does not broadcast"):
        scaled_dot_product_attention(q, k, v, mask=np.ones((1, 2, 4, 5, 6), bool))
    with pytest.raises(ValueError, match=r"\(2, 5, 5\) does not broadcast to .* of shape \(2, 4, 5, 6\)"):
        scaled_dot_product_attention(q, k, v, mask=np.ones((2, 5, 5), bool))
    with pytest.raises(ValueError, match="dropout_rate"):
        scaled_dot_product_attention(q, k, v, dropout_rate=1.5)


def test_layer_contract_and_implicit_masks(rng):
    q = rng.normal(size=(2, 5, 8)).astype("float32")
    k = rng.normal(size=(2, 6, 8)).astype("float32")
    v = rng.normal(size=(2, 6, 4)).astype("float32")
    v[0, 4:] = 0.0
    k[0, 4:] = 0.0
    run_layer_test(
        ScaledDotProductAttention,
        {"dropout_rate": 0.1, "seed": 3},
        {"query": q, "key": k, "value": v},
        expected_output_shape=((2, 5, 4), (2, 5, 6)),
        masked_inputs=("key", "value"),
        run_training=False,
    )
    # Implicit masks from Masking layers act like an explicit key mask.
    layer = ScaledDotProductAttention()
    out, weights = layer(q, k, v, mask=np.any(v != 0, -1)[:, None, :])
    ref_out, ref_w = numpy_attention(q, k, v, np.any(v != 0, -1)[:, None, :])
    np.testing.assert_allclose(np.asarray(out), ref_out, atol=1e-5)
    with pytest.raises(ValueError, match="dropout_rate"):
        ScaledDotProductAttention(dropout_rate=-0.1)
