"""End-to-end: the flagship trains, saves, reloads, predicts and logs."""

import glob
import os
import re
import subprocess
import sys

import keras
import pytest
import tensorflow as tf

from applications.dates_nmt import app, save_tsv
from applications.dates_nmt.__main__ import main


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("dates")
    result = app.train(
        size="fast",
        log_dir=str(root / "logs"),
        output=str(root / "dates.keras"),
        eval_examples=1000,
        verbose=0,
    )
    return root, result


def test_fast_size_learns_the_task(trained):
    _, result = trained
    # A prototype of this size reached ~98%; chance is ~0%.
    assert result["exact_match"] >= 0.9, result["examples"][:5]
    assert result["eval_examples"] == 1000
    assert result["history"]["val_accuracy"][-1] > result["history"]["val_accuracy"][0]


def test_tensorboard_has_scalars_and_attention_images(trained):
    root, result = trained
    epochs = len(result["history"]["loss"])
    tags = {}
    for path in glob.glob(str(root / "logs" / "**" / "events.*"), recursive=True):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                tags.setdefault(value.tag, set()).add(event.step)
    assert "epoch_loss" in tags and "epoch_accuracy" in tags
    assert tags["attention"] == set(range(epochs))


def test_saved_model_reloads_and_cli_predicts(trained, capsys):
    root, _ = trained
    model = keras.models.load_model(root / "dates.keras")
    assert model.translate("3 May 1979") == "1979-05-03"
    heatmap = root / "heatmap.png"
    assert main(["predict", "3 May 1979", "5/30/09", "--model", str(root / "dates.keras"), "--heatmap", str(heatmap)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "3 May 1979\t1979-05-03"
    assert lines[1] == "5/30/09\t2009-05-30"
    with open(heatmap, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_cli_beam_search_options(trained, capsys):
    root, _ = trained
    model = str(root / "dates.keras")
    assert main(["predict", "3 May 1979", "--model", model, "--beam-width", "3", "--length-penalty", "0.6"]) == 0
    assert capsys.readouterr().out.splitlines() == ["3 May 1979\t1979-05-03"]


def test_cli_evaluates_a_tsv(trained, capsys):
    root, _ = trained
    path = root / "eval.tsv"
    save_tsv(path, [("3 May 1979", "1979-05-03"), ("tuesday march 7 1995", "1995-03-07")])
    assert main(["evaluate", "--model", str(root / "dates.keras"), "--data", str(path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"2 examples: exact match (100\.00|50\.00)%", out), out


def test_load_rejects_other_models(tmp_path):
    other = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    other.save(tmp_path / "other.keras")
    with pytest.raises(ValueError, match="not a dates_nmt model"):
        app.load(tmp_path / "other.keras")
    with pytest.raises(ValueError, match="`size` must be one of"):
        app.train(size="huge")


@pytest.mark.long
def test_trains_under_mirrored_strategy_on_two_logical_cpus(tmp_path):
    """Data-parallel training: a fresh process splits the CPU in two replicas."""
    command = [
        sys.executable, "-m", "applications.dates_nmt", "train", "--size", "fast",
        "--strategy", "mirrored", "--cpu-devices", "2", "--train-examples", "4000",
        "--batch-size", "32",  # per replica: the global batch stays the fast size's 64
        "--eval-examples", "500", "--logdir", str(tmp_path / "logs"),
        "--output", str(tmp_path / "m.keras"),
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    match = re.search(r"held-out \(500 examples\): exact match ([\d.]+)% \(training \d+ s on 2 replica", out.stdout)
    assert match, out.stdout[-2000:]
    assert float(match.group(1)) >= 70.0
