import itertools

import keras
import numpy as np
import pytest

from keras_seq.models import BertEncoder, BertPretrainer, SpanQAHead, best_span
from keras_seq.testing import run_layer_test

SMALL = dict(num_layers=2, hidden_dim=32, num_heads=4, intermediate_dim=64, dropout=0.0)
MASK_ID = 4


@pytest.fixture
def encoder():
    keras.utils.set_random_seed(0)
    return BertEncoder(40, 16, **SMALL)


def test_encoder_padding_invariance_and_segments(encoder, rng):
    tokens = rng.integers(5, 40, size=(2, 6)).astype("int32")
    out = encoder({"token_ids": tokens})
    padded = encoder({"token_ids": np.pad(tokens, ((0, 0), (0, 4)))})
    np.testing.assert_allclose(np.asarray(padded["sequence_output"])[:, :6], np.asarray(out["sequence_output"]), atol=1e-5)
    np.testing.assert_allclose(np.asarray(padded["pooled_output"]), np.asarray(out["pooled_output"]), atol=1e-5)
    other = encoder({"token_ids": tokens, "segment_ids": np.ones_like(tokens)})
    assert np.abs(np.asarray(other["sequence_output"]) - np.asarray(out["sequence_output"])).max() > 1e-3
    # Bare token ids mean segment 0.
    np.testing.assert_allclose(np.asarray(encoder(tokens)["pooled_output"]), np.asarray(out["pooled_output"]), atol=1e-6)


def cyclic_corpus(n, rng, length=12):
    """Sentences walk a fixed cycle of tokens 5..24; neighbours predict a token.

    Pair = [CLS]=1, A (6 tokens), [SEP]=2, B (5 tokens); B continues A on the
    cycle (next) or starts at a random place (not next)."""
    cycle = np.arange(5, 25)
    tokens, segments, nsp = [], [], []
    for _ in range(n):
        start = rng.integers(0, 20)
        a = cycle[(start + np.arange(6)) % 20]
        is_next = rng.random() < 0.5
        b_start = start + 6 if is_next else start + 6 + rng.integers(3, 17)
        b = cycle[(b_start + np.arange(5)) % 20]
        tokens.append(np.concatenate([[1], a, [2], b]))
        segments.append([0] * 8 + [1] * 5)
        nsp.append(int(is_next))
    return np.array(tokens, "int32"), np.array(segments, "int32"), np.array(nsp, "int32")


def corrupt(tokens, rng):
    """Masks ~15% of the content tokens (never [CLS]/[SEP]) with [MASK]."""
    selectable = tokens >= 5
    selected = selectable & (rng.random(tokens.shape) < 0.15)
    inputs = np.where(selected, MASK_ID, tokens)
    return inputs, np.where(selected, tokens, 0), selected.astype("float32")


def test_pretrainer_learns_mlm_and_nsp_with_tied_weights(tmp_path):
    keras.utils.set_random_seed(4)
    rng = np.random.default_rng(0)
    tokens, segments, nsp = cyclic_corpus(4000, rng)
    inputs, labels, weights = corrupt(tokens, rng)
    model = BertPretrainer(BertEncoder(25, 16, **SMALL))
    model.compile(keras.optimizers.Adam(2e-3))
    x = {"token_ids": inputs, "segment_ids": segments}
    y = {"mlm_labels": labels, "mlm_weights": weights, "nsp_labels": nsp}
    before = model.evaluate(x, y, verbose=0, return_dict=True)
    history = model.fit(x, y, epochs=8, batch_size=64, verbose=0)
    test_tokens, test_segments, test_nsp = cyclic_corpus(500, np.random.default_rng(9))
    t_inputs, t_labels, t_weights = corrupt(test_tokens, np.random.default_rng(10))
    test_x = {"token_ids": t_inputs, "segment_ids": test_segments}
    after = model.evaluate(
        test_x, {"mlm_labels": t_labels, "mlm_weights": t_weights, "nsp_labels": test_nsp},
        verbose=0, return_dict=True,
    )
    assert before["mlm_accuracy"] < 0.2
    assert after["mlm_accuracy"] > 0.9, after
    assert after["nsp_accuracy"] > 0.9, after
    assert history.history["loss"][-1] < history.history["loss"][0]
    # The MLM projection is the token embedding itself.
    assert model.mlm_output.embedding is model.encoder.token_embedding
    model.save(tmp_path / "bert.keras")
    restored = keras.models.load_model(tmp_path / "bert.keras")
    for key in ("mlm_logits", "nsp_logits"):
        np.testing.assert_array_equal(np.asarray(restored(test_x)[key]), np.asarray(model(test_x)[key]))


def brute_force_span(start, end, max_len, mask):
    best = None
    for i, j in itertools.product(range(len(start)), repeat=2):
        if i <= j < i + max_len and mask[i] and mask[j]:
            score = start[i] + end[j]
            if best is None or score > best[2]:
                best = (i, j, score)
    return best


def test_best_span_equals_brute_force(rng):
    for max_len in (1, 3, 7):
        start = rng.normal(size=(20, 9)).astype("float32")
        end = rng.normal(size=(20, 9)).astype("float32")
        mask = rng.random((20, 9)) > 0.2
        mask[:, 0] = True
        s, e, score = (np.asarray(t) for t in best_span(start, end, max_len, mask=mask))
        for b in range(20):
            i, j, best = brute_force_span(start[b], end[b], max_len, mask[b])
            assert (s[b], e[b]) == (i, j)
            assert score[b] == pytest.approx(best, abs=1e-5)


def test_span_head_layer_contract_and_padding(rng):
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    x[1, 4:] = 0.0
    run_layer_test(
        SpanQAHead, {"max_answer_length": 3}, x, expected_output_shape=((2, 6), (2, 6)),
        output_dtype="float32",
    )
    head = SpanQAHead(max_answer_length=2)
    padding = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]], bool)
    start, end = head(x, padding_mask=padding)
    assert np.all(np.asarray(start)[1, 4:] < -1e30)
    s, e, _ = head.predict_spans(x, padding_mask=padding)
    assert np.all(np.asarray(e) - np.asarray(s) < 2) and np.asarray(e)[1] < 4


def test_errors(encoder):
    with pytest.raises(ValueError, match="`num_segments` must be a positive integer"):
        BertEncoder(10, 8, num_segments=0)
    with pytest.raises(ValueError, match="must contain 'token_ids'"):
        encoder({"ids": np.ones((1, 3), "int32")})
    with pytest.raises(ValueError, match="`encoder` must be a BertEncoder"):
        BertPretrainer(keras.layers.Dense(3))
    with pytest.raises(ValueError, match="`max_answer_length` must be a positive integer"):
        SpanQAHead(max_answer_length=0)
    model = BertPretrainer(encoder)
    model.compile("adam")
    with pytest.raises(ValueError, match="needs `y = "):
        model.fit({"token_ids": np.ones((2, 4), "int32")}, np.zeros((2,)), verbose=0)


def test_pretrainer_train_step_under_xla_matches_the_plain_graph():
    rng = np.random.default_rng(2)
    tokens, segments, nsp = cyclic_corpus(16, rng)
    inputs, labels, weights = corrupt(tokens, rng)
    x = {"token_ids": inputs, "segment_ids": segments}
    y = {"mlm_labels": labels, "mlm_weights": weights, "nsp_labels": nsp}
    keras.utils.set_random_seed(5)
    models = [BertPretrainer(BertEncoder(25, 16, **SMALL)) for _ in range(2)]
    for model, jit in zip(models, (False, True)):
        model(x)
        model.set_weights(models[0].get_weights())
        model.compile(keras.optimizers.SGD(0.5), jit_compile=jit)
    assert models[1].jit_compile and not models[0].jit_compile
    plain, compiled = (model.train_on_batch(x, y, return_dict=True) for model in models)
    assert compiled["loss"] == pytest.approx(plain["loss"], rel=1e-5)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(b, a, atol=1e-5)
