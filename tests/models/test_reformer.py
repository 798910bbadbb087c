import os
import tempfile

import keras
import numpy as np
import pytest

from keras_seq.models import ReformerLM
from keras_seq.models.reformer import (
    AxialPositionEmbedding,
    ReformerAttention,
    ReformerFeedForward,
    default_axial_shape,
)
from keras_seq.testing import run_layer_test


def small_lm(**kwargs):
    options = dict(num_layers=2, hidden_dim=16, num_heads=2, intermediate_dim=32, bucket_size=4)
    options.update(kwargs)
    return ReformerLM(30, 32, **options)


def tokens(batch=2, length=16, seed=0):
    return np.random.default_rng(seed).integers(4, 30, size=(batch, length)).astype("int32")


@pytest.mark.parametrize(
    "position,token_shift", [("axial", False), ("sinusoidal", False), ("none", True)]
)
def test_causal_with_one_chunk(position, token_shift):
    """bucket_size >= T: one chunk, so LSH attention is full causal attention
    and a position's logits depend on earlier tokens only (also with the
    token shift, which moves information one step forward only)."""
    lm = small_lm(bucket_size=16, position=position, token_shift=token_shift)
    x = tokens()
    base = lm(x).numpy()
    for k in (3, 9, 15):
        changed = x.copy()
        changed[:, k:] = tokens(seed=k)[:, k:]
        out = lm(changed).numpy()
        np.testing.assert_allclose(out[:, :k], base[:, :k], atol=1e-5, rtol=1e-5)
        assert np.max(np.abs(out[:, k] - base[:, k])) > 1e-4


def test_padded_contents_never_change_real_positions():
    """Several chunks: padding is hashed after every real token and never
    attended to, so whatever the padded positions hold, the logits of the
    real ones stay the same (what `generate` relies on)."""
    lm = small_lm()
    x = tokens(length=24)
    for k in (5, 13, 20):
        padded = x.copy()
        padded[:, k:] = 0
        expected = lm(padded).numpy()[:, :k]
        # Same ids with a padding mask through the layers: the padded positions'
        # ids are 0, so only their embeddings could differ; perturb the
        # embedding of id 0 to check that nothing leaks from them.
        table = lm.token_embedding.embeddings
        saved = table.numpy()
        changed = saved.copy()
        changed[0] += 3.0
        table.assign(changed)
        got = lm(padded).numpy()[:, :k]
        table.assign(saved)
        np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)


def test_attention_never_looks_ahead_within_chunks():
    """With several chunks, changing only the *value* path of later tokens
    (keeping their buckets) leaves earlier outputs unchanged: the only way a
    later token affects an earlier one is through the chunk partition."""
    attention = ReformerAttention(2, 4, bucket_size=4, num_hashes=2, causal=True, seed=0)
    x = np.random.default_rng(0).normal(size=(1, 16, 8)).astype("float32")
    buckets = attention.compute_buckets(x)
    base = attention(x, buckets=buckets).numpy()
    changed = x.copy()
    changed[:, 10:] = np.random.default_rng(1).normal(size=(1, 6, 8))
    out = attention(changed, buckets=buckets).numpy()
    np.testing.assert_allclose(out[:, :10], base[:, :10], atol=1e-5)
    assert np.max(np.abs(out[:, 10:] - base[:, 10:])) > 1e-3


def test_token_shift_embedding_formula():
    """With `token_shift`, the last D // 2 channels at position p are the
    embedding of token p - 1 (zeros at p = 0); no position features with
    position="none"."""
    lm = small_lm(position="none", token_shift=True, hidden_dim=10)
    x = tokens(length=7)
    lm(x)
    table = lm.token_embedding.embeddings.numpy()
    got = np.asarray(lm._embed(x, training=False))
    for b in range(2):
        for p in range(7):
            np.testing.assert_array_equal(got[b, p, :5], table[x[b, p], :5])
            expected = table[x[b, p - 1], 5:] if p else np.zeros(5)
            np.testing.assert_array_equal(got[b, p, 5:], expected)
    # Without the shift (and no positions) the embedding is the table row.
    plain = small_lm(position="none", hidden_dim=10)
    plain(x)
    np.testing.assert_array_equal(
        np.asarray(plain._embed(x, training=False)),
        plain.token_embedding.embeddings.numpy()[x],
    )


def test_with_num_hashes_keeps_the_weights():
    lm = small_lm(num_hashes=1, token_shift=True, position="none")
    x = tokens(length=24)
    base = lm(x).numpy()
    more = lm.with_num_hashes(4)
    assert more.num_hashes == 4 and more.get_config()["num_hashes"] == 4
    assert all(a.attention.num_hashes == 4 for a in _attention_layers(more))
    for w, v in zip(lm.get_weights(), more.get_weights()):
        np.testing.assert_array_equal(w, v)
    # Several chunks: other rounds attend to other tokens.
    assert np.max(np.abs(more(x).numpy() - base)) > 1e-4
    # One chunk (bucket_size >= T): every round is full causal attention and
    # identical rounds combine to one round, so the outputs agree.
    short = x[:, :4]
    np.testing.assert_allclose(more(short).numpy(), lm(short).numpy(), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="`num_hashes` must be a positive integer"):
        lm.with_num_hashes(0)


def _attention_layers(lm):
    return [layer for layer in lm._flatten_layers() if isinstance(layer, ReformerAttention)]


def test_greedy_generate_equals_argmax_of_padded_runs():
    lm = small_lm()
    prompt = np.array([[2, 7, 9, 0], [2, 5, 0, 0]], "int32")
    out = lm.generate(prompt, max_length=9)
    assert out.shape == (2, 9)
    np.testing.assert_array_equal(out[:, :2], prompt[:, :2])
    for row, length in ((0, 3), (1, 2)):
        seq = list(out[row, :length])
        for _ in range(length, 9):
            if seq[-1] == lm.end_id:
                break
            buffer = np.zeros((1, 9), "int32")
            buffer[0, : len(seq)] = seq
            logits = lm(buffer).numpy()[0, len(seq) - 1]
            seq.append(int(np.argmax(logits)))
        np.testing.assert_array_equal(out[row, : len(seq)], seq)


def test_sample_and_beam_run():
    lm = small_lm()
    prompt = np.array([[2, 7], [2, 5]], "int32")
    assert lm.generate(prompt, 6, strategy="sample", seed=1, top_k=5).shape == (2, 6)
    assert lm.generate(prompt, 6, strategy="beam", beam_width=2).shape == (2, 6)


@pytest.mark.parametrize("options", [{}, {"position": "none", "token_shift": True}])
def test_fit_lowers_loss_and_save_load(options):
    lm = small_lm(dropout=0.1, **options)
    rng = np.random.default_rng(0)
    # Periodic sequences: learnable from the previous tokens.
    start = rng.integers(0, 4, size=(32, 1))
    data = (4 + (start + np.arange(17)[None]) % 4).astype("int32")
    lm.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    )
    history = lm.fit(data[:, :-1], data[:, 1:], epochs=12, batch_size=8, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    x = data[:4, :-1]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "lm.keras")
        lm.save(path)
        restored = keras.models.load_model(path)
    np.testing.assert_allclose(restored(x), lm(x), atol=0, rtol=0)
    assert restored.get_config() == lm.get_config()


def test_invalid_arguments():
    with pytest.raises(ValueError, match="`num_layers` must be a positive integer"):
        ReformerLM(10, 8, num_layers=0)
    with pytest.raises(ValueError, match="divisible by `num_heads`"):
        ReformerLM(10, 8, hidden_dim=10, num_heads=4)
    with pytest.raises(ValueError, match="`position` must be 'axial', 'sinusoidal' or 'none'"):
        ReformerLM(10, 8, position="learned")
    with pytest.raises(ValueError, match="`token_shift` must be a bool"):
        ReformerLM(10, 8, token_shift=1)
    with pytest.raises(ValueError, match="`axial_shape`"):
        ReformerLM(10, 64, axial_shape=(4, 4))
    lm = small_lm()
    with pytest.raises(ValueError, match="rank 2"):
        lm(np.ones((2, 3, 4), "int32"))
    with pytest.raises(ValueError, match="sequence_length"):
        lm(np.ones((1, 40), "int32"))
    with pytest.raises(ValueError, match="`max_length`"):
        lm.generate(np.ones((1, 2), "int32"), max_length=64)


def test_axial_position_embedding_formula():
    layer = AxialPositionEmbedding((3, 4), 6)
    out = layer(np.zeros((1, 11))).numpy()[0]
    rows, columns = layer.row_embeddings.numpy(), layer.column_embeddings.numpy()
    for p in range(11):
        np.testing.assert_array_equal(out[p], np.concatenate([rows[p // 4], columns[p % 4]]))
    assert default_axial_shape(8192) == (91, 91) or np.prod(default_axial_shape(8192)) >= 8192
    r, c = default_axial_shape(8192)
    assert r * c >= 8192 and abs(r - c) <= 1


def test_run_layer_test_sublayers():
    x = np.random.default_rng(0).normal(size=(2, 8, 8)).astype("float32")
    run_layer_test(
        ReformerAttention,
        {"num_heads": 2, "key_dim": 4, "bucket_size": 4, "num_hashes": 2, "causal": True,
         "seed": 3},
        x,
        expected_output_shape=(2, 8, 8),
    )
    run_layer_test(
        ReformerFeedForward,
        {"intermediate_dim": 16, "num_chunks": 2, "dropout": 0.1},
        x,
        expected_output_shape=(2, 8, 8),
    )
