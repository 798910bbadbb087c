"""What the speech applications share: espeak-ng synthesis and its worker
pool, noise, voice splits, wav I/O, the LJSpeech and wav+TSV loaders, and
TensorBoard images. (Application data generation: it moved here from the
library's `keras_seq.audio.speech_data`.)

espeak-ng (GPL-3.0) is an *optional* dependency, used only as a data source
through its C API: `pip install keras_seq[audio]` installs the
`espeakng-loader` wheel, which bundles `libespeak-ng` and its voice data
(Debian's `apt install espeak-ng` library is the fallback). Nothing of
espeak-ng is vendored here.

A voice is `"<accent>+<variant>"`, e.g. `"en-us+f3"`; `split_voices` holds
out whole variants (in every accent) for testing. Synthesised clips are
cached on disk keyed by every generation parameter (`cache_dir`, default
`~/.cache/keras_seq/speech`, or `$KERAS_SEQ_CACHE/speech`).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import wave as _wave
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np

from applications import _espeak, contract
from applications._espeak import INSTALL_HINT, EspeakNotFoundError, _Espeak
from keras_seq._cache import cache_dir as _cache_dir

__all__ = [
    "ACCENTS",
    "INSTALL_HINT",
    "VARIANTS",
    "EspeakNotFoundError",
    "Voice",
    "background_noise",
    "cache_key",
    "cached_arrays",
    "colored_noise",
    "english_voices",
    "heatmap_images",
    "espeak_available",
    "load_ljspeech",
    "load_wav_folder",
    "mix_at_snr",
    "PredictionImages",
    "random_voice",
    "read_wav",
    "resample",
    "split_voices",
    "strip_images",
    "synthesize",
    "synthesize_many",
    "trim_silence",
    "write_wav",
]

ESPEAK_SAMPLE_RATE = 22050
_WORKER_CHUNK = 400  # requests per worker process (fixed: outputs depend on it)

#: espeak-ng's English accents (language voices).
ACCENTS = (
    "en",
    "en-us",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-us-nyc",
    "en-029",
)
#: Voice variants (timbre, formant synthesiser) combined with the accents.
VARIANTS = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7",
    "f1", "f2", "f3", "f4", "f5",
    "klatt", "klatt2", "klatt3", "klatt4",
    "Alex", "Andy", "Annie", "adam", "anika", "ed", "john", "linda",
    "max", "michel", "paul", "quincy", "rob", "steph", "travis", "iven",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Voice:
    """Synthesis parameters: espeak voice name, speed (words/min), pitch (0-99)."""

    name: str = "en-us"
    rate: int = 175
    pitch: int = 50

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"`name` must be an espeak voice name like 'en-us+f3'; received {self.name!r}.")
        if not 80 <= int(self.rate) <= 450:
            raise ValueError(f"`rate` must be in [80, 450] words per minute; received {self.rate!r}.")
        if not 0 <= int(self.pitch) <= 99:
            raise ValueError(f"`pitch` must be in [0, 99]; received {self.pitch!r}.")


def english_voices(accents=ACCENTS, variants=VARIANTS):
    """All `accent+variant` voice names.

    >>> english_voices(("en-us",), ("f1", "m2"))
    ['en-us+f1', 'en-us+m2']
    """
    return [f"{a}+{v}" for a in accents for v in variants]


def split_voices(test_fraction=0.25, seed=0, accents=ACCENTS, variants=VARIANTS):
    """`(train_voices, test_voices)` holding out whole variants in every accent.

    No test voice shares its variant (timbre) with any training voice, so a
    test score measures generalisation to unheard speakers.

    >>> train, test = split_voices(0.25, seed=0)
    >>> len(train), len(test)
    (192, 64)
    >>> {v.split("+")[1] for v in train} & {v.split("+")[1] for v in test}
    set()
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"`test_fraction` must be in (0, 1); received {test_fraction!r}.")
    order = np.random.default_rng(seed).permutation(len(variants))
    count = max(1, round(test_fraction * len(variants)))
    held = {variants[i] for i in order[:count]}
    train = english_voices(accents, [v for v in variants if v not in held])
    test = english_voices(accents, [v for v in variants if v in held])
    return train, test


def random_voice(rng, voices, rate_range=(130, 230), pitch_range=(25, 75)):
    """A `Voice` with a random name from `voices`, rate and pitch."""
    return Voice(
        voices[int(rng.integers(len(voices)))],
        int(rng.integers(rate_range[0], rate_range[1] + 1)),
        int(rng.integers(pitch_range[0], pitch_range[1] + 1)),
    )


def espeak_available():
    """Whether the espeak-ng engine loads (without raising).

    >>> isinstance(espeak_available(), bool)
    True
    """
    try:
        _Espeak.get()
    except EspeakNotFoundError:
        return False
    return True


def default_cache_dir():
    return _cache_dir("speech")


def cache_key(**parameters):
    """A stable hex digest of JSON-serialisable generation parameters.

    >>> cache_key(text="yes", rate=175) == cache_key(rate=175, text="yes")
    True
    """
    blob = json.dumps(parameters, sort_keys=True, default=str).encode()
    return hashlib.sha1(blob).hexdigest()[:20]


def cached_arrays(cache_dir, parameters, build):
    """Loads the `.npz` for `parameters` from `cache_dir`, or builds and stores it.

    `build()` returns a dict of arrays. With `cache_dir=False` nothing is
    read or written; `None` means `default_cache_dir()`.
    """
    if cache_dir is False:
        return build()
    directory = default_cache_dir() if cache_dir is None else str(cache_dir)
    path = os.path.join(directory, cache_key(**parameters) + ".npz")
    if os.path.exists(path):
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {k: stored[k] for k in stored.files}
        except (OSError, ValueError):
            pass  # a truncated file from an interrupted run: rebuild it
    arrays = build()
    os.makedirs(directory, exist_ok=True)
    partial = f"{path}.{os.getpid()}.tmp.npz"
    np.savez(partial, **arrays)
    os.replace(partial, path)
    return arrays


def synthesize_many(requests, sample_rate=16000, trim=True, cache_dir=False, workers=2):
    """Speaks many `(text, Voice)` requests; a list of float32 waveforms.

    espeak-ng carries state from one utterance to the next, so requests run
    in fresh worker processes, `_WORKER_CHUNK` at a time (up to `workers`
    at once): the output is a pure function of the request list, and with
    `cache_dir` the whole batch is cached on disk under a key of every
    parameter (texts, voices, rates, pitches, sample rate, trim, engine
    version).

    Raises:
        EspeakNotFoundError: espeak-ng is missing (the message says how to
            install it).
        ValueError: empty text, or a voice espeak-ng does not know.
    """
    requests = [(t, Voice(v) if isinstance(v, str) else v) for t, v in requests]
    for text, _ in requests:
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"every text must be a non-empty string; received {text!r}.")
    engine = _Espeak.get()  # raises with the install hint when missing
    flat = [[t, v.name, int(v.rate), int(v.pitch)] for t, v in requests]

    def build():
        chunks = [flat[i : i + _WORKER_CHUNK] for i in range(0, len(flat), _WORKER_CHUNK)]
        rendered = []
        with ThreadPoolExecutor(max(1, workers)) as pool, contract.progress(
            total=len(flat), desc="synthesising speech with espeak-ng", unit="utterance"
        ) as bar:
            for chunk in pool.map(_run_worker, chunks):
                rendered.append(chunk)
                bar.update(len(chunk))
        clips = [clip for chunk in rendered for clip in chunk]
        processed = []
        for clip in clips:
            clip = clip.astype("float32") / 32768.0
            if trim:
                clip = trim_silence(clip)
            processed.append(resample(clip, engine.sample_rate, sample_rate))
        lengths = np.array([len(c) for c in processed], "int64")
        joined = np.concatenate(processed) if processed else np.zeros(0, "float32")
        return {"samples": joined.astype("float32"), "lengths": lengths}

    parameters = dict(requests=flat, sample_rate=sample_rate, trim=trim, engine=engine.version, chunk=_WORKER_CHUNK)
    arrays = cached_arrays(cache_dir, parameters, build)
    bounds = np.concatenate([[0], np.cumsum(arrays["lengths"])])
    return [arrays["samples"][bounds[i] : bounds[i + 1]] for i in range(len(requests))]


def _run_worker(requests):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "clips.npz")
        done = subprocess.run(
            [sys.executable, _espeak.__file__, path],
            input=json.dumps(requests),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output"
            if "has no voice" in message:
                raise ValueError(message.split(": ", 1)[-1])
            raise RuntimeError(f"espeak-ng worker failed: {message}")
        with np.load(path) as stored:
            samples, lengths = stored["samples"], stored["lengths"]
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return [samples[bounds[i] : bounds[i + 1]] for i in range(len(lengths))]


def synthesize(text, voice=Voice(), sample_rate=16000, trim=True, cache_dir=False):
    """Speaks `text` with espeak-ng; float32 waveform in [-1, 1] at `sample_rate`.

    Args:
        text: str to speak.
        voice: a `Voice` (or an espeak voice name).
        sample_rate: int output rate (espeak-ng renders 22050 Hz; other
            rates are resampled with the FFT). Defaults to `16000`.
        trim: bool, cut leading and trailing silence. Defaults to `True`.
        cache_dir: directory to cache the clip in, `None` for the default
            cache, `False` (default) for none.

    Raises:
        EspeakNotFoundError: espeak-ng is missing (the message says
            `pip install keras_seq[audio]`).
        ValueError: unknown voice or empty text.

    Example:
    >>> from applications._speech import Voice, synthesize
    >>> wave = synthesize("yes", Voice("en-us+f3", rate=175, pitch=60))
    >>> wave.dtype, 0.1 < len(wave) / 16000 < 1.0, float(abs(wave).max()) <= 1.0
    (dtype('float32'), True, True)
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"`text` must be a non-empty string; received {text!r}.")
    return synthesize_many([(text, voice)], sample_rate, trim, cache_dir, workers=1)[0]


def trim_silence(wave, threshold=0.02, frame=256):
    """Drops leading/trailing frames whose peak is below `threshold` x the clip peak.

    >>> import numpy as np
    >>> x = np.concatenate([np.zeros(1000), np.ones(300), np.zeros(1000)])
    >>> len(trim_silence(x, frame=100))
    300
    """
    wave = np.asarray(wave)
    peak = np.abs(wave).max() if wave.size else 0.0
    if peak == 0:
        return wave[:0]
    count = -(-len(wave) // frame)
    padded = np.zeros(count * frame, wave.dtype)
    padded[: len(wave)] = np.abs(wave)
    loud = np.where(padded.reshape(count, frame).max(axis=1) >= threshold * peak)[0]
    return wave[loud[0] * frame : min(len(wave), (loud[-1] + 1) * frame)]


def resample(wave, orig_rate, target_rate):
    """Band-limited resampling with the FFT (exact for periodic signals).

    >>> import numpy as np
    >>> t = np.arange(2205) / 22050
    >>> y = resample(np.sin(2 * np.pi * 440 * t), 22050, 16000)
    >>> len(y), bool(np.allclose(y, np.sin(2 * np.pi * 440 * np.arange(1600) / 16000), atol=1e-6))
    (1600, True)
    """
    wave = np.asarray(wave, "float64")
    if orig_rate == target_rate or wave.size == 0:
        return wave.astype("float32")
    count = int(round(len(wave) * target_rate / orig_rate))
    spectrum = np.fft.rfft(wave)
    bins = count // 2 + 1
    if bins <= len(spectrum):
        spectrum = spectrum[:bins].copy()
        if count % 2 == 0 and count < len(wave):
            spectrum[-1] = spectrum[-1].real  # the new Nyquist bin of a real signal
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins - len(spectrum), spectrum.dtype)])
    return (np.fft.irfft(spectrum, n=count) * (count / len(wave))).astype("float32")


def colored_noise(num_samples, rng, exponent=1.0):
    """Unit-RMS noise with power spectrum ~ 1/f^exponent (0 white, 1 pink, 2 brown).

    >>> import numpy as np
    >>> x = colored_noise(8000, np.random.default_rng(0), 1.0)
    >>> round(float(np.sqrt(np.mean(x ** 2))), 3)
    1.0
    """
    spectrum = rng.normal(size=num_samples // 2 + 1) + 1j * rng.normal(size=num_samples // 2 + 1)
    frequencies = np.arange(len(spectrum), dtype="float64")
    frequencies[0] = 1.0
    spectrum = spectrum / frequencies ** (exponent / 2.0)
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, n=num_samples)
    return (noise / (np.sqrt(np.mean(noise**2)) + 1e-12)).astype("float32")


def background_noise(num_samples, rng, sample_rate=16000, level_range=(0.003, 0.05), hum_probability=0.3):
    """Generated background: colored noise at a random level, sometimes mains hum.

    Returns float32 [num_samples]; the noise RMS is drawn log-uniformly from
    `level_range`.
    """
    level = float(np.exp(rng.uniform(np.log(level_range[0]), np.log(level_range[1]))))
    noise = level * colored_noise(num_samples, rng, float(rng.uniform(0.0, 2.0)))
    if rng.random() < hum_probability:
        base = 50.0 if rng.random() < 0.5 else 60.0
        t = np.arange(num_samples) / sample_rate
        hum = sum(np.sin(2 * np.pi * base * k * t + rng.uniform(0, 2 * np.pi)) / k for k in (1, 2, 3))
        noise = noise + (level * rng.uniform(0.5, 2.0) * hum).astype("float32")
    return noise.astype("float32")


def mix_at_snr(signal, noise, snr_db):
    """`signal + g * noise` with g chosen so the signal-to-noise ratio is `snr_db`.

    >>> import numpy as np
    >>> s, n = np.ones(100, "float32"), np.full(100, 0.5, "float32")
    >>> mixed = mix_at_snr(s, n, 20.0)
    >>> round(float(10 * np.log10(np.mean(s ** 2) / np.mean((mixed - s) ** 2))), 6)
    20.0
    """
    signal = np.asarray(signal, "float32")
    noise = np.asarray(noise, "float32")[: len(signal)]
    power_s = float(np.mean(signal**2))
    power_n = float(np.mean(noise**2)) + 1e-12
    gain = np.sqrt(power_s / (power_n * 10 ** (snr_db / 10.0)))
    return (signal + gain * noise).astype("float32")


def to_int16(wave):
    """Float waveform in [-1, 1] -> int16 PCM (clipped)."""
    return np.clip(np.round(np.asarray(wave) * 32767.0), -32768, 32767).astype("int16")


def write_wav(path, wave, sample_rate=16000):
    """Writes a mono 16-bit PCM wav file (float input in [-1, 1] or int16)."""
    wave = np.asarray(wave)
    if wave.ndim != 1:
        raise ValueError(f"`wave` must be mono [samples]; received shape {wave.shape}.")
    pcm = wave if wave.dtype == np.int16 else to_int16(wave)
    with wave_open(path, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(int(sample_rate))
        handle.writeframes(pcm.tobytes())


def wave_open(path, mode):
    return _wave.open(str(path), mode)


def read_wav(path, sample_rate=None):
    """Reads a PCM wav file -> `(float32 mono waveform in [-1, 1], sample_rate)`.

    8/16/24/32-bit PCM; channels are averaged; with `sample_rate` the audio
    is resampled to that rate.

    Raises:
        ValueError: not a PCM wav file (the message names the path).
    """
    try:
        with wave_open(path, "rb") as handle:
            channels, width, rate = handle.getnchannels(), handle.getsampwidth(), handle.getframerate()
            raw = handle.readframes(handle.getnframes())
    except (_wave.Error, EOFError) as error:
        raise ValueError(f"{path} is not a PCM wav file: {error}") from error
    if width == 1:
        data = (np.frombuffer(raw, "uint8").astype("float32") - 128.0) / 128.0
    elif width == 2:
        data = np.frombuffer(raw, "<i2").astype("float32") / 32768.0
    elif width == 3:
        bytes3 = np.frombuffer(raw, "uint8").reshape(-1, 3).astype("int32")
        value = bytes3[:, 0] | (bytes3[:, 1] << 8) | (bytes3[:, 2] << 16)
        data = (np.where(value >= 1 << 23, value - (1 << 24), value) / float(1 << 23)).astype("float32")
    else:
        data = np.frombuffer(raw, "<i4").astype("float32") / 2147483648.0
    data = data.reshape(-1, channels).mean(axis=1)
    if sample_rate is not None and sample_rate != rate:
        return resample(data, rate, sample_rate), int(sample_rate)
    return data.astype("float32"), rate


def load_ljspeech(directory, sample_rate=16000, normalized=True, limit=None):
    """Reads an LJSpeech-style corpus: `metadata.csv` (`id|text|normalized text`) + `wavs/<id>.wav`.

    Returns a list of `(waveform float32, transcript)`; with `normalized`
    the third column (numbers spelled out) is used when present.

    Raises:
        ValueError: `metadata.csv` missing, a malformed row (the message
            names the line), or a missing wav.
    """
    metadata = os.path.join(directory, "metadata.csv")
    if not os.path.exists(metadata):
        raise ValueError(f"`directory` must hold an LJSpeech metadata.csv; {metadata} does not exist.")
    pairs = []
    with open(metadata, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            fields = line.split("|")
            if len(fields) < 2 or not fields[0]:
                raise ValueError(f"{metadata}:{number}: expected `id|text|normalized text`; received {line!r}.")
            text = fields[2] if normalized and len(fields) > 2 and fields[2] else fields[1]
            path = os.path.join(directory, "wavs", fields[0] + ".wav")
            if not os.path.exists(path):
                raise ValueError(f"{metadata}:{number}: audio file {path} does not exist.")
            pairs.append((read_wav(path, sample_rate)[0], text))
            if limit is not None and len(pairs) >= limit:
                break
    return pairs


_PATH_COLUMNS = ("path", "file", "filename", "wav", "audio")
_TEXT_COLUMNS = ("sentence", "text", "transcript", "transcription")


def load_wav_folder(directory, transcripts="transcripts.tsv", sample_rate=16000, limit=None):
    """Reads a folder of wav files with a tab-separated transcript file.

    The TSV either has a header naming a path column (`path`, `file`,
    `filename`, `wav` or `audio`; Common Voice uses `path`) and a text column
    (`sentence`, `text`, `transcript` or `transcription`), or no header and
    rows `file<TAB>text`. Paths are relative to `directory`; a missing
    `.wav` extension is added.

    Returns a list of `(waveform float32, transcript)`.

    Raises:
        ValueError: missing TSV or audio file, or rows without two fields.
    """
    tsv = transcripts if os.path.isabs(transcripts) else os.path.join(directory, transcripts)
    if not os.path.exists(tsv):
        raise ValueError(f"`transcripts` must name a TSV file in {directory}; {tsv} does not exist.")
    with open(tsv, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    path_index, text_index = 0, 1
    if any(c in header for c in _PATH_COLUMNS) and any(c in header for c in _TEXT_COLUMNS):
        path_index = next(header.index(c) for c in _PATH_COLUMNS if c in header)
        text_index = next(header.index(c) for c in _TEXT_COLUMNS if c in header)
        rows = rows[1:]
    pairs = []
    for number, row in enumerate(rows, 1):
        if len(row) <= max(path_index, text_index):
            raise ValueError(f"{tsv}: row {number} needs a file and a transcript; received {row!r}.")
        name = row[path_index].strip()
        if not os.path.splitext(name)[1]:
            name += ".wav"
        path = os.path.join(directory, name)
        if not os.path.exists(path):
            raise ValueError(f"{tsv}: row {number}: audio file {path} does not exist.")
        pairs.append((read_wav(path, sample_rate)[0], row[text_index].strip()))
        if limit is not None and len(pairs) >= limit:
            break
    return pairs


# -- TensorBoard images of the speech applications ---------------------------------


def strip_images(rows, height=12):
    """Stacks [N, T] arrays in [0, 1] as grey strips: one image [N, height * R, T, 1].

    >>> strip_images([np.zeros((2, 5)), np.ones((2, 5))], height=2).shape
    (2, 4, 5, 1)
    """
    rows = [np.clip(np.asarray(r, "float32"), 0.0, 1.0) for r in rows]
    strips = [np.repeat(r[:, None, :], height, axis=1) for r in rows]
    return np.concatenate(strips, axis=1)[..., None]


def heatmap_images(probabilities):
    """[N, T, V] posteriors -> [N, V, T, 1] images (class 0 on top).

    >>> heatmap_images(np.ones((1, 3, 2))).shape
    (1, 2, 3, 1)
    """
    return np.transpose(np.asarray(probabilities, "float32"), (0, 2, 1))[..., None]


class PredictionImages(keras.callbacks.Callback):
    """Logs `images_fn(model) -> [N, H, W, 1]` to TensorBoard's Images tab each epoch."""

    def __init__(self, images_fn, log_dir, tag):
        super().__init__()
        self.images_fn = images_fn
        self.log_dir = log_dir
        self.tag = tag
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "audio"))
        images = np.asarray(self.images_fn(self.model), "float32")
        with self._writer.as_default():
            tf.summary.image(self.tag, images, step=epoch, max_outputs=len(images))
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
