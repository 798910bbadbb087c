"""Trigger-word clips: background + "activate" + other words at random times.

The Coursera trigger-word recipe with synthetic speakers: every clip is a
few seconds of generated background noise (colored noise, sometimes mains
hum, sometimes quiet babble of other words) with 0-3 spoken "activate"s and
0-3 other words pasted at random, non-overlapping times. The label of an
output frame is 1 for the `label_frames` frames right after an "activate"
ends (Coursera: 50 of 1375 frames, ~0.36 s), else 0. Words are spoken by
espeak-ng voices; the test clips use only held-out voices (`split_voices`:
whole timbre variants, in every accent, never heard in training).

Real recordings in the Coursera layout (`activates/`, `negatives/`,
`backgrounds/` folders of wav files) are read by `load_raw_data` and mixed
the same way.
"""

from __future__ import annotations

import glob
import os

import numpy as np

from applications import contract
from applications._speech import (
    background_noise,
    cached_arrays,
    random_voice,
    read_wav,
    split_voices,
    synthesize_many,
    to_int16,
)

SAMPLE_RATE = 16000
FRAME_LENGTH = 400  # 25 ms
FRAME_STEP = 160  # 10 ms
CONV_KERNEL = 15
CONV_STRIDE = 2
LABEL_SECONDS = 50 * 10.0 / 1375  # Coursera: 50 output frames of 1375 per 10 s
TRIGGER = "activate"
NEGATIVE_WORDS = (
    "active", "captivate", "actually", "elevate", "motivate", "activity", "cultivate",
    "hello", "computer", "weather", "music", "banana", "kitchen", "tomorrow", "garden",
    "yellow", "seven", "window", "evening", "coffee", "station", "develop", "table",
    "dinner", "basket", "morning", "picture", "travel", "lantern", "river",
)  # fmt: skip
VOICE_SPLIT_SEED = 0
HELD_OUT_FRACTION = 0.25


def output_frames(num_samples):
    """Output frames of the model for `num_samples` samples.

    Spectrogram frames `1 + (N - 400) // 160`, then a valid Conv1D of kernel
    15 and stride 2.

    >>> output_frames(5 * SAMPLE_RATE)
    242
    """
    spectrogram = 1 + (num_samples - FRAME_LENGTH) // FRAME_STEP
    return (spectrogram - CONV_KERNEL) // CONV_STRIDE + 1


def frame_of(seconds, clip_seconds, num_frames):
    """Output frame holding time `seconds` (Coursera: `int(t * Ty / duration)`).

    >>> frame_of(2.5, 5.0, 242)
    121
    """
    return int(seconds * num_frames / clip_seconds)


def label_frames(num_frames, clip_seconds):
    """Number of ones after each trigger: ~0.36 s of output frames.

    >>> label_frames(1375, 10.0)
    50
    """
    return max(1, int(round(LABEL_SECONDS * num_frames / clip_seconds)))


def make_labels(trigger_ends, clip_seconds, num_frames, ones=None):
    """Frame labels: 1 on the `ones` frames right after each trigger end.

    For an end at time t the frames `frame_of(t) + 1 ... frame_of(t) + ones`
    (clipped at the end of the clip) are 1, the rest 0.

    >>> make_labels([0.5], 1.0, 10, ones=3).astype(int).tolist()
    [0, 0, 0, 0, 0, 0, 1, 1, 1, 0]
    """
    ones = label_frames(num_frames, clip_seconds) if ones is None else ones
    labels = np.zeros(num_frames, "float32")
    for end in trigger_ends:
        first = frame_of(end, clip_seconds, num_frames) + 1
        labels[first : min(num_frames, first + ones)] = 1.0
    return labels


def _place(rng, length, occupied, total):
    """A random start for a segment of `length` samples overlapping no occupied one."""
    if length > total:
        return None
    for _ in range(50):
        start = int(rng.integers(0, total - length + 1))
        if all(start + length <= a or start >= b for a, b in occupied):
            return start
    return None


def compose_clip(rng, background, positives, negatives, max_positives=3, max_negatives=3, babble=()):
    """Overlays words on a background; `(clip float32, trigger end times in seconds)`.

    `positives`/`negatives` are lists of word waveforms to draw from; words
    never overlap each other (a word that does not fit is skipped, as in
    the Coursera assignment) and end at least `LABEL_SECONDS` before the
    clip does, so every trigger gets its full run of ones; `babble` words
    are mixed in quietly anywhere.
    """
    clip = np.array(background, "float32")
    total = len(clip)
    for word in babble:
        start = int(rng.integers(0, max(1, total - len(word))))
        piece = word[: total - start]
        clip[start : start + len(piece)] += float(rng.uniform(0.03, 0.1)) * piece
    occupied, ends = [], []
    usable = total - int(LABEL_SECONDS * SAMPLE_RATE)  # room for the labels after the last word
    chosen = [(positives[int(rng.integers(len(positives)))], True) for _ in range(int(rng.integers(0, max_positives + 1)))]
    chosen += [(negatives[int(rng.integers(len(negatives)))], False) for _ in range(int(rng.integers(0, max_negatives + 1)))]
    for index in rng.permutation(len(chosen)):
        word, positive = chosen[index]
        start = _place(rng, len(word), occupied, usable)
        if start is None:
            continue
        occupied.append((start, start + len(word)))
        peak = float(np.abs(word).max()) or 1.0
        clip[start : start + len(word)] += float(rng.uniform(0.3, 0.9)) / peak * word
        if positive:
            ends.append((start + len(word)) / SAMPLE_RATE)
    peak = float(np.abs(clip).max())
    if peak > 0.99:
        clip *= 0.99 / peak
    return clip, sorted(ends)


def word_requests(words_per_kind, voices, seed):
    """`(text, Voice)` requests: `words_per_kind` triggers, then as many other words."""
    rng = np.random.default_rng(seed)
    requests = [(TRIGGER, random_voice(rng, voices)) for _ in range(words_per_kind)]
    requests += [
        (NEGATIVE_WORDS[int(rng.integers(len(NEGATIVE_WORDS)))], random_voice(rng, voices))
        for _ in range(words_per_kind)
    ]
    return requests


def word_bank(words_per_kind, voices, seed, cache_dir=None):
    """Synthesised `(positives, negatives)` lists spoken by random `voices`."""
    clips = synthesize_many(word_requests(words_per_kind, voices, seed), SAMPLE_RATE, trim=True, cache_dir=cache_dir)
    return clips[:words_per_kind], clips[words_per_kind:]


def generate_clips(num_clips, clip_seconds, positives, negatives, seed, backgrounds=None):
    """`{"audio": int16 [N, samples], "labels": float32 [N, frames], "ends": ...}`.

    `ends` is float32 [N, 4] of trigger end times padded with -1. With
    `backgrounds` (real recordings) a random window of one is the
    background, else noise is generated.
    """
    rng = np.random.default_rng(seed)
    samples = int(round(clip_seconds * SAMPLE_RATE))
    frames = output_frames(samples)
    audio = np.zeros((num_clips, samples), "int16")
    labels = np.zeros((num_clips, frames), "float32")
    ends = np.full((num_clips, 4), -1.0, "float32")
    for i in contract.progress(range(num_clips), desc="mixing clips", unit="clip"):
        if backgrounds:
            source = backgrounds[int(rng.integers(len(backgrounds)))]
            source = np.tile(source, -(-samples // len(source)))
            offset = int(rng.integers(0, len(source) - samples + 1))
            background = source[offset : offset + samples] * float(rng.uniform(0.2, 1.0))
        else:
            background = background_noise(samples, rng, SAMPLE_RATE)
        babble = []
        if rng.random() < 0.4:
            babble = [negatives[int(rng.integers(len(negatives)))] for _ in range(int(rng.integers(1, 4)))]
        clip, trigger_ends = compose_clip(rng, background, positives, negatives, babble=babble)
        audio[i] = to_int16(clip)
        labels[i] = make_labels(trigger_ends, clip_seconds, frames)
        ends[i, : len(trigger_ends)] = trigger_ends
    return {"audio": audio, "labels": labels, "ends": ends}


def make_dataset(
    train_examples, eval_examples, seed=0, clip_seconds=5.0, words_per_kind=None, cache_dir=None
):
    """`(train, test)` clip sets; test words are spoken only by held-out voices.

    Both are dicts as returned by `generate_clips` (`None` for a count of
    0), cached on disk (see `applications._speech.cached_arrays`)
    under a key of every generation parameter. Each set draws from its own
    bank of synthesised words (`words_per_kind` triggers and as many other
    words; default: half the clip count, between 200 and 1500), so the test
    set depends only on `eval_examples`, `seed` and `clip_seconds`.
    """
    train_voices, test_voices = split_voices(HELD_OUT_FRACTION, VOICE_SPLIT_SEED)

    def build(count, voices, bank_seed, clip_seed):
        if not count:
            return None
        words = words_per_kind or max(200, min(1500, count // 2))

        def run():
            positives, negatives = word_bank(words, voices, bank_seed, cache_dir=False)
            return generate_clips(count, clip_seconds, positives, negatives, clip_seed)

        parameters = dict(
            app="trigger_word", version=3, count=count, voices=voices, words=words,
            bank_seed=bank_seed, clip_seed=clip_seed, clip_seconds=clip_seconds,
        )  # fmt: skip
        return cached_arrays(cache_dir, parameters, run)

    train = build(train_examples, train_voices, seed, seed + 1)
    test = build(eval_examples, test_voices, seed + 1000, seed + 1001)
    return train, test


def load_raw_data(directory):
    """Reads the Coursera layout: `activates/`, `negatives/`, `backgrounds/` wav folders.

    Returns `(positives, negatives, backgrounds)` lists of float32 waveforms
    at `SAMPLE_RATE`.

    Raises:
        ValueError: a folder is missing or holds no wav file.
    """
    found = []
    for name in ("activates", "negatives", "backgrounds"):
        paths = sorted(glob.glob(os.path.join(directory, name, "*.wav")))
        if not paths:
            raise ValueError(
                f"`directory` must hold wav files in activates/, negatives/ and backgrounds/; "
                f"{os.path.join(directory, name)} has none."
            )
        found.append([read_wav(p, SAMPLE_RATE)[0] for p in paths])
    return tuple(found)
