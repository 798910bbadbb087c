"""Word vectors: queries (cosine, most similar, analogies), evaluation,
file formats, Keras `Embedding` transfer and TensorBoard projector export."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np

_FORMATS = ("glove", "word2vec", "word2vec_binary")


def cosine_similarity(u, v):
    """Cosine similarity u.v / (|u| |v|) (seed 5.1), along the last axis.

    Broadcasts like NumPy: `u` [D] against `v` [N, D] gives [N]. A zero
    vector has similarity 0 with everything.

    Example:

    >>> cosine_similarity([1.0, 0.0], [[2.0, 0.0], [0.0, 3.0], [-1.0, -1.0]]).round(4)
    array([ 1.    ,  0.    , -0.7071])
    """
    u = np.asarray(u, dtype="float64")
    v = np.asarray(v, dtype="float64")
    if u.shape[-1:] != v.shape[-1:]:
        raise ValueError(f"`u` and `v` must have the same last dimension; got shapes {u.shape} and {v.shape}.")
    norms = np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1)
    dots = np.sum(u * v, axis=-1)
    return np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0)


def _unit_rows(matrix):
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


class WordVectors:
    """A vocabulary of words with one vector each.

    Queries use cosine similarity on the unit-normalised vectors. Analogies
    follow the 3CosAdd rule of Mikolov et al. (2013): for "a : b :: c : ?" the
    answer is argmax_x cos(x, b^ - a^ + c^) over all words except a, b and c
    (x^ is x / |x|), which is what gensim's `most_similar(positive=[b, c],
    negative=[a])` returns.

    Args:
        words: sequence of distinct strings.
        vectors: array [len(words), D].

    Raises:
        ValueError: on repeated words or a mismatched vectors shape.

    Example:

    >>> from keras_seq.embeddings import WordVectors
    >>> wv = WordVectors(["man", "woman", "king", "queen"],
    ...                  [[1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1]])
    >>> wv.analogy("man", "woman", "king")
    'queen'
    >>> [w for w, _ in wv.most_similar("queen", topn=2)]
    ['woman', 'king']
    >>> round(wv.similarity("man", "king"), 4)
    0.7071
    """

    def __init__(self, words: Sequence[str], vectors):
        words = list(words)
        vectors = np.asarray(vectors, dtype="float32")
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(
                f"`vectors` must have shape [len(words), D] = [{len(words)}, D]; got {vectors.shape}."
            )
        index = {}
        for i, word in enumerate(words):
            if not isinstance(word, str) or not word or any(ch.isspace() for ch in word):
                raise ValueError(f"`words[{i}]` must be a non-empty string without whitespace; got {word!r}.")
            if word in index:
                raise ValueError(f"`words` must be distinct; {word!r} appears more than once.")
            index[word] = i
        self.words = words
        self.vectors = vectors
        self.index = index
        self._unit = None

    # ----------------------------------------------------------- basics
    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def __getitem__(self, word):
        return self.vectors[self._id(word)]

    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def unit_vectors(self) -> np.ndarray:
        """The vectors scaled to unit length (zero rows stay zero)."""
        if self._unit is None:
            self._unit = _unit_rows(self.vectors.astype("float32"))
        return self._unit

    def _id(self, word, argument="word"):
        try:
            return self.index[word]
        except (KeyError, TypeError):
            raise ValueError(f"`{argument}` {word!r} is not in the vocabulary ({len(self)} words).") from None

    def __repr__(self):
        return f"WordVectors({len(self)} words, {self.vector_size} dimensions)"

    # ----------------------------------------------------------- queries
    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words."""
        return float(cosine_similarity(self[a], self.vectors[self._id(b, "b")]))

    def _ranked(self, query, exclude, topn):
        if not isinstance(topn, int) or topn < 1:
            raise ValueError(f"`topn` must be a positive integer; got {topn!r}.")
        query = np.asarray(query, dtype="float32")
        norm = np.linalg.norm(query)
        scores = self.unit_vectors @ (query / norm if norm > 0 else query)
        if exclude:
            scores[list(exclude)] = -np.inf
        topn = min(topn, len(self) - len(set(exclude)))
        best = np.argpartition(-scores, topn - 1)[:topn] if topn < len(self) else np.arange(len(self))
        best = best[np.lexsort((best, -scores[best]))]
        return [(self.words[i], float(scores[i])) for i in best[:topn]]

    def most_similar(self, word_or_vector, topn: int = 10):
        """The `topn` words closest in cosine similarity, best first, as
        `(word, similarity)` pairs; a query word is excluded from its answer."""
        if isinstance(word_or_vector, str):
            i = self._id(word_or_vector, "word_or_vector")
            return self._ranked(self.unit_vectors[i], [i], topn)
        vector = np.asarray(word_or_vector, dtype="float32")
        if vector.shape != (self.vector_size,):
            raise ValueError(
                f"`word_or_vector` must be a word or a vector of shape ({self.vector_size},); got {vector.shape}."
            )
        return self._ranked(vector, [], topn)

    def analogy(self, a: str, b: str, c: str, topn: int = 1):
        """Solves "a : b :: c : ?" with 3CosAdd, excluding a, b and c.

        Returns the best word for `topn=1`, else `topn` `(word, score)` pairs.
        """
        ids = [self._id(a, "a"), self._id(b, "b"), self._id(c, "c")]
        unit = self.unit_vectors
        ranked = self._ranked(unit[ids[1]] - unit[ids[0]] + unit[ids[2]], ids, topn)
        return ranked[0][0] if topn == 1 else ranked

    # ----------------------------------------------------------- evaluation
    def evaluate_analogies(self, path=None, restrict_vocab: int = 300_000, case_insensitive: bool = True):
        """Accuracy on analogy questions in Google's `questions-words.txt`
        format (``: section`` headers, then ``a b c d`` lines).

        Only questions whose four words are among the `restrict_vocab` first
        (most frequent) words are asked; the answer is `analogy(a, b, c)`
        restricted to those words, as in gensim's `evaluate_word_analogies`.

        Args:
            path: the questions file; defaults to the embedded
                `questions-words.txt`.
            restrict_vocab: how many leading words to consider.
            case_insensitive: compare lower-cased words.

        Returns:
            dict with ``accuracy`` (over all asked questions), ``correct``,
            ``total``, ``skipped`` and ``sections``: {name: (correct, total)}.
        """
        from keras_seq.embeddings.corpus import data_path

        path = data_path("questions-words") if path is None else os.fspath(path)
        limit = min(int(restrict_vocab), len(self))
        words = self.words[:limit]
        lookup = {}
        for i, w in enumerate(words):
            lookup.setdefault(w.lower() if case_insensitive else w, i)
        unit = self.unit_vectors[:limit]
        sections, order, skipped = {}, [], 0
        questions, section = [], None
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                if line.startswith(":"):
                    section = line[1:].strip()
                    order.append(section)
                    sections.setdefault(section, [0, 0])
                    continue
                parts = line.lower().split() if case_insensitive else line.split()
                if section is None or len(parts) != 4:
                    raise ValueError(
                        f"`path` {path}: line {number} must be a ': section' header or four words; got {line!r}."
                    )
                ids = [lookup.get(p) for p in parts]
                if any(i is None for i in ids):
                    skipped += 1
                    continue
                questions.append((section, ids))
        for start in range(0, len(questions), 2048):
            chunk = questions[start : start + 2048]
            ids = np.array([q[1] for q in chunk])
            targets = unit[ids[:, 1]] - unit[ids[:, 0]] + unit[ids[:, 2]]
            targets /= np.maximum(np.linalg.norm(targets, axis=1, keepdims=True), 1e-12)
            scores = targets @ unit.T
            rows = np.arange(len(chunk))
            for column in range(3):
                scores[rows, ids[:, column]] = -np.inf
            predicted = np.argmax(scores, axis=1)
            for (name, _), guess, truth in zip(chunk, predicted, ids[:, 3]):
                sections[name][1] += 1
                sections[name][0] += int(guess == truth)
        correct = sum(c for c, _ in sections.values())
        total = sum(t for _, t in sections.values())
        return {
            "accuracy": correct / total if total else 0.0,
            "correct": correct,
            "total": total,
            "skipped": skipped,
            "sections": {name: tuple(sections[name]) for name in order},
        }

    def evaluate_word_pairs(self, path=None, case_insensitive: bool = True):
        """Correlation with human similarity judgements (WordSim-353 or
        SimLex-999 format: ``word1<TAB>word2<TAB>score`` lines, ``#``
        comments).

        Pairs with a word outside the vocabulary are skipped and counted.

        Args:
            path: the pairs file; defaults to the embedded `wordsim353.tsv`.
            case_insensitive: look words up lower-cased.

        Returns:
            dict with ``spearman`` (rho), ``pearson`` (r), ``pairs`` (used)
            and ``oov`` (skipped pairs) and ``oov_ratio``.
        """
        from scipy import stats

        from keras_seq.embeddings.corpus import data_path

        path = data_path("wordsim353") if path is None else os.fspath(path)
        lookup = {}
        for i, w in enumerate(self.words):
            lookup.setdefault(w.lower() if case_insensitive else w, i)
        model, human, oov = [], [], 0
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip() or line.startswith("#"):
                    continue
                parts = line.strip().split("\t")
                try:
                    a, b, score = parts[0], parts[1], float(parts[2])
                except (IndexError, ValueError):
                    raise ValueError(
                        f"`path` {path}: line {number} must be 'word1<TAB>word2<TAB>score'; got {line.strip()!r}."
                    ) from None
                if case_insensitive:
                    a, b = a.lower(), b.lower()
                if a not in lookup or b not in lookup:
                    oov += 1
                    continue
                model.append(float(cosine_similarity(self.vectors[lookup[a]], self.vectors[lookup[b]])))
                human.append(score)
        if len(model) < 2:
            raise ValueError(f"`path` {path}: fewer than two pairs have both words in the vocabulary.")
        return {
            "spearman": float(stats.spearmanr(human, model).statistic),
            "pearson": float(stats.pearsonr(human, model).statistic),
            "pairs": len(model),
            "oov": oov,
            "oov_ratio": oov / (oov + len(model)),
        }

    # ----------------------------------------------------------- Keras transfer
    def embedding_matrix(self, vocabulary, seed=0, case_insensitive=True):
        """The [len(vocabulary), D] matrix for a `keras_seq.text.Vocabulary`
        (or a list of tokens, id = position): known words get their vector,
        the padding row (id 0 of a Vocabulary) zeros, and other rows (OOV
        words, `<unk>`, ...) random normal draws with the vectors' per-dimension
        mean and standard deviation (seeded).

        Returns `(matrix, found)` where `found` is the boolean row mask of
        words taken from these vectors.
        """
        tokens = vocabulary.tokens if hasattr(vocabulary, "tokens") else list(vocabulary)
        lookup = dict(self.index)
        if case_insensitive:
            for w, i in self.index.items():
                lookup.setdefault(w.lower(), i)
        rng = np.random.default_rng(seed)
        mean = self.vectors.mean(axis=0)
        std = self.vectors.std(axis=0) + 1e-8
        matrix = (mean + std * rng.standard_normal((len(tokens), self.vector_size))).astype("float32")
        found = np.zeros(len(tokens), bool)
        for row, token in enumerate(tokens):
            i = lookup.get(token, lookup.get(token.lower()) if case_insensitive else None)
            if i is not None:
                matrix[row] = self.vectors[i]
                found[row] = True
        if hasattr(vocabulary, "tokens"):
            matrix[0] = 0.0  # <pad>
        return matrix, found

    def to_embedding_layer(self, vocabulary, trainable: bool = False, mask_zero: bool = True, seed=0, name=None):
        """A `keras.layers.Embedding` initialised from these vectors and
        aligned with `vocabulary` (see `embedding_matrix`; id 0 is padding and
        masked when `mask_zero`).

        Example:

        >>> from keras_seq.text import Vocabulary
        >>> wv = WordVectors(["good", "bad"], [[1.0, 2.0], [3.0, 4.0]])
        >>> layer = wv.to_embedding_layer(Vocabulary(["bad", "good", "meh"], level="word"))
        >>> layer(np.array([[5, 4, 0]])).numpy()[0, :2].tolist()
        [[1.0, 2.0], [3.0, 4.0]]
        """
        import keras

        matrix, _ = self.embedding_matrix(vocabulary, seed=seed)
        layer = keras.layers.Embedding(
            matrix.shape[0], matrix.shape[1], mask_zero=mask_zero, trainable=trainable, name=name
        )
        layer.build((None, None))
        # Assigned rather than passed as a Constant initializer, so the saved
        # model's config stays small (the matrix goes to the weights file).
        layer.embeddings.assign(matrix)
        return layer

    # ----------------------------------------------------------- files
    def save(self, path, format: str = "glove"):
        """Writes the vectors as GloVe text (``word v1 ... vD`` lines),
        word2vec text (a ``count dim`` header line first) or word2vec binary
        (``format="word2vec_binary"``: header, then ``word`` + space + D
        little-endian float32 per word)."""
        if format not in _FORMATS:
            raise ValueError(f"`format` must be one of {list(_FORMATS)}; got {format!r}.")
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        if format == "word2vec_binary":
            with open(path, "wb") as f:
                f.write(f"{len(self)} {self.vector_size}\n".encode())
                for word, vector in zip(self.words, self.vectors):
                    f.write(word.encode("utf-8") + b" " + vector.astype("<f4").tobytes() + b"\n")
            return
        with open(path, "w", encoding="utf-8") as f:
            if format == "word2vec":
                f.write(f"{len(self)} {self.vector_size}\n")
            for word, vector in zip(self.words, self.vectors):
                f.write(word + " " + " ".join(repr(float(x)) for x in vector) + "\n")

    @classmethod
    def load(cls, path, format: str = "glove", limit: int | None = None) -> WordVectors:
        """Reads vectors saved by `save` (or by GloVe, word2vec, gensim,
        fastText `.vec`). `limit` keeps only the first words.

        Raises:
            ValueError: naming the line of a malformed file (wrong number of
            values, a non-number, a bad header, a repeated word).
        """
        if format not in _FORMATS:
            raise ValueError(f"`format` must be one of {list(_FORMATS)}; got {format!r}.")
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise ValueError(f"`path` {path!r} is not a file.")
        if format == "word2vec_binary":
            return cls._load_binary(path, limit)
        words, rows, dim, expected = [], [], None, None
        with open(path, encoding="utf-8", errors="strict") as f:
            for number, line in enumerate(f, 1):
                parts = line.rstrip("\n").rstrip().split(" ")
                if number == 1 and format == "word2vec":
                    expected, dim = _header(parts, path)
                    continue
                if not line.strip():
                    continue
                if limit is not None and len(words) >= limit:
                    break
                if dim is None:
                    dim = len(parts) - 1
                    if dim < 1:
                        raise ValueError(f"{path}: line {number}: expected a word followed by its vector.")
                if len(parts) != dim + 1:
                    raise ValueError(
                        f"{path}: line {number}: expected a word and {dim} values; got {len(parts) - 1} values."
                    )
                try:
                    rows.append(np.array(parts[1:], dtype="float32"))
                except ValueError:
                    raise ValueError(f"{path}: line {number}: the vector of {parts[0]!r} holds a non-number.") from None
                words.append(parts[0])
        if expected is not None and limit is None and len(words) != expected:
            raise ValueError(f"{path}: the header announces {expected} words but the file holds {len(words)}.")
        if not words:
            raise ValueError(f"{path}: no vectors found.")
        return cls._checked(path, words, np.stack(rows))

    @classmethod
    def _checked(cls, path, words, vectors):
        seen = {}
        for i, w in enumerate(words):
            if w in seen:
                raise ValueError(f"{path}: word {w!r} appears twice (entries {seen[w] + 1} and {i + 1}).")
            seen[w] = i
        return cls(words, vectors)

    @classmethod
    def _load_binary(cls, path, limit):
        with open(path, "rb") as f:
            data = f.read()
        end = data.find(b"\n")
        if end < 0:
            raise ValueError(f"{path}: line 1: missing the 'count dim' header.")
        count, dim = _header(data[:end].decode("utf-8", "replace").split(), path)
        take = count if limit is None else min(limit, count)
        words, vectors, position = [], np.zeros((take, dim), "float32"), end + 1
        for i in range(take):
            while position < len(data) and data[position : position + 1] in (b"\n", b" "):
                position += 1
            space = data.find(b" ", position)
            if space < 0 or space + 1 + 4 * dim > len(data):
                raise ValueError(f"{path}: entry {i + 1} (line {i + 2}): truncated; expected a word and {dim} floats.")
            try:
                words.append(data[position:space].decode("utf-8"))
            except UnicodeDecodeError:
                raise ValueError(f"{path}: entry {i + 1} (line {i + 2}): the word is not UTF-8.") from None
            vectors[i] = np.frombuffer(data, "<f4", dim, space + 1)
            position = space + 1 + 4 * dim
        return cls._checked(path, words, vectors)

    # ----------------------------------------------------------- projector
    def write_projector(self, log_dir, words: Iterable[str] | None = None, tensor_name="word_vectors"):
        """Writes TensorBoard embedding projector files into `log_dir`:
        ``vectors.tsv`` (one tab-separated vector per line), ``metadata.tsv``
        (one word per line, same order) and ``projector_config.pbtxt``.
        Open with ``tensorboard --logdir log_dir`` (Projector tab).

        Args:
            words: a subset to export (default: all words).

        Returns:
            The path of the projector config.
        """
        ids = [self._id(w, "words") for w in words] if words is not None else range(len(self))
        os.makedirs(log_dir, exist_ok=True)
        with open(os.path.join(log_dir, "vectors.tsv"), "w", encoding="utf-8") as v, open(
            os.path.join(log_dir, "metadata.tsv"), "w", encoding="utf-8"
        ) as m:
            for i in ids:
                v.write("\t".join(f"{x:.6g}" for x in self.vectors[i]) + "\n")
                m.write(self.words[i] + "\n")
        config = os.path.join(log_dir, "projector_config.pbtxt")
        with open(config, "w", encoding="utf-8") as f:
            f.write(
                "embeddings {\n"
                f'  tensor_name: "{tensor_name}"\n'
                '  tensor_path: "vectors.tsv"\n'
                '  metadata_path: "metadata.tsv"\n'
                "}\n"
            )
        return config


def _header(parts, path):
    try:
        count, dim = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"{path}: line 1: expected the word2vec header 'count dim'; got {' '.join(parts)!r}.") from None
    if count < 1 or dim < 1:
        raise ValueError(f"{path}: line 1: the header 'count dim' must hold positive numbers.")
    return count, dim
