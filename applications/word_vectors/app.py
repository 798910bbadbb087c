"""Training, evaluation, queries, debiasing and projector export for word vectors."""

from __future__ import annotations

import numpy as np

from applications import contract
from applications.word_vectors import METHODS, SIZES
from applications.word_vectors.corpus import embedded_corpus
from keras_seq.embeddings import (
    GloVe,
    Word2Vec,
    WordVectors,
    bias_direction,
    read_corpus,
)
from keras_seq.embeddings import (
    debias as debias_vectors,
)

DEFINITIONAL_PAIRS = [
    ("she", "he"), ("her", "his"), ("woman", "man"), ("mary", "john"), ("herself", "himself"),
    ("daughter", "son"), ("mother", "father"), ("gal", "guy"), ("girl", "boy"), ("female", "male"),
]  # Bolukbasi et al. 2016's ten definitional pairs
EQUALIZE_PAIRS = [
    ("woman", "man"), ("women", "men"), ("girl", "boy"), ("girls", "boys"), ("mother", "father"),
    ("daughter", "son"), ("sister", "brother"), ("wife", "husband"), ("queen", "king"),
    ("queens", "kings"), ("her", "his"), ("she", "he"), ("female", "male"), ("herself", "himself"),
    ("aunt", "uncle"), ("niece", "nephew"), ("princess", "prince"), ("actress", "actor"),
]
OCCUPATIONS = [
    "doctor", "nurse", "engineer", "teacher", "scientist", "programmer", "homemaker", "receptionist",
    "architect", "lawyer", "soldier", "singer", "writer", "surgeon", "librarian", "pilot", "dancer",
    "chef", "philosopher", "manager", "president", "secretary", "artist", "physician", "professor",
    "mathematician", "poet", "painter", "farmer", "priest", "journalist", "politician", "student",
]


def _format(path, format=None):
    if format:
        return format
    return "word2vec_binary" if str(path).endswith(".bin") else "word2vec" if str(path).endswith((".vec", ".w2v")) else "glove"


def load_vectors(path, format=None) -> WordVectors:
    """Reads a vectors file; the format follows the extension unless given
    (`.bin` word2vec binary, `.vec`/`.w2v` word2vec text, else GloVe text)."""
    contract.check_exists(path, "`path`")
    return WordVectors.load(path, format=_format(path, format))


def load(path):
    """Loads saved vectors (the application's model)."""
    return load_vectors(path)


def load_corpus(data=None, size="default"):
    """The training sentences: a text file/directory, or the embedded corpus."""
    if data:
        return read_corpus(data)
    return embedded_corpus(contract.choose(SIZES, size).corpus)


def train(size="default", *, method="word2vec", data=None, output="word_vectors.txt", epochs=None,
          vector_size=None, seed=0, cbow=False, sg=None, verbose=1, format=None):
    """Trains word2vec (`method="word2vec"`, skip-gram, or CBOW with
    `cbow=True`) or GloVe and saves the vectors; returns `{"vectors",
    "seconds", "words_per_second", "trainer", "evaluation", "saved"}`.

    Example:

    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> with open(os.path.join(root, "corpus.txt"), "w") as f:
    ...     _ = f.write("the king rules the land the queen rules the land " * 20)
    >>> r = train(size="fast", data=os.path.join(root, "corpus.txt"), epochs=1,
    ...           output=os.path.join(root, "v.txt"), verbose=0)
    >>> sorted(r["vectors"].words), os.path.exists(os.path.join(root, "v.txt"))
    (['king', 'land', 'queen', 'rules', 'the'], True)
    """
    if method not in METHODS:
        raise ValueError(f'`method` must be "word2vec" or "glove"; received {method!r}.')
    s = contract.choose(SIZES, size)
    contract.check_count("epochs", epochs)
    contract.check_count("vector_size", vector_size)
    sentences = load_corpus(data, size)
    sg = not cbow if sg is None else sg
    if method == "word2vec":
        model = Word2Vec(vector_size=vector_size or s.vector_size, epochs=epochs or s.epochs, sg=sg,
                         min_count=s.min_count, seed=seed, verbose=verbose)
    else:
        model = GloVe(vector_size=vector_size or s.vector_size, epochs=epochs or s.glove_epochs,
                      min_count=s.min_count, seed=seed, verbose=verbose)
    vectors = model.fit(sentences)
    if output:
        vectors.save(output, format=_format(output, format))
    seconds = getattr(model, "train_seconds", None)
    words = sum(map(len, sentences)) * model.epochs
    return {
        "vectors": vectors,
        "seconds": seconds,
        "train_seconds": seconds,
        "words_per_second": words / seconds if seconds else None,
        "trainer": getattr(model, "trainer_used", None),  # word2vec: "fused" or "batched"
        "evaluation": evaluate(vectors),
        "saved": [output] if output else [],
    }


def evaluate(vectors, analogies=None, pairs=None, simlex=True):
    """Analogy accuracy (Google questions-words format) and Spearman rho on
    WordSim-353 (and SimLex-999), embedded unless paths are given; a
    correlation is None when fewer than two pairs are in the vocabulary."""
    from keras_seq.embeddings import data_path

    if not isinstance(vectors, WordVectors):
        vectors = load_vectors(vectors)

    def correlation(path):
        try:
            return vectors.evaluate_word_pairs(path)
        except ValueError:  # a small vocabulary covers fewer than two pairs
            return None

    result = {"analogies": vectors.evaluate_analogies(analogies), "wordsim": correlation(pairs)}
    if simlex and pairs is None:
        result["simlex"] = correlation(data_path("simlex999"))
    return result


def query(vectors, words, topn=10):
    """One word: its nearest neighbours; three words a b c: the analogy
    a : b :: c : ? (topn answers). Returns `(word, similarity)` pairs."""
    words = contract.check_inputs(words, "words")
    contract.check_count("topn", topn, allow_none=False)
    if not isinstance(vectors, WordVectors):
        vectors = load_vectors(vectors)
    words = [w.lower() for w in words]
    if len(words) == 1:
        return vectors.most_similar(words[0], topn=topn)
    if len(words) == 3:
        return vectors.analogy(*words, topn=max(topn, 2))[:topn]
    raise ValueError(f"`words` must be one word (neighbours) or three (a b c analogy); received {words!r}.")


def debias(vectors, occupations=None, method="pca", output=None):
    """Hard-debiases the vectors (gender direction from the definitional
    pairs) and reports each occupation's projection on the direction before
    and after (cosine with the unit direction)."""
    if not isinstance(vectors, WordVectors):
        vectors = load_vectors(vectors)
    pairs = [p for p in DEFINITIONAL_PAIRS if p[0] in vectors and p[1] in vectors]
    if len(pairs) < 2:
        raise ValueError("`vectors` must contain at least two of the definitional pairs (she/he, her/his, ...).")
    direction = bias_direction(vectors, pairs, method=method, normalize=True)
    words = [w for w in (occupations or OCCUPATIONS) if w in vectors]
    before = {w: float(vectors.unit_vectors[vectors.index[w]] @ direction) for w in words}
    fair, direction_used = debias_vectors(vectors, pairs, EQUALIZE_PAIRS, method=method)
    after = {w: float(fair.unit_vectors[fair.index[w]] @ direction_used) for w in words}
    if output:
        fair.save(output, format=_format(output))
    return {"vectors": fair, "pairs": pairs, "before": before, "after": after,
            "mean_abs_before": float(np.mean(np.abs(list(before.values())))) if words else 0.0,
            "mean_abs_after": float(np.mean(np.abs(list(after.values())))) if words else 0.0}


def project(vectors, log_dir, limit=5000):
    """Writes TensorBoard projector files for the `limit` most frequent words."""
    if not isinstance(vectors, WordVectors):
        vectors = load_vectors(vectors)
    return vectors.write_projector(log_dir, words=vectors.words[:limit])


def predict(model_path, words, topn=10):
    """`query` as ``word<TAB>similarity`` lines."""
    return [f"{word}\t{score:.4f}" for word, score in query(model_path, words, topn)]


def describe(result):
    """The line of a `train` result (or an `evaluate` one)."""
    evaluation = result.get("evaluation", result)
    a, w = evaluation["analogies"], evaluation["wordsim"]
    text = f"analogy accuracy {100 * a['accuracy']:.2f}% ({a['correct']}/{a['total']} asked, {a['skipped']} skipped)"
    text += f", WordSim-353 rho {w['spearman']:.4f} ({w['pairs']} pairs)" if w else ", WordSim-353: too few known pairs"
    if evaluation.get("simlex"):
        text += f", SimLex-999 rho {evaluation['simlex']['spearman']:.4f}"
    if "vectors" in result:
        speed = f", {result['words_per_second']:,.0f} words/s" if result["words_per_second"] else ""
        speed += f", {result['trainer']} trainer" if result["trainer"] else ""
        text = f"{len(result['vectors'])} words x {result['vectors'].vector_size}{speed}; {text}"
    return text
