"""Model, training, evaluation and prediction for `speech_ctc`."""

from __future__ import annotations

import os

import keras
import numpy as np

from applications import contract
from applications._speech import PredictionImages, heatmap_images, read_wav
from applications.speech_ctc import SIZES
from applications.speech_ctc.data import (
    ALPHABET,
    BLANK,
    FRAME_LENGTH,
    FRAME_STEP,
    PAD,
    SAMPLE_RATE,
    _pack,
    decode,
    encode,
    load_corpus,
    make_dataset,
    num_logit_frames,
    unpack,
)
from keras_seq.audio import LogMelSpectrogram, SpecAugment, UtteranceNormalization
from keras_seq.callbacks import AudioSamples
from keras_seq.decoding import NGramLM, ctc_beam_search_decode, ctc_greedy_decode
from keras_seq.layers import CTCLoss
from keras_seq.metrics import char_error_rate, word_error_rate

BEAM_WIDTH = 16
LM_ORDER = 3
LM_WEIGHTS = (0.3, 0.6, 1.0)
WORD_BONUSES = (0.0, 1.0, 2.0)


@contract.serializable
class FrameLengths(keras.layers.Layer):
    """Audio sample counts -> (frame mask [B, T], logit mask [B, T'], logit lengths [B], logit weights [B, T', 1]).

    Feature frames `1 + (n - frame_length) // frame_step`; the stride-2
    'same' convolution gives `ceil(frames / 2)` logit frames.
    """

    def __init__(self, frame_length=FRAME_LENGTH, frame_step=FRAME_STEP, **kwargs):
        super().__init__(**kwargs)
        self.frame_length = frame_length
        self.frame_step = frame_step

    def call(self, audio_length, features):
        ops = keras.ops
        n = ops.reshape(ops.cast(audio_length, "int32"), (-1,))
        frames = ops.maximum(0, 1 + (n - self.frame_length) // self.frame_step)
        logit_lengths = (frames + 1) // 2
        time = ops.shape(features)[1]
        frame_mask = ops.arange(time)[None, :] < frames[:, None]
        logit_mask = ops.arange((time + 1) // 2)[None, :] < logit_lengths[:, None]
        return frame_mask, logit_mask, logit_lengths, ops.cast(logit_mask, self.compute_dtype)[..., None]

    def get_config(self):
        config = super().get_config()
        config.update(frame_length=self.frame_length, frame_step=self.frame_step)
        return config


@contract.serializable
class WithoutMask(keras.layers.Layer):
    """Passes its input on without the Keras mask attached to it.

    The normalised spectrogram carries the frame mask; the convolutions that
    follow change the frame grid (stride 2) and do not take masks, and Keras
    would warn on every run that they drop it. The model masks explicitly
    instead (`FrameLengths`), so the mask ends here.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return keras.ops.copy(inputs)  # a new tensor: the input keeps its mask attribute

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return input_shape


def build_model(size="default", num_mel_bins=64, seed=0):
    """Log-mel -> normalisation -> SpecAugment -> 2 Conv1D -> BiGRU(s) -> Dense(29) with CTCLoss.

    Inputs: `audio` [B, N] float, `audio_length` [B], `labels` [B, L]
    (character ids, padded with -1) and `label_length` [B]. The output is
    the logits; the CTC loss (blank 0) is added by `keras_seq.layers.CTCLoss`,
    so the model compiles with `loss=None`.
    """
    s = contract.choose(SIZES, size)
    audio = keras.Input((None,), name="audio")
    audio_length = keras.Input((), dtype="int32", name="audio_length")
    labels = keras.Input((None,), dtype="int32", name="labels")
    label_length = keras.Input((), dtype="int32", name="label_length")
    x = LogMelSpectrogram(SAMPLE_RATE, num_mel_bins, frame_length=FRAME_LENGTH, frame_step=FRAME_STEP, name="log_mel")(audio)
    frame_mask, logit_mask, logit_length, logit_weights = FrameLengths(name="frame_lengths")(audio_length, x)
    x = UtteranceNormalization(name="normalize")(x, mask=frame_mask)
    x = SpecAugment(freq_mask_param=10, time_mask_param=12, num_time_masks=2, seed=seed, name="spec_augment")(x)
    x = WithoutMask(name="without_mask")(x)
    # Explicit padding: with 'same', a strided convolution's left padding depends on
    # the parity of the padded batch length, which would shift the frame grid.
    x = keras.layers.ZeroPadding1D(5, name="conv_1_pad")(x)
    x = keras.layers.Conv1D(s.filters, 11, strides=2, name="conv_1")(x)
    x = keras.layers.BatchNormalization(name="conv_1_norm")(x)
    x = keras.layers.Activation("relu")(x)
    # Zero the frames past each utterance's end, so that padding a batch does not
    # change what the next convolution (and the backward GRU) sees.
    x = keras.layers.Multiply(name="drop_padding")([x, logit_weights])
    x = keras.layers.Conv1D(s.filters, 11, padding="same", name="conv_2")(x)
    x = keras.layers.BatchNormalization(name="conv_2_norm")(x)
    x = keras.layers.Activation("relu")(x)
    for i in range(1, s.recurrent_layers + 1):
        x = keras.layers.Bidirectional(keras.layers.GRU(s.units, return_sequences=True), name=f"bigru_{i}")(x, mask=logit_mask)
        x = keras.layers.Dropout(0.2)(x)
    logits = keras.layers.Dense(len(ALPHABET), name="logits")(x)
    outputs = CTCLoss(blank_index=BLANK, pad_value=PAD, name="ctc")(labels, logits, label_lengths=label_length, logit_lengths=logit_length)
    model = keras.Model(
        {"audio": audio, "audio_length": audio_length, "labels": labels, "label_length": label_length},
        outputs,
        name="speech_ctc",
    )
    model.compile(optimizer=keras.optimizers.Adam(s.learning_rate, clipnorm=1.0), loss=None)
    return model


def recognizer(model):
    """The inference part of a (loaded) model: `{audio, audio_length}` -> (logits, logit lengths)."""
    inputs = {"audio": model.input["audio"], "audio_length": model.input["audio_length"]}
    return keras.Model(inputs, [model.get_layer("logits").output, model.get_layer("frame_lengths").output[2]])


def as_dataset(packed, batch_size, seed=None):
    """A padded, batched `tf.data.Dataset` of model inputs (no targets: CTCLoss adds the loss)."""
    import tensorflow as tf

    lengths = packed["audio_lengths"].astype("int64")
    ids = [encode(t) for t in packed["texts"]]
    audio = tf.RaggedTensor.from_row_lengths(packed["audio"], lengths)
    labels = tf.ragged.constant(ids, dtype="int32", row_splits_dtype="int64")
    dataset = tf.data.Dataset.from_tensor_slices(
        {
            "audio": audio,
            "audio_length": lengths.astype("int32"),
            "labels": labels,
            "label_length": np.array([len(i) for i in ids], "int32"),
        }
    )
    if seed is not None:
        dataset = dataset.shuffle(len(lengths), seed=seed, reshuffle_each_iteration=True)

    def to_float(example):
        example = dict(example)
        example["audio"] = tf.cast(example["audio"], "float32") / 32768.0
        return (example,)

    dataset = dataset.map(to_float).padded_batch(
        batch_size,
        padding_values=({"audio": 0.0, "audio_length": 0, "labels": PAD, "label_length": 0},),
    )
    return dataset.prefetch(tf.data.AUTOTUNE)


def _pad(waves):
    batch = np.zeros((len(waves), max(len(w) for w in waves)), "float32")
    for i, wave in enumerate(waves):
        batch[i, : len(wave)] = wave
    return batch, np.array([len(w) for w in waves], "int32")


def posteriors(model, waves, batch_size=32):
    """`[(log-probabilities [T', V], length)]` for each waveform (model = `recognizer(...)`)."""
    results = []
    order = np.argsort([len(w) for w in waves])  # similar lengths share a batch
    for start in range(0, len(waves), batch_size):
        chunk = order[start : start + batch_size]
        audio, lengths = _pad([waves[i] for i in chunk])
        logits, logit_lengths = model.predict({"audio": audio, "audio_length": lengths}, verbose=0)
        log_probs = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
        for row, i in enumerate(chunk):
            results.append((i, log_probs[row, : int(logit_lengths[row])]))
    results.sort(key=lambda item: item[0])
    return [r for _, r in results]


def _stack(log_probs):
    time = max(1, max(len(p) for p in log_probs))
    batch = np.full((len(log_probs), time, len(ALPHABET)), -1e4, "float32")
    batch[:, :, BLANK] = 0.0
    for i, p in enumerate(log_probs):
        batch[i, : len(p)] = p
    return batch, np.array([len(p) for p in log_probs])


def greedy_texts(log_probs):
    batch, lengths = _stack(log_probs)
    paths, _ = ctc_greedy_decode(batch, lengths, blank_index=BLANK)
    return [decode(p) for p in paths]


def beam_texts(log_probs, lm=None, lm_weight=0.6, word_bonus=1.0, beam_width=BEAM_WIDTH, chunk=64):
    texts = []
    for start in range(0, len(log_probs), chunk):
        batch, lengths = _stack(log_probs[start : start + chunk])
        paths, _ = ctc_beam_search_decode(
            batch, lengths, blank_index=BLANK, beam_width=beam_width, lm=lm,
            lm_weight=lm_weight, word_bonus=word_bonus, alphabet=ALPHABET if lm is not None else None,
        )  # fmt: skip
        texts += [decode(p[0]) for p in paths]
    return texts


def tune_lm(log_probs, references, lm):
    """The (lm_weight, word_bonus) pair with the lowest WER on validation utterances."""
    best = None
    for alpha in LM_WEIGHTS:
        for beta in WORD_BONUSES:
            wer = word_error_rate(beam_texts(log_probs, lm, alpha, beta), references)
            if best is None or wer < best[0]:
                best = (wer, alpha, beta)
    return best[1], best[2]


def score(model, packed, lm=None, lm_weight=0.6, word_bonus=1.0):
    """CER/WER of greedy and (with `lm`) LM-fused beam decoding; `model` is a recognizer."""
    waves, references = unpack(packed)
    log_probs = posteriors(model, waves)
    greedy = greedy_texts(log_probs)
    result = dict(greedy_cer=char_error_rate(greedy, references), greedy_wer=word_error_rate(greedy, references))
    best = greedy
    if lm is not None:
        beam = beam_texts(log_probs, lm, lm_weight, word_bonus)
        result.update(beam_cer=char_error_rate(beam, references), beam_wer=word_error_rate(beam, references))
        result.update(lm_weight=lm_weight, word_bonus=word_bonus)
        best = beam
    result["examples"] = [(f"utterance {i}", h, r) for i, (h, r) in enumerate(zip(best, references)) if h != r]
    return result


def _lm_path(output):
    return f"{output}.lm.txt"


def train_lm(texts):
    return NGramLM(order=LM_ORDER, level="word").fit(list(texts))


def _callbacks(log_dir, test):
    """TensorBoard: clips, spectrograms and greedy transcripts (AudioSamples), and
    CTC posterior heatmaps of a few held-out utterances every epoch."""
    if not log_dir:
        return []
    waves, references = unpack(test)
    waves, references = waves[:3], references[:3]

    def audio_samples(model):
        inference = recognizer(model)
        return AudioSamples(
            waves, SAMPLE_RATE, log_dir=log_dir, references=references, name="speech_ctc",
            describe_fn=lambda m, audio: greedy_texts(posteriors(inference, waves)),
        )  # fmt: skip

    def posterior_images(model):
        inference = recognizer(model)
        return PredictionImages(
            lambda m: heatmap_images(np.exp(_stack(posteriors(inference, waves))[0])),
            log_dir, "speech_ctc/ctc_posteriors",
        )  # fmt: skip

    return [audio_samples, posterior_images]


def train(size="default", *, data=None, eval_examples=400, cache_dir=None, **options):
    """Trains on generated command sentences (or a corpus in `data`, 10%
    held out) and reports CER/WER on held-out voices. `options`: the common
    training options of `applications.contract.Training`; `cache_dir`: where
    synthesised clips are cached."""
    run = contract.Training(SIZES, size, **options)
    if data:
        corpus = load_corpus(data)
        train_ids, test_ids = contract.held_out_split(list(range(len(corpus["texts"]))), eval_examples, run.seed)
        train_set, test = _subset(corpus, train_ids), _subset(corpus, test_ids)
    else:
        train_set, test = make_dataset(run.train_examples, eval_examples, seed=run.seed, cache_dir=cache_dir)
    count = len(train_set["texts"])
    validation = max(1, count // 10)
    fit_part, val_part = _subset(train_set, np.arange(validation, count)), _subset(train_set, np.arange(validation))
    model, _ = run.fit(
        lambda: build_model(size, seed=run.seed),
        as_dataset(fit_part, run.batch_size, run.seed),
        validation_data=as_dataset(val_part, run.batch_size),
        callbacks=_callbacks(run.log_dir, test),
    )
    inference = recognizer(model)
    lm = train_lm(train_set["texts"])
    val_waves, val_texts = unpack(val_part)
    lm_weight, word_bonus = tune_lm(posteriors(inference, val_waves[:200]), val_texts[:200], lm)
    result = score(inference, test, lm, lm_weight, word_bonus)
    if run.save(model):
        with open(_lm_path(run.output), "w", encoding="utf-8") as handle:
            handle.write(f"# lm_weight={lm_weight} word_bonus={word_bonus}\n")
            handle.write("\n".join(str(t) for t in train_set["texts"]) + "\n")
        run.wrote(_lm_path(run.output))
    return run.result(model, len(test["texts"]), **result)


def describe(result):
    """The metric line of a `train`/`evaluate` result."""
    line = f"greedy CER {100 * result['greedy_cer']:.2f}%, WER {100 * result['greedy_wer']:.2f}%"
    if "beam_cer" in result:
        line += (
            f"; beam+LM CER {100 * result['beam_cer']:.2f}%, WER {100 * result['beam_wer']:.2f}% "
            f"(lm_weight {result['lm_weight']}, word_bonus {result['word_bonus']})"
        )
    return line


def _subset(packed, indices):
    waves, texts = unpack(packed)
    return _pack([waves[i] for i in indices], [texts[i] for i in indices])


def load(path):
    """`(recognizer, lm or None, lm_weight, word_bonus)` of a saved model and its LM text."""
    model = contract.load_model(path, "speech_ctc", check=lambda m: m.name == "speech_ctc")
    lm, lm_weight, word_bonus = None, 0.6, 1.0
    if os.path.exists(_lm_path(path)):
        with open(_lm_path(path), encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        settings = dict(item.split("=") for item in lines[0].lstrip("# ").split())
        lm_weight, word_bonus = float(settings["lm_weight"]), float(settings["word_bonus"])
        lm = train_lm([line for line in lines[1:] if line])
    return recognizer(model), lm, lm_weight, word_bonus


def evaluate(model_path, examples=400, seed=0, data=None, cache_dir=None):
    """CER/WER on held-out voices (or a corpus in `data`), greedy and beam+LM."""
    contract.check_count("examples", examples, allow_none=False)
    inference, lm, lm_weight, word_bonus = load(model_path)
    test = load_corpus(data, limit=examples) if data else make_dataset(0, examples, seed=seed, cache_dir=cache_dir)[1]
    result = score(inference, test, lm, lm_weight, word_bonus)
    result["eval_examples"] = len(test["texts"])
    return result


def predict(model_path, paths, greedy=False):
    """Transcribes wav files: one `path: text` line each (beam+LM unless `greedy` or no LM)."""
    paths = [contract.check_exists(p, "wav file") for p in contract.check_inputs([os.fspath(p) for p in paths], "paths")]
    inference, lm, lm_weight, word_bonus = load(model_path)
    waves = [read_wav(p, SAMPLE_RATE)[0] for p in paths]
    for path, wave in zip(paths, waves):
        if num_logit_frames(len(wave)) < 1:
            raise ValueError(f"{path} is too short to transcribe ({len(wave)} samples).")
    log_probs = posteriors(inference, waves)
    texts = greedy_texts(log_probs) if greedy or lm is None else beam_texts(log_probs, lm, lm_weight, word_bonus)
    return [f"{path}: {text}" for path, text in zip(paths, texts)]
