import keras
import numpy as np
import pytest

from keras_seq.models import Transformer
from keras_seq.text import shift_right

SMALL = dict(hidden_dim=32, num_heads=4, intermediate_dim=64, dropout=0.0)


def reverse_task(n, rng, vocab=14, max_len=8):
    """Sources of random length; targets are the sources reversed, then <eos>=3."""
    sources = np.zeros((n, max_len), "int32")
    targets = np.zeros((n, max_len + 1), "int32")
    for i in range(n):
        length = rng.integers(2, max_len + 1)
        seq = rng.integers(4, vocab, size=length)
        sources[i, :length] = seq
        targets[i, :length] = seq[::-1]
        targets[i, length] = 3
    return sources, targets


@pytest.fixture
def model():
    keras.utils.set_random_seed(0)
    return Transformer(14, 14, 12, **SMALL)


def test_padding_invariance(model, rng):
    src, tgt = reverse_task(3, rng)
    batch = {"encoder_tokens": src, "decoder_tokens": np.asarray(shift_right(tgt, 2))}
    padded = {"encoder_tokens": np.pad(src, ((0, 0), (0, 3))),
              "decoder_tokens": np.pad(batch["decoder_tokens"], ((0, 0), (0, 2)))}
    real = batch["decoder_tokens"] != 0
    a = np.asarray(model(batch))
    b = np.asarray(model(padded))[:, : a.shape[1]]
    np.testing.assert_allclose(a[real], b[real], atol=1e-5)


def test_cached_generation_equals_uncached_greedy(model, rng):
    src, _ = reverse_task(3, rng)
    generated = model.generate(src, max_length=9)
    for row, source in zip(generated, src):
        sequence = [2]
        while len(sequence) < 10:
            logits = np.asarray(model({"encoder_tokens": source[None], "decoder_tokens": np.array([sequence], "int32")}))
            sequence.append(int(np.argmax(logits[0, -1])))
            if sequence[-1] == 3:
                break
        np.testing.assert_array_equal(row[: len(sequence) - 1], sequence[1:])
        assert np.all(row[len(sequence) - 1 :] == 0)


def test_learns_to_reverse_and_round_trips(tmp_path):
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    src, tgt = reverse_task(6000, rng)
    model = Transformer(14, 14, 12, tie_embeddings=True, **SMALL)
    assert model.shared_embeddings
    model.compile(
        keras.optimizers.Adam(2e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
        metrics=["accuracy"],
    )
    inputs = {"encoder_tokens": src, "decoder_tokens": np.asarray(shift_right(tgt, 2))}
    model.fit(inputs, tgt, epochs=12, batch_size=64, verbose=0)
    test_src, test_tgt = reverse_task(300, np.random.default_rng(99))
    test_inputs = {"encoder_tokens": test_src, "decoder_tokens": np.asarray(shift_right(test_tgt, 2))}
    predictions = np.argmax(np.asarray(model(test_inputs)), -1)
    mask = test_tgt != 0
    token_accuracy = (predictions[mask] == test_tgt[mask]).mean()
    assert token_accuracy >= 0.99, token_accuracy
    generated = model.generate(test_src, max_length=9)
    exact = np.mean([np.array_equal(g, t) for g, t in zip(generated, test_tgt)])
    assert exact >= 0.9, exact
    model.save(tmp_path / "t.keras")
    restored = keras.models.load_model(tmp_path / "t.keras")
    np.testing.assert_array_equal(np.asarray(restored(test_inputs)), np.asarray(model(test_inputs)))
    np.testing.assert_array_equal(restored.generate(test_src, max_length=9), generated)


def test_pre_norm_and_mixed_precision(rng):
    model = Transformer(14, 10, 12, norm_first=True, position="learned", dtype="mixed_float16", **SMALL)
    src, tgt = reverse_task(2, rng, vocab=10)
    logits = model({"encoder_tokens": src, "decoder_tokens": tgt})
    assert logits.dtype == "float32" and logits.shape == (2, 9, 10)
    assert np.all(np.isfinite(np.asarray(logits)))


def test_errors(model):
    with pytest.raises(ValueError, match="`sequence_length` must be a positive integer"):
        Transformer(10, 10, 0)
    with pytest.raises(ValueError, match="'encoder_tokens' and 'decoder_tokens'"):
        model({"encoder_tokens": np.ones((1, 3), "int32")})
    with pytest.raises(ValueError, match="`max_length` must be an integer in"):
        model.generate(np.ones((1, 3), "int32"), max_length=12)


def test_decoding_strategies_agree_where_they_must(model, rng):
    src, _ = reverse_task(3, rng)
    greedy = model.generate(src, max_length=9)
    np.testing.assert_array_equal(model.generate(src, max_length=9, strategy="beam", beam_width=1), greedy)
    np.testing.assert_array_equal(model.generate(src, max_length=9, strategy="sample", temperature=0.0), greedy)
    assert model.generate(src, max_length=9, strategy="beam", beam_width=3, length_penalty=0.7).shape == (3, 9)
