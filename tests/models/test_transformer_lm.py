import keras
import numpy as np
import pytest

from keras_seq.models import TransformerLM

SMALL = dict(num_layers=2, hidden_dim=16, num_heads=2, intermediate_dim=32, dropout=0.0)


@pytest.fixture(params=[True, False], ids=["tied-prenorm", "untied-postnorm"])
def lm(request):
    keras.utils.set_random_seed(0)
    tied = request.param
    return TransformerLM(30, 12, tie_embeddings=tied, norm_first=tied,
                         position="learned" if tied else "sinusoidal", **SMALL)


def test_causality_future_tokens_never_change_earlier_logits(lm, rng):
    tokens = rng.integers(4, 30, size=(2, 10)).astype("int32")
    changed = tokens.copy()
    changed[:, 6:] = rng.integers(4, 30, size=(2, 4))
    a, b = np.asarray(lm(tokens)), np.asarray(lm(changed))
    np.testing.assert_allclose(a[:, :6], b[:, :6], atol=1e-5)
    assert np.abs(a[:, 6:] - b[:, 6:]).max() > 1e-4


def test_padding_does_not_change_real_positions(lm, rng):
    tokens = rng.integers(4, 30, size=(2, 6)).astype("int32")
    padded = np.pad(tokens, ((0, 0), (0, 4)))
    np.testing.assert_allclose(np.asarray(lm(padded))[:, :6], np.asarray(lm(tokens)), atol=1e-5)


def test_cached_generation_equals_uncached_greedy(lm):
    prompts = np.array([[2, 7, 9, 0], [2, 5, 0, 0], [2, 11, 12, 13]], "int32")
    generated = lm.generate(prompts, max_length=10)
    assert generated.shape == (3, 10)
    for row, prompt in zip(generated, prompts):
        length = int((prompt != 0).sum())
        np.testing.assert_array_equal(row[:length], prompt[:length])
        # Uncached: recompute the full causal pass for every new position.
        sequence = list(prompt[:length])
        while len(sequence) < 10:
            logits = np.asarray(lm(np.array([sequence], "int32")))[0, -1]
            sequence.append(int(np.argmax(logits)))
            if sequence[-1] == lm.end_id:
                break
        np.testing.assert_array_equal(row[: len(sequence)], sequence)
        assert np.all(row[len(sequence):] == 0)


def test_batch_equals_one_by_one(lm):
    prompts = np.array([[2, 7, 9], [2, 5, 0]], "int32")
    batch = lm.generate(prompts, max_length=8)
    for i in range(2):
        np.testing.assert_array_equal(batch[i], lm.generate(prompts[i : i + 1], max_length=8)[0])


def test_learns_a_deterministic_sequence_and_saves(tmp_path):
    keras.utils.set_random_seed(2)
    # A cyclic language: each token determines the next one.
    cycle = np.array([4, 9, 6, 11, 5, 8, 7, 10])
    starts = np.random.default_rng(0).integers(0, 8, size=512)
    data = np.stack([np.roll(cycle, -s)[np.arange(9) % 8] for s in starts]).astype("int32")
    lm = TransformerLM(12, 16, **SMALL)
    lm.compile(keras.optimizers.Adam(5e-3),
               keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0))
    lm.fit(data[:, :-1], data[:, 1:], epochs=20, batch_size=64, verbose=0)
    out = lm.generate(np.array([[4, 0, 0], [6, 11, 0]], "int32"), max_length=9)
    np.testing.assert_array_equal(out[0], [4, 9, 6, 11, 5, 8, 7, 10, 4])
    np.testing.assert_array_equal(out[1], [6, 11, 5, 8, 7, 10, 4, 9, 6])
    lm.save(tmp_path / "lm.keras")
    restored = keras.models.load_model(tmp_path / "lm.keras")
    np.testing.assert_array_equal(np.asarray(restored(data[:2])), np.asarray(lm(data[:2])))
    np.testing.assert_array_equal(restored.generate(np.array([[4, 0, 0], [6, 11, 0]], "int32"), max_length=9), out)


def test_mixed_precision_logits_are_float32(rng):
    lm = TransformerLM(30, 12, dtype="mixed_bfloat16", **SMALL)
    logits = lm(rng.integers(1, 30, size=(2, 5)).astype("int32"))
    assert logits.dtype == "float32"


def test_errors():
    with pytest.raises(ValueError, match="`hidden_dim` \\(10\\) must be divisible"):
        TransformerLM(10, 8, hidden_dim=10, num_heads=4)
    with pytest.raises(ValueError, match="`num_layers` must be a positive integer"):
        TransformerLM(10, 8, num_layers=0)
    lm = TransformerLM(10, 8, **SMALL)
    with pytest.raises(ValueError, match="`max_length` must be an integer in"):
        lm.generate(np.array([[2]]), max_length=9)
    with pytest.raises(ValueError, match="`token_ids` must be integer ids of rank 2"):
        lm(np.zeros((2, 3, 1), "int32"))


def sequence_log_prob(lm, sequence, prompt_length):
    logits = np.asarray(lm(np.array([sequence], "int32")))[0]
    log_probs = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) - logits.max(-1, keepdims=True)
    return sum(log_probs[t - 1, sequence[t]] for t in range(prompt_length, len(sequence)))


def test_beam_and_sampling_strategies(lm):
    prompts = np.array([[2, 7], [2, 5]], "int32")
    greedy = lm.generate(prompts, max_length=8)
    np.testing.assert_array_equal(lm.generate(prompts, max_length=8, strategy="beam", beam_width=1), greedy)
    np.testing.assert_array_equal(lm.generate(prompts, max_length=8, strategy="sample", top_k=1, seed=3), greedy)
    beam = lm.generate(prompts, max_length=8, strategy="beam", beam_width=4)
    for b, g in zip(beam, greedy):
        # Without an end token in these 8 steps, alpha=0 beam search maximises
        # the summed log-probability: it can only match or beat greedy.
        if lm.end_id not in b and lm.end_id not in g:
            assert sequence_log_prob(lm, list(b), 2) >= sequence_log_prob(lm, list(g), 2) - 1e-4
    a = lm.generate(prompts, max_length=8, strategy="sample", seed=9)
    np.testing.assert_array_equal(a, lm.generate(prompts, max_length=8, strategy="sample", seed=9))
    with pytest.raises(ValueError, match="`strategy` must be one of"):
        lm.generate(prompts, max_length=8, strategy="nucleus")
