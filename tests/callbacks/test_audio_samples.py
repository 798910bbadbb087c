"""AudioSamples writes clips, spectrograms and predictions to TensorBoard."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.callbacks import AudioSamples


def _events(directory):
    tags = {}
    for path in sorted(directory.rglob("events.out.tfevents.*")):
        for raw in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(raw.numpy())
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(value)
    return tags


def test_logs_audio_spectrograms_and_predictions_during_fit(tmp_path):
    rate = 8000
    t = np.arange(4000) / rate
    clips = np.stack([0.5 * np.sin(2 * np.pi * f * t) for f in (500.0, 1500.0)]).astype("float32")
    inputs = keras.Input((4000,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile("sgd", "mse")
    callback = AudioSamples(
        clips, rate, log_dir=str(tmp_path), references=["low", "high"],
        describe_fn=lambda m, a: [f"{float(v):.3f}" for v in m.predict(a, verbose=0)[:, 0]],
    )
    model.fit(clips, np.zeros((2, 1)), epochs=2, verbose=0, callbacks=[callback])
    assert [epoch for epoch, _ in callback.samples] == [0, 1]
    np.testing.assert_allclose([float(x) for x in callback.samples[-1][1]], model.predict(clips, verbose=0)[:, 0], atol=1e-3)
    tags = _events(tmp_path)
    assert len(tags["audio/clips"]) == 1 and len(tags["audio/spectrograms"]) == 1
    assert len(tags["audio/predictions"]) == 2
    table = tf.make_ndarray(tags["audio/predictions"][-1].tensor).item().decode()
    assert "| 0 | low |" in table and "| 1 | high |" in table
    # The spectrogram image of a sine is brightest at its frequency row (top = Nyquist).
    images = callback.spectrogram_images()
    bins = images.shape[1]
    for image, frequency in zip(images, (500.0, 1500.0)):
        row = bins - 1 - round(frequency / rate * 512)
        assert abs(int(image[:, :, 0].mean(axis=1).argmax()) - row) <= 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="audio"):
        AudioSamples(np.zeros((3,)), 16000)
    with pytest.raises(ValueError, match="sample_rate"):
        AudioSamples(np.zeros((1, 10)), 0)
    with pytest.raises(ValueError, match="references"):
        AudioSamples(np.zeros((2, 10)), 16000, references=["a"])
    with pytest.raises(ValueError, match="describe_fn"):
        AudioSamples(np.zeros((2, 10)), 16000, describe_fn="nope")
