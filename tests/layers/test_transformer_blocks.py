import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.layers import TransformerDecoderBlock, TransformerEncoderBlock
from keras_seq.testing import run_layer_test


@pytest.fixture
def seqs(rng):
    x = rng.normal(size=(2, 6, 16)).astype("float32")
    y = rng.normal(size=(2, 4, 16)).astype("float32")
    return x, y


def pad_mask(length, real):
    return np.arange(length)[None, :] < np.array(real)[:, None]


def test_encoder_layer_contract(seqs):
    x, _ = seqs
    x = x.copy()
    x[1, 4:] = 0.0
    run_layer_test(
        TransformerEncoderBlock,
        {"num_heads": 4, "intermediate_dim": 12, "dropout": 0.1},
        x,
        call_kwargs={"return_attention_scores": True},
        expected_output_shape=((2, 6, 16), (2, 4, 6, 6)),
        masked_inputs=("inputs",),
    )


@pytest.mark.parametrize("cross", [True, False])
def test_decoder_layer_contract(seqs, cross):
    x, y = seqs
    inputs = {"inputs": y, "encoder_outputs": x} if cross else {"inputs": y}
    scores = {"self_attention": (2, 2, 4, 4)}
    if cross:
        scores["cross_attention"] = (2, 2, 4, 6)
    run_layer_test(
        TransformerDecoderBlock,
        {"num_heads": 2, "intermediate_dim": 8, "cross_attention": cross, "norm_first": True},
        inputs,
        call_kwargs={"return_attention_scores": True},
        expected_output_shape=((2, 4, 16), scores),
    )


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_equals_keras_hub(seqs, norm_first):
    x, _ = seqs
    peer = keras_hub.layers.TransformerEncoder(20, 4, normalize_first=norm_first, activation="gelu")
    ours = TransformerEncoderBlock(4, 20, norm_first=norm_first, activation="gelu")
    peer(x)
    ours(x)
    ours.set_weights(peer.get_weights())
    mask = pad_mask(6, [6, 3])
    att = np.random.default_rng(0).random((2, 6, 6)) > 0.2
    for kwargs in ({}, {"padding_mask": mask}, {"padding_mask": mask, "attention_mask": att}):
        np.testing.assert_allclose(ours(x, **kwargs), peer(x, **kwargs), atol=1e-5)
    o1, s1 = ours(x, padding_mask=mask, return_attention_scores=True)
    o2, s2 = peer(x, padding_mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(s1, s2, atol=1e-6)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_equals_keras_hub(seqs, norm_first):
    x, y = seqs
    peer = keras_hub.layers.TransformerDecoder(12, 2, normalize_first=norm_first)
    ours = TransformerDecoderBlock(2, 12, norm_first=norm_first)
    peer(y, x)
    ours(y, x)
    ours.set_weights(peer.get_weights())
    dec_mask, enc_mask = pad_mask(4, [4, 2]), pad_mask(6, [5, 3])
    np.testing.assert_allclose(ours(y, x), peer(y, x), atol=1e-5)
    np.testing.assert_allclose(
        ours(y, x, decoder_padding_mask=dec_mask, encoder_padding_mask=enc_mask),
        peer(y, x, decoder_padding_mask=dec_mask, encoder_padding_mask=enc_mask),
        atol=1e-5,
    )
    np.testing.assert_allclose(
        ours(y, x, use_causal_mask=False), peer(y, x, use_causal_mask=False), atol=1e-5
    )
    decoder_only_peer = keras_hub.layers.TransformerDecoder(12, 2, normalize_first=norm_first)
    decoder_only = TransformerDecoderBlock(2, 12, norm_first=norm_first, cross_attention=False)
    decoder_only_peer(y)
    decoder_only(y)
    decoder_only.set_weights(decoder_only_peer.get_weights())
    np.testing.assert_allclose(decoder_only(y), decoder_only_peer(y), atol=1e-5)


def test_decoder_scores_are_causal_and_respect_encoder_padding(seqs):
    x, y = seqs
    block = TransformerDecoderBlock(2, 8)
    _, scores = block(y, x, encoder_padding_mask=pad_mask(6, [6, 2]), return_attention_scores=True)
    self_scores = np.asarray(scores["self_attention"])
    assert np.allclose(np.triu(self_scores[0, 0], 1), 0)
    assert np.allclose(np.asarray(scores["cross_attention"])[1, :, :, 2:], 0)


@pytest.mark.parametrize("cross", [True, False])
def test_cached_decoding_equals_full_pass(seqs, cross):
    x, y = seqs
    block = TransformerDecoderBlock(2, 8, cross_attention=cross)
    enc = x if cross else None
    full = np.asarray(block(y, enc))
    cross = block.compute_cross_attention_cache(enc) if cross else None
    step = tf.function(
        lambda t, c, i: block(t, enc, cache=c, cache_update_index=i, cross_attention_cache=cross)
    )
    cache = tf.zeros((2, 2, 4, 2, 8))
    pieces = []
    for i in range(4):
        out, cache = step(y[:, i : i + 1], cache, tf.constant(i))
        pieces.append(np.asarray(out))
    np.testing.assert_allclose(np.concatenate(pieces, 1), full, atol=1e-5)


def test_implicit_masks_flow_through_a_functional_model():
    ids = keras.Input((None,), dtype="int32")
    embedding = keras.layers.Embedding(9, 8, mask_zero=True)
    encoder = TransformerEncoderBlock(2, 8)
    model = keras.Model(ids, encoder(embedding(ids)))
    batch = np.array([[1, 2, 3, 0, 0]])
    explicit = encoder(np.asarray(embedding(batch)), padding_mask=batch != 0)
    np.testing.assert_allclose(np.asarray(model(batch))[0, :3], np.asarray(explicit)[0, :3], atol=1e-6)
    # Without the mask the padded positions would change the real ones.
    unmasked = encoder(np.asarray(embedding(batch)))
    assert np.abs(np.asarray(unmasked)[0, :3] - np.asarray(explicit)[0, :3]).max() > 1e-4


def test_errors(seqs):
    x, y = seqs
    with pytest.raises(ValueError, match="`num_heads` must be a positive integer"):
        TransformerEncoderBlock(0, 8)
    with pytest.raises(ValueError, match="`dropout` must be a float"):
        TransformerDecoderBlock(2, 8, dropout=2.0)
    with pytest.raises(ValueError, match="divisible by `num_heads`"):
        TransformerEncoderBlock(3, 8)(x)
    with pytest.raises(ValueError, match="`padding_mask` must have rank 2"):
        TransformerEncoderBlock(2, 8)(x, padding_mask=np.ones((2, 6, 6), bool))
    with pytest.raises(ValueError, match="`attention_mask` must have rank 3"):
        TransformerEncoderBlock(2, 8)(x, attention_mask=np.ones((2, 6), bool))
    with pytest.raises(ValueError, match="`encoder_outputs` is required"):
        TransformerDecoderBlock(2, 8)(y)
    with pytest.raises(ValueError, match="takes no"):
        TransformerDecoderBlock(2, 8, cross_attention=False)(y, x)


# -- keras-hub parity: shapes, specs, caches, masks ---------------------------


@pytest.mark.parametrize("policy", ["float32", "mixed_float16", "mixed_bfloat16"])
def test_symbolic_specs_under_mixed_precision(policy):
    compute = keras.dtype_policies.get(policy).compute_dtype
    encoder = TransformerEncoderBlock(2, 8, dtype=policy)
    x = keras.Input((None, 8))
    y, scores = encoder(x, return_attention_scores=True)
    assert tuple(y.shape) == (None, None, 8) and y.dtype == compute
    assert tuple(scores.shape) == (None, 2, None, None)
    assert encoder.compute_output_shape((3, 5, 8)) == (3, 5, 8)
    decoder = TransformerDecoderBlock(2, 8, dtype=policy)
    enc = keras.Input((7, 8))
    dec = keras.Input((5, 8))
    out, scores = decoder(dec, enc, return_attention_scores=True)
    assert tuple(out.shape) == (None, 5, 8) and out.dtype == compute
    assert tuple(scores["cross_attention"].shape) == (None, 2, 5, 7)
    assert decoder.compute_output_shape((3, 5, 8), (3, 7, 8)) == (3, 5, 8)
    # The symbolic model runs and gives the eager layer's outputs.
    model = keras.Model([dec, enc], out)
    a = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    b = np.random.default_rng(1).normal(size=(2, 7, 8)).astype("float32")
    np.testing.assert_allclose(
        np.asarray(model([a, b]), "float32"), np.asarray(decoder(a, b), "float32"), atol=1e-6
    )
    # keras-hub agrees on the shapes.
    peer = keras_hub.layers.TransformerDecoder(8, 2, dtype=policy)
    assert tuple(peer(dec, enc).shape) == tuple(out.shape)


@pytest.mark.parametrize("norm_first", [False, True])
def test_writable_cross_attention_cache_matches_keras_hub(seqs, norm_first):
    x, y = seqs  # encoder (2, 6, 16), decoder (2, 4, 16)
    peer = keras_hub.layers.TransformerDecoder(12, 2, normalize_first=norm_first)
    ours = TransformerDecoderBlock(2, 12, norm_first=norm_first)
    peer(y, x)
    ours(y, x)
    rng = np.random.default_rng(3)
    peer.set_weights([0.3 * rng.normal(size=w.shape) for w in peer.weights])
    ours.set_weights(peer.get_weights())
    self_cache = np.zeros((2, 2, 4, 2, 8), "float32")
    cross_cache = np.zeros((2, 2, 6, 2, 8), "float32")
    expected = peer(
        y, x,
        self_attention_cache=self_cache, self_attention_cache_update_index=0,
        cross_attention_cache=cross_cache, cross_attention_cache_update_index=0,
    )
    actual = ours(
        y, x, cache=self_cache, cache_update_index=0,
        cross_attention_cache=cross_cache, cross_attention_cache_update_index=0,
    )
    assert len(actual) == 3
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), atol=1e-5)
    np.testing.assert_allclose(actual[2], ours.compute_cross_attention_cache(x), atol=1e-6)
    # Step by step in a compiled loop with the filled cross cache read-only.
    full_cross = actual[2]

    @tf.function
    def decode(self_cache):
        pieces = []
        for i in range(4):
            out, self_cache = ours(
                y[:, i : i + 1], x, cache=self_cache, cache_update_index=i,
                cross_attention_cache=full_cross,
            )
            pieces.append(out)
        return tf.concat(pieces, 1), self_cache

    outputs, final_cache = decode(tf.zeros((2, 2, 4, 2, 8)))
    np.testing.assert_allclose(outputs, expected[0], atol=1e-5)
    np.testing.assert_allclose(final_cache, expected[1], atol=1e-5)


def test_padding_masks_from_keras_masks_with_other_tensor_arguments(seqs):
    x, _ = seqs
    embedding = keras.layers.Embedding(9, 16, mask_zero=True)
    ids = np.array([[1, 2, 3, 4, 0, 0], [5, 6, 0, 0, 0, 0]])
    attention = np.random.default_rng(0).random((2, 6, 6)) > 0.2
    attention[:, :, 0] = True
    encoder = TransformerEncoderBlock(2, 8)
    embedded = embedding(ids)
    # With another tensor argument Keras fills `inputs_mask`, not `mask`.
    implicit = encoder(embedded, attention_mask=attention)
    explicit = encoder(np.asarray(embedded), padding_mask=ids != 0, attention_mask=attention)
    real = ids != 0  # padded query rows differ: an implicit mask also masks them
    np.testing.assert_allclose(np.asarray(implicit)[real], np.asarray(explicit)[real], atol=1e-6)
    peer = keras_hub.layers.TransformerEncoder(8, 2)
    peer(np.asarray(embedded))
    peer.set_weights(encoder.get_weights())
    np.testing.assert_allclose(implicit, peer(embedding(ids), attention_mask=attention), atol=1e-5)
    np.testing.assert_allclose(
        explicit, peer(np.asarray(embedded), padding_mask=ids != 0, attention_mask=attention),
        atol=1e-5,
    )


def test_mask_errors_show_both_shapes(seqs):
    x, y = seqs
    encoder = TransformerEncoderBlock(2, 8)
    with pytest.raises(ValueError, match=r"`padding_mask` of shape \(2, 5\) does not broadcast to"
                       r" `inputs` \[batch, time\] of shape \(2, 6\)"):
        encoder(x, padding_mask=np.ones((2, 5), bool))
    with pytest.raises(ValueError, match=r"`attention_mask` of shape \(2, 6, 4\) does not broadcast"
                       r" to \[batch, query_time, key_time\] of shape \(2, 6, 6\)"):
        encoder(x, attention_mask=np.ones((2, 6, 4), bool))
    decoder = TransformerDecoderBlock(2, 8)
    with pytest.raises(ValueError, match=r"`encoder_padding_mask` of shape \(2, 4\)"):
        decoder(y, x, encoder_padding_mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="`cross_attention_cache_update_index` was given without"):
        decoder(y, x, cross_attention_cache_update_index=0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "mixed_float16"])
@pytest.mark.parametrize("offset", [0.0, 50.0])
def test_block_layer_norm_matches_keras(rng, dtype, offset):
    # The blocks normalise through `normalize` (on TensorFlow a shorter op
    # chain than Keras's); outputs and gradients (inputs, gamma, beta) agree
    # with `keras.layers.LayerNormalization` itself, also for inputs far from
    # zero mean and under mixed precision (statistics in float32 there).
    from keras_seq.layers._block_utils import normalize

    norm = keras.layers.LayerNormalization(epsilon=1e-5, dtype=dtype)
    x = tf.constant(offset + 3.0 * rng.normal(size=(3, 5, 24)), norm.compute_dtype)
    norm.build(x.shape)
    norm.gamma.assign(1.0 + 0.5 * rng.normal(size=24))
    norm.beta.assign(rng.normal(size=24))
    cotangent = tf.constant(rng.normal(size=(3, 5, 24)), "float64")
    results = []
    for fn in (norm, lambda t: normalize(norm, t)):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
            loss = tf.reduce_sum(tf.cast(y, "float64") * cotangent)
        grads = tape.gradient(loss, [x, norm.gamma.value, norm.beta.value])
        assert y.dtype == norm.compute_dtype
        results.append([y] + grads)
    tol = {"float32": 1e-5, "float64": 1e-12, "mixed_float16": 2e-3}[dtype]
    for ours, theirs in zip(results[1], results[0]):
        ours, theirs = np.asarray(ours, "float64"), np.asarray(theirs, "float64")
        np.testing.assert_allclose(ours, theirs, atol=tol * (1 + np.abs(theirs).max()))


def test_encoder_with_random_layer_norms_matches_keras_hub_in_float64(rng):
    # Non-trivial LayerNorm weights and gradients of every weight, in float64
    # (the fast LayerNorm of the blocks against keras-hub's Keras ones).
    x = tf.constant(rng.normal(size=(2, 6, 16)), "float64")
    peer = keras_hub.layers.TransformerEncoder(20, 4, dtype="float64")
    ours = TransformerEncoderBlock(4, 20, dtype="float64")
    peer(x)
    ours(x)
    peer.set_weights([w + 0.1 * rng.normal(size=w.shape) for w in peer.get_weights()])
    ours.set_weights(peer.get_weights())
    grads = []
    for layer in (ours, peer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=True) ** 2)
        grads.append(tape.gradient(loss, [x] + layer.trainable_variables))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, atol=1e-10)
