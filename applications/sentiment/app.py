"""Models, training and evaluation for `sentiment`: the seed's averaged
word vectors + softmax (section 6) against a 2-layer masked LSTM (section 8),
both on top of pretrained `WordVectors`."""

from __future__ import annotations

import os

import keras
import numpy as np

from applications import contract
from applications.sentiment import MODELS, SIZES
from applications.sentiment.data import CLASSES, load_csv, load_imdb, make_dataset
from applications.word_vectors.corpus import embedded_corpus
from keras_seq.embeddings import Word2Vec, WordVectors, tokenize
from keras_seq.text import Vocabulary

MAX_LENGTH = 16


def default_cache_dir():
    """`$KERAS_SEQ_CACHE/sentiment`, else `~/.cache/keras_seq/sentiment`."""
    from keras_seq._cache import cache_dir

    return cache_dir("sentiment")


def pretrained_vectors(vectors=None, size="default", seed=0, cache_dir=None, verbose=0):
    """The word vectors to start from, and where they came from: a
    `WordVectors`, a vectors file (GloVe text, or word2vec `.vec`/`.bin`),
    or (None) our Word2Vec trained on the embedded Wikipedia extract, cached
    in `cache_dir` (default `default_cache_dir()`; `False`: no cache).
    Returns `(vectors, description)`."""
    if isinstance(vectors, WordVectors):
        return vectors, "the given WordVectors"
    if vectors:
        vectors = os.fspath(contract.check_exists(vectors, "`vectors`"))
        fmt = "word2vec_binary" if vectors.endswith(".bin") else "word2vec" if vectors.endswith((".vec", ".w2v")) else "glove"
        return WordVectors.load(vectors, format=fmt), vectors
    s = contract.choose(SIZES, size)
    if cache_dir is None:
        cache_dir = default_cache_dir()
    name = f"wikipedia_w2v_{s.vector_size}d_{s.vector_epochs}ep_seed{seed}.vec"
    cached = os.path.join(cache_dir, name) if cache_dir else None
    source = f"word2vec (D={s.vector_size}, {s.vector_epochs} epoch(s)) trained on the embedded Wikipedia extract"
    if cached and os.path.exists(cached):
        return WordVectors.load(cached, format="word2vec"), f"{source}, cached in {cached}"
    with contract.stage(f"training {source}"):
        trained = Word2Vec(vector_size=s.vector_size, epochs=s.vector_epochs, seed=seed, verbose=verbose).fit(
            embedded_corpus("wikipedia")
        )
    if cached:
        os.makedirs(cache_dir, exist_ok=True)
        trained.save(cached, format="word2vec")
        source += f", cached in {cached}"
    return trained, source


def standardized(vectors):
    """Vectors centred and scaled per dimension (zero mean, unit variance).

    Word2vec vectors of a small corpus share a large common component (all
    cosines near 1); removing the mean (as in Mu and Viswanath's
    "all-but-the-top") keeps their differences and makes them usable by a
    linear classifier.
    """
    matrix = vectors.vectors - vectors.vectors.mean(axis=0)
    return WordVectors(vectors.words, matrix / (matrix.std(axis=0) + 1e-8))


def build_vocabulary(texts, vectors):
    """Training words plus every pretrained word, so that words unseen in
    training still reach their pretrained vectors."""
    words = {w for text in texts for w in tokenize(text)}
    extra = sorted(words - set(vectors.words))
    return Vocabulary(list(vectors.words) + extra, level="word")


def encode(vocabulary, texts, max_length=MAX_LENGTH):
    ids = np.zeros((len(texts), max_length), "int32")
    for row, text in enumerate(texts):
        tokens = tokenize(text)[:max_length]
        ids[row, : len(tokens)] = [vocabulary.token_to_id(t) for t in tokens]
    return ids


def build_model(kind, vocabulary, vectors, num_classes=5, units=64, trainable=False, seed=0,
                learning_rate=None):
    """`kind="average"`: Embedding (pretrained, masked) -> masked mean ->
    softmax, the seed's model. `kind="lstm"`: Embedding -> LSTM -> LSTM ->
    softmax, with masking. `trainable` fine-tunes the embeddings."""
    if kind not in MODELS:
        raise ValueError(f"`kind` must be one of {list(MODELS)}; received {kind!r}.")
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((None,), dtype="int32", name="token_ids")
    x = vectors.to_embedding_layer(vocabulary, trainable=trainable, name="pretrained_embedding")(inputs)
    if kind == "average":
        x = keras.layers.GlobalAveragePooling1D(name="average")(x)
    else:
        x = keras.layers.LSTM(units, return_sequences=True, name="lstm_1")(x)
        x = keras.layers.Dropout(0.2)(x)
        x = keras.layers.LSTM(units, name="lstm_2")(x)
        x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="softmax")(x)
    model = keras.Model(inputs, outputs, name=f"sentiment_{kind}")
    rate = learning_rate or (0.05 if kind == "average" else 3e-3)
    model.compile(keras.optimizers.Adam(rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(size="default", *, data=None, vectors=None, models=MODELS, trainable=False, eval_examples=1000,
          cache_dir=None, output="sentiment.keras", **options):
    """Trains both classifiers and reports accuracy per test split.

    Embedded data (default): splits "seen", "unseen" (keywords never in
    training) and "negation". With `data` (a CSV/TSV `text,label` file or an
    IMDB folder) 10% is held out as the single "test" split. `options`: the
    common training options of `applications.contract.Training`; the models
    are saved as `<output stem>_average.keras` and `_lstm.keras`.

    Returns:
        dict: {"accuracy": {model: {split: acc}}, "models", "vocabulary",
        "classes", "model_seconds": {model: s}, "vectors", "vectors_source",
        "saved", ...}.
    """
    for kind in models:
        if kind not in MODELS:
            raise ValueError(f"`models` must hold names from {list(MODELS)}; received {kind!r}.")
    run = contract.Training(SIZES, size, output=output, **options)
    s = run.size
    if data:
        texts, labels, classes = load_imdb(data) if os.path.isdir(data) else load_csv(data)
        train_pairs, test = contract.held_out_split(list(zip(texts, labels)), len(texts), run.seed)
        tests = {"test": test}
        max_length = 200
    else:
        classes = CLASSES
        train_pairs, tests = make_dataset(run.train_examples, eval_examples, seed=run.seed)
        max_length = MAX_LENGTH
    word_vectors, source = pretrained_vectors(vectors, size, run.seed, cache_dir)
    word_vectors = standardized(word_vectors)
    vocabulary = build_vocabulary([t for t, _ in train_pairs], word_vectors)
    inputs = encode(vocabulary, [t for t, _ in train_pairs], max_length)
    targets = np.array([label for _, label in train_pairs], "int32")
    result = {"accuracy": {}, "models": {}, "model_seconds": {}}
    for kind in models:
        started = run.train_seconds
        model, _ = run.fit(
            lambda kind=kind: build_model(kind, vocabulary, word_vectors, len(classes), s.units, trainable, run.seed),
            inputs, targets, batch_size=run.batch_size, validation_split=0.1, stage=kind,
        )  # fmt: skip
        result["model_seconds"][kind] = run.train_seconds - started
        result["models"][kind] = model
        result["accuracy"][kind] = {
            split: accuracy_at(model, vocabulary, pairs, max_length) for split, pairs in tests.items()
        }
        if run.output:
            save(run, model, vocabulary, classes, kind)
    return run.result(
        result["models"].get("lstm", model), sum(len(p) for p in tests.values()), vocabulary=vocabulary,
        classes=classes, vectors=word_vectors, vectors_source=source, **result,
    )  # fmt: skip


def describe(result):
    """The metric line of a `train`/`evaluate` result."""
    lines = "; ".join(
        f"{kind}: " + ", ".join(f"{split} {100 * acc:.1f}%" for split, acc in splits.items())
        for kind, splits in result["accuracy"].items()
    )
    if "vectors_source" in result:
        lines += f" (word vectors: {result['vectors_source']})"
    return lines


def accuracy_at(model, vocabulary, pairs, max_length):
    texts, labels = zip(*pairs)
    predicted = np.argmax(model.predict(encode(vocabulary, texts, max_length), verbose=0, batch_size=256), axis=-1)
    return float(np.mean(predicted == np.array(labels)))


def _path(output, kind):
    root, ext = os.path.splitext(output)
    return f"{root}_{kind}{ext or '.keras'}"


def save(run, model, vocabulary, classes, kind):
    """Saves one classifier, its vocabulary (`.vocab`) and classes (`.classes`) beside it."""
    path = run.save(model, _path(run.output, kind))
    if path:
        vocabulary.save(path + ".vocab")
        with open(path + ".classes", "w", encoding="utf-8") as f:
            f.write("\n".join(classes) + "\n")
        run.wrote(path + ".vocab")
        run.wrote(path + ".classes")
    return path


def load(path):
    """`(model, vocabulary, classes)` saved by `train(output=...)`."""
    contract.check_exists(path)
    for extra in (".classes", ".vocab"):
        contract.check_exists(path + extra, "the file beside the model")
    with open(path + ".classes", encoding="utf-8") as f:
        classes = f.read().split()
    return keras.saving.load_model(path, compile=False), Vocabulary.load(path + ".vocab"), classes


def predict(path, texts):
    """Class names for `texts` with a saved model."""
    texts = contract.check_inputs(texts, "texts")
    model, vocabulary, classes = load(path)
    probabilities = model.predict(encode(vocabulary, texts), verbose=0)
    return [classes[i] for i in np.argmax(probabilities, axis=-1)]


def evaluate(path, examples=1000, seed=0, data=None):
    """Accuracy of a saved model on the embedded test splits (or on all of `data`)."""
    contract.check_count("examples", examples, allow_none=False)
    model, vocabulary, classes = load(path)
    if data:
        texts, labels, file_classes = load_imdb(data) if os.path.isdir(data) else load_csv(data)
        if file_classes != classes:
            raise ValueError(f"`data` has classes {file_classes}; the model knows {classes}.")
        tests, max_length = {"test": list(zip(texts, labels))}, 200
    else:
        tests, max_length = make_dataset(1, examples, seed=seed)[1], MAX_LENGTH
    accuracy = {split: accuracy_at(model, vocabulary, pairs, max_length) for split, pairs in tests.items()}
    name = os.path.basename(os.fspath(path))
    return {"accuracy": {name: accuracy}, "eval_examples": sum(len(p) for p in tests.values()), "examples": []}
