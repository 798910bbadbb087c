"""ner: features, masking, BIO Viterbi (brute force), fast training against
the memorisation baseline, save/reload, CLI."""

import itertools

import keras
import numpy as np
import pytest

from applications.ner import app
from applications.ner.__main__ import main
from applications.ner.data import generate_sentences, save_conll
from keras_seq.text import Vocabulary


def small_model():
    sentences = generate_sentences(200, seed=1)
    return app.NERTagger(*app.build_vocabularies(sentences), word_dim=8, units=8, char_filters=4), sentences


def test_features_and_word_dropout():
    model, sentences = small_model()
    inputs, targets, weights = app.encode(model, sentences[:20])
    tokens, tags = sentences[0]
    n = len(tokens)
    assert [model.tags[k - 1] for k in targets[0, :n]] == tags
    np.testing.assert_array_equal(weights, targets != 0)
    assert (inputs["words"][0, n:] == 0).all() and (inputs["words"][0, :n] != 0).all()
    assert model.char_vocabulary.decode(inputs["chars"][0, 0]) == tokens[0][: app.MAX_WORD_CHARS]
    assert model.shape_vocabulary.id_to_token(int(inputs["shapes"][0, 0])) == app.word_shape(tokens[0])
    many = generate_sentences(2000, seed=2)
    dropped, _, _ = app.encode(model, many, word_dropout=0.2, entity_word_dropout=0.6, seed=0)
    clean, targets, _ = app.encode(model, many)
    changed = dropped["words"] != clean["words"]
    assert (dropped["words"][changed] == Vocabulary.UNK).all()
    outside = targets == model.tags.index("O") + 1
    inside = (targets != 0) & ~outside
    known_out = outside & (clean["words"] != Vocabulary.UNK)
    known_in = inside & (clean["words"] != Vocabulary.UNK)
    assert known_in.sum() > 1500
    assert changed[known_out].mean() == pytest.approx(0.2, abs=0.02)
    assert changed[known_in].mean() == pytest.approx(0.6, abs=0.04)


def test_padding_is_masked_in_outputs_and_loss():
    model, sentences = small_model()
    inputs, targets, weights = app.encode(model, sentences[:4])
    logits = np.asarray(model(inputs))
    # Longer padding (and garbage ids under the padding of the char input) changes nothing.
    padded = {k: np.concatenate([v, np.zeros_like(v[:, :5])], axis=1) for k, v in inputs.items()}
    padded["chars"][:, -5:] = 3
    wider = np.asarray(model(padded))
    real = targets != 0
    np.testing.assert_allclose(wider[:, : logits.shape[1]][real], logits[real], atol=1e-5)
    # The weighted loss is the mean cross-entropy over the real tokens only.
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    log_probs = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    weighted = float(loss(targets, logits, sample_weight=weights))
    assert weighted == pytest.approx(-picked[real].sum(), rel=1e-5)
    assert float(loss(targets, logits)) > weighted + 1.0  # padding would add its own terms


def test_bio_viterbi_equals_brute_force():
    tags = ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]
    allowed = app.allowed_transitions(tags)
    rng = np.random.default_rng(0)
    for _ in range(30):
        steps = int(rng.integers(1, 5))
        log_probs = np.log(rng.dirichlet(np.ones(len(tags)), size=steps))
        best, best_score = None, -np.inf
        for path in itertools.product(range(len(tags)), repeat=steps):
            if tags[path[0]].startswith("I-") or not all(allowed[a, b] for a, b in zip(path, path[1:])):
                continue
            score = sum(log_probs[t, k] for t, k in enumerate(path))
            if score > best_score:
                best, best_score = list(path), score
        assert app.bio_viterbi(log_probs, tags) == best
    assert app.bio_viterbi(np.zeros((0, 5)), tags) == []


# `trained` (tests/applications/conftest.py) trains `app` once with these options.
FAST_TRAINING = {"output": "ner.keras", "eval_examples": 400}


def test_fast_size_beats_the_memorisation_baseline(trained):
    root, result = trained
    unseen, templates = result["splits"]["unseen_entities"], result["splits"]["held_out_templates"]
    # Stated baseline: the CoNLL memorisation tagger, near 0 when every entity is new.
    for name in ("unseen_entities", "held_out_templates"):
        assert result["baselines"][name]["f1"] < 0.1
    assert unseen["f1"] >= 0.9, unseen
    assert templates["f1"] >= 0.5, templates
    assert result["history"]["val_loss"][-1] < result["history"]["val_loss"][0]
    assert (root / "logs").exists()


def test_reload_predict_evaluate_and_cli(trained, tmp_path, capsys):
    root, result = trained
    path = str(root / "ner.keras")
    restored = keras.models.load_model(path)
    assert isinstance(restored, app.NERTagger)
    sentences = ["Dr. Lorna Quist flew to Port Ellisburgh to meet executives from Quist Motors .", ["Rome"]]
    assert restored.tag(sentences) == result["model"].tag(sentences)
    lines = app.predict(path, sentences[:1])
    assert lines[0].split()[0] == "Dr./O" and len(lines[0].split()) == 14
    assert main(["predict", sentences[0], "--model", path]) == 0
    assert capsys.readouterr().out.strip() == lines[0]
    # evaluate on a CoNLL file written here: the scores match scoring the tags directly.
    test = generate_sentences(40, seed=9, split="unseen_entities")
    save_conll(tmp_path / "test.conll", test)
    scores = app.evaluate(path, data=str(tmp_path / "test.conll"))
    expected = app.score(restored, {"file": test})["splits"]["file"]
    assert scores["splits"]["file"] == expected and scores["eval_examples"] == 40


def test_bad_arguments():
    model, sentences = small_model()
    vocabularies = app.build_vocabularies(sentences)
    with pytest.raises(ValueError, match="`tags`"):
        app.NERTagger(*vocabularies[:3], ["O", "O"])
    with pytest.raises(ValueError, match="`char_vocabulary`"):
        app.NERTagger(vocabularies[0], vocabularies[0], vocabularies[2], vocabularies[3])
    with pytest.raises(ValueError, match="`units`"):
        app.NERTagger(*vocabularies, units=0)
    with pytest.raises(ValueError, match="`sentences`"):
        model.tag("Paris is nice")
    with pytest.raises(ValueError, match="`size`"):
        app.build_model(vocabularies, size="large")


def test_trains_on_a_conll_file(tmp_path):
    path = tmp_path / "train.conll"
    save_conll(path, generate_sentences(300, seed=11))
    result = app.train(size="fast", epochs=1, data=str(path), eval_examples=30, output=str(tmp_path / "n.keras"), verbose=0)
    assert list(result["splits"]) == ["held_out"] and result["eval_examples"] == 30
    assert result["splits"]["held_out"]["gold"] > 30
    assert isinstance(app.load(str(tmp_path / "n.keras")), app.NERTagger)
