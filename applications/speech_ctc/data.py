"""Spoken command sentences synthesised by held-out-able espeak-ng voices.

The embedded task: short commands with digits, e.g. "turn off the fan in
the garage", "set a timer for five minutes", "call three one four nine",
"go left seven", spoken by random espeak-ng voices (accent, timbre, speed,
pitch) with generated background noise at 5-30 dB SNR and random leading
and trailing silence. Test sentences are spoken only by held-out voices
(whole timbre variants never heard in training, in every accent). Real
corpora: `--data` takes an LJSpeech-style folder (`metadata.csv` +
`wavs/`) or a folder of wav files with a `transcripts.tsv`
(open vocabulary).
"""

from __future__ import annotations

import os
import re

import numpy as np

from applications._speech import (
    background_noise,
    cached_arrays,
    load_ljspeech,
    load_wav_folder,
    mix_at_snr,
    random_voice,
    split_voices,
    synthesize_many,
    to_int16,
)

SAMPLE_RATE = 16000
FRAME_LENGTH = 400
FRAME_STEP = 160
#: Class 0 is the CTC blank; then space, apostrophe and a-z.
ALPHABET = ("", " ", "'") + tuple("abcdefghijklmnopqrstuvwxyz")
BLANK = 0
PAD = -1
VOICE_SPLIT_SEED = 0
HELD_OUT_FRACTION = 0.25

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
DEVICES = ("light", "lights", "fan", "heater", "radio", "oven", "music", "television")
ROOMS = ("kitchen", "bedroom", "garage", "office", "hall", "bathroom")
DIRECTIONS = ("left", "right", "up", "down", "forward", "back")
TENS = ("ten", "twenty", "thirty", "forty", "fifty")


def _sentence(rng):
    pick = lambda options: options[int(rng.integers(len(options)))]  # noqa: E731
    kind = int(rng.integers(7))
    if kind == 0:
        return f"turn {pick(('on', 'off'))} the {pick(DEVICES)}"
    if kind == 1:
        return f"turn {pick(('on', 'off'))} the {pick(DEVICES)} in the {pick(ROOMS)}"
    if kind == 2:
        amount = pick(DIGITS[1:] + TENS)
        unit = pick(("minutes", "hours", "seconds"))
        return f"set a {pick(('timer', 'alarm'))} for {amount} {unit}"
    if kind == 3:
        return "call " + " ".join(pick(DIGITS) for _ in range(int(rng.integers(3, 6))))
    if kind == 4:
        return f"go {pick(DIRECTIONS)} {pick(DIGITS[1:])}"
    if kind == 5:
        return f"{pick(('play', 'skip', 'repeat'))} song {pick(DIGITS)} {pick(DIGITS)}"
    return f"{pick(('volume', 'brightness', 'temperature'))} {pick(('up', 'down'))} {pick(DIGITS[1:])}"


def generate_sentences(count, seed=0):
    """`count` random command sentences (lowercase words, single spaces).

    >>> generate_sentences(2, seed=1)
    ['call seven nine zero one', 'repeat song two three']
    """
    rng = np.random.default_rng(seed)
    return [_sentence(rng) for _ in range(count)]


def normalize_text(text):
    """Lowercase, letters/apostrophes/spaces only, single spaces.

    >>> normalize_text("Turn ON the fan, please!  ")
    'turn on the fan please'
    """
    text = re.sub(r"[^a-z' ]+", " ", text.lower())
    return " ".join(text.split())


def encode(text):
    """Character ids (1..28) of a normalised text.

    >>> encode("go up")
    [9, 17, 1, 23, 18]
    """
    index = {c: i for i, c in enumerate(ALPHABET) if c}
    return [index[c] for c in normalize_text(text)]


def decode(ids):
    """Text of character ids (blank and padding skipped).

    >>> decode([9, 17, 1, 23, 18, -1])
    'go up'
    """
    return "".join(ALPHABET[i] for i in ids if 0 < i < len(ALPHABET))


def num_logit_frames(num_samples):
    """Model output frames for `num_samples` samples: STFT frames, then stride 2 ('same').

    >>> int(num_logit_frames(16000))
    49
    """
    frames = np.maximum(0, 1 + (np.asarray(num_samples) - FRAME_LENGTH) // FRAME_STEP)
    return (frames + 1) // 2


def _pack(waves, texts):
    lengths = np.array([len(w) for w in waves], "int64")
    audio = np.concatenate([to_int16(w) for w in waves]) if waves else np.zeros(0, "int16")
    return {"audio": audio, "audio_lengths": lengths, "texts": np.array(texts, dtype=np.str_)}


def unpack(packed):
    """`(list of float32 waveforms, list of texts)` from a packed set."""
    bounds = np.concatenate([[0], np.cumsum(packed["audio_lengths"])])
    audio = packed["audio"]
    waves = [audio[bounds[i] : bounds[i + 1]].astype("float32") / 32768.0 for i in range(len(bounds) - 1)]
    return waves, [str(t) for t in packed["texts"]]


def utterance_voices(count, voices, seed):
    """The `Voice` (name, rate 140-220, pitch) of each of `count` utterances."""
    rng = np.random.default_rng(seed)
    return [random_voice(rng, voices, rate_range=(140, 220)) for _ in range(count)]


def synthesize_utterances(sentences, voices, seed):
    """Speaks `sentences` with random `voices`, adds silence and noise; packed int16."""
    spoken = utterance_voices(len(sentences), voices, seed)
    clips = synthesize_many(list(zip(sentences, spoken)), SAMPLE_RATE, trim=True, cache_dir=False)
    rng = np.random.default_rng([seed, 1])
    waves = []
    for clip in clips:
        lead = np.zeros(int(rng.uniform(0.05, 0.3) * SAMPLE_RATE), "float32")
        tail = np.zeros(int(rng.uniform(0.05, 0.3) * SAMPLE_RATE), "float32")
        clean = np.concatenate([lead, clip / (np.abs(clip).max() + 1e-6) * 0.8, tail])
        noisy = mix_at_snr(clean, background_noise(len(clean), rng, SAMPLE_RATE), float(rng.uniform(5.0, 30.0)))
        waves.append(noisy / max(1.0, float(np.abs(noisy).max())))
    return _pack(waves, sentences)


def make_dataset(train_examples, eval_examples, seed=0, cache_dir=None):
    """`(train, test)` packed sets (`audio` int16 concatenated, `audio_lengths`, `texts`).

    Test utterances come from held-out voices and another sentence seed;
    each set (`None` for a count of 0) is cached on disk under its
    generation parameters.
    """
    train_voices, test_voices = split_voices(HELD_OUT_FRACTION, VOICE_SPLIT_SEED)

    def build(count, voices, sentence_seed, voice_seed):
        if not count:
            return None
        parameters = dict(
            app="speech_ctc", version=2, count=count, voices=voices,
            sentence_seed=sentence_seed, voice_seed=voice_seed,
        )  # fmt: skip
        return cached_arrays(
            cache_dir, parameters,
            lambda: synthesize_utterances(generate_sentences(count, sentence_seed), voices, voice_seed),
        )  # fmt: skip

    return build(train_examples, train_voices, seed, seed + 1), build(eval_examples, test_voices, seed + 1000, seed + 1001)


def load_corpus(path, limit=None):
    """A packed set from an LJSpeech folder or a wav folder with `transcripts.tsv`.

    Texts are normalised (`normalize_text`).

    Raises:
        ValueError: neither `metadata.csv` nor `transcripts.tsv` in `path`.
    """
    if os.path.exists(os.path.join(path, "metadata.csv")):
        pairs = load_ljspeech(path, SAMPLE_RATE, limit=limit)
    elif os.path.exists(os.path.join(path, "transcripts.tsv")):
        pairs = load_wav_folder(path, "transcripts.tsv", SAMPLE_RATE, limit=limit)
    else:
        raise ValueError(f"`data` must be a folder with metadata.csv (LJSpeech) or transcripts.tsv; {path} has neither.")
    return _pack([w for w, _ in pairs], [normalize_text(t) for _, t in pairs])
