import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_seq.layers import LSHSelfAttention
from keras_seq.ops.lsh import (
    bucket_factors,
    check_num_buckets,
    default_num_buckets,
    lsh_attention,
    lsh_hash,
    sort_by_bucket,
)
from keras_seq.testing import run_layer_test

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures")


def np_(x):
    return ops.convert_to_numpy(x)


def shared_qk_attention(qk, value, causal=False, mask_self=False, valid=None):
    """Dense float64 reference: softmax(q . k_hat / sqrt(d) + M) v per head.

    `qk`, `value`: `[B, H, L, d]`. With `mask_self` a token attends to itself
    only when no other key is allowed.
    """
    qk = qk.astype("float64")
    value = value.astype("float64")
    depth = qk.shape[-1]
    keys = qk / np.sqrt(np.mean(qk**2, -1, keepdims=True) + 1e-6) / np.sqrt(depth)
    logits = np.einsum("bhid,bhjd->bhij", qk, keys)
    length = qk.shape[2]
    allowed = np.ones(logits.shape, bool)
    if causal:
        allowed &= np.tril(np.ones((length, length), bool))
    if valid is not None:
        allowed &= valid[:, None, None, :]
    eye = np.eye(length, dtype=bool)
    if mask_self:
        others = allowed & ~eye
        has_other = others.any(-1, keepdims=True)
        allowed = np.where(has_other, others, eye)
    logits = np.where(allowed, logits, -np.inf)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return np.einsum("bhij,bhjd->bhid", weights, value)


def random_buckets(rng, batch, heads, rounds, length, num_buckets):
    return rng.integers(0, num_buckets, size=(batch, heads, rounds, length)).astype(
        "int32"
    )


# -- the layer contract -------------------------------------------------------


def test_layer_contract(rng):
    x = rng.normal(size=(2, 10, 8)).astype("float32")
    x[0, 7:] = 0.0  # padding for the implicit Keras mask
    run_layer_test(
        LSHSelfAttention,
        {
            "num_heads": 2,
            "key_dim": 4,
            "bucket_size": 4,
            "num_hashes": 2,
            "causal": True,
            "dropout": 0.1,
            "seed": 3,
        },
        x,
        expected_output_shape=(2, 10, 8),
        masked_inputs=("inputs",),
    )


def test_layer_contract_with_padding_mask_input(rng):
    x = rng.normal(size=(2, 12, 6)).astype("float32")
    mask = np.ones((2, 12), bool)
    mask[1, 9:] = False
    run_layer_test(
        LSHSelfAttention,
        {"num_heads": 3, "key_dim": 2, "bucket_size": 4, "num_hashes": 3, "seed": 0},
        {"inputs": x, "padding_mask": mask},
        expected_output_shape=(2, 12, 6),
    )


# -- against dense attention --------------------------------------------------


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("rounds", [1, 3])
def test_one_chunk_without_self_mask_is_full_shared_qk_attention(rng, causal, rounds):
    qk = rng.normal(size=(2, 3, 12, 5)).astype("float32")
    value = rng.normal(size=(2, 3, 12, 5)).astype("float32")
    buckets = random_buckets(rng, 2, 3, rounds, 12, 4)
    got = lsh_attention(qk, value, buckets, 12, causal=causal, mask_self=False)
    want = shared_qk_attention(qk, value, causal=causal)
    np.testing.assert_allclose(np_(got), want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("causal", [False, True])
def test_one_chunk_with_self_mask_is_full_attention_without_diagonal(rng, causal):
    qk = rng.normal(size=(2, 2, 9, 4)).astype("float32")
    value = rng.normal(size=(2, 2, 9, 4)).astype("float32")
    buckets = random_buckets(rng, 2, 2, 2, 9, 2)
    got = lsh_attention(qk, value, buckets, 9, causal=causal)
    want = shared_qk_attention(qk, value, causal=causal, mask_self=True)
    np.testing.assert_allclose(np_(got), want, atol=1e-5, rtol=1e-5)


def test_layer_with_one_chunk_equals_dense_attention_with_its_weights(rng):
    layer = LSHSelfAttention(2, 4, bucket_size=16, num_hashes=2, causal=True, seed=5)
    x = rng.normal(size=(2, 11, 8)).astype("float32")  # padded to 16 internally
    got = np_(layer(x))
    qk = np.einsum("btc,chd->bhtd", x, np_(layer.query_key_dense.kernel))
    value = np.einsum("btc,chd->bhtd", x, np_(layer.value_dense.kernel))
    heads = shared_qk_attention(qk, value, causal=True, mask_self=True)
    want = np.einsum("bhtd,hde->bte", heads, np_(layer.output_dense.kernel))
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


def test_identical_rounds_equal_one_round(rng):
    qk = rng.normal(size=(1, 2, 16, 4)).astype("float32")
    value = rng.normal(size=(1, 2, 16, 4)).astype("float32")
    one = random_buckets(rng, 1, 2, 1, 16, 8)
    two = np.concatenate([one, one], axis=2)
    for causal in (False, True):
        np.testing.assert_allclose(
            np_(lsh_attention(qk, value, two, 4, causal=causal)),
            np_(lsh_attention(qk, value, one, 4, causal=causal)),
            atol=1e-6,
        )


@pytest.mark.parametrize("rounds", [1, 3])
def test_causal_attention_matrix(rng, rounds):
    # With one-hot values the output rows are the rows of the dense attention
    # matrix that the chunked computation implies.
    length = 24
    qk = rng.normal(size=(2, 2, length, 4)).astype("float32")
    value = np.broadcast_to(np.eye(length, dtype="float32"), (2, 2, length, length))
    buckets = random_buckets(rng, 2, 2, rounds, length, 6)
    matrix = np_(lsh_attention(qk, value, buckets, 4, causal=True))
    assert np.all(matrix[..., np.triu_indices(length, 1)[0], np.triu_indices(length, 1)[1]] == 0.0)
    np.testing.assert_allclose(matrix.sum(-1), 1.0, atol=1e-6)
    # The first token can only see itself.
    np.testing.assert_allclose(matrix[..., 0, 0], 1.0, atol=1e-6)


def test_padding_never_receives_attention(rng):
    length = 16
    qk = rng.normal(size=(2, 1, length, 4)).astype("float32")
    value = np.broadcast_to(np.eye(length, dtype="float32"), (2, 1, length, length))
    valid = np.ones((2, length), bool)
    valid[0, 11:] = False
    valid[1, 2] = False
    buckets = lsh_hash(qk, rng.normal(size=(1, 4, 2, 4)).astype("float32"), valid)
    matrix = np_(lsh_attention(qk, value, buckets, 4, padding_mask=valid))
    real = valid[:, None, :, None] & ~valid[:, None, None, :]
    assert np.all(matrix[real] == 0.0)


# -- against Hugging Face transformers (golden fixtures) ----------------------


def _fixture_paths():
    return sorted(glob.glob(os.path.join(FIXTURES, "reformer_lsh_*.npz")))


def test_fixtures_exist():
    names = {os.path.basename(p) for p in _fixture_paths()}
    for case in (
        "bidirectional_1hash",
        "bidirectional_3hash",
        "causal_1hash",
        "causal_3hash",
        "causal_3hash_padded",
    ):
        assert f"reformer_lsh_{case}.npz" in names


def _layer_from_fixture(data):
    heads, depth = data["rotations"].shape[:2]
    width = data["hidden"].shape[-1]
    layer = LSHSelfAttention(
        heads,
        depth,
        bucket_size=int(data["chunk_length"]),
        num_hashes=int(data["num_hashes"]),
        causal=bool(data["causal"]),
        num_buckets=int(data["num_buckets"]),
        seed=0,
    )
    layer.build(data["hidden"].shape)
    layer.query_key_dense.kernel.assign(data["query_key"].T.reshape(width, heads, depth))
    layer.value_dense.kernel.assign(data["value"].T.reshape(width, heads, depth))
    # HF returns the merged heads; an identity output projection does too.
    layer.output_dense.kernel.assign(np.eye(heads * depth).reshape(heads, depth, -1))
    return layer


def _raw_buckets(data):
    buckets = data["buckets"]  # [B, H, R, L] with round offsets
    rounds = buckets.shape[2]
    offsets = np.arange(rounds)[None, None, :, None] * int(data["bucket_stride"])
    return (buckets - offsets).astype("int32")


@pytest.mark.parametrize("path", _fixture_paths(), ids=os.path.basename)
def test_matches_hugging_face_with_the_same_buckets(path):
    data = np.load(path)
    layer = _layer_from_fixture(data)
    hidden = data["hidden"].astype("float32")
    valid = data["attention_mask"].astype(bool)
    buckets = _raw_buckets(data)
    batch, heads = buckets.shape[:2]
    got = layer(
        hidden,
        padding_mask=valid,
        buckets=buckets.reshape(batch, heads, -1),
    )
    got = np_(got)
    # Padded query rows are garbage in both implementations; compare real ones.
    np.testing.assert_allclose(got[valid], data["output"][valid], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("path", _fixture_paths(), ids=os.path.basename)
def test_hashing_matches_hugging_face(path):
    data = np.load(path)
    layer = _layer_from_fixture(data)
    hidden = data["hidden"]
    valid = data["attention_mask"].astype(bool)
    qk = np.einsum("btc,chd->bhtd", hidden, np_(layer.query_key_dense.kernel))
    got = np_(lsh_hash(qk, data["rotations"].astype("float32"), valid))
    np.testing.assert_array_equal(got, _raw_buckets(data))


# -- hashing and sorting -------------------------------------------------------


def test_buckets_in_range_and_shape(rng):
    layer = LSHSelfAttention(2, 4, bucket_size=4, num_hashes=3, seed=1)
    x = rng.normal(size=(2, 13, 8)).astype("float32")
    mask = np.ones((2, 13), bool)
    mask[1, 10:] = False
    buckets = np_(layer.compute_buckets(x, padding_mask=mask))
    num_buckets = int(np.prod(bucket_factors(16, 4)))
    assert buckets.shape == (2, 2, 3 * 16)
    assert buckets.dtype == np.int32
    per_round = buckets.reshape(2, 2, 3, 16)
    real = np.pad(mask, [[0, 0], [0, 3]])[:, None, None, :]
    assert np.all((per_round >= 0) & (per_round < num_buckets) | ~real)
    assert np.all((per_round == num_buckets) | real)
    assert len(np.unique(per_round[real.repeat(3, 2).repeat(2, 1)])) > 1


def test_factorised_hashing_matches_numpy_formula(rng):
    x = rng.normal(size=(2, 3, 20, 6)).astype("float32")
    rotations = rng.normal(size=(3, 6, 4, 2 + 3)).astype("float32")
    rotated = np.einsum("bhtd,hdrk->bhrtk", x, rotations)
    first, second = rotated[..., :2], rotated[..., 2:]
    want = np.argmax(np.concatenate([first, -first], -1), -1) + 4 * np.argmax(
        np.concatenate([second, -second], -1), -1
    )
    np.testing.assert_array_equal(np_(lsh_hash(x, rotations, num_buckets=[4, 6])), want)


@pytest.mark.parametrize(
    "length, bucket_size, factors",
    [(64, 64, (2, 1)), (2048, 64, (64, 1)), (8192, 64, (16, 16)),
     (65536, 64, (32, 64)), (48, 4, (4, 4)), (3 * 64, 64, (4, 1))],
)
def test_bucket_factors_static_and_dynamic(length, bucket_size, factors):
    # HF: 2 L / chunk rounded down to a power of two, factorised when large.
    assert bucket_factors(length, bucket_size) == factors
    dynamic = tf.function(
        lambda n: bucket_factors(n, bucket_size),
        input_signature=[tf.TensorSpec((), tf.int32)],
    )
    assert tuple(int(v) for v in dynamic(tf.constant(length))) == factors
    want = factors[0] if factors[1] == 1 else list(factors)
    assert default_num_buckets(length, bucket_size) == want


def test_dynamic_length_graph_equals_eager(rng):
    # Relaxed tf.function shapes (e.g. retracing in fit/generate) must hash
    # exactly like the static path; 40 steps -> 48 padded -> factors (4, 4).
    layer = LSHSelfAttention(2, 4, bucket_size=2, num_hashes=2, causal=True, seed=9)
    x = rng.normal(size=(2, 37, 8)).astype("float32")
    dynamic = tf.function(
        lambda x: (layer(x), layer.compute_buckets(x)),
        input_signature=[tf.TensorSpec((None, None, 8), tf.float32)],
    )
    out, buckets = dynamic(x)
    np.testing.assert_array_equal(np_(buckets), np_(layer.compute_buckets(x)))
    np.testing.assert_allclose(np_(out), np_(layer(x)), atol=1e-6)


@pytest.mark.parametrize("bad", [3, 1, 0, -2, 2.0, True, [4, 3], []])
def test_odd_or_invalid_bucket_counts_are_rejected(bad):
    with pytest.raises(ValueError, match="num_buckets"):
        check_num_buckets(bad)
    with pytest.raises(ValueError, match="num_buckets"):
        LSHSelfAttention(2, 4, num_buckets=bad)


def test_hashing_is_invariant_to_positive_scaling(rng):
    x = rng.normal(size=(2, 3, 20, 6)).astype("float32")
    rotations = rng.normal(size=(3, 6, 4, 5)).astype("float32")
    scale = rng.uniform(0.1, 10.0, size=(2, 3, 20, 1)).astype("float32")
    np.testing.assert_array_equal(
        np_(lsh_hash(x, rotations)), np_(lsh_hash(x * scale, rotations))
    )


def test_negated_vectors_map_to_the_opposite_bucket(rng):
    x = rng.normal(size=(2, 3, 20, 6)).astype("float32")
    rotations = rng.normal(size=(3, 6, 4, 5)).astype("float32")
    num_buckets = 10
    buckets = np_(lsh_hash(x, rotations))
    np.testing.assert_array_equal(
        np_(lsh_hash(-x, rotations)), (buckets + num_buckets // 2) % num_buckets
    )


def test_hashing_matches_numpy_formula(rng):
    x = rng.normal(size=(2, 3, 20, 6)).astype("float32")
    rotations = rng.normal(size=(3, 6, 4, 5)).astype("float32")
    rotated = np.einsum("bhtd,hdrk->bhrtk", x, rotations)
    want = np.argmax(np.concatenate([rotated, -rotated], -1), -1)
    np.testing.assert_array_equal(np_(lsh_hash(x, rotations)), want)


def test_sort_then_unsort_is_identity(rng):
    buckets = rng.integers(0, 5, size=(3, 2, 4, 37))
    sort_indices, undo_indices = (np_(t) for t in sort_by_bucket(buckets))
    values = rng.normal(size=buckets.shape)
    sorted_values = np.take_along_axis(values, sort_indices, -1)
    np.testing.assert_array_equal(
        np.take_along_axis(sorted_values, undo_indices, -1), values
    )
    # Sorted by bucket, ties by position.
    sorted_buckets = np.take_along_axis(buckets, sort_indices, -1)
    keys = sorted_buckets * 1000 + sort_indices
    assert np.all(np.diff(keys, axis=-1) > 0)


def test_layer_hashes_the_same_on_every_call(rng):
    layer = LSHSelfAttention(2, 4, bucket_size=4, num_hashes=2, seed=7)
    x = rng.normal(size=(1, 32, 8)).astype("float32")
    first = np_(layer.compute_buckets(x))
    np.testing.assert_array_equal(first, np_(layer.compute_buckets(x)))
    np.testing.assert_array_equal(np_(layer(x)), np_(layer(x, buckets=first)))
    clone = LSHSelfAttention.from_config(layer.get_config())
    clone.build(x.shape)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(first, np_(clone.compute_buckets(x)))


def test_seed_none_is_recorded():
    layer = LSHSelfAttention(2, 4)
    assert isinstance(layer.seed, int)
    assert LSHSelfAttention.from_config(layer.get_config()).seed == layer.seed


# -- lengths, padding ----------------------------------------------------------


@pytest.mark.parametrize("length", [1, 5, 13, 17])
def test_any_length(rng, length):
    layer = LSHSelfAttention(2, 4, bucket_size=4, num_hashes=2, causal=True, seed=1)
    x = rng.normal(size=(2, length, 8)).astype("float32")
    out = np_(layer(x))
    assert out.shape == x.shape
    assert np.all(np.isfinite(out))


def test_changing_padded_inputs_leaves_real_outputs_unchanged(rng):
    layer = LSHSelfAttention(2, 4, bucket_size=4, num_hashes=3, seed=2)
    x = rng.normal(size=(2, 19, 8)).astype("float32")
    mask = np.ones((2, 19), bool)
    mask[0, 13:] = False
    mask[1, [0, 5, 6]] = False
    y = x.copy()
    y[~mask] = rng.normal(size=(int((~mask).sum()), 8)) * 100.0
    a = np_(layer(x, padding_mask=mask))
    b = np_(layer(y, padding_mask=mask))
    np.testing.assert_allclose(a[mask], b[mask], atol=1e-6)


def test_trailing_padding_equals_the_unpadded_sequence_with_one_chunk(rng):
    # With a chunk covering everything the result cannot depend on padding.
    layer = LSHSelfAttention(2, 4, bucket_size=32, num_hashes=2, causal=False, seed=2)
    x = rng.normal(size=(1, 20, 8)).astype("float32")
    padded = np.concatenate([x, rng.normal(size=(1, 7, 8)).astype("float32")], 1)
    mask = np.arange(27)[None] < 20
    np.testing.assert_allclose(
        np_(layer(padded, padding_mask=mask))[:, :20], np_(layer(x)), atol=1e-5
    )


# -- gradients -----------------------------------------------------------------


def _loss_fn(layer, buckets, probe):
    def loss(x):
        return ops.sum(layer(x, buckets=buckets, training=False) * probe)

    return loss


@pytest.mark.parametrize("jit_compile", [False, True])
def test_gradients_match_finite_differences_with_fixed_buckets(rng, jit_compile):
    layer = LSHSelfAttention(
        2, 3, bucket_size=4, num_hashes=2, causal=True, seed=4, dtype="float64"
    )
    x = tf.constant(rng.normal(size=(2, 10, 6)))
    # Seeded weights (the initialisers would draw from the global generator,
    # i.e. depend on which tests ran before).
    layer.build(x.shape)
    for variable in layer.trainable_variables:
        variable.assign(rng.normal(scale=0.5, size=variable.shape))
    buckets = layer.compute_buckets(x)
    probe = tf.constant(rng.normal(size=(2, 10, 6)))
    loss = _loss_fn(layer, buckets, probe)

    @tf.function(jit_compile=jit_compile)
    def value_and_grads(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = loss(x)
        return value, tape.gradient(value, [x] + layer.trainable_variables)

    _, grads = value_and_grads(x)
    eps = 1e-6
    for _ in range(3):
        direction = tf.constant(rng.normal(size=x.shape))
        numeric = (loss(x + eps * direction) - loss(x - eps * direction)) / (2 * eps)
        analytic = tf.reduce_sum(grads[0] * direction)
        np.testing.assert_allclose(np_(analytic), np_(numeric), rtol=1e-5, atol=1e-7)
    for variable, grad in zip(layer.trainable_variables, grads[1:]):
        original = variable.numpy()
        direction = rng.normal(size=original.shape)
        variable.assign(original + eps * direction)
        plus = np_(loss(x))
        variable.assign(original - eps * direction)
        minus = np_(loss(x))
        variable.assign(original)
        np.testing.assert_allclose(
            np.sum(np_(grad) * direction), (plus - minus) / (2 * eps), rtol=1e-5, atol=1e-7
        )


@pytest.mark.parametrize("jit_compile", [False, True])
def test_recomputed_rounds_give_the_autodiff_gradients_with_dropout(rng, jit_compile):
    # The TensorFlow path recomputes every round in its backward pass (custom
    # gradient over while loops); it must give ordinary autodiff's gradients,
    # also with padding, causal self-only rows and dropout replayed per round.
    layer = LSHSelfAttention(2, 3, bucket_size=4, num_hashes=3, dropout=0.4, seed=2)
    dropout_fn = layer._dropout_fn()
    qk = tf.constant(rng.normal(size=(2, 2, 16, 3)))
    value = tf.constant(rng.normal(size=(2, 2, 16, 3)))
    buckets = tf.constant(random_buckets(rng, 2, 2, 3, 16, 4))
    valid = tf.constant(np.arange(16)[None, :] < np.array([[16], [11]]))
    probe = tf.constant(rng.normal(size=(2, 2, 16, 3)))

    def loss_and_grads(recompute, dropout):
        @tf.function(jit_compile=jit_compile)
        def run(qk, value):
            with tf.GradientTape() as tape:
                tape.watch([qk, value])
                out = lsh_attention(
                    qk, value, buckets, 4, causal=True, padding_mask=valid,
                    dropout_fn=dropout, recompute=recompute,
                )
                loss = tf.reduce_sum(out * probe)
            return out, tape.gradient(loss, [qk, value])

        return run(qk, value)

    out, grads = loss_and_grads(True, dropout_fn)
    ref_out, ref_grads = loss_and_grads(False, dropout_fn)
    no_dropout, _ = loss_and_grads(False, None)
    assert np.max(np.abs(np_(out) - np_(no_dropout))) > 0.1  # dropout is active
    np.testing.assert_allclose(np_(out), np_(ref_out), rtol=1e-10, atol=1e-12)
    for got, want in zip(grads, ref_grads):
        np.testing.assert_allclose(np_(got), np_(want), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_recomputed_gradients_when_a_self_only_row_meets_itself_twice(rng, jit_compile, dtype):
    # Causal token 0 sees only itself (the self logit, half the most negative
    # float). Round 0 sorts it into the first chunk, round 1 into the last,
    # which round 0's first chunk also attends to: its window holds token 0
    # twice, so its row's round-0 logsumexp is the self logit + log 2, which
    # rounds to the self logit. The hand-written backward pass must weight
    # the keys as the forward pass did (each round's softmax times the
    # round's weight), not by exp(logit - combined logsumexp), which would
    # give token 0's value 1.5x its gradient.
    buckets = tf.constant([[[[0, 0, 1, 1, 0, 1, 0, 1], [1, 1, 0, 0, 1, 0, 0, 1]]]], "int32")
    qk = tf.constant(rng.normal(size=(1, 1, 8, 3)), dtype)
    value = tf.constant(rng.normal(size=(1, 1, 8, 3)), dtype)
    probe = tf.constant(rng.normal(size=(1, 1, 8, 3)), dtype)

    def loss_and_grads(recompute):
        @tf.function(jit_compile=jit_compile)
        def run(qk, value):
            with tf.GradientTape() as tape:
                tape.watch([qk, value])
                out = lsh_attention(qk, value, buckets, 4, causal=True, recompute=recompute)
                loss = tf.reduce_sum(out * probe)
            return out, tape.gradient(loss, [qk, value])

        return run(qk, value)

    out, grads = loss_and_grads(True)
    ref_out, ref_grads = loss_and_grads(False)
    # Token 0's output is its own value; it gets exactly its upstream gradient
    # from its own row, plus what the other rows send it.
    np.testing.assert_allclose(np_(out)[0, 0, 0], np_(value)[0, 0, 0], rtol=1e-6)
    tolerance = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(np_(out), np_(ref_out), rtol=tolerance, atol=tolerance)
    for got, want in zip(grads, ref_grads):
        np.testing.assert_allclose(np_(got), np_(want), rtol=tolerance, atol=tolerance)


def test_buckets_carry_no_gradient(rng):
    layer = LSHSelfAttention(2, 3, bucket_size=4, num_hashes=2, seed=4)
    x = tf.constant(rng.normal(size=(1, 8, 6)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        buckets = tf.cast(layer.compute_buckets(x), "float32")
    assert tape.gradient(buckets, x) is None


# -- compiled, mixed precision -------------------------------------------------


def test_jit_compiled_fit_with_mixed_float16(rng):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        inputs = keras.Input((None, 8))
        outputs = LSHSelfAttention(2, 4, bucket_size=4, num_hashes=2, causal=True, seed=1)(
            inputs
        )
        model = keras.Model(inputs, keras.layers.Activation("linear", dtype="float32")(outputs))
        model.compile("adam", "mse", jit_compile=True)
        x = rng.normal(size=(4, 19, 8)).astype("float32")
        history = model.fit(x, x, epochs=2, batch_size=2, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
        assert model.layers[1].compute_dtype == "float16"
    finally:
        keras.mixed_precision.set_global_policy("float32")


# -- errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"num_heads": 0, "key_dim": 4}, "num_heads"),
        ({"num_heads": 2, "key_dim": 1.5}, "key_dim"),
        ({"num_heads": 2, "key_dim": 4, "bucket_size": 0}, "bucket_size"),
        ({"num_heads": 2, "key_dim": 4, "num_hashes": -1}, "num_hashes"),
        ({"num_heads": 2, "key_dim": 4, "causal": "yes"}, "causal"),
        ({"num_heads": 2, "key_dim": 4, "dropout": 1.0}, "dropout"),
        ({"num_heads": 2, "key_dim": 4, "seed": "x"}, "seed"),
    ],
)
def test_invalid_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        LSHSelfAttention(**kwargs)


def test_invalid_call_inputs(rng):
    layer = LSHSelfAttention(2, 4, bucket_size=4, num_hashes=2, seed=0)
    x = rng.normal(size=(2, 8, 8)).astype("float32")
    with pytest.raises(ValueError, match="`inputs` must have rank 3"):
        layer(x[0])
    with pytest.raises(ValueError, match="`padding_mask` must have rank 2"):
        layer(x, padding_mask=np.ones((2, 8, 1), bool))
    with pytest.raises(ValueError, match="`buckets` must have shape"):
        layer(x, buckets=np.zeros((2, 3, 16), "int32"))
    with pytest.raises(ValueError, match="`buckets` must have shape"):
        layer(x, buckets=np.zeros((2, 2, 12), "int32"))  # 2 rounds x 8 steps
