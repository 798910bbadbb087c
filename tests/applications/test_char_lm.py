"""char_lm: teacher forcing with <eos>, nats/char against keras_seq.metrics,
sampling through the carried RNN state, fast training, save/reload, CLI."""

import math

import keras
import numpy as np
import pytest

from applications.char_lm import app
from applications.char_lm.__main__ import main
from keras_seq.metrics import perplexity
from keras_seq.text import Vocabulary


def test_teacher_forcing_rows_end_with_eos():
    vocabulary = Vocabulary.build(["anna", "bob"])
    inputs, targets = app.encode_items(vocabulary, ["anna", "bob", "abababab"], length=6)
    assert vocabulary.decode(inputs[0]) == "anna" and inputs[0, 0] == Vocabulary.SOS
    np.testing.assert_array_equal(targets[0], list(vocabulary.encode("anna", pad=False)) + [Vocabulary.EOS, 0])
    characters = (targets[:, :-1] != 0) & (targets[:, :-1] != Vocabulary.EOS)
    np.testing.assert_array_equal(inputs[:, 1:][characters], targets[:, :-1][characters])
    assert (targets == Vocabulary.EOS).sum(axis=1).tolist() == [1, 1, 1]  # long item cut, <eos> kept


def test_count_baselines_by_hand():
    result = app.baselines(["ab"], ["ba"])
    # Symbols: a, b, <eos>, <unk> (4). Test tokens: b (after <sos>), a (after b), <eos> (after a).
    unigram = -(math.log(2 / 7) + math.log(2 / 7) + math.log(2 / 7)) / 3
    bigram = -(math.log(1 / 5) + math.log(1 / 5) + math.log(1 / 5)) / 3
    assert result["unigram"] == pytest.approx(unigram)
    assert result["bigram"] == pytest.approx(bigram)
    assert app.novelty(["ab", "abc", ""], ["ab"]) == pytest.approx(1 / 3)


# `trained` (tests/applications/conftest.py) trains `app` once with these options.
FAST_TRAINING = {"output": "lm.keras", "eval_examples": 500}


def test_fast_size_beats_the_bigram_baseline_and_samples_novel_names(trained):
    root, result = trained
    # Stated baseline: an add-one character bigram model on the same split.
    assert result["nats_per_char"] < result["baselines"]["bigram"] - 0.2, result["baselines"]
    assert result["history"]["val_loss"][-1] < result["history"]["val_loss"][0]
    assert result["novelty"] >= 0.75
    assert len(result["samples"]) == 500 and all(s.isalpha() for s in result["samples"] if s)
    assert (root / "logs").exists()


def test_nats_per_char_equals_log_perplexity(trained):
    _, result = trained
    model = result["model"]
    items = ["mary", "zeke", "annabelle"]
    inputs, targets = app.encode_items(model.vocabulary, items, model.sequence_length)
    expected = math.log(float(perplexity(targets, model(inputs), mask=targets != 0)))
    assert app.nats_per_char(model, items) == pytest.approx(expected, rel=1e-5)


def test_sampling_carries_the_state_like_the_full_forward_pass(trained):
    _, result = trained
    model = result["model"]
    # top_p -> 0 keeps only the most probable character: a greedy chain.
    greedy = model.generate(["", "ma", "chr"], top_p=1e-6, seed=0)
    for prefix, text in zip(["", "ma", "chr"], greedy):
        assert text.startswith(prefix)
        # Recompute each step with the whole sequence (no carried state).
        tokens = [Vocabulary.SOS] + list(model.vocabulary.encode(prefix, pad=False))
        while len(tokens) < model.sequence_length:
            logits = np.asarray(model(np.array([tokens])))[0, -1]
            nxt = int(np.argmax(logits))
            if nxt == Vocabulary.EOS:
                break
            tokens.append(nxt)
        assert text == model.vocabulary.decode(tokens[1:])
    a = model.generate([""] * 50, temperature=0.9, top_p=0.95, seed=3)
    assert a == model.generate([""] * 50, temperature=0.9, top_p=0.95, seed=3)
    assert len(set(a)) > 10


def test_reload_predict_and_cli(trained, capsys):
    root, result = trained
    path = str(root / "lm.keras")
    restored = keras.models.load_model(path)
    assert isinstance(restored, app.CharLM) and restored.cell == "gru"
    items = ["olivia", "noah"]
    assert app.nats_per_char(restored, items) == pytest.approx(app.nats_per_char(result["model"], items), rel=1e-6)
    expected = result["model"].generate(["", "jo"], seed=7, top_p=0.9)
    assert app.predict(path, ["", "jo"], seed=7, top_p=0.9) == expected
    assert main(["predict", "", "jo", "--model", path, "--seed", "7", "--top-p", "0.9"]) == 0
    assert capsys.readouterr().out.splitlines() == expected


def test_bad_arguments():
    vocabulary = Vocabulary.build(["ab"])
    with pytest.raises(ValueError, match="`cell`"):
        app.CharLM(vocabulary, cell="rnn")
    with pytest.raises(ValueError, match="`units`"):
        app.CharLM(vocabulary, units=0)
    with pytest.raises(ValueError, match="`vocabulary`"):
        app.CharLM(Vocabulary.build(["a b"], level="word"))
    model = app.CharLM(vocabulary, units=4, embedding_dim=2, sequence_length=4)
    with pytest.raises(ValueError, match="`prefixes`"):
        model.generate("ab")
    with pytest.raises(ValueError, match="`prefixes` must be shorter"):
        model.generate(["abab"])
    with pytest.raises(ValueError, match="`size`"):
        app.build_model(vocabulary, size="huge")


def test_trains_on_a_text_file(tmp_path):
    from applications.char_lm.data import generate_dinosaur_names

    path = tmp_path / "dinos.txt"
    path.write_text("\n".join(generate_dinosaur_names(300, seed=2)) + "\n", encoding="utf-8")
    result = app.train(size="fast", epochs=1, data=str(path), eval_examples=20, output=str(tmp_path / "d.keras"), verbose=0)
    assert result["eval_examples"] == 30 and result["train_items"] == 270
    assert result["nats_per_char"] < result["baselines"]["unigram"] + 1.0
    assert app.load(str(tmp_path / "d.keras")).vocabulary.tokens == result["model"].vocabulary.tokens
