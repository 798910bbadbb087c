import keras
import numpy as np
import pytest

from keras_seq.models import AttentionSeq2Seq
from keras_seq.text import Vocabulary, shift_right

SMALL = dict(embedding_dim=8, encoder_units=8, decoder_units=16, attention_units=8)


@pytest.fixture
def model():
    keras.utils.set_random_seed(0)
    return AttentionSeq2Seq(20, 12, **SMALL)


@pytest.fixture
def batch(rng):
    encoder = rng.integers(4, 20, size=(3, 7)).astype("int32")
    encoder[1, 5:] = 0
    decoder = rng.integers(4, 12, size=(3, 5)).astype("int32")
    return {"encoder_tokens": encoder, "decoder_tokens": decoder}


def test_logits_shape_and_trailing_padding_is_ignored(model, batch):
    logits = np.asarray(model(batch))
    assert logits.shape == (3, 5, 12)
    padded = dict(batch, encoder_tokens=np.pad(batch["encoder_tokens"], ((0, 0), (0, 4))))
    np.testing.assert_allclose(np.asarray(model(padded)), logits, atol=1e-5)


def test_attention_is_a_distribution_over_real_source_tokens(model, batch):
    weights = np.asarray(model.attention_weights(batch["encoder_tokens"], batch["decoder_tokens"]))
    assert weights.shape == (3, 5, 7)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    assert np.all(weights[1, :, 5:] == 0)


def test_greedy_generate_is_the_argmax_of_teacher_forcing_on_its_own_output(model, batch):
    tokens, attention = model.generate(batch["encoder_tokens"], max_length=6, return_attention=True)
    assert tokens.shape == (3, 6) and attention.shape == (3, 6, 7)
    logits = model({"encoder_tokens": batch["encoder_tokens"], "decoder_tokens": np.asarray(shift_right(tokens, 2))})
    expected = np.argmax(np.asarray(logits), -1)
    for row, ref in zip(tokens, expected):
        stop = list(row).index(3) + 1 if 3 in row else len(row)
        np.testing.assert_array_equal(row[:stop], ref[:stop])
        assert np.all(row[stop:] == 0)


def test_learns_to_copy_and_save_load_round_trip(tmp_path):
    keras.utils.set_random_seed(1)
    vocab = Vocabulary(list("abcdef"))
    rng = np.random.default_rng(0)
    words = ["".join(rng.choice(list("abcdef"), size=rng.integers(2, 6))) for _ in range(2000)]
    x = vocab.encode(words, add_eos=True, max_length=7)
    model = AttentionSeq2Seq(
        len(vocab), len(vocab), embedding_dim=16, encoder_units=32, decoder_units=64,
        attention_units=32, source_vocabulary=vocab, target_vocabulary=vocab,
    )
    model.compile(
        keras.optimizers.Adam(1e-2),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    )
    model.fit({"encoder_tokens": x, "decoder_tokens": np.asarray(shift_right(x, 2))}, x, epochs=6, batch_size=64, verbose=0)
    tests = ["abc", "fed", "aabb", "cafe"]
    assert model.translate(tests) == tests
    model.save(tmp_path / "copy.keras")
    restored = keras.models.load_model(tmp_path / "copy.keras")
    assert isinstance(restored, AttentionSeq2Seq)
    assert restored.translate(tests) == tests
    batch = {"encoder_tokens": x[:4], "decoder_tokens": np.asarray(shift_right(x[:4], 2))}
    np.testing.assert_array_equal(np.asarray(restored(batch)), np.asarray(model(batch)))


def test_mixed_precision_keeps_float32_logits(batch):
    model = AttentionSeq2Seq(20, 12, dtype="mixed_float16", **SMALL)
    logits = model(batch)
    assert logits.dtype == "float32"
    assert np.all(np.isfinite(np.asarray(logits)))


def test_errors(model, batch):
    with pytest.raises(ValueError, match="`encoder_units` must be a positive integer"):
        AttentionSeq2Seq(10, 10, encoder_units=0)
    with pytest.raises(ValueError, match="'encoder_tokens' and 'decoder_tokens'"):
        model({"tokens": batch["encoder_tokens"]})
    with pytest.raises(ValueError, match="`max_length` must be a positive integer"):
        model.generate(batch["encoder_tokens"], max_length=0)
    with pytest.raises(ValueError, match="`encoder_tokens` must be integer ids of rank 2"):
        model.generate(batch["encoder_tokens"][0], max_length=3)
    with pytest.raises(ValueError, match="needs `source_vocabulary`"):
        model.translate("abc")


def test_beam_search_generation(model, batch):
    greedy = model.generate(batch["encoder_tokens"], max_length=6)
    np.testing.assert_array_equal(
        model.generate(batch["encoder_tokens"], max_length=6, strategy="beam", beam_width=1), greedy
    )
    assert model.generate(batch["encoder_tokens"], max_length=6, strategy="beam", beam_width=3).shape == (3, 6)
    with pytest.raises(ValueError, match="strategy='greedy' only"):
        model.generate(batch["encoder_tokens"], max_length=6, strategy="beam", return_attention=True)
