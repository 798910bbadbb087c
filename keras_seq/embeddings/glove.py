"""GloVe: weighted least squares on log co-occurrence counts (seed 5.4;
Pennington, Socher and Manning 2014)."""

from __future__ import annotations

import contextlib
import time

import numpy as np

from keras_seq.embeddings.corpus import as_sentences
from keras_seq.embeddings.word2vec import Word2Vec
from keras_seq.embeddings.word_vectors import WordVectors


def cooccurrence(ids, sentence_ids, window, vocabulary_size, chunk_size=1_000_000):
    """Symmetric co-occurrence counts with 1/distance weighting, as GloVe's
    `cooccur` tool: every pair of words d <= `window` apart in one sentence
    adds 1/d to X[a, b] and to X[b, a].

    Counting is vectorised and chunked (keys a * V + b in int64, summed per
    chunk with `np.unique`, chunks merged at the end), so memory grows with
    the number of distinct pairs, not with V^2: it scales to 100k+ words.

    Args:
        ids: int array [N] of word ids; sentence_ids: int array [N].
        window: the context window.
        vocabulary_size: V.

    Returns:
        `scipy.sparse.csr_matrix` [V, V] of float64 counts.

    Example:

    >>> x = cooccurrence(np.array([0, 1, 2]), np.array([0, 0, 0]), 2, 3)
    >>> x.toarray().tolist()
    [[0.0, 1.0, 0.5], [1.0, 0.0, 1.0], [0.5, 1.0, 0.0]]
    """
    from scipy import sparse

    ids = np.asarray(ids, "int64")
    sentence_ids = np.asarray(sentence_ids)
    if window < 1:
        raise ValueError(f"`window` must be a positive integer; got {window!r}.")
    keys_parts, value_parts = [], []
    n = len(ids)
    for start in range(0, n, chunk_size):
        stop = min(n, start + chunk_size)
        keys, values = [], []
        for d in range(1, window + 1):
            left = np.arange(start, min(stop, n - d))
            right = left + d
            same = sentence_ids[left] == sentence_ids[right]
            a, b = ids[left[same]], ids[right[same]]
            keys += [a * vocabulary_size + b, b * vocabulary_size + a]
            values += [np.full(2 * len(a), 1.0 / d)]
        if keys:
            unique, inverse = np.unique(np.concatenate(keys), return_inverse=True)
            keys_parts.append(unique)
            value_parts.append(np.bincount(inverse, weights=np.concatenate(values)))
    if not keys_parts:
        return sparse.csr_matrix((vocabulary_size, vocabulary_size))
    unique, inverse = np.unique(np.concatenate(keys_parts), return_inverse=True)
    values = np.bincount(inverse, weights=np.concatenate(value_parts))
    rows, cols = np.divmod(unique, vocabulary_size)
    return sparse.csr_matrix((values, (rows, cols)), shape=(vocabulary_size, vocabulary_size))


def weighting(x, x_max=100.0, alpha=0.75):
    """GloVe's f(X) = (X / x_max)^alpha, capped at 1.

    Example:

    >>> weighting(np.array([1.0, 50.0, 100.0, 400.0]), x_max=100).round(4).tolist()
    [0.0316, 0.5946, 1.0, 1.0]
    """
    return np.minimum(1.0, (np.asarray(x, "float64") / x_max) ** alpha)


class GloVe:
    """GloVe word vectors (seed 5.4): minimises

        J = sum_{ij, X_ij > 0} f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2

    over the non-zero co-occurrence counts (`cooccurrence`), with
    f(X) = min(1, (X / x_max)^alpha) (`weighting`) and AdaGrad as in the
    paper (initial rate `learning_rate`, squared-gradient sums starting at
    1, parameters initialised uniformly in [-0.5, 0.5] / D). Entries are
    shuffled each epoch and processed in batches by a compiled TensorFlow
    step. The returned vectors are W + W~, as the paper recommends.

    Args:
        vector_size: D.
        window: co-occurrence window (pairs weighted by 1/distance).
        x_max, alpha: the weighting function's parameters.
        epochs: passes over the non-zero entries.
        seed: initialisation and shuffling seed.
        min_count: ignore rarer words.
        learning_rate: AdaGrad's initial rate.
        batch_size: entries per step.
        max_vocab_size: keep only this many most frequent words.
        strategy: a `tf.distribute.Strategy` or None. With one, the tables
            and AdaGrad sums are mirrored, each batch is split into one chunk
            per replica, and the replicas' dense per-word gradients and
            squared gradients are all-reduced before the AdaGrad update, so
            the result equals single-device training up to float rounding
            (tested under `MirroredStrategy` over two logical CPUs).

    Example:

    >>> from keras_seq.embeddings import GloVe
    >>> corpus = [["ice", "is", "cold"], ["steam", "is", "hot"]] * 20
    >>> glove = GloVe(vector_size=4, window=2, min_count=1, epochs=3, seed=0, verbose=0)
    >>> glove.fit(corpus).vectors.shape
    (5, 4)
    >>> bool(glove.losses[-1] < glove.losses[0])
    True
    """

    def __init__(
        self,
        vector_size: int = 100,
        window: int = 10,
        x_max: float = 100.0,
        alpha: float = 0.75,
        epochs: int = 25,
        seed: int | None = None,
        min_count: int = 5,
        learning_rate: float = 0.05,
        batch_size: int = 8192,
        max_vocab_size: int | None = None,
        verbose: int = 1,
        strategy=None,
    ):
        for name, value in [
            ("vector_size", vector_size),
            ("window", window),
            ("epochs", epochs),
            ("min_count", min_count),
            ("batch_size", batch_size),
        ]:
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer; got {value!r}.")
        if not x_max > 0:
            raise ValueError(f"`x_max` must be > 0; got {x_max!r}.")
        if not alpha > 0:
            raise ValueError(f"`alpha` must be > 0; got {alpha!r}.")
        if strategy is not None and not (hasattr(strategy, "run") and hasattr(strategy, "scope")):
            raise ValueError(f"`strategy` must be a tf.distribute.Strategy or None; got {strategy!r}.")
        if not learning_rate > 0:
            raise ValueError(f"`learning_rate` must be > 0; got {learning_rate!r}.")
        self.vector_size = int(vector_size)
        self.window = int(window)
        self.x_max = float(x_max)
        self.alpha = float(alpha)
        self.epochs = int(epochs)
        self.seed = seed
        self.min_count = int(min_count)
        self.learning_rate = float(learning_rate)
        self.batch_size = int(batch_size)
        self.strategy = strategy
        self.max_vocab_size = max_vocab_size
        self.verbose = verbose
        self.losses = []

    def build(self, sentences):
        """Vocabulary and co-occurrence matrix of `sentences`; sets `words`,
        `counts` and `matrix` (a scipy CSR matrix)."""
        sentences = as_sentences(sentences)
        vocabulary = Word2Vec(min_count=self.min_count, max_vocab_size=self.max_vocab_size, verbose=0)
        vocabulary.build_vocabulary(sentences)
        ids, sentence_ids = vocabulary.encode(sentences)
        self.words, self.counts = vocabulary.words, vocabulary.counts
        self.matrix = cooccurrence(ids, sentence_ids, self.window, len(self.words))
        return self

    def fit(self, sentences) -> WordVectors:
        """Counts co-occurrences and trains; returns W + W~ as `WordVectors`.
        `losses` holds the mean weighted squared error per epoch."""
        import tensorflow as tf

        self.build(sentences)
        coo = self.matrix.tocoo()
        rows, cols = coo.row.astype("int32"), coo.col.astype("int32")
        log_x = np.log(coo.data).astype("float32")
        weights = weighting(coo.data, self.x_max, self.alpha).astype("float32")
        rng = np.random.default_rng(self.seed)
        v, d = len(self.words), self.vector_size

        def uniform(shape):
            return tf.Variable(((rng.random(shape) - 0.5) / d).astype("float32"))

        strategy = self.strategy
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            w, w_context = uniform((v, d)), uniform((v, d))
            b, b_context = uniform((v, 1)), uniform((v, 1))
            squares = [tf.Variable(tf.ones(var.shape)) for var in (w, w_context, b, b_context)]
        lr = self.learning_rate

        def gradients(i, j, target, f):
            wi, wj = tf.gather(w, i), tf.gather(w_context, j)
            diff = tf.reduce_sum(wi * wj, axis=1) + tf.gather(b, i)[:, 0] + tf.gather(b_context, j)[:, 0] - target
            fdiff = f * diff
            grads = (fdiff[:, None] * wj, fdiff[:, None] * wi, fdiff[:, None], fdiff[:, None])
            return grads, tf.reduce_sum(f * tf.square(diff))

        @tf.function(reduce_retracing=True)
        def step(i, j, target, f):
            grads, loss = gradients(i, j, target, f)
            for var, square, grad, index in zip((w, w_context, b, b_context), squares, grads, (i, j, i, j)):
                var.scatter_sub(tf.IndexedSlices(lr * grad / tf.sqrt(tf.gather(square, index)), index))
                square.scatter_add(tf.IndexedSlices(tf.square(grad), index))
            return loss

        def replica_step(i, j, target, f):
            replicas = strategy.num_replicas_in_sync
            replica = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, tf.int32)
            n = tf.shape(i)[0]
            size = (n + replicas - 1) // replicas
            start, stop = tf.minimum(replica * size, n), tf.minimum((replica + 1) * size, n)
            i, j, target, f = i[start:stop], j[start:stop], target[start:stop], f[start:stop]
            grads, loss = gradients(i, j, target, f)
            summed = []
            for grad, index in zip(grads, (i, j, i, j)):
                summed += [tf.math.unsorted_segment_sum(grad, index, v), tf.math.unsorted_segment_sum(tf.square(grad), index, v)]
            return summed, loss

        @tf.function(reduce_retracing=True)
        def distributed_step(i, j, target, f):
            summed, loss = strategy.run(replica_step, args=(i, j, target, f))
            summed = [strategy.reduce(tf.distribute.ReduceOp.SUM, x, axis=None) for x in summed]
            for number, (var, square) in enumerate(zip((w, w_context, b, b_context), squares)):
                var.assign_sub(lr * summed[2 * number] / tf.sqrt(square))
                square.assign_add(summed[2 * number + 1])
            return strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)

        if strategy is not None:
            step = distributed_step

        self._run_epochs(step, (rows, cols, log_x, weights), rng)
        self.w, self.w_context = w.numpy(), w_context.numpy()
        return WordVectors(self.words, self.w + self.w_context)

    def _run_epochs(self, step, pairs, rng):
        """Feeds the co-occurrence `pairs` (rows, columns, log counts,
        weights) to `step` in shuffled batches for every epoch; records
        `losses` and `train_seconds`."""
        progress = None
        if self.verbose:
            from tqdm.auto import tqdm

            progress = tqdm(total=self.epochs * len(pairs[0]), unit="pair", unit_scale=True, desc="GloVe")
        self.losses = []
        started = time.perf_counter()
        for _ in range(self.epochs):
            order = rng.permutation(len(pairs[0]))
            total = 0.0
            for start in range(0, len(order), self.batch_size):
                chosen = order[start : start + self.batch_size]
                total += float(step(*(column[chosen] for column in pairs)))
                if progress is not None:
                    progress.update(len(chosen))
            self.losses.append(total / max(len(order), 1))
        if progress is not None:
            progress.close()
        self.train_seconds = time.perf_counter() - started
