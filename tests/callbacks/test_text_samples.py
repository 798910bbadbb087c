import glob

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.callbacks import TextSamples
from keras_seq.callbacks.text_samples import markdown_table


def _logged_texts(log_dir):
    found = {}
    for path in glob.glob(f"{log_dir}/samples/events.*"):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                text = tf.make_ndarray(value.tensor).item().decode()
                found[(value.tag, event.step)] = text
    return found


def test_samples_from_the_model_in_training_reach_tensorboard(tmp_path):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(keras.optimizers.SGD(0.1), "mse")

    def generate(m, prompts):
        # The sample depends on the model's current weights, so each epoch's differs.
        weight = float(m.layers[0].kernel.numpy()[0, 0])
        return [f"{p}:{weight:.3f}" for p in prompts]

    callback = TextSamples(generate, ["a", "b|c"], log_dir=str(tmp_path), every_n_epochs=2)
    model.fit(np.ones((4, 1)), np.ones((4, 1)), epochs=4, verbose=0, callbacks=[callback])
    assert [epoch for epoch, _ in callback.samples] == [1, 3]
    first, last = callback.samples[0][1], callback.samples[1][1]
    assert first[0] != last[0] and first[0].startswith("a:")
    logged = _logged_texts(tmp_path)
    assert sorted(logged) == [("samples", 1), ("samples", 3)]
    assert logged[("samples", 3)] == markdown_table(["a", "b|c"], last)
    assert "| b\\|c |" in logged[("samples", 3)]


def test_errors():
    with pytest.raises(ValueError, match="`generate_fn` must be callable"):
        TextSamples(None, ["a"])
    with pytest.raises(ValueError, match="`prompts` must hold at least one"):
        TextSamples(lambda m, p: p, [])
    with pytest.raises(ValueError, match="`every_n_epochs` must be a positive integer"):
        TextSamples(lambda m, p: p, ["a"], every_n_epochs=0)
    callback = TextSamples(lambda m, p: ["x"], ["a", "b"])
    with pytest.raises(ValueError, match="returned 1 samples for 2 prompts"):
        callback.on_epoch_end(0)
