import glob

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.callbacks import AttentionHeatmap, plot_attention


def read_images(log_dir):
    images = []
    for path in glob.glob(f"{log_dir}/attention/events.*"):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                tensor = tf.make_ndarray(value.tensor)
                images.append((value.tag, event.step, tensor))
    return images


def test_logs_png_images_every_epoch(tmp_path):
    def attention_fn(model):
        return [(np.eye(3)[::-1], list("abc"), list("xyz")), (np.full((2, 4), 0.25), list("abcd"), list("pq"))]

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    callback = AttentionHeatmap(str(tmp_path), attention_fn, max_images=2)
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=2, verbose=0, callbacks=[callback])
    images = read_images(tmp_path)
    assert sorted({(tag, step) for tag, step, _ in images}) == [("attention", 0), ("attention", 1)]
    # Each summary holds width, height and two PNG-encoded heatmaps.
    for _, _, tensor in images:
        assert len(tensor) == 4
        decoded = tf.io.decode_png(tensor[2]).numpy()
        assert decoded.shape[-1] == 4 and decoded.std() > 0


def test_plot_attention_and_errors():
    fig = plot_attention(np.eye(2), ["a", " "], ["x", "y"], title="t")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "\u2423"]
    with pytest.raises(ValueError, match="`weights` must have rank 2"):
        plot_attention(np.ones(3), ["a"], ["b"])
    with pytest.raises(ValueError, match="`attention_fn` must be callable"):
        AttentionHeatmap("/tmp", attention_fn=None)
    with pytest.raises(ValueError, match="`every_n_epochs`"):
        AttentionHeatmap("/tmp", lambda m: [], every_n_epochs=0)


def test_plot_attention_keeps_the_matplotlib_backend():
    # A notebook runs with the inline backend; plotting (directly or from the
    # callback) must not switch it, or later figures stop being displayed.
    import matplotlib
    import matplotlib.pyplot as plt

    before = matplotlib.get_backend()
    plt.switch_backend("svg")
    try:
        plt.close(plot_attention(np.eye(2), ["a", "b"], ["x", "y"]))
        assert matplotlib.get_backend() == "svg"
    finally:
        plt.switch_backend(before)
