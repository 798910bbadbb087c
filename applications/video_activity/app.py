"""Model, training, evaluation and prediction for `video_activity`."""

from __future__ import annotations

import os

import keras
import numpy as np
from keras import ops

from applications import contract
from applications.video_activity import MODELS, SIZES
from applications.video_activity.data import (
    ACTIONS,
    load_video_folder,
    make_dataset,
    read_video,
)
from keras_seq.layers import BahdanauAttention


def frame_encoder(image_size, filters, units, dropout=0.0, channels=3, name="frame_encoder"):
    """The per-frame CNN: three strided 3x3 convolutions (batch norm, ReLU)
    down to an eighth of the image, flattened (so where things are in the
    frame survives) into `units` features. `channels`: 3 for RGB frames, 6
    for a frame with its `FrameDifferences`."""
    layers = [keras.Input((image_size, image_size, channels))]
    for index, width in enumerate((filters, 2 * filters, 2 * filters)):
        layers += [
            keras.layers.Conv2D(width, 3, strides=2, padding="same", use_bias=False, name=f"conv_{index}"),
            keras.layers.BatchNormalization(momentum=0.9, name=f"norm_{index}"),
            keras.layers.ReLU(),
        ]
    layers += [keras.layers.Flatten(), keras.layers.Dropout(dropout), keras.layers.Dense(units, activation="relu", name="features")]
    return keras.Sequential(layers, name=name)


@contract.serializable
class FrameDifferences(keras.layers.Layer):
    """Each frame of clips `[B, T, H, W, C]` with its difference to the frame
    before: `[B, T, H, W, 2C]`, the frame's channels then `x_t - x_{t-1}`
    (zeros for the first frame).

    A pixel the actor has just covered shows the actor's colour minus the
    background, one it has just left the opposite: the difference says where
    the outline went between two frames (which way a shape turns), a local
    pattern a small CNN sees, where comparing two frames' pooled features
    would need the exact orientation to survive the pooling.

    >>> import numpy as np
    >>> clips = np.arange(3, dtype="float32").reshape(1, 3, 1, 1, 1) ** 2  # frames 0, 1, 4
    >>> np.asarray(FrameDifferences()(clips))[0, :, 0, 0].tolist()
    [[0.0, 0.0], [1.0, 1.0], [4.0, 3.0]]
    """

    def call(self, inputs):
        previous = ops.concatenate([inputs[:, :1], inputs[:, :-1]], axis=1)
        return ops.concatenate([inputs, inputs - previous], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], None if input_shape[-1] is None else 2 * input_shape[-1])


@contract.serializable
class ActivityRecognizer(keras.Model):
    """Classifies clips `[B, T, H, W, 3]` (uint8 or floats in 0-255) into
    `class_names`.

    Every frame goes through the same CNN (`frame_encoder` under
    `keras.layers.TimeDistributed`); with `motion` (the default of the
    sequence models) the CNN sees each frame together with its difference to
    the frame before (`FrameDifferences`, computed inside the model, so raw
    clips go in), which tells it where the outline moved: without it, the
    direction a shape turns, a few pixels at its tips, is lost in the
    CNN's downsampling before the LSTM can compare the frames. The model
    stays an LRCN (a per-frame CNN, then an LSTM over time): each step's
    CNN sees two neighbouring frames, and the LSTM does the rest. Then, by
    `architecture`:

    * ``"lrcn"``: an LSTM reads the frame features in order and its last
      state is classified (LRCN, Donahue et al. 2015);
    * ``"attention"``: the same LSTM, and `keras_seq.layers.BahdanauAttention`
      pools its outputs over time with the last state as the query; the
      context and the last state are classified;
    * ``"single_frame"``: each frame is classified on its own and the clip's
      probabilities are the mean of the frames' (the baseline: blind to the
      order of the frames by construction). Never with `motion`: it sees
      one frame at a time.

    Args:
        class_names: the classes, at least two distinct names.
        architecture: one of `MODELS`.
        frames: the frames a clip is sampled to (for `predict` on video
            files; the model takes any number).
        image_size: frame height and width.
        filters, units: width of the per-frame CNN and of its features (and
            of the LSTM).
        dropout: before the features and before the classifier.
        motion: whether the per-frame CNN also sees each frame's difference
            to the previous one; `None`: yes for `lrcn` and `attention`, no
            for `single_frame` (where `True` is an error).

    Call arguments:
        clips: `[B, T, image_size, image_size, 3]`; any number of frames.

    Returns:
        Logits `[B, len(class_names)]` (for `single_frame`, the log of the
        averaged probabilities, so that softmax gives them back).

    Example:
    >>> import numpy as np
    >>> from applications.video_activity.app import ActivityRecognizer
    >>> model = ActivityRecognizer(["left", "right"], image_size=16, filters=4, units=8)
    >>> tuple(model(np.zeros((2, 5, 16, 16, 3), "uint8")).shape)
    (2, 2)
    """

    def __init__(self, class_names, architecture="lrcn", frames=16, image_size=64, filters=24, units=128,
                 dropout=0.2, motion=None, **kwargs):
        super().__init__(**kwargs)
        errors = []
        class_names = list(class_names) if not isinstance(class_names, str) else class_names
        if isinstance(class_names, str) or len(class_names) < 2 or not all(isinstance(c, str) and c for c in class_names):
            errors.append(f"`class_names` must be at least two non-empty strings; received {class_names!r}.")
        elif len(set(class_names)) != len(class_names):
            errors.append(f"`class_names` must be distinct; received {class_names!r}.")
        if architecture not in MODELS:
            errors.append(f"`architecture` must be one of {MODELS}; received {architecture!r}.")
        if motion is None:
            motion = architecture != "single_frame"
        if not isinstance(motion, bool):
            errors.append(f"`motion` must be True, False or None; received {motion!r}.")
        elif motion and architecture == "single_frame":
            errors.append("`motion` must be False for the single_frame baseline (it sees one frame at a time).")
        contract.check_arguments(errors, positive=dict(frames=frames, image_size=image_size, filters=filters,
                                                       units=units), rates=dict(dropout=dropout))
        if image_size < 8:
            raise ValueError(f"`image_size` must be at least 8; received {image_size}.")
        self.class_names, self.architecture = list(class_names), architecture
        self.frames, self.image_size, self.filters, self.units = frames, image_size, filters, units
        self.dropout, self.motion = float(dropout), motion
        classes = len(self.class_names)
        if motion:
            self.frame_differences = FrameDifferences(name="frame_differences")
        encoder = frame_encoder(image_size, filters, units, self.dropout, channels=6 if motion else 3)
        self.per_frame = keras.layers.TimeDistributed(encoder, name="per_frame_cnn")
        self.head_dropout = keras.layers.Dropout(self.dropout)
        if architecture == "single_frame":
            self.frame_classifier = keras.layers.TimeDistributed(keras.layers.Dense(classes), name="frame_classifier")
        else:
            self.lstm = keras.layers.LSTM(units, return_sequences=architecture == "attention",
                                          return_state=architecture == "attention", name="lstm")
            if architecture == "attention":
                self.attention = BahdanauAttention(units, name="attention_pooling")
            self.classifier = keras.layers.Dense(classes, dtype="float32", name="classifier")

    def _check(self, clips):
        shape = tuple(clips.shape)
        expected = (self.image_size, self.image_size, 3)
        if len(shape) != 5 or tuple(shape[2:]) != expected:
            raise ValueError(
                f"`clips` must have shape [batch, frames, {self.image_size}, {self.image_size}, 3]; received {shape}."
            )

    def features(self, clips, training=False):
        """Per-frame CNN features `[B, T, units]`."""
        self._check(clips)
        frames = ops.cast(clips, "float32") / 255.0
        if self.motion:
            frames = self.frame_differences(frames)
        return self.per_frame(frames, training=training)

    def call(self, clips, training=False, return_attention_scores=False):
        features = self.features(clips, training)
        if self.architecture == "single_frame":
            logits = self.frame_classifier(self.head_dropout(features, training=training))
            probabilities = ops.mean(ops.softmax(ops.cast(logits, "float32"), axis=-1), axis=1)
            return ops.log(ops.maximum(probabilities, 1e-12))
        if self.architecture == "lrcn":
            return self.classifier(self.head_dropout(self.lstm(features, training=training), training=training))
        outputs, last, _ = self.lstm(features, training=training)
        context, weights = self.attention(last, outputs)
        logits = self.classifier(self.head_dropout(ops.concatenate([context, last], -1), training=training))
        return (logits, weights) if return_attention_scores else logits

    def probabilities(self, clips, batch_size=32):
        """Class probabilities `[N, classes]` (NumPy) of clips (NumPy)."""
        clips = np.asarray(clips)
        self._check(clips)
        if len(clips) <= batch_size:
            # One batch: called directly, which skips building `predict`'s
            # dataset and tracing its function (~0.4 s of a `predict`
            # command's start-up); the same probabilities (tested).
            logits = self(clips, training=False)
        else:
            logits = self.predict(clips, batch_size=batch_size, verbose=0)
        return np.asarray(ops.convert_to_numpy(ops.softmax(logits, axis=-1)))

    def classify(self, clips, batch_size=32):
        """Class names of clips."""
        return [self.class_names[i] for i in self.probabilities(clips, batch_size).argmax(-1)]

    def get_config(self):
        config = super().get_config()
        names = ("class_names", "architecture", "frames", "image_size", "filters", "units", "dropout", "motion")
        config.update({name: getattr(self, name) for name in names})
        return config

    @classmethod
    def from_config(cls, config):
        # Models saved before `motion` existed had no difference channel.
        return cls(**{"motion": False, **config})


load = contract.loader("video_activity", ActivityRecognizer)


def build_model(class_names=ACTIONS, size="default", architecture="lrcn", steps=None, motion=None):
    """An `ActivityRecognizer` of `size`, compiled with Adam, warm-up and
    cosine decay over `steps` (default: the size's)."""
    s = contract.choose(SIZES, size)
    model = ActivityRecognizer(class_names, architecture, frames=s.frames, image_size=s.image_size, filters=s.filters,
                               units=s.units, motion=motion)
    steps = steps or s.epochs * contract.steps_per_epoch(s.train_examples, s.batch_size)
    rate = contract.schedule(s.learning_rate, steps, warmup_steps=min(100, steps // 10))
    return contract.compile_classifier(model, rate, clipnorm=1.0)


# -- scores --------------------------------------------------------------------------


def confusion_matrix(labels, predictions, num_classes):
    """Counts `[true class, predicted class]`.

    >>> confusion_matrix([0, 0, 1, 2], [0, 1, 1, 1], 3).tolist()
    [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    """
    matrix = np.zeros((num_classes, num_classes), "int64")
    np.add.at(matrix, (np.asarray(labels, "int64"), np.asarray(predictions, "int64")), 1)
    return matrix


def scores(labels, predictions, class_names):
    """Accuracy, per-class accuracy (recall: the share of each class's clips
    recognised) and the confusion matrix.

    >>> result = scores([0, 0, 1, 1], [0, 1, 1, 1], ["left", "right"])
    >>> result["accuracy"], result["per_class"]
    (0.75, {'left': 0.5, 'right': 1.0})
    """
    matrix = confusion_matrix(labels, predictions, len(class_names))
    totals = matrix.sum(1)
    per_class = {name: float(matrix[i, i] / totals[i]) for i, name in enumerate(class_names) if totals[i]}
    accuracy = float(np.trace(matrix) / max(1, matrix.sum()))
    return {"accuracy": accuracy, "per_class": per_class, "confusion": matrix, "class_names": list(class_names)}


def score(model, clips, labels, class_names=None):
    """`scores` of `model` on clips, the wrong answers as `(clip, predicted,
    expected)` examples, and the probabilities."""
    class_names = list(class_names or model.class_names)
    probabilities = model.probabilities(clips)
    predictions = probabilities.argmax(-1)
    result = scores(labels, predictions, class_names)
    result["examples"] = [
        (f"clip {i}", class_names[p], class_names[t]) for i, (p, t) in enumerate(zip(predictions, labels)) if p != t
    ]
    result["probabilities"] = probabilities
    return result


def describe(result):
    """The metric line of a `train`/`evaluate` result."""
    per_class = ", ".join(f"{name} {100 * value:.0f}%" for name, value in result["per_class"].items())
    chance = 100 / len(result["class_names"])
    return f"accuracy {100 * result['accuracy']:.2f}% (chance {chance:.1f}%); per class: {per_class}"


# -- TensorBoard -----------------------------------------------------------------------


def confusion_figure(matrix, class_names, title="held-out confusion matrix"):
    """A matplotlib figure of a confusion matrix (rows: true class, columns:
    predicted), counts written in the cells."""
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix)
    side = 1.2 + 0.45 * len(class_names)
    fig, ax = plt.subplots(figsize=(side + 1.0, side))
    shares = matrix / np.maximum(1, matrix.sum(1, keepdims=True))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(class_names)), class_names, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(class_names)), class_names, fontsize=7)
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("true", fontsize=8)
    ax.set_title(title, fontsize=8)
    for (row, column), count in np.ndenumerate(matrix):
        if count:
            ax.text(column, row, str(count), ha="center", va="center", fontsize=6,
                    color="white" if shares[row, column] > 0.5 else "black")
    fig.tight_layout()
    return fig


def log_scores(log_dir, result, step):
    """Writes the confusion matrix image (tag `confusion_matrix`) and the
    accuracy and per-class accuracy scalars of `result` to TensorBoard under
    `log_dir/evaluation`."""
    import tensorflow as tf

    from keras_seq.callbacks import figure_to_png

    png = figure_to_png(confusion_figure(result["confusion"], result["class_names"]))
    writer = tf.summary.create_file_writer(os.path.join(log_dir, "evaluation"))
    with writer.as_default():
        tf.summary.image("confusion_matrix", tf.io.decode_png(png, channels=4)[None], step=step)
        tf.summary.scalar("held_out_accuracy", result["accuracy"], step=step)
        for name, value in result["per_class"].items():
            tf.summary.scalar(f"per_class_accuracy/{name}", value, step=step)
    writer.close()


class HeldOutScores(keras.callbacks.Callback):
    """Scores held-out clips after every epoch and logs them (`log_scores`)."""

    def __init__(self, log_dir, clips, labels, class_names):
        super().__init__()
        self.log_dir, self.clips, self.labels, self.class_names = log_dir, clips, labels, list(class_names)

    def on_epoch_end(self, epoch, logs=None):
        log_scores(self.log_dir, score(self.model, self.clips, self.labels, self.class_names), epoch)


# -- commands --------------------------------------------------------------------------


def _loaded_split(data, frames, image_size, eval_examples, seed):
    clips, labels, class_names = load_video_folder(data, frames, image_size)
    train_indices, test_indices = contract.held_out_split(list(range(len(labels))), eval_examples, seed)
    return (clips[train_indices], labels[train_indices]), (clips[test_indices], labels[test_indices]), class_names


def train(size="default", *, data=None, eval_examples=900, architecture="lrcn", **options):
    """Trains on generated clips (or a folder of videos per class in `data`)
    and scores clips of held-out shapes and colours (or a held-out 10% of
    the videos). `architecture`: one of `MODELS`. `options`: the common
    training options of `applications.contract.Training`."""
    if architecture not in MODELS:
        raise ValueError(f"`architecture` must be one of {MODELS}; received {architecture!r}.")
    contract.check_count("eval_examples", eval_examples, allow_none=False)
    run = contract.Training(SIZES, size, **options)
    s = run.size
    if data:
        (clips, labels), (test_clips, test_labels), class_names = _loaded_split(
            data, s.frames, s.image_size, eval_examples, run.seed
        )
    else:
        (clips, labels), (test_clips, test_labels) = make_dataset(
            run.train_examples, eval_examples, s.frames, s.image_size, seed=run.seed
        )
        class_names = list(ACTIONS)
    train_data, validation, steps = run.datasets(clips, labels, validate_one_in=10)
    monitor = min(len(test_labels), 20 * len(class_names))  # a balanced slice of the held-out clips
    callbacks = [HeldOutScores(run.log_dir, test_clips[:monitor], test_labels[:monitor], class_names)] if run.log_dir else []
    model, _ = run.fit(
        lambda: build_model(class_names, size, architecture, steps), train_data, validation_data=validation,
        callbacks=callbacks,
    )  # fmt: skip
    result = score(model, test_clips, test_labels, class_names)
    if run.log_dir and run.chief:
        log_scores(run.log_dir, result, run.epochs)
    run.save(model)
    return run.result(model, len(test_labels), **result)


def evaluate(model_path, examples=900, seed=0, data=None):
    """Scores a saved model on generated clips of held-out appearances (or on
    every video of a folder-per-class `data` folder whose classes the model
    knows)."""
    contract.check_count("examples", examples, allow_none=False)
    model = load(model_path)
    if data:
        clips, labels, classes = load_video_folder(data, model.frames, model.image_size)
        unknown = [name for name in classes if name not in model.class_names]
        if unknown:
            raise ValueError(f"{data} has classes the model does not know: {unknown}; it knows {model.class_names}.")
        labels = np.array([model.class_names.index(classes[i]) for i in labels], "int32")
    else:
        if list(model.class_names) != list(ACTIONS):
            raise ValueError(
                f"{model_path} was trained on other classes ({model.class_names}); evaluate it with --data."
            )
        from applications.video_activity.data import generate_clips

        clips, labels = generate_clips(examples, model.frames, model.image_size, seed, "test", progress=True)
    result = score(model, clips, labels)
    result["eval_examples"] = len(labels)
    return result


def predict(model_path, paths):
    """The class of each video file and its probability, one line per file
    (`frames` frames sampled evenly, centre-cropped and resized)."""
    paths = [contract.check_exists(p, "video file") for p in contract.check_inputs([os.fspath(p) for p in paths], "paths")]
    model = load(model_path)
    clips = np.stack([read_video(p, model.frames, model.image_size) for p in paths])
    probabilities = model.probabilities(clips)
    return [f"{model.class_names[i]} ({row[i]:.2f})" for row, i in zip(probabilities, probabilities.argmax(-1))]
