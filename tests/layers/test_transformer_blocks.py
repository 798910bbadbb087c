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
