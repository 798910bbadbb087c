"""The jazz LSTM: fast training beats the majority baseline, improvised lines
fit the harmony, audio rendering, TensorBoard samples, reload and CLI."""

import os

import keras
import numpy as np
import pytest

from applications.jazz import app, data
from applications.jazz.__main__ import main
from keras_seq.text import Vocabulary

# `trained` (tests/applications/conftest.py) trains `app` once with these options.
FAST_TRAINING = {"output": "j.keras", "eval_examples": 40}


def test_fast_size_beats_the_majority_baseline_and_plays_inside(trained):
    _, result = trained
    # Baseline: always the most frequent training token (about 4%).
    assert 0 < result["baseline"] < 0.1
    assert result["accuracy"] >= 2 * result["baseline"]
    assert result["harmonic_share"] >= 0.9
    assert result["history"]["val_loss"][-1] < result["history"]["val_loss"][0]


def test_improvised_lines_follow_the_progression(trained):
    _, result = trained
    progression = app.parse_progression("blues:Bb")
    pieces = app.improvise(result["model"], progression, count=3, temperature=1.0, seed=1)
    bounds = set(np.cumsum([d for _, _, d in progression]).tolist())
    for piece in pieces:
        assert piece.chords == tuple(progression)
        onsets = np.cumsum([0] + [d for _, d in piece.notes]).tolist()
        # No note crosses a chord change (a rest may: `Piece` merges the rest
        # ending one chord with the rest starting the next), and the chord
        # tokens are exactly the progression's.
        for (pitch, _), start, end in zip(piece.notes, onsets, onsets[1:]):
            assert pitch is None or not any(start < bound < end for bound in bounds)
        tokens = data.tokenize(piece)
        assert [t for t in tokens if t.startswith("chord:")] == app.chord_tokens(progression)
        pitches = [p for p, _ in piece.notes if p is not None]
        assert data.MELODY_RANGE[0] <= min(pitches) and max(pitches) <= data.MELODY_RANGE[1]
    assert len({p.notes for p in pieces}) == 3  # sampling varies the lines


def test_render_audio_plays_the_right_pitch():
    piece = data.Piece([(69, 48)], [(9, "maj", 48)])  # A4 over A major, one bar at 160 bpm
    audio = app.render_audio(piece, tempo_bpm=160)
    assert audio.dtype == np.float32 and abs(len(audio) - int(1.5 * app.SAMPLE_RATE)) <= 1
    assert np.abs(audio).max() <= 1.0
    spectrum = np.abs(np.fft.rfft(audio))
    frequencies = np.fft.rfftfreq(len(audio), 1 / app.SAMPLE_RATE)
    assert abs(frequencies[np.argmax(spectrum)] - 440.0) < 1.0


def test_tensorboard_gets_audio_samples(trained):
    root, _ = trained
    import tensorflow as tf

    folder = root / "logs" / "samples"
    tags = {
        value.tag
        for name in os.listdir(folder)
        for event in tf.compat.v1.train.summary_iterator(str(folder / name))
        for value in event.summary.value
    }
    assert {"improvisation_0", "tokens_0"} <= tags


def test_predict_after_reload_and_cli(trained, capsys):
    root, result = trained
    restored = keras.models.load_model(root / "j.keras")
    tokens = np.array([[2] + [restored.vocabulary.token_to_id("chord:7+0")] * 3], "int32")
    np.testing.assert_allclose(restored(tokens), result["model"](tokens), atol=1e-5)
    assert main(["predict", "ii-V-I:F", "Dm7 G7 Cmaj7 Cmaj7", "--model", str(root / "j.keras")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    for i, line in enumerate(lines):
        progression, path, share, tokens = line.split("\t")
        assert path == str(root / f"j_{i}.mid")
        piece = data.load_midi(path)
        assert data.tokenize(piece) == tokens.split()
        assert piece.chords == tuple(app.parse_progression(progression))
    evaluation = app.evaluate(str(root / "j.keras"), examples=10, seed=4)
    assert evaluation["eval_examples"] == 10 and 0 <= evaluation["harmonic_share"] <= 1


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="`text`"):
        app.parse_progression("Hm7 G7")
    with pytest.raises(ValueError, match="`text`"):
        app.parse_progression("bossa:C")
    with pytest.raises(ValueError, match="`text`"):
        app.parse_progression("Cadd9")
    with pytest.raises(ValueError, match="`units`"):
        app.JazzLM(Vocabulary(["R/12"], level="word"), units=0)
    with pytest.raises(ValueError, match="`size`"):
        app.build_model(Vocabulary(["R/12"], level="word"), size="huge")
