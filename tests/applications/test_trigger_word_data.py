"""Trigger-word data: labels right after each trigger, determinism, held-out voices, loader."""

import numpy as np
import pytest

from applications._speech import split_voices, write_wav
from applications.trigger_word import data

RATE = data.SAMPLE_RATE


def _tone(seconds, frequency):
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.8 * np.sin(2 * np.pi * frequency * t)).astype("float32")


def test_make_labels_follow_the_coursera_rule():
    # Coursera: Ty = 1375 over 10 s, 50 ones from int(t * Ty / 10) + 1.
    ends = [1.234, 5.0, 9.99]
    labels = data.make_labels(ends, 10.0, 1375)
    expected = np.zeros(1375)
    for end in ends:
        first = int(end * 1375 / 10.0) + 1
        for i in range(first, first + 50):
            if i < 1375:
                expected[i] = 1
    np.testing.assert_array_equal(labels, expected)
    assert data.label_frames(1375, 10.0) == 50


def test_labels_are_ones_exactly_after_each_pasted_trigger():
    rng = np.random.default_rng(3)
    marker = _tone(0.03, 3000.0)  # each trigger ends with a 30 ms 3 kHz burst
    positives = [np.concatenate([_tone(0.5, 440.0), marker]), np.concatenate([_tone(0.7, 440.0), marker])]
    negatives = [_tone(0.4, 2000.0)]
    seconds = 4.0
    frames = data.output_frames(int(seconds * RATE))
    seen = 0
    for _ in range(30):
        clip, ends = data.compose_clip(rng, np.zeros(int(seconds * RATE), "float32"), positives, negatives)
        seen += len(ends)
        # Where the triggers really end: the ends of the 3 kHz bursts (10 ms frames).
        hop = 160
        spectrum = np.abs(np.fft.rfft(clip[: len(clip) // hop * hop].reshape(-1, hop), n=800, axis=1))
        burst = spectrum[:, 150] > spectrum[:, [22, 100]].max(axis=1)  # bins: 3 kHz vs 440 Hz, 2 kHz
        runs = np.flatnonzero(np.diff(np.concatenate([[0], burst.astype(int), [0]])) == -1)
        np.testing.assert_allclose(sorted(ends), runs * hop / RATE, atol=0.02)
        labels = data.make_labels(ends, seconds, frames)
        ones = data.label_frames(frames, seconds)
        expected = np.zeros(frames)
        for end in ends:
            first = int(end * frames / seconds) + 1
            expected[first : first + ones] = 1
            assert first + ones <= frames  # every trigger gets its full run
        np.testing.assert_array_equal(labels, expected)
    assert seen > 20


def test_words_never_overlap():
    rng = np.random.default_rng(0)
    positives = [np.ones(8000, "float32")]
    negatives = [np.ones(6000, "float32")]
    for _ in range(20):
        clip, _ = data.compose_clip(rng, np.zeros(4 * RATE, "float32"), positives, negatives)
        # Overlapping words would add up above the largest single-word gain (0.9).
        assert np.abs(clip).max() <= 0.9 + 1e-6


def test_generator_is_deterministic_per_seed_and_holds_out_voices(tmp_path):
    a_train, a_test = data.make_dataset(6, 4, seed=5, clip_seconds=2.0, words_per_kind=8, cache_dir=False)
    b_train, b_test = data.make_dataset(6, 4, seed=5, clip_seconds=2.0, words_per_kind=8, cache_dir=False)
    for a, b in ((a_train, b_train), (a_test, b_test)):
        for key in ("audio", "labels", "ends"):
            np.testing.assert_array_equal(a[key], b[key])
    c_train, _ = data.make_dataset(6, 4, seed=6, clip_seconds=2.0, words_per_kind=8, cache_dir=False)
    assert not np.array_equal(a_train["audio"], c_train["audio"])
    # The disk cache returns the same arrays.
    cached = data.make_dataset(6, 4, seed=5, clip_seconds=2.0, words_per_kind=8, cache_dir=tmp_path)[0]
    np.testing.assert_array_equal(cached["audio"], a_train["audio"])
    assert len(list(tmp_path.glob("*.npz"))) == 2
    # Test words are spoken only by held-out voices, whose variants no training voice uses.
    train_voices, test_voices = split_voices(data.HELD_OUT_FRACTION, data.VOICE_SPLIT_SEED)
    test_requests = data.word_requests(50, test_voices, 1)
    train_requests = data.word_requests(50, train_voices, 0)
    train_variants = {v.name.split("+")[1] for _, v in train_requests}
    assert all(v.name in test_voices for _, v in test_requests)
    assert not {v.name.split("+")[1] for _, v in test_requests} & train_variants


def test_coursera_layout_loader(tmp_path):
    for folder, items in (("activates", [_tone(0.5, 440.0)]), ("negatives", [_tone(0.4, 2000.0)] * 2), ("backgrounds", [np.zeros(RATE * 3)])):
        (tmp_path / folder).mkdir()
        for i, wave in enumerate(items):
            write_wav(tmp_path / folder / f"{i}.wav", wave, RATE)
    positives, negatives, backgrounds = data.load_raw_data(str(tmp_path))
    assert (len(positives), len(negatives), len(backgrounds)) == (1, 2, 1)
    np.testing.assert_allclose(positives[0], _tone(0.5, 440.0), atol=1e-4)
    clips = data.generate_clips(3, 2.0, positives, negatives, seed=0, backgrounds=backgrounds)
    assert clips["audio"].shape == (3, 2 * RATE) and clips["labels"].shape == (3, data.output_frames(2 * RATE))
    (tmp_path / "negatives" / "0.wav").unlink()
    (tmp_path / "negatives" / "1.wav").unlink()
    with pytest.raises(ValueError, match="negatives"):
        data.load_raw_data(str(tmp_path))
