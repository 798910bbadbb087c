"""Trigger word end to end: the fast size trains, beats the all-zero baseline, reloads, CLI."""

import keras
import numpy as np
import pytest

from applications._speech import read_wav, write_wav
from applications.trigger_word import app, data
from applications.trigger_word.__main__ import main


def test_detection_and_event_matching():
    probabilities = np.zeros(100)
    probabilities[10:20] = 0.9
    probabilities[50:51] = 0.9  # a one-frame blip is not an event
    probabilities[70:75] = 0.8
    assert app.detect(probabilities, 10.0) == [1.0, 7.0]
    assert app.match_events([1.0, 7.0], [1.1, 4.0], 0.2) == (1, 1, 1)
    assert app.match_events([], [1.0], 0.2) == (0, 0, 1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("trigger")
    result = app.train(
        size="fast", output=str(root / "t.keras"), log_dir=str(root / "logs"),
        eval_examples=150, verbose=0, cache_dir=str(root / "cache"),
    )
    return root, result


@pytest.mark.long
def test_fast_size_beats_the_all_zero_baseline(trained):
    root, result = trained
    _, test = data.make_dataset(
        app.SIZES["fast"].train_examples, 150, seed=0, clip_seconds=app.SIZES["fast"].clip_seconds,
        cache_dir=str(root / "cache"),
    )
    zero_baseline = float(np.mean(test["labels"] == 0))  # predicting "no trigger" everywhere: F1 0
    assert result["frame_accuracy"] > zero_baseline + 0.03, (result["frame_accuracy"], zero_baseline)
    assert result["f1"] >= 0.7, (result["precision"], result["recall"], result["examples"][:3])
    assert result["history"]["val_loss"][-1] < result["history"]["val_loss"][0]
    assert list((root / "logs").rglob("events.out.tfevents.*"))


@pytest.mark.long
def test_predict_after_reload_and_cli(trained, tmp_path, capsys):
    root, result = trained
    restored = keras.models.load_model(root / "t.keras")
    _, test = data.make_dataset(
        app.SIZES["fast"].train_examples, 150, seed=0, clip_seconds=app.SIZES["fast"].clip_seconds,
        cache_dir=str(root / "cache"),
    )
    audio = test["audio"][:4].astype("float32") / 32768.0
    np.testing.assert_allclose(restored.predict(audio, verbose=0), result["model"].predict(audio, verbose=0), atol=1e-5)
    index = int(np.argmax((test["ends"] >= 0).sum(axis=1)))  # a clip with triggers
    clip = test["audio"][index]
    write_wav(tmp_path / "clip.wav", clip, data.SAMPLE_RATE)
    chimed = tmp_path / "chimed.wav"
    assert main(["predict", str(tmp_path / "clip.wav"), "--model", str(root / "t.keras"), "--chime", str(chimed)]) == 0
    out = capsys.readouterr().out
    probabilities = restored.predict(clip[None].astype("float32") / 32768.0, verbose=0)[0, :, 0]
    times = app.detect(probabilities, len(clip) / data.SAMPLE_RATE)
    assert f"activate at {app._times(times)}" in out if times else "no trigger" in out
    written, rate = read_wav(chimed)
    assert rate == data.SAMPLE_RATE and len(written) == len(clip)
    assert (np.abs(written - clip / 32768.0).max() > 0.1) == bool(times)  # a chime was added
    assert main(["evaluate", "--model", str(root / "t.keras"), "--size", "fast", "--examples", "150", "--cache-dir", str(root / "cache")]) == 0
    assert f"event F1 {result['f1']:.4f}" in capsys.readouterr().out
    with pytest.raises(ValueError, match="not a trigger_word model"):
        app.load(_other_model(tmp_path))


def _other_model(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs), name="other")
    model.save(tmp_path / "other.keras")
    return str(tmp_path / "other.keras")
