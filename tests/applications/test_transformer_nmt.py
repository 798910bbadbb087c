"""End-to-end: the Transformer translator trains (fast size), saves and predicts."""

import glob

import keras
import pytest

from applications.transformer_nmt import app
from applications.transformer_nmt.__main__ import main
from applications.transformer_nmt.data import save_tsv

# `trained` (tests/applications/conftest.py) trains `app` once with these options.
FAST_TRAINING = {"output": "nmt.keras", "eval_examples": 300}


def test_fast_size_learns_beyond_chance(trained):
    _, result = trained
    # The fast size trains for well under a minute; it must clearly learn
    # (the default size reaches the targets, see RESULTS.md).
    assert result["bleu"] > 30.0, result["examples"][:5]
    assert result["history"]["val_loss"][-1] < result["history"]["val_loss"][0]
    assert glob.glob(str(trained[0] / "logs" / "train" / "events.*"))


def test_saved_model_translates_like_the_trained_one(trained, capsys):
    root, result = trained
    restored = keras.models.load_model(root / "nmt.keras")
    sources = ["siebentausend", "trois cent douze", "el siete de marzo de mil novecientos noventa y cinco"]
    assert restored.translate(sources) == result["model"].translate(sources)
    assert main(["predict", *sources[:2], "--model", str(root / "nmt.keras")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == sources[:2]


def test_evaluate_on_a_tsv(trained, capsys):
    root, _ = trained
    path = root / "pairs.tsv"
    save_tsv(path, [("siebentausend", "seven thousand"), ("drei", "three")])
    assert main(["evaluate", "--model", str(root / "nmt.keras"), "--data", str(path)]) == 0
    assert "2 examples: BLEU" in capsys.readouterr().out
    assert main(["evaluate", "--model", str(root / "nmt.keras"), "--data", str(path), "--beam-width", "3"]) == 0
    assert "2 examples: BLEU" in capsys.readouterr().out


def test_load_rejects_other_models(tmp_path):
    other = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    other.save(tmp_path / "other.keras")
    with pytest.raises(ValueError, match="not a transformer_nmt model"):
        app.load(tmp_path / "other.keras")
