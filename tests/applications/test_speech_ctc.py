"""speech_ctc end to end: lengths, fast training beats the empty baseline, LM helps, reload, CLI."""

import numpy as np
import pytest

from applications._speech import write_wav
from applications.speech_ctc import app, data
from applications.speech_ctc.__main__ import main
from keras_seq.metrics import word_error_rate


def test_logit_lengths_match_the_model(rng):
    model = app.build_model("fast")
    inference = app.recognizer(model)
    lengths = np.array([16000, 9000, 4000], "int32")
    audio = np.zeros((3, 16000), "float32")
    for i, n in enumerate(lengths):
        audio[i, :n] = rng.normal(0, 0.1, n)
    logits, logit_lengths = inference.predict({"audio": audio, "audio_length": lengths}, verbose=0)
    assert logits.shape == (3, data.num_logit_frames(16000), len(data.ALPHABET))
    np.testing.assert_array_equal(logit_lengths, data.num_logit_frames(lengths))
    # Padding does not change a shorter utterance's outputs (the GRUs are masked).
    alone, _ = inference.predict({"audio": audio[1:2, :9000], "audio_length": lengths[1:2]}, verbose=0)
    np.testing.assert_allclose(logits[1, : logit_lengths[1]], alone[0, : logit_lengths[1]], atol=1e-4)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("speech")
    result = app.train(
        size="fast", output=str(root / "s.keras"), log_dir=str(root / "logs"), eval_examples=120,
        verbose=0, cache_dir=str(root / "cache"),
    )  # fmt: skip
    return root, result


@pytest.mark.long
def test_fast_size_learns_and_the_lm_helps(trained):
    _, result = trained
    # Baseline: an empty transcript has CER = WER = 1.
    assert result["greedy_cer"] < 0.7, result["examples"][:3]
    assert result["beam_cer"] < result["greedy_cer"]
    assert result["beam_wer"] < result["greedy_wer"]
    assert result["history"]["val_loss"][-1] < 0.6 * result["history"]["val_loss"][0]


@pytest.mark.long
def test_reload_predict_and_cli(trained, tmp_path, capsys):
    root, result = trained
    inference, lm, lm_weight, word_bonus = app.load(str(root / "s.keras"))
    assert lm is not None and (lm_weight, word_bonus) == (result["lm_weight"], result["word_bonus"])
    test = data.make_dataset(0, 120, seed=0, cache_dir=str(root / "cache"))[1]
    waves, references = data.unpack(test)
    fresh = app.posteriors(app.recognizer(result["model"]), waves[:4])
    reloaded = app.posteriors(inference, waves[:4])
    for a, b in zip(fresh, reloaded):
        np.testing.assert_allclose(a, b, atol=1e-4)
    beam = app.beam_texts(reloaded, lm, lm_weight, word_bonus)
    greedy = app.greedy_texts(reloaded)
    for i in range(2):
        write_wav(tmp_path / f"u{i}.wav", waves[i], data.SAMPLE_RATE)
    files = [str(tmp_path / f"u{i}.wav") for i in range(2)]
    assert main(["predict", *files, "--model", str(root / "s.keras")]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"{f}: {t}" for f, t in zip(files, beam[:2])]
    assert main(["predict", *files, "--model", str(root / "s.keras"), "--greedy"]) == 0
    assert capsys.readouterr().out.strip().splitlines() == [f"{f}: {t}" for f, t in zip(files, greedy[:2])]
    assert main(["evaluate", "--model", str(root / "s.keras"), "--examples", "120", "--cache-dir", str(root / "cache")]) == 0
    assert f"beam+LM CER {100 * result['beam_cer']:.2f}%" in capsys.readouterr().out
    assert word_error_rate(beam, references[:4]) <= 1.0
    assert list((root / "logs").rglob("events.out.tfevents.*"))


def test_the_model_runs_without_keras_mask_warnings():
    import warnings

    waves = np.random.default_rng(0).normal(0, 0.1, (2, 16_000)).astype("float32")
    inputs = {"audio": waves, "audio_length": np.array([16_000, 9_000], "int32")}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = app.build_model("fast")
        app.recognizer(model)(inputs)
        app.recognizer(model).predict(inputs, verbose=0)
    assert not [w for w in caught if "mask" in str(w.message)], [str(w.message) for w in caught]
