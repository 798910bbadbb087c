"""Model, training, evaluation and prediction for `captioning`."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from applications import contract
from applications.captioning import DECODERS, SIZES
from applications.captioning.data import (
    IMAGE_SIZE,
    MAX_CAPTION_WORDS,
    load_captions,
    load_images,
    make_dataset,
    sample_captions,
)
from keras_seq.layers import (
    BahdanauAttention,
    PositionEmbedding,
    TransformerDecoderBlock,
)
from keras_seq.metrics import corpus_bleu
from keras_seq.models._generation import GenerationMixin, decoding_options
from keras_seq.text import Vocabulary, shift_right

MAX_LENGTH = MAX_CAPTION_WORDS + 2


def _backbone(name, image_size, weights):
    """The CNN mapping images `[B, H, W, 3]` in [0, 1] to a grid `[B, h, w, C]`."""
    if name == "small_cnn":
        layers = [keras.Input((image_size, image_size, 3))]
        for filters, stride in ((32, 2), (64, 2), (96, 2), (128, 1)):
            layers.append(keras.layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False))
            layers.append(keras.layers.BatchNormalization(momentum=0.9))
            layers.append(keras.layers.ReLU())
        return keras.Sequential(layers, name="backbone")
    factory = getattr(keras.applications, name, None)
    if factory is None or not callable(factory):
        raise ValueError(f"`backbone` must be 'small_cnn' or a keras.applications model name; received {name!r}.")
    if weights not in (None, "") and not str(weights).endswith((".h5", ".keras", ".weights.h5")):
        raise ValueError(f"`backbone_weights` must be None or a local weights file; received {weights!r}.")
    inputs = keras.Input((image_size, image_size, 3))
    base = factory(include_top=False, weights=weights or None, input_shape=(image_size, image_size, 3))
    return keras.Model(inputs, base(inputs * 255.0), name="backbone")


@contract.serializable
class Captioner(GenerationMixin, keras.Model):
    """CNN encoder + attention decoder that captions images.

    The CNN (`backbone`: a small strided CNN, or any `keras.applications`
    model built with `weights=None` or a local weights file) turns the image
    into a grid of feature vectors; each cell gets a learned position
    embedding so the decoder can tell left from right. `decoder="attention"`:
    an LSTM reads the previous word (teacher forcing in training) and its
    state queries `BahdanauAttention` over the grid; `decoder="transformer"`:
    `TransformerDecoderBlock`s cross-attend to the grid. Greedy and beam
    decoding run in compiled loops (`keras_seq.decoding`).

    Call arguments:
        inputs: dict with `"images"` `[B, H, W, 3]` floats in [0, 1] and
            `"tokens"` `[B, T]` (the shifted caption ids).

    Returns:
        Logits `[B, T, len(vocabulary)]`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.text import Vocabulary
    >>> from applications.captioning.app import Captioner
    >>> model = Captioner(Vocabulary.build(["a red circle"], level="word"), units=16)
    >>> images = np.zeros((2, 64, 64, 3), "float32")
    >>> tuple(model({"images": images, "tokens": np.ones((2, 5), "int32")}).shape)
    (2, 5, 7)
    """

    def __init__(
        self,
        vocabulary,
        decoder="attention",
        backbone="small_cnn",
        backbone_weights=None,
        image_size=IMAGE_SIZE,
        units=128,
        num_layers=2,
        num_heads=4,
        max_length=MAX_LENGTH,
        dropout=0.1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        vocabulary = contract.vocabulary(vocabulary)
        errors = []
        if not isinstance(vocabulary, Vocabulary):
            errors.append(f"`vocabulary` must be a keras_seq Vocabulary; received {type(vocabulary).__name__}.")
        if decoder not in DECODERS:
            errors.append(f"`decoder` must be one of {DECODERS}; received {decoder!r}.")
        contract.check_arguments(
            errors,
            positive=dict(units=units, num_layers=num_layers, num_heads=num_heads, max_length=max_length,
                          image_size=image_size),
            rates=dict(dropout=dropout),
        )
        self.vocabulary, self.decoder, self.backbone_name, self.image_size = vocabulary, decoder, backbone, image_size
        self.units, self.num_layers, self.num_heads = units, num_layers, num_heads
        self.max_length, self.dropout = max_length, float(dropout)
        vocabulary_size = len(vocabulary)
        self.backbone = _backbone(backbone, image_size, backbone_weights)
        grid = self.backbone.output_shape[1] * self.backbone.output_shape[2]
        self.grid_shape = tuple(self.backbone.output_shape[1:3])
        self.project = keras.layers.Dense(units, activation="relu", name="project")
        self.grid_position = PositionEmbedding(grid, name="grid_position")
        self.embedding = keras.layers.Embedding(vocabulary_size, units, mask_zero=True, name="embedding")
        self.embedding_dropout = keras.layers.Dropout(self.dropout)
        self.output_dropout = keras.layers.Dropout(self.dropout)
        if decoder == "attention":
            self.init_h = keras.layers.Dense(units, activation="tanh", name="init_h")
            self.init_c = keras.layers.Dense(units, activation="tanh", name="init_c")
            self.lstm = keras.layers.LSTM(units, return_sequences=True, return_state=True, name="lstm")
            self.attention = BahdanauAttention(units, name="attention")
            self.combine = keras.layers.Dense(units, activation="tanh", name="combine")
        else:
            self.token_position = PositionEmbedding(max_length, name="token_position")
            self.blocks = [
                TransformerDecoderBlock(num_heads, 2 * units, dropout=self.dropout, name=f"decoder_block_{i}")
                for i in range(num_layers)
            ]
        self.output_projection = keras.layers.Dense(vocabulary_size, dtype="float32", name="output_projection")

    # -- encoder / decoder ----------------------------------------------------

    def encode(self, images, training=False):
        """Grid features `[B, h*w, units]` with position embeddings added."""
        features = self.backbone(images, training=training)
        batch = ops.shape(features)[0]
        features = ops.reshape(features, (batch, -1, features.shape[-1]))
        features = self.project(features)
        return features + self.grid_position(features)

    def _lstm_decode(self, tokens, features, state, training=False):
        embedded = self.embedding_dropout(self.embedding(tokens), training=training)
        outputs, h, c = self.lstm(embedded, initial_state=state, training=training)
        context, weights = self.attention(outputs, features)
        attentional = self.combine(ops.concatenate([outputs, context], -1))
        logits = self.output_projection(self.output_dropout(attentional, training=training))
        return logits, [h, c], weights

    def _lstm_state(self, features):
        mean = ops.mean(features, axis=1)
        return [self.init_h(mean), self.init_c(mean)]

    def _transformer_decode(self, tokens, features, training=False, return_attention=False):
        x = self.embedding(tokens)
        x = self.embedding_dropout(x + self.token_position(x), training=training)
        padding = ops.not_equal(tokens, 0)
        scores = None
        for block in self.blocks:
            result = block(x, features, decoder_padding_mask=padding, training=training,
                           return_attention_scores=return_attention)
            x, scores = result if return_attention else (result, None)
        logits = self.output_projection(self.output_dropout(x, training=training))
        if return_attention:  # the last block's cross-attention, averaged over heads
            return logits, ops.mean(ops.cast(scores["cross_attention"], "float32"), axis=1)
        return logits

    def call(self, inputs, training=False):
        if not isinstance(inputs, dict) or set(inputs) != {"images", "tokens"}:
            raise ValueError("`inputs` must be a dict with keys 'images' and 'tokens'.")
        features = self.encode(inputs["images"], training)
        if self.decoder == "attention":
            logits, _, _ = self._lstm_decode(inputs["tokens"], features, self._lstm_state(features), training)
            return logits
        return self._transformer_decode(inputs["tokens"], features, training)

    def attention_maps(self, images, tokens):
        """Teacher-forced attention over the grid: `[B, T, h, w]` for input
        `tokens` `[B, T]` (start token first). With the generated caption as
        `tokens` these are exactly the weights used while decoding."""
        features = self.encode(ops.convert_to_tensor(images, "float32"))
        tokens = ops.convert_to_tensor(tokens, "int32")
        if self.decoder == "attention":
            _, _, weights = self._lstm_decode(tokens, features, self._lstm_state(features))
        else:
            _, weights = self._transformer_decode(tokens, features, return_attention=True)
        weights = ops.convert_to_numpy(ops.cast(weights, "float32"))
        return weights.reshape(weights.shape[:2] + self.grid_shape)

    # -- decoding -------------------------------------------------------------

    def step_fn(self, tokens, state):
        """`(tokens [B, t], state) -> (logits [B, V], state)` for keras_seq.decoding."""
        if self.decoder == "attention":
            logits, (h, c), _ = self._lstm_decode(tokens[:, -1:], state["features"], [state["h"], state["c"]])
            return logits[:, 0], dict(state, h=h, c=c)
        # The Transformer re-reads the whole (short) prefix each step.
        return self._transformer_decode(tokens, state["features"])[:, -1], state

    @property
    def end_id(self):
        return self.vocabulary.eos_id

    def _decoding_start(self, images, max_length):
        features = self.encode(images)
        state = {"features": features}
        if self.decoder == "attention":
            state["h"], state["c"] = self._lstm_state(features)
        start = ops.full((ops.shape(images)[0], 1), self.vocabulary.sos_id, "int32")
        return start, state, max_length + 1

    def generate(self, images, strategy="greedy", beam_width=5, length_penalty=0.0, batch_size=256):
        """Caption ids `[B, max_length]` (0 after `<eos>`), greedy or beam."""
        options = decoding_options(strategy, beam_width, length_penalty)
        images = np.asarray(images, "float32")
        if images.ndim != 4 or images.shape[1:] != (self.image_size, self.image_size, 3):
            raise ValueError(
                f"`images` must have shape [batch, {self.image_size}, {self.image_size}, 3]; "
                f"received {images.shape}."
            )
        parts = [
            self._generate_ids(ops.convert_to_tensor(images[i : i + batch_size]), self.max_length, options)
            for i in range(0, len(images), batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.max_length), "int32")

    def caption(self, images, **decoding):
        """Images in, caption strings out."""
        return self.vocabulary.decode(self.generate(images, **decoding))

    def get_config(self):
        config = super().get_config()
        names = ("decoder", "image_size", "units", "num_layers", "num_heads", "max_length", "dropout")
        config.update({name: getattr(self, name) for name in names})
        config.update(vocabulary=self.vocabulary.get_config(), backbone=self.backbone_name)
        return config


load = contract.loader("captioning", Captioner)


def caption_batch(vocabulary, captions, length=MAX_LENGTH):
    """Teacher forcing: decoder inputs `<sos> w1 .. wn` and targets `w1 .. wn <eos>`."""
    targets = vocabulary.encode(list(captions), add_eos=True, max_length=length, truncate=True)
    return shift_right(targets, vocabulary.sos_id), targets


def build_model(vocabulary, size="default", decoder="attention", backbone="small_cnn", backbone_weights=None,
                steps=None):
    """A `Captioner` of `size`, compiled with Adam, warm-up and cosine decay over `steps`."""
    s = contract.choose(SIZES, size)
    model = Captioner(vocabulary, decoder=decoder, backbone=backbone, backbone_weights=backbone_weights,
                      units=s.units)
    steps = steps or s.epochs * contract.steps_per_epoch(s.train_examples, s.batch_size)
    rate = contract.schedule(s.learning_rate, steps, warmup_steps=min(200, steps // 10))
    return contract.compile_classifier(model, rate, ignore_class=0, clipnorm=1.0)


def scores(hypotheses, references):
    """Corpus BLEU-4 (multi-reference, 0-100) and the exact-caption rate (the
    hypothesis equals one of its references).

    >>> hypotheses = ["a red circle above a blue square", "a small red circle"]
    >>> references = [["a blue square below a red circle", "a red circle above a blue square"],
    ...               ["a large red circle", "there is a large red circle"]]
    >>> result = scores(hypotheses, references)
    >>> round(result["bleu"], 2), result["exact"]
    (79.73, 0.5)
    """
    width = max(len(r) for r in references)
    streams = [[refs[k] if k < len(refs) else None for refs in references] for k in range(width)]
    bleu = corpus_bleu(list(hypotheses), streams).score
    exact = float(np.mean([h in refs for h, refs in zip(hypotheses, references)]))
    return {"bleu": float(bleu), "exact": exact}


def baseline(train_captions, references):
    """Scores of always answering the most frequent training caption."""
    values, counts = np.unique(np.asarray(train_captions, dtype=object), return_counts=True)
    common = str(values[int(np.argmax(counts))])
    return scores([common] * len(references), references)


def score(model, images, references, decoding=None):
    hypotheses = model.caption(images, **(decoding or {}))
    result = scores(hypotheses, references)
    result["examples"] = [
        (f"image {i}", h, refs[0]) for i, (h, refs) in enumerate(zip(hypotheses, references)) if h not in refs
    ]
    result["hypotheses"] = hypotheses
    return result


def describe(result):
    """The metric line of a `train`/`evaluate` result."""
    return f"BLEU-4 {result['bleu']:.2f}, exact caption {100 * result['exact']:.2f}%"


def attention_figure(image, words, maps):
    """A matplotlib figure: the image, then one panel per word with its
    attention map (upsampled to the image) laid over it."""
    # No `matplotlib.use(...)`: it would turn off a notebook's inline figures.
    import matplotlib.pyplot as plt

    panels = len(words) + 1
    fig, axes = plt.subplots(1, panels, figsize=(1.6 * panels, 1.9))
    axes = np.atleast_1d(axes)
    axes[0].imshow(image)
    axes[0].set_title("image", fontsize=7)
    for ax, word, weights in zip(axes[1:], words, maps):
        ax.imshow(image)
        ax.imshow(weights, cmap="inferno", alpha=0.6, extent=(0, image.shape[1], image.shape[0], 0),
                  interpolation="bilinear")
        ax.set_title(word, fontsize=7)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


class ImageAttention(keras.callbacks.Callback):
    """Logs, each epoch, the greedy caption of a few images with the
    attention map of every word over the image (TensorBoard *Images* tab,
    tag `attention`)."""

    def __init__(self, log_dir, images, every_n_epochs=1):
        super().__init__()
        self.log_dir = log_dir
        self.images = np.asarray(images, "float32")
        self.every_n_epochs = every_n_epochs

    def render(self):
        import tensorflow as tf

        from keras_seq.callbacks import figure_to_png

        tokens = self.model.generate(self.images)
        inputs = np.concatenate([np.full((len(tokens), 1), self.model.vocabulary.sos_id, "int32"), tokens], 1)
        maps = self.model.attention_maps(self.images, inputs[:, :-1])
        pictures = []
        for image, row, row_maps in zip(self.images, tokens, maps):
            words = [self.model.vocabulary.id_to_token(int(t)) for t in row if t != 0]
            png = figure_to_png(attention_figure(image, words, row_maps[: len(words)]))
            pictures.append(tf.io.decode_png(png, channels=4))
        height = max(int(p.shape[0]) for p in pictures)
        width = max(int(p.shape[1]) for p in pictures)
        return tf.stack([tf.image.pad_to_bounding_box(p, 0, 0, height, width) for p in pictures]).numpy()

    def on_epoch_end(self, epoch, logs=None):
        import os

        import tensorflow as tf

        if (epoch + 1) % self.every_n_epochs:
            return
        writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "attention"))
        with writer.as_default():
            tf.summary.image("attention", self.render(), step=epoch, max_outputs=len(self.images))
        writer.close()


def _split(data, eval_examples, seed):
    images, captions = load_captions(data)
    order = np.random.default_rng(seed).permutation(len(images))
    held = max(1, min(eval_examples, len(images) // 10))
    test, rest = order[:held], order[held:]
    return (images[rest], [captions[i] for i in rest]), (images[test], [captions[i] for i in test])


def train(size="default", *, data=None, eval_examples=1000, decoder="attention", backbone="small_cnn",
          backbone_weights=None, decoding=None, **options):
    """Trains on generated scenes (or COCO/Flickr8k captions via `data`) and
    reports BLEU-4 and the exact-caption rate on held-out images.
    `options`: the common training options of `applications.contract.Training`."""
    run = contract.Training(SIZES, size, **options)
    if data:
        (images, references), (test_images, test_references) = _split(data, eval_examples, run.seed)
        # Every (image, reference) pair is a training example, as in COCO.
        captions = [c for refs in references for c in refs]
        images = np.repeat(images, [len(r) for r in references], axis=0)
    else:
        (images, references), (test_images, test_references) = make_dataset(
            run.train_examples, eval_examples, seed=run.seed
        )
        captions = sample_captions(references, seed=run.seed)
    vocabulary = Vocabulary.build(captions, level="word")
    inputs, targets = caption_batch(vocabulary, captions)
    train_data, validation, steps = run.datasets({"images": images, "tokens": inputs}, targets)
    model, _ = run.fit(
        lambda: build_model(vocabulary, size=size, decoder=decoder, backbone=backbone,
                            backbone_weights=backbone_weights, steps=steps),
        train_data, validation_data=validation,
        callbacks=[ImageAttention(run.log_dir, test_images[:3])] if run.log_dir else [],
    )  # fmt: skip
    result = score(model, test_images, test_references, decoding)
    result["baseline"] = baseline(captions, test_references)
    run.save(model)
    return run.result(model, len(test_images), **result)


def evaluate(model_path, examples=1000, seed=0, data=None, decoding=None):
    """Scores a saved model on held-out generated scenes (or a caption file)."""
    contract.check_count("examples", examples, allow_none=False)
    if data:
        images, references = load_captions(data)
    else:
        images, references = make_dataset(0, examples, seed=seed)[1]
    result = score(load(model_path), images, references, decoding)
    result["eval_examples"] = len(images)
    return result


def predict(model_path, image_paths, decoding=None):
    """Captions of image files (any size; resized to the model's input)."""
    image_paths = contract.check_inputs(image_paths, "image_paths")
    model = load(model_path)
    return model.caption(load_images(image_paths, model.image_size), **(decoding or {}))
