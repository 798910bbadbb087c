"""Models, training and evaluation for `sentiment`: the seed's averaged
word vectors + softmax (section 6) against a 2-layer masked LSTM (section 8),
both on top of pretrained `WordVectors`."""

from __future__ import annotations

import dataclasses
import os
import time

import keras
import numpy as np

from applications.sentiment.data import CLASSES, load_csv, load_imdb, make_dataset
from keras_seq.embeddings import Word2Vec, WordVectors, embedded_corpus, tokenize
from keras_seq.text import Vocabulary

MODELS = ("average", "lstm")


@dataclasses.dataclass(frozen=True)
class Size:
    train_examples: int
    epochs: int
    batch_size: int
    units: int
    vector_epochs: int
    vector_size: int


SIZES = {
    "fast": Size(3000, 20, 64, 32, 1, 50),
    "default": Size(10000, 20, 64, 64, 5, 100),
}
MAX_LENGTH = 16


def choose(size):
    if size not in SIZES:
        raise ValueError(f"`size` must be one of {sorted(SIZES)}; received {size!r}.")
    return SIZES[size]


def pretrained_vectors(vectors=None, size="default", seed=0, cache_dir=None, verbose=0):
    """The word vectors to start from: a `WordVectors`, a vectors file
    (GloVe text, or word2vec `.vec`/`.bin`), or (None) our Word2Vec trained
    on the embedded Wikipedia extract (cached in `cache_dir` when given)."""
    if isinstance(vectors, WordVectors):
        return vectors
    if vectors:
        vectors = os.fspath(vectors)
        fmt = "word2vec_binary" if vectors.endswith(".bin") else "word2vec" if vectors.endswith((".vec", ".w2v")) else "glove"
        return WordVectors.load(vectors, format=fmt)
    s = choose(size)
    cached = os.path.join(cache_dir, f"wikipedia_w2v_{s.vector_size}d_{s.vector_epochs}ep_seed{seed}.vec") if cache_dir else None
    if cached and os.path.exists(cached):
        return WordVectors.load(cached, format="word2vec")
    trained = Word2Vec(vector_size=s.vector_size, epochs=s.vector_epochs, seed=seed, verbose=verbose).fit(
        embedded_corpus("wikipedia")
    )
    if cached:
        trained.save(cached, format="word2vec")
    return trained


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


def train(size="default", data=None, vectors=None, models=MODELS, epochs=None, trainable=False, seed=0,
          eval_examples=1000, output=None, log_dir=None, cache_dir=None, verbose=1):
    """Trains both classifiers and reports accuracy per test split.

    Embedded data (default): splits "seen", "unseen" (keywords never in
    training) and "negation". With `data` (a CSV/TSV `text,label` file or an
    IMDB folder) 10% is held out as the single "test" split.

    Returns:
        dict: {"accuracy": {model: {split: acc}}, "models", "vocabulary",
        "classes", "train_seconds": {model: s}, "vectors"}.
    """
    s = choose(size)
    for kind in models:
        if kind not in MODELS:
            raise ValueError(f"`models` must hold names from {list(MODELS)}; received {kind!r}.")
    word_vectors = standardized(pretrained_vectors(vectors, size, seed, cache_dir))
    if data:
        texts, labels, classes = load_imdb(data) if os.path.isdir(data) else load_csv(data)
        order = np.random.default_rng(seed).permutation(len(texts))
        held = max(1, len(texts) // 10)
        pairs = [(texts[i], labels[i]) for i in order]
        train_pairs, tests = pairs[held:], {"test": pairs[:held]}
        max_length = 200
    else:
        classes = CLASSES
        train_pairs, tests = make_dataset(s.train_examples, eval_examples, seed=seed)
        max_length = MAX_LENGTH
    vocabulary = build_vocabulary([t for t, _ in train_pairs], word_vectors)
    inputs = encode(vocabulary, [t for t, _ in train_pairs], max_length)
    targets = np.array([label for _, label in train_pairs], "int32")
    result = {"accuracy": {}, "models": {}, "train_seconds": {}, "vocabulary": vocabulary, "classes": classes,
              "vectors": word_vectors}
    for kind in models:
        model = build_model(kind, vocabulary, word_vectors, len(classes), s.units, trainable, seed)
        callbacks = [keras.callbacks.TensorBoard(os.path.join(log_dir, kind))] if log_dir else []
        started = time.perf_counter()
        model.fit(inputs, targets, batch_size=s.batch_size, epochs=epochs or s.epochs, validation_split=0.1,
                  callbacks=callbacks, verbose=verbose)
        result["train_seconds"][kind] = time.perf_counter() - started
        result["models"][kind] = model
        result["accuracy"][kind] = {
            split: accuracy_at(model, vocabulary, pairs, max_length) for split, pairs in tests.items()
        }
        if output:
            save(model, vocabulary, classes, output, kind)
    return result


def accuracy_at(model, vocabulary, pairs, max_length):
    texts, labels = zip(*pairs)
    predicted = np.argmax(model.predict(encode(vocabulary, texts, max_length), verbose=0, batch_size=256), axis=-1)
    return float(np.mean(predicted == np.array(labels)))


def _path(output, kind):
    root, ext = os.path.splitext(output)
    return f"{root}_{kind}{ext or '.keras'}"


def save(model, vocabulary, classes, output, kind):
    path = _path(output, kind)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    model.save(path)
    vocabulary.save(path + ".vocab")
    with open(path + ".classes", "w", encoding="utf-8") as f:
        f.write("\n".join(classes) + "\n")
    return path


def load(path):
    """`(model, vocabulary, classes)` saved by `train(output=...)`."""
    if not os.path.exists(path):
        raise ValueError(f"`path` {path!r} does not exist; train with --output first.")
    with open(path + ".classes", encoding="utf-8") as f:
        classes = f.read().split()
    return keras.models.load_model(path), Vocabulary.load(path + ".vocab"), classes


def predict(path, texts):
    """Class names for `texts` with a saved model."""
    model, vocabulary, classes = load(path)
    probabilities = model.predict(encode(vocabulary, list(texts)), verbose=0)
    return [classes[i] for i in np.argmax(probabilities, axis=-1)]


def evaluate(path, examples=1000, seed=0):
    """Accuracy of a saved model on the embedded test splits."""
    model, vocabulary, _ = load(path)
    _, tests = make_dataset(1, examples, seed=seed)
    return {split: accuracy_at(model, vocabulary, pairs, MAX_LENGTH) for split, pairs in tests.items()}
