"""TensorBoard attention heatmaps."""

from __future__ import annotations

import io

import numpy as np

from keras_seq.callbacks._periodic import PeriodicSummaries


def plot_attention(weights, source_labels, target_labels, title=None, ax=None):
    """Draws one attention matrix `[Tq, Tk]` as a heatmap.

    Rows are output steps (`target_labels`), columns input positions
    (`source_labels`). Returns the matplotlib `Figure`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.callbacks import plot_attention
    >>> fig = plot_attention(np.eye(3), list("abc"), list("xyz"))
    >>> fig.axes[0].get_xlabel()
    'input'
    """
    # No `matplotlib.use(...)`: switching the backend here would turn off a
    # notebook's inline figures for the rest of the session. Without a display
    # matplotlib picks Agg by itself.
    import matplotlib.pyplot as plt

    weights = np.asarray(weights, dtype="float32")
    if weights.ndim != 2:
        raise ValueError(
            f"`weights` must have rank 2 [output_steps, input_steps]; received shape {weights.shape}."
        )
    rows, cols = len(target_labels), len(source_labels)
    weights = weights[:rows, :cols]
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(3.0, 0.28 * cols + 1.5), max(2.5, 0.3 * rows + 1.2)))
    else:
        fig = ax.figure
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=max(float(weights.max()), 1e-6), aspect="auto")
    ax.set_xticks(range(cols))
    ax.set_xticklabels(["\u2423" if s == " " else s for s in source_labels], fontsize=7)
    ax.set_yticks(range(rows))
    ax.set_yticklabels(target_labels, fontsize=7)
    ax.set_xlabel("input")
    ax.set_ylabel("output")
    if title:
        ax.set_title(title, fontsize=8)
    fig.colorbar(image, ax=ax, fraction=0.04)
    fig.tight_layout()
    return fig


def figure_to_png(fig) -> bytes:
    """Renders a matplotlib figure to PNG bytes and closes it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


class AttentionHeatmap(PeriodicSummaries):
    """Logs attention heatmaps of a few examples to TensorBoard each epoch.

    `attention_fn(model)` returns a list of `(weights [Tq, Tk], source_labels,
    target_labels)` triples, for example from a model's `generate(...,
    return_attention=True)` on fixed validation inputs. The images appear in
    TensorBoard's *Images* tab under `name` (`tensorboard --logdir LOG_DIR`).

    Args:
        log_dir: str, the TensorBoard log directory (images go to
            `log_dir/attention`).
        attention_fn: callable `model -> list of (weights, source_labels,
            target_labels)`.
        every_n_epochs: int. Defaults to `1`.
        max_images: int, at most this many heatmaps per epoch. Defaults to `3`.
        name: str, the image summary tag. Defaults to `"attention"`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.callbacks import AttentionHeatmap
    >>> callback = AttentionHeatmap(
    ...     "/tmp/ks_logs", lambda model: [(np.eye(2), ["a", "b"], ["x", "y"])])
    >>> callback.on_epoch_end(0)
    """

    subdirectory = "attention"

    def __init__(self, log_dir, attention_fn, every_n_epochs=1, max_images=3, name="attention"):
        super().__init__(str(log_dir), every_n_epochs)
        if not callable(attention_fn):
            raise ValueError("`attention_fn` must be callable: model -> list of (weights, source_labels, target_labels).")
        self.attention_fn = attention_fn
        self.max_images = max_images
        self.name = name

    def render(self):
        """The current heatmaps as a uint8 array `[N, H, W, 4]`."""
        import tensorflow as tf

        examples = list(self.attention_fn(self.model))[: self.max_images]
        images = []
        for weights, source_labels, target_labels in examples:
            png = figure_to_png(plot_attention(weights, source_labels, target_labels, title="".join(source_labels)))
            images.append(tf.io.decode_png(png, channels=4))
        if not images:
            return np.zeros((0, 1, 1, 4), "uint8")
        height = max(int(i.shape[0]) for i in images)
        width = max(int(i.shape[1]) for i in images)
        padded = [tf.image.pad_to_bounding_box(i, 0, 0, height, width) for i in images]
        return tf.stack(padded).numpy()

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        if not self._due(epoch):
            return
        images = self.render()
        with self._summary_writer().as_default():
            tf.summary.image(self.name, images, step=epoch, max_outputs=self.max_images)
        self._summary_writer().flush()
