"""Model, training, evaluation and prediction for `trigger_word`."""

from __future__ import annotations

import os

import keras
import numpy as np

from applications import contract
from applications._speech import PredictionImages, read_wav, strip_images, write_wav
from applications.trigger_word import SIZES
from applications.trigger_word.data import (
    CONV_KERNEL,
    CONV_STRIDE,
    FRAME_LENGTH,
    FRAME_STEP,
    SAMPLE_RATE,
    generate_clips,
    label_frames,
    load_raw_data,
    make_dataset,
)
from keras_seq.audio import LogMelSpectrogram, SpecAugment, UtteranceNormalization
from keras_seq.callbacks import AudioSamples

THRESHOLD = 0.5
MIN_RUN_FRAMES = 3


def build_model(size="default", num_mel_bins=40, seed=0):
    """Log-mel -> normalisation -> SpecAugment -> Conv1D -> 2 GRUs -> per-frame sigmoid.

    The Coursera trigger-word architecture (Conv1D with kernel 15, two
    GRU layers with batch normalisation and dropout, a time-distributed
    sigmoid) on a log-mel front end built into the model, so the saved
    model takes raw 16 kHz audio of any length.
    """
    s = contract.choose(SIZES, size)
    audio = keras.Input((None,), name="audio")
    x = LogMelSpectrogram(SAMPLE_RATE, num_mel_bins, frame_length=FRAME_LENGTH, frame_step=FRAME_STEP, name="log_mel")(audio)
    x = UtteranceNormalization(name="normalize")(x)
    x = SpecAugment(freq_mask_param=6, time_mask_param=10, num_time_masks=2, seed=seed, name="spec_augment")(x)
    x = keras.layers.Conv1D(s.filters, CONV_KERNEL, strides=CONV_STRIDE, name="conv")(x)
    x = keras.layers.BatchNormalization(name="conv_norm")(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.Dropout(0.2)(x)
    x = keras.layers.GRU(s.units, return_sequences=True, name="gru_1")(x)
    x = keras.layers.Dropout(0.2)(x)
    x = keras.layers.BatchNormalization(name="gru_1_norm")(x)
    x = keras.layers.GRU(s.units, return_sequences=True, name="gru_2")(x)
    x = keras.layers.Dropout(0.2)(x)
    x = keras.layers.BatchNormalization(name="gru_2_norm")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="trigger")(x)
    model = keras.Model(audio, outputs, name="trigger_word")
    model.compile(
        optimizer=keras.optimizers.Adam(s.learning_rate, clipnorm=1.0),
        loss="binary_crossentropy",
        metrics=[keras.metrics.BinaryAccuracy(name="frame_accuracy")],
    )
    return model


def detect(probabilities, clip_seconds, threshold=THRESHOLD, min_frames=MIN_RUN_FRAMES):
    """Trigger end times (seconds): starts of runs of >= `min_frames` frames above threshold.

    The labels switch on right after the trigger ends, so the start of a
    confident run marks the end of the word.

    >>> detect(np.array([0, 0.9, 0.9, 0.9, 0, 0.8, 0, 0.7, 0.7, 0.7]), 10.0)
    [1.0, 7.0]
    """
    above = np.asarray(probabilities).reshape(-1) > threshold
    frames = len(above)
    times, run = [], 0
    for i, on in enumerate(above):
        run = run + 1 if on else 0
        if run == min_frames:
            times.append((i - min_frames + 1) * clip_seconds / frames)
    return times


def match_events(detected, expected, tolerance):
    """Greedy one-to-one matching of detected and true trigger ends within `tolerance` s.

    Returns `(true_positives, false_positives, false_negatives)`.

    >>> match_events([1.05, 3.0], [1.0, 5.0], 0.2)
    (1, 1, 1)
    """
    unmatched = list(expected)
    hits = 0
    for time in detected:
        best = min(unmatched, key=lambda e: abs(e - time), default=None)
        if best is not None and abs(best - time) <= tolerance:
            unmatched.remove(best)
            hits += 1
    return hits, len(detected) - hits, len(unmatched)


def score(model, clips, batch_size=64):
    """Frame accuracy and event-level precision/recall/F1 on a clip set."""
    audio = clips["audio"].astype("float32") / 32768.0
    clip_seconds = audio.shape[1] / SAMPLE_RATE
    probabilities = model.predict(audio, batch_size=batch_size, verbose=0)[..., 0]
    frame_accuracy = float(np.mean((probabilities > THRESHOLD) == (clips["labels"] > 0.5)))
    frames = probabilities.shape[1]
    # A detection run starts within the label window; allow it from half a window
    # before the word's end to a full window after.
    window = label_frames(frames, clip_seconds) * clip_seconds / frames
    tp = fp = fn = 0
    examples = []
    for i, row in enumerate(probabilities):
        expected = [float(e) for e in clips["ends"][i] if e >= 0]
        detected = detect(row, clip_seconds)
        shifted = [t - 0.5 * window for t in detected]
        hits, false_pos, misses = match_events(shifted, expected, tolerance=window)
        tp, fp, fn = tp + hits, fp + false_pos, fn + misses
        if false_pos or misses:
            examples.append((f"clip {i}", _times(detected), _times(expected)))
    precision = tp / max(1, tp + fp)
    recall = tp / max(1, tp + fn)
    f1 = 2 * precision * recall / max(1e-12, precision + recall)
    return dict(
        frame_accuracy=frame_accuracy, precision=precision, recall=recall, f1=f1,
        events=tp + fn, examples=examples, probabilities=probabilities,
    )  # fmt: skip


def _times(times):
    return ", ".join(f"{t:.2f} s" for t in times) or "none"


def _callbacks(log_dir, test, clip_seconds):
    """TensorBoard: clips, spectrograms and detections (AudioSamples), and
    label/probability strips of a few held-out clips every epoch."""
    if not log_dir:
        return []
    audio = test["audio"][:3].astype("float32") / 32768.0
    references = [f"trigger ends: {_times([e for e in row if e >= 0])}" for row in test["ends"][:3]]

    def describe(model, clips):
        probabilities = model.predict(clips, verbose=0)[..., 0]
        return [f"detected: {_times(detect(p, clip_seconds))}" for p in probabilities]

    def strips(model):
        probabilities = model.predict(audio, verbose=0)[..., 0]
        return strip_images([test["labels"][:3], probabilities])

    return [
        AudioSamples(audio, SAMPLE_RATE, log_dir=log_dir, describe_fn=describe, references=references, name="trigger_word"),
        PredictionImages(strips, log_dir, "trigger_word/labels_over_probabilities"),
    ]


def train(size="default", *, data=None, eval_examples=500, cache_dir=None, **options):
    """Trains on generated clips (or Coursera-layout recordings in `data`) and
    scores held-out voices. `options`: the common training options of
    `applications.contract.Training`; `cache_dir`: where synthesised clips
    are cached."""
    run = contract.Training(SIZES, size, **options)
    s = run.size
    if data:
        positives, negatives, backgrounds = load_raw_data(data)
        held = max(1, len(positives) // 5)
        train_set = generate_clips(run.train_examples, s.clip_seconds, positives[held:], negatives, run.seed,
                                   backgrounds)
        test = generate_clips(eval_examples, s.clip_seconds, positives[:held], negatives, run.seed + 1, backgrounds)
    else:
        train_set, test = make_dataset(run.train_examples, eval_examples, seed=run.seed, clip_seconds=s.clip_seconds,
                                       cache_dir=cache_dir)
    inputs = train_set["audio"].astype("float32") / 32768.0
    targets = train_set["labels"][..., None]
    train_data, validation, _ = run.datasets(inputs, targets, validate_one_in=10)
    model, _ = run.fit(
        lambda: build_model(size, seed=run.seed), train_data, validation_data=validation,
        callbacks=_callbacks(run.log_dir, test, s.clip_seconds),
    )  # fmt: skip
    result = score(model, test)
    run.save(model)
    return run.result(model, len(test["audio"]), **result)


def describe(result):
    """The metric line of a `train`/`evaluate` result."""
    return (
        f"event F1 {result['f1']:.4f} (precision {result['precision']:.4f}, recall {result['recall']:.4f}, "
        f"{result['events']} triggers), frame accuracy {100 * result['frame_accuracy']:.2f}%"
    )


load = contract.loader("trigger_word", check=lambda m: m.name == "trigger_word")


def evaluate(model_path, examples=500, seed=0, data=None, size="default", cache_dir=None):
    """Scores a saved model on clips spoken by held-out voices (or recordings
    in `data`); `size` is the size it was trained with (its clip length)."""
    contract.check_count("examples", examples, allow_none=False)
    s = contract.choose(SIZES, size)
    if data:
        positives, negatives, backgrounds = load_raw_data(data)
        test = generate_clips(examples, s.clip_seconds, positives, negatives, seed + 1, backgrounds)
    else:
        test = make_dataset(0, examples, seed=seed, clip_seconds=s.clip_seconds, cache_dir=cache_dir)[1]
    result = score(load(model_path), test)
    result["eval_examples"] = examples
    return result


def chime(sample_rate=SAMPLE_RATE, seconds=0.25):
    """A short two-tone chime (float32)."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    envelope = np.exp(-t * 12.0)
    tone = np.sin(2 * np.pi * 880.0 * t) + 0.5 * np.sin(2 * np.pi * 1320.0 * t)
    return (0.5 * envelope * tone).astype("float32")


def predict(model_path, paths, chime_output=None):
    """Detected trigger times for each wav file; one line per file.

    With `chime_output` (one file) the first clip is written there with a
    chime right after every detection.
    """
    paths = [contract.check_exists(p, "wav file") for p in contract.check_inputs([os.fspath(p) for p in paths], "paths")]
    model = load(model_path)
    lines = []
    for index, path in enumerate(paths):
        audio, _ = read_wav(path, SAMPLE_RATE)
        if len(audio) < FRAME_LENGTH + FRAME_STEP * CONV_KERNEL:
            raise ValueError(f"{path} is too short: at least {FRAME_LENGTH + FRAME_STEP * CONV_KERNEL} samples are needed.")
        seconds = len(audio) / SAMPLE_RATE
        probabilities = model.predict(audio[None], verbose=0)[0, :, 0]
        times = detect(probabilities, seconds)
        lines.append(f"{path}: {'activate at ' + _times(times) if times else 'no trigger'}")
        if chime_output and index == 0:
            mixed = audio.copy()
            sound = chime()
            for t in times:
                start = int(t * SAMPLE_RATE)
                piece = sound[: max(0, len(mixed) - start)]
                mixed[start : start + len(piece)] += piece
            write_wav(chime_output, np.clip(mixed, -1.0, 1.0), SAMPLE_RATE)
            lines.append(f"wrote {chime_output}")
    return lines
