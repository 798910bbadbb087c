"""Spectrogram layers against a NumPy STFT, normalisation, SpecAugment."""

import keras
import numpy as np
import pytest

from keras_seq.audio import (
    LogMelSpectrogram,
    LogSpectrogram,
    SpecAugment,
    UtteranceNormalization,
    num_frames,
)
from keras_seq.testing import run_layer_test


def numpy_power_spectrogram(waveform, frame_length, frame_step, fft_length, window="hann"):
    n = np.arange(frame_length)
    if window == "hann":  # periodic Hann, as used for spectral analysis
        w = 0.5 - 0.5 * np.cos(2 * np.pi * n / frame_length)
    elif window == "hamming":
        w = 0.54 - 0.46 * np.cos(2 * np.pi * n / frame_length)
    else:
        w = np.ones(frame_length)
    count = 1 + (len(waveform) - frame_length) // frame_step
    frames = np.stack([waveform[i * frame_step : i * frame_step + frame_length] for i in range(count)])
    spectrum = np.fft.rfft(frames.astype("float64") * w, n=fft_length)
    return np.abs(spectrum) ** 2


def numpy_mel_matrix(num_mel, num_bins, sample_rate, low, high):
    def mel(f):
        return 1127.0 * np.log1p(np.asarray(f, "float64") / 700.0)

    bin_mel = mel(np.linspace(0.0, sample_rate / 2, num_bins))[1:]  # no DC
    edges = np.linspace(mel(low), mel(high), num_mel + 2)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bin_mel[:, None] - lower) / (centre - lower)
    falling = (upper - bin_mel[:, None]) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.concatenate([np.zeros((1, num_mel)), weights])


@pytest.mark.parametrize("window", ["hann", "hamming", "rectangular"])
def test_log_spectrogram_equals_numpy_stft(rng, window):
    waveform = rng.normal(size=(2, 3000)).astype("float32")
    layer = LogSpectrogram(frame_length=300, frame_step=128, fft_length=512, window=window, epsilon=1e-6)
    out = np.asarray(layer(waveform))
    assert out.shape == (2, num_frames(3000, 300, 128), 257)
    for row, wave in zip(out, waveform):
        expected = np.log(numpy_power_spectrogram(wave, 300, 128, 512, window) + 1e-6)
        np.testing.assert_allclose(row, expected, atol=2e-3, rtol=1e-4)


def test_log_spectrogram_of_a_sine_peaks_at_its_frequency():
    sample_rate, frequency = 8000, 1000.0
    t = np.arange(4000) / sample_rate
    wave = np.sin(2 * np.pi * frequency * t).astype("float32")[None]
    out = np.asarray(LogSpectrogram(frame_length=256, frame_step=128, fft_length=256)(wave))
    peak = out[0].argmax(axis=-1)
    assert np.all(peak == round(frequency / sample_rate * 256))


def test_log_mel_equals_numpy_filter_bank(rng):
    waveform = rng.normal(size=(2, 4000)).astype("float32")
    layer = LogMelSpectrogram(
        sample_rate=8000, num_mel_bins=24, lower_edge_hertz=50.0, upper_edge_hertz=3800.0,
        frame_length=200, frame_step=80, fft_length=256,
    )
    out = np.asarray(layer(waveform))
    filters = numpy_mel_matrix(24, 129, 8000, 50.0, 3800.0)
    for row, wave in zip(out, waveform):
        expected = np.log(numpy_power_spectrogram(wave, 200, 80, 256) @ filters + 1e-6)
        np.testing.assert_allclose(row, expected, atol=2e-3, rtol=1e-3)


def test_feature_layers_pass_the_layer_harness(rng):
    waveform = rng.normal(size=(2, 1200)).astype("float32")
    run_layer_test(
        LogSpectrogram, {"frame_length": 256, "frame_step": 128},
        waveform, expected_output_shape=(2, 8, 129), mixed_precision_tolerances={"mixed_bfloat16": 0.25},
    )
    run_layer_test(
        LogMelSpectrogram,
        {"sample_rate": 8000, "num_mel_bins": 16, "frame_length": 256, "frame_step": 128},
        waveform, expected_output_shape=(2, 8, 16), mixed_precision_tolerances={"mixed_bfloat16": 0.25},
    )
    features = rng.normal(size=(2, 6, 5)).astype("float32")
    features[1, 4:] = 0.0  # padding rows for the implicit mask
    run_layer_test(UtteranceNormalization, {}, features, masked_inputs=("inputs",))
    run_layer_test(SpecAugment, {"freq_mask_param": 2, "time_mask_param": 2, "seed": 3}, features)


def test_feature_layers_have_no_weights_and_work_inside_a_model(tmp_path, rng):
    inputs = keras.Input((None,))
    x = LogMelSpectrogram(sample_rate=8000, num_mel_bins=16, frame_length=200, frame_step=80)(inputs)
    x = UtteranceNormalization()(x)
    x = SpecAugment(freq_mask_param=3, time_mask_param=4, seed=1)(x)
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling1D()(x))
    model = keras.Model(inputs, outputs)
    assert len(model.trainable_weights) == 2  # the Dense kernel and bias only
    waveform = rng.normal(size=(3, 2000)).astype("float32")
    model.compile("adam", "mse")
    model.fit(waveform, np.zeros((3, 2), "float32"), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(restored.predict(waveform, verbose=0), model.predict(waveform, verbose=0), atol=1e-6)


def test_utterance_normalization_matches_numpy_over_real_frames(rng):
    x = rng.normal(3.0, 2.0, size=(2, 7, 4)).astype("float32")
    mask = np.array([[True] * 7, [True] * 5 + [False] * 2])
    y = np.asarray(UtteranceNormalization(epsilon=1e-5)(x, mask=mask))
    for b, length in enumerate([7, 5]):
        real = x[b, :length].astype("float64")
        expected = (real - real.mean(0)) / np.sqrt(real.var(0) + 1e-5)
        np.testing.assert_allclose(y[b, :length], expected, atol=1e-5)
        assert np.all(y[b, length:] == 0.0)
    centred = np.asarray(UtteranceNormalization(scale=False)(x))
    np.testing.assert_allclose(centred, x - x.mean(1, keepdims=True), atol=1e-5)


def test_spec_augment_masks_bands_only_in_training_and_is_seeded():
    x = np.arange(1, 1 + 4 * 30 * 12, dtype="float32").reshape(4, 30, 12)
    layer = SpecAugment(freq_mask_param=3, time_mask_param=5, num_freq_masks=1, num_time_masks=1, seed=7)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    out = np.asarray(layer(x, training=True))
    zero = out == 0.0
    assert zero.any()
    for example in zero:
        rows = np.where(example.all(axis=1))[0]  # masked time steps
        cols = np.where(example.all(axis=0))[0]  # masked frequency bins
        assert len(rows) <= 5 and len(cols) <= 3
        if len(rows):
            assert rows.max() - rows.min() + 1 == len(rows)  # one contiguous block
        if len(cols):
            assert cols.max() - cols.min() + 1 == len(cols)
        expected = np.zeros_like(example)
        expected[rows] = True
        expected[:, cols] = True
        np.testing.assert_array_equal(example, expected)  # nothing else touched
    again = np.asarray(SpecAugment(freq_mask_param=3, time_mask_param=5, seed=7)(x, training=True))
    np.testing.assert_array_equal(again, out)
    other = np.asarray(SpecAugment(freq_mask_param=3, time_mask_param=5, seed=8)(x, training=True))
    assert not np.array_equal(other, out)


@pytest.mark.parametrize(
    "bad_call, match",
    [
        (lambda: LogSpectrogram(frame_length=400, fft_length=256), "fft_length"),
        (lambda: LogSpectrogram(window="kaiser"), "window"),
        (lambda: LogSpectrogram(frame_step=0), "frame_step"),
        (lambda: LogMelSpectrogram(sample_rate=8000, upper_edge_hertz=5000.0), "upper_edge_hertz"),
        (lambda: LogSpectrogram()(np.zeros((1, 800, 1), "float32")), "rank 2"),
        (lambda: SpecAugment(time_mask_param=-1), "time_mask_param"),
        (lambda: UtteranceNormalization()(np.zeros((2, 3), "float32")), "features"),
        (lambda: UtteranceNormalization(epsilon=-1.0), "epsilon"),
    ],
)
def test_bad_arguments_raise_value_errors(bad_call, match):
    with pytest.raises(ValueError, match=match):
        bad_call()
