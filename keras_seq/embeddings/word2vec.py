"""word2vec: skip-gram and CBOW with negative sampling, trained in large
batched TensorFlow steps, optionally under a tf.distribute strategy (seed
sections 5.2-5.3)."""

from __future__ import annotations

import collections
import contextlib
import itertools
import os
import queue
import threading
import time
import warnings

import numpy as np

from keras_seq._custom_ops import CustomOpBuildError, load_op_library
from keras_seq.embeddings.corpus import as_sentences
from keras_seq.embeddings.word_vectors import WordVectors


def keep_probabilities(counts, sample):
    """Frequent-word subsampling: the probability of keeping each occurrence
    of a word with count c, gensim's (and word2vec.c's) formula

        p_keep = (sqrt(c / t) + 1) * t / c,  capped at 1,  t = sample * sum(counts)

    With ``sample=0`` every word is kept.

    Example:

    >>> keep_probabilities([1000, 10, 1], sample=1e-2).round(4).tolist()
    [0.1107, 1.0, 1.0]
    """
    counts = np.asarray(counts, "float64")
    if not sample:
        return np.ones_like(counts)
    threshold = sample * counts.sum()
    return np.minimum(1.0, (np.sqrt(counts / threshold) + 1.0) * threshold / counts)


def negative_distribution(counts, power=0.75):
    """The negative-sampling distribution P(w) = c(w)^(3/4) / sum c^(3/4)
    (seed 5.3).

    Example:

    >>> negative_distribution([16, 1]).round(4).tolist()
    [0.8889, 0.1111]
    """
    weights = np.asarray(counts, "float64") ** power
    return weights / weights.sum()


def negative_table(counts):
    """The cumulative int64 table of `negative_distribution` (gensim's
    `cum_table`: each word's share of 2^31, accumulated)."""
    return np.cumsum(np.round(negative_distribution(counts) * 2**31).astype("int64"))


def draw_negatives(table, count, seed):
    """`count` word ids drawn from P(w) ∝ c(w)^(3/4) with a uniform integer
    below the table's total and a binary search, inside TensorFlow.

    Example:

    >>> import tensorflow as tf
    >>> ids = draw_negatives(tf.constant(negative_table([16, 1])), 10_000, tf.constant([0, 1], tf.int64))
    >>> round(float(tf.reduce_mean(tf.cast(ids == 0, tf.float32))), 1)
    0.9
    """
    import tensorflow as tf

    table = tf.convert_to_tensor(table, tf.int64)
    draws = tf.random.stateless_uniform([count], seed=seed, maxval=table[-1], dtype=tf.int64)
    return tf.searchsorted(table, draws, side="right", out_type=tf.int32)


def alias_table(probabilities):
    """Walker's alias table for drawing word ids from `probabilities` in
    constant time (Vose's construction), as the fused trainer does.

    Returns `(threshold, alias)`: int64 thresholds in [0, 2^32] and int32
    alternatives. To draw, pick a column c uniformly and a uniform 32-bit
    integer u: the word is c if u < threshold[c], else alias[c]. Column c is
    thus kept with probability threshold[c] / 2^32, and word w is drawn with
    probability (threshold[w] + sum of 2^32 - threshold[c] over the columns c
    whose alias is w) / (V * 2^32), which equals probabilities[w] up to the
    2^-32 rounding of the thresholds.

    Example:

    >>> threshold, alias = alias_table([0.5, 0.25, 0.25])
    >>> (threshold / 2**32).tolist(), alias.tolist()
    ([1.0, 0.75, 0.75], [0, 0, 0])
    """
    p = np.asarray(probabilities, "float64")
    n = len(p)
    if n == 0 or not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
        raise ValueError("`probabilities` must be a non-empty vector of non-negative numbers with a positive sum.")
    scaled = (p / p.sum() * n).tolist()
    keep = [1.0] * n
    alias = list(range(n))
    small = [i for i, x in enumerate(scaled) if x < 1.0]
    large = [i for i, x in enumerate(scaled) if x >= 1.0]
    while small and large:
        short, tall = small.pop(), large[-1]
        keep[short], alias[short] = scaled[short], tall
        scaled[tall] += scaled[short] - 1.0
        if scaled[tall] < 1.0:
            small.append(large.pop())
    # Columns left in either list hold (up to rounding) exactly one share.
    threshold = np.minimum(np.round(np.array(keep) * 2**32), 2**32).astype("int64")
    return threshold, np.array(alias, "int32")


KERNEL_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "word2vec_kernel.cc")


def fused_kernel():
    """The module of keras_seq's fused word2vec CPU op
    (`keras_seq_word2_vec_sgd`), compiled on first use (see
    `keras_seq._custom_ops`); raises `CustomOpBuildError` if it cannot be
    built."""
    return load_op_library(KERNEL_SOURCE)


TRAINERS = ("auto", "fused", "batched")


def window_mask(sentence_ids, window, reduced):
    """Which neighbours each position trains with (dynamic windows, vectorised).

    Position i sees the words at i-d and i+d for 1 <= d <= window - reduced[i]
    inside its own sentence: word2vec's "reduced window", which makes the
    effective window uniform on 1..window, so a context at distance d is
    used with probability (window - d + 1) / window.

    Args:
        sentence_ids: int array [N] (the corpus after subsampling); windows
            never cross sentences.
        window: the maximum window W.
        reduced: int array [N] with values in [0, W).

    Returns:
        bool array [N, 2W + 1]; column W + d is the neighbour at offset d
        (the centre column W is always False).

    Example:

    >>> window_mask(np.array([0, 0, 0, 1]), 2, np.array([0, 1, 0, 0])).astype(int)
    array([[0, 0, 0, 1, 1],
           [0, 1, 0, 1, 0],
           [1, 1, 0, 0, 0],
           [0, 0, 0, 0, 0]])
    """
    sentence_ids = np.asarray(sentence_ids)
    n = len(sentence_ids)
    effective = window - np.asarray(reduced)
    mask = np.zeros((n, 2 * window + 1), bool)
    positions = np.arange(n)
    for offset in range(-window, window + 1):
        if offset == 0:
            continue
        other = positions + offset
        valid = (other >= 0) & (other < n) & (abs(offset) <= effective)
        valid &= sentence_ids[np.clip(other, 0, n - 1)] == sentence_ids
        mask[:, window + offset] = valid
    return mask


def skipgram_pairs(tokens, mask):
    """The (centre, context) word pairs that `window_mask` selects.

    Example:

    >>> skipgram_pairs(np.array([5, 6, 7]), window_mask(np.zeros(3, int), 1, np.zeros(3, int)))
    (array([5, 6, 6, 7]), array([6, 5, 7, 6]))
    """
    tokens = np.asarray(tokens)
    window = (mask.shape[1] - 1) // 2
    rows, columns = np.nonzero(mask)
    return tokens[rows], tokens[rows + columns - window]


_COMPILED_STEPS = {}


class Word2Vec:
    """word2vec (Mikolov et al. 2013) with negative sampling.

    Skip-gram (`sg=True`) trains, for each word w_t and each context word c
    in its dynamic window, the binary classifier sigma(v_c . u_{w_t}) = 1 against
    `negative` words n drawn from P(w) ∝ count(w)^(3/4) with
    sigma(v_c . u_n) = 0 (seed 5.3: the softmax over the vocabulary of 5.2
    made cheap). CBOW (`sg=False`) classifies w_t from the mean of its
    context vectors instead. Frequent words are subsampled with gensim's
    formula (`keep_probabilities`), windows are shrunk at random
    (`window_mask`), and the learning rate decays linearly from `alpha`
    to `min_alpha` over training, as in word2vec.c and gensim.

    Each step trains `batch_size` consecutive centre positions (of the
    subsampled corpus, its sentences shuffled each epoch) in one of two ways
    (`trainer`):

    * ``"fused"``: one TensorFlow op with a C++ CPU kernel of keras_seq's
      (compiled on first use, see `keras_seq._custom_ops`) runs word2vec's
      sequential SGD over the batch's windows, pair by pair as word2vec.c and
      gensim do, updating the two tables (TensorFlow variables) in place.
      Negatives are drawn inside the kernel from Walker's alias table of
      P(w) ∝ count(w)^(3/4) (`alias_table`): a fresh draw of `negative`
      words per (context, centre) pair in skip-gram and per window in CBOW.
      `shared_negatives` and `max_row_updates` do not apply (every update
      sees the previous ones). CPU only; the fastest trainer on a CPU.
    * ``"batched"``: a compiled `tf.function` of batched TensorFlow ops, for
      GPUs, TPUs and `tf.distribute` strategies. Windows come
    in groups of `shared_negatives` consecutive centres that share one draw
    of `negative` words (each window still has its own positive): the g
    windows of a group cover only g + 2W positions, so their context vectors
    are gathered once per group, and each position is scored once against
    the group's [g positives, k negatives] block, the score's gradient
    weighted by how many (window, context) pairs use it. Scores, input-side
    and output-side gradients are then three batched matmuls per step, and
    the summed updates are scattered into the two tables (input-side rows
    summed per position first). CBOW computes each window's masked mean and
    spreads its error back with the same [positions x windows] matrix. The
    result equals the sum of word2vec's per-pair SGD updates at the current
    weights (tests check this against a loop). Summed updates are less
    stable than sequential ones: a word whose row sums more than
    `max_row_updates` (pair, target) terms in one step has its update scaled
    down to that many, which keeps frequent words of small vocabularies and
    large batches from overshooting.

    ``"auto"`` (the default) picks ``"fused"`` when training on the CPU
    without a strategy and the kernel builds (a C++ compiler is needed:
    ``$CXX`` or ``g++``), else ``"batched"``, with a warning if the kernel
    could not be built; `trainer_used` tells which ran. Either way a thread
    builds the batches in NumPy while the steps run, and a tqdm bar shows
    words/s.

    `workers` > 1 runs that many steps concurrently from Python threads
    (TensorFlow releases the GIL), Hogwild-style like gensim's workers: the
    tables are updated without locks, so results are no longer
    reproducible. With one worker, a seeded fit is reproducible.

    Distribution: with `strategy` (a `tf.distribute.Strategy`, e.g.
    `keras_seq.distribute.get_strategy("mirrored")` over GPUs, or a
    `TPUStrategy`), the tables are created in its scope (mirrored), every
    global batch is split into one contiguous chunk of windows per replica,
    each replica sums its updates into dense [V, D] gradients, which are
    all-reduced and added to every copy; the result equals single-device
    training with the same `batch_size` up to float rounding (a test checks
    this under `MirroredStrategy` over two logical CPUs). Dense all-reduces
    cost O(V * D) per step, so use large batches there. Only
    `MirroredStrategy` on CPUs is tested here. A strategy implies the
    batched trainer.

    Args:
        vector_size: dimension D of the vectors.
        window: maximum distance between the centre and a context word.
        negative: number of negative words per window (k; 5-20 for small
            corpora, 2-5 for large ones).
        sg: skip-gram (True) or CBOW (False).
        min_count: ignore words seen fewer times.
        sample: subsampling threshold (0 disables it).
        epochs: passes over the corpus.
        seed: seeds initialisation, subsampling, windows and negatives.
        alpha, min_alpha: initial and final learning rate.
        batch_size: centre words per step (the global batch under a
            strategy); the learning rate is updated once per step.
        shared_negatives: (batched trainer) consecutive windows that share
            one draw of negatives (1 = a fresh draw per window).
        max_row_updates: (batched trainer) per-step cap on the (pair,
            target) terms summed into one word's row; larger sums are scaled
            down to it (with several `workers`, whose steps overlap, each
            step gets an equal share).
        max_vocab_size: keep only this many most frequent words.
        verbose: show a progress bar (words/s) when truthy.
        workers: concurrent training threads (Hogwild); 1 is reproducible.
        strategy: a `tf.distribute.Strategy`, or None for plain
            single-device training; `workers` must then be 1.
        trainer: ``"auto"``, ``"fused"`` (the C++ CPU kernel; an error if it
            cannot be built) or ``"batched"`` (TensorFlow ops on any device).

    Example:

    >>> from keras_seq.embeddings import Word2Vec
    >>> corpus = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
    >>> wv = Word2Vec(vector_size=8, min_count=1, epochs=2, seed=0, verbose=0).fit(corpus)
    >>> wv.words, wv.vectors.shape
    (['the', 'sat', 'cat', 'dog'], (4, 8))
    """

    def __init__(
        self,
        vector_size: int = 100,
        window: int = 5,
        negative: int = 5,
        sg: bool = True,
        min_count: int = 5,
        sample: float = 1e-3,
        epochs: int = 5,
        seed: int | None = None,
        alpha: float = 0.025,
        min_alpha: float = 1e-4,
        batch_size: int = 2048,
        shared_negatives: int = 4,
        max_row_updates: int = 300,
        max_vocab_size: int | None = None,
        verbose: int = 1,
        workers: int = 1,
        strategy=None,
        trainer: str = "auto",
    ):
        for name, value in [
            ("vector_size", vector_size),
            ("window", window),
            ("negative", negative),
            ("min_count", min_count),
            ("epochs", epochs),
            ("batch_size", batch_size),
            ("shared_negatives", shared_negatives),
            ("max_row_updates", max_row_updates),
            ("workers", workers),
        ]:
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer; got {value!r}.")
        if not 0 <= sample < 1:
            raise ValueError(f"`sample` must be in [0, 1); got {sample!r}.")
        if not 0 < alpha or not 0 <= min_alpha <= alpha:
            raise ValueError(f"`alpha` must be > 0 and `min_alpha` in [0, alpha]; got {alpha!r}, {min_alpha!r}.")
        if strategy is not None and not (hasattr(strategy, "run") and hasattr(strategy, "scope")):
            raise ValueError(f"`strategy` must be a tf.distribute.Strategy or None; got {strategy!r}.")
        if strategy is not None and workers != 1:
            raise ValueError(f"`workers` must be 1 when a `strategy` is given; got {workers!r}.")
        if trainer not in TRAINERS:
            raise ValueError(f"`trainer` must be one of {TRAINERS}; got {trainer!r}.")
        if strategy is not None and trainer == "fused":
            raise ValueError("`trainer` must be 'auto' or 'batched' when a `strategy` is given; got 'fused'.")
        if max_vocab_size is not None and max_vocab_size < 1:
            raise ValueError(f"`max_vocab_size` must be a positive integer or None; got {max_vocab_size!r}.")
        self.vector_size = int(vector_size)
        self.window = int(window)
        self.negative = int(negative)
        self.sg = bool(sg)
        self.min_count = int(min_count)
        self.sample = float(sample)
        self.epochs = int(epochs)
        self.seed = seed
        self.alpha = float(alpha)
        self.min_alpha = float(min_alpha)
        self.batch_size = int(batch_size)
        self.shared_negatives = int(shared_negatives)
        self.max_row_updates = int(max_row_updates)
        self.max_vocab_size = max_vocab_size
        self.verbose = verbose
        self.workers = int(workers)
        self.strategy = strategy
        self.trainer = trainer
        self.trainer_used = None
        self.words = None
        self.counts = None
        self.words_per_second = None

    # ------------------------------------------------------------- vocabulary
    def build_vocabulary(self, sentences):
        """Counts words; keeps those seen `min_count` times, most frequent
        first (ties in first-seen order, like gensim)."""
        counter = collections.Counter(w for s in sentences for w in s)
        items = [(w, c) for w, c in counter.items() if c >= self.min_count]
        items.sort(key=lambda wc: -wc[1])  # stable: first-seen order for ties
        if self.max_vocab_size:
            items = items[: self.max_vocab_size]
        if not items:
            raise ValueError(
                f"`sentences` hold no word seen at least `min_count`={self.min_count} times."
            )
        self.words = [w for w, _ in items]
        self.counts = np.array([c for _, c in items], "int64")
        return self

    def encode(self, sentences):
        """Flat word ids and sentence ids of the in-vocabulary tokens."""
        index = {w: i for i, w in enumerate(self.words)}
        ids, sentence_ids = [], []
        for number, sentence in enumerate(sentences):
            encoded = [index[w] for w in sentence if w in index]
            ids.extend(encoded)
            sentence_ids.extend([number] * len(encoded))
        return np.array(ids, "int32"), np.array(sentence_ids, "int32")

    # ------------------------------------------------------------- batches
    def epoch_batches(self, ids, sentence_ids, rng):
        """One epoch of training batches of consecutive centre positions.

        Subsampling first (`keep_probabilities`), then the sentences are
        shuffled, then dynamic windows (`window_mask`) as in word2vec.c. Each batch is `(tokens [B + 2W],
        mask [B, 2W + 1], fraction of the epoch done after it)`: the word ids
        of B centres plus W neighbours on each side (0 beyond the corpus,
        always masked) and the window mask of the centres.
        """
        keep = keep_probabilities(self.counts, self.sample)
        kept = rng.random(len(ids)) < keep[ids]
        tokens, sentences = ids[kept], sentence_ids[kept]
        # Sentences in a new random order each epoch: a batch of consecutive
        # positions then mixes many documents instead of repeating one topic.
        rank = rng.permutation(int(sentence_ids.max()) + 1 if len(sentence_ids) else 1)
        order = np.argsort(rank[sentences], kind="stable")
        tokens, sentences = tokens[order], sentences[order]
        reduced = rng.integers(0, self.window, len(tokens))
        mask = window_mask(sentences, self.window, reduced)
        w, n = self.window, len(tokens)
        padded = np.concatenate([np.zeros(w, "int32"), tokens, np.zeros(w, "int32")])
        for start in range(0, n, self.batch_size):
            stop = min(n, start + self.batch_size)
            yield padded[start : stop + 2 * w], mask[start:stop], stop / n

    # ------------------------------------------------------------- training
    def _updates_function(self):
        """The SGD updates of one batch at the current weights.

        `updates(syn0, syn1, tokens, window_mask, negatives, lr)` returns the
        summed input-side rows per span position `rows0` [B + 2W, D] (indexed
        by `tokens`), the output-side rows `rows1` with their word ids `ids1`
        (the B centres, then the negatives), the loss, the number of
        (context, centre) pairs, and how many (pair, target) terms each row
        of `rows0` and `rows1` sums (for the `max_row_updates` cap).
        """
        import tensorflow as tf

        k, sg, w, group = self.negative, self.sg, self.window, self.shared_negatives
        span = 2 * w + 1
        labels = np.concatenate([np.eye(group), np.zeros((group, k))], 1).astype("float32")  # [g, g+k]

        union = group + 2 * w  # positions covered by the windows of one group
        chunks = -(-union // group)

        def overlap_add(rows, groups):
            """[G, U, D] rows of overlapping groups (group G starts at G * g) ->
            [(G + chunks - 1) * g, D] per-position sums."""
            rows = tf.pad(rows, [[0, 0], [0, chunks * group - union], [0, 0]])
            parts = [tf.reshape(rows[:, c * group : (c + 1) * group], [groups * group, -1]) for c in range(chunks)]
            return tf.add_n([tf.pad(part, [[c * group, (chunks - 1 - c) * group], [0, 0]]) for c, part in enumerate(parts)])

        def updates(syn0, syn1, tokens, window_mask, negatives, lr):
            batch = tf.shape(window_mask)[0]
            groups = (batch + group - 1) // group
            extra = groups * group - batch  # pad the batch to whole groups
            dim = tf.shape(syn0)[1]
            centres = tokens[w : w + batch]
            mask = tf.pad(tf.cast(window_mask, tf.float32), [[0, extra], [0, 0]])  # [G*g, 2W+1]
            padded_centres = tf.pad(centres, [[0, extra]], constant_values=-1)
            negatives = tf.reshape(negatives, [groups, k])
            targets = tf.concat([tf.reshape(tf.maximum(padded_centres, 0), [groups, group]), negatives], 1)
            u = tf.gather(syn1, targets)  # [G, g+k, D]: each window's positive, then its negatives
            # A negative equal to the centre word is skipped, as in word2vec.c.
            negative_weight = tf.cast(
                tf.reshape(padded_centres, [groups, group, 1]) != negatives[:, None, :], tf.float32
            )  # [G, g, k]
            column_weight = tf.concat(
                [tf.broadcast_to(labels[:, :group], [groups, group, group]), negative_weight], -1
            )  # [G, g, g+k]
            vectors = tf.gather(syn0, tokens)  # [B + 2W, D]
            # The g windows of a group cover U = g + 2W consecutive positions.
            contexts = tf.signal.frame(tf.pad(vectors, [[0, extra], [0, 0]]), union, group, axis=0)  # [G, U, D]
            windows = tf.reshape(mask, [groups, group, span])
            uses = tf.stack(
                [tf.pad(windows[:, r, :], [[0, 0], [r, group - 1 - r]]) for r in range(group)], 2
            )  # [G, U, g]: window r uses position p as a context
            if sg:
                # The contexts share the group's negatives: each position is scored once
                # against the g positives and the k negatives, and a score is weighted
                # by the number of (window, context) pairs that use it.
                grouped = contexts
                weight = tf.concat([uses, tf.matmul(uses, negative_weight)], -1)  # [G, U, g+k]
                scores = tf.matmul(grouped, u, transpose_b=True)  # [G, U, g+k]
                label = labels.max(axis=0)[None, None]  # 1 for the positives' columns, 0 for the negatives'
                pairs = tf.reduce_sum(mask)
            else:
                count = tf.reduce_sum(windows, axis=2)[:, :, None]  # [G, g, 1]
                grouped = tf.matmul(uses, contexts, transpose_a=True) / tf.maximum(count, 1.0)  # masked means
                scores = tf.matmul(grouped, u, transpose_b=True)  # [G, g, g+k]
                present = tf.cast(count > 0, tf.float32)
                weight = present * column_weight
                label = labels[None]
                pairs = tf.reduce_sum(present)
            error = label - tf.sigmoid(scores)
            gradient = error * weight * lr
            # -log of the probability given to the right label, 1 - |label - sigmoid|.
            loss = -tf.reduce_sum(tf.math.log(tf.maximum(1.0 - tf.abs(error), 1e-7)) * weight)
            d_grouped = tf.matmul(gradient, u)  # input-side gradients
            d_u = tf.matmul(gradient, grouped, transpose_a=True)  # [G, g+k, D]
            if sg:  # [G, U, D] per-group rows -> [B + 2W, D] per-position sums (groups overlap by 2W)
                rows0 = overlap_add(d_grouped, groups)[: batch + 2 * w]
                terms0 = overlap_add(tf.reduce_sum(weight, axis=2)[:, :, None], groups)[: batch + 2 * w, 0]
            else:  # gensim's cbow_mean: every context word receives the whole error
                rows0 = overlap_add(tf.matmul(uses, d_grouped), groups)[: batch + 2 * w]
                centre_terms = tf.reduce_sum(weight, axis=2)[:, :, None]  # [G, g, 1]
                terms0 = overlap_add(tf.matmul(uses, centre_terms), groups)[: batch + 2 * w, 0]
            rows1 = tf.concat(
                [tf.reshape(d_u[:, :group], [-1, dim])[:batch], tf.reshape(d_u[:, group:], [-1, dim])], 0
            )
            ids1 = tf.concat([centres, tf.reshape(negatives, [-1])], 0)
            # How many (pair, target) terms each row sums: terms0 above, [B + G*k] here.
            column_terms = tf.reduce_sum(weight, axis=1)  # [G, g+k]
            terms1 = tf.concat(
                [tf.reshape(column_terms[:, :group], [-1])[:batch], tf.reshape(column_terms[:, group:], [-1])], 0
            )
            return rows0, rows1, ids1, loss, pairs, terms0, terms1

        return updates

    def _step_function(self, syn0, syn1, cumulative, strategy=None):
        """The compiled training step `step(tokens, window_mask, lr, seed)`.

        Without a strategy the summed rows are scatter-added into the
        tables. With one, the batch is split into one contiguous chunk of
        windows per replica (each with its own negatives, drawn once for the
        whole batch), every replica sums its updates into dense [V, D]
        gradients, and these are all-reduced (summed) and added to the
        mirrored tables, so the result equals one device's step on the whole
        batch (up to float rounding). In both cases a word whose row sums
        n > `max_row_updates` (pair, target) terms in the step has its summed
        update scaled by max_row_updates / n, so that summed updates of very
        frequent words cannot overshoot.
        """
        import tensorflow as tf

        k, w, group = self.negative, self.window, self.shared_negatives
        # Concurrent workers' steps overlap, so they share the cap.
        cap = float(self.max_row_updates) / self.workers
        span = 2 * w + 1
        updates = self._updates_function()
        vocab = syn0.shape[0]

        if strategy is None:
            # One trace serves every fit with these settings and table shapes. The
            # shapes are part of the key because a trace can bake in the static
            # shape of the variables it was traced with (under pytest-xdist a
            # trace made for 8-dimensional tables was once reused for 50-dimensional
            # ones and failed in a reshape).
            key = (self.sg, w, k, group, cap, tuple(syn0.shape), tuple(syn1.shape), tuple(cumulative.shape))
            if key not in _COMPILED_STEPS:

                @tf.function(reduce_retracing=True)
                def compiled(syn0, syn1, cumulative, tokens, window_mask, lr, seed):
                    batch = tf.shape(window_mask)[0]
                    negatives = draw_negatives(cumulative, (batch + group - 1) // group * k, seed)
                    rows0, rows1, ids1, loss, pairs, terms0, terms1 = updates(syn0, syn1, tokens, window_mask, negatives, lr)
                    for table, rows, ids, terms in ((syn0, rows0, tokens, terms0), (syn1, rows1, ids1, terms1)):
                        unique, position = tf.unique(ids)
                        uses = tf.math.unsorted_segment_sum(terms, position, tf.shape(unique)[0])
                        scale = tf.minimum(1.0, cap / tf.maximum(tf.gather(uses, position), 1.0))
                        table.scatter_add(tf.IndexedSlices(rows * scale[:, None], ids))
                    return loss, pairs

                _COMPILED_STEPS[key] = compiled
            compiled = _COMPILED_STEPS[key]
            return lambda tokens, window_mask, lr, seed: compiled(
                syn0, syn1, cumulative, tf.convert_to_tensor(tokens, tf.int32), tf.convert_to_tensor(window_mask, tf.bool),
                tf.convert_to_tensor(lr, tf.float32), tf.convert_to_tensor(seed, tf.int64)
            )

        replicas = strategy.num_replicas_in_sync

        def replica_step(tokens, window_mask, negatives, lr):
            batch = tf.shape(window_mask)[0]
            groups = (batch + group - 1) // group
            per_replica = (groups + replicas - 1) // replicas
            replica = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, tf.int32)
            first = tf.minimum(replica * per_replica, groups)
            last = tf.minimum(first + per_replica, groups)
            start, stop = tf.minimum(first * group, batch), tf.minimum(last * group, batch)
            tokens = tokens[start : stop + 2 * w]
            rows0, rows1, ids1, loss, pairs, terms0, terms1 = updates(
                syn0, syn1, tokens, window_mask[start:stop], negatives[first * k : last * k], lr
            )
            return (
                tf.math.unsorted_segment_sum(rows0, tokens, vocab),
                tf.math.unsorted_segment_sum(terms0, tokens, vocab),
                tf.math.unsorted_segment_sum(rows1, ids1, vocab),
                tf.math.unsorted_segment_sum(terms1, ids1, vocab),
                loss,
                pairs,
            )

        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([None, span], tf.bool),
                tf.TensorSpec([], tf.float32),
                tf.TensorSpec([2], tf.int64),
            ],
            reduce_retracing=True,
        )
        def distributed_step(tokens, window_mask, lr, seed):
            batch = tf.shape(window_mask)[0]
            negatives = draw_negatives(cumulative, (batch + group - 1) // group * k, seed)
            results = strategy.run(replica_step, args=(tokens, window_mask, negatives, lr))
            d0, uses0, d1, uses1, loss, pairs = (
                strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None) for value in results
            )
            syn0.assign_add(d0 * tf.minimum(1.0, cap / tf.maximum(uses0, 1.0))[:, None])
            syn1.assign_add(d1 * tf.minimum(1.0, cap / tf.maximum(uses1, 1.0))[:, None])
            return loss, pairs

        return distributed_step

    def _resolve_trainer(self):
        """'fused' or 'batched' for this fit (see `trainer`)."""
        if self.trainer == "batched" or self.strategy is not None:
            return "batched"
        if self.trainer == "auto":
            import tensorflow as tf

            if tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"):
                return "batched"
        try:
            fused_kernel()
        except CustomOpBuildError as error:
            if self.trainer == "fused":
                raise
            warnings.warn(f"Word2Vec: using the batched TensorFlow trainer; the fused CPU kernel is unavailable: {error}",
                          RuntimeWarning, stacklevel=3)
            return "batched"
        return "fused"

    def _fused_step_function(self, syn0, syn1):
        """The fused step `step(tokens, window_mask, lr, seed)`: one call of
        keras_seq's C++ op (sequential per-pair SGD in place, negatives from
        the alias table of `negative_distribution`); returns (loss, examples).
        Called eagerly: the op is the whole step, and a `tf.function` around
        it only adds call overhead."""
        import tensorflow as tf

        train = fused_kernel().keras_seq_word2_vec_sgd
        threshold, alias = alias_table(negative_distribution(self.counts))
        threshold, alias = tf.constant(threshold), tf.constant(alias)
        k, sg = self.negative, self.sg

        def step(tokens, window_mask, lr, seed):
            with tf.device("/CPU:0"):
                return train(syn0.handle, syn1.handle, tf.convert_to_tensor(tokens, tf.int32),
                             tf.convert_to_tensor(window_mask, tf.bool), threshold, alias, lr, seed,
                             negative=k, sg=sg)

        return step

    def fit(self, sentences) -> WordVectors:
        """Builds the vocabulary and trains; returns the input vectors as a
        `WordVectors` (most frequent word first). Sets `words_per_second`
        (raw corpus words per second of training, as gensim reports),
        `losses` (mean loss per pair per epoch) and `trainer_used`."""
        import tensorflow as tf

        sentences = as_sentences(sentences)
        self.build_vocabulary(sentences)
        ids, sentence_ids = self.encode(sentences)
        raw_words = sum(len(s) for s in sentences)
        rng = np.random.default_rng(self.seed)
        vocab, dim = len(self.words), self.vector_size
        # Input vectors uniform in [-1/D, 1/D) as in gensim 4 (word2vec.c's half-width start
        # gave lower analogy accuracy here: CBOW 0.58% vs 0.88%, skip-gram 2.21% vs 2.50%,
        # medians of 3-4 seeds on the Wikipedia extract); output vectors start at zero.
        initial = ((rng.random((vocab, dim)) * 2.0 - 1.0) / dim).astype("float32")
        strategy = self.strategy
        self.trainer_used = self._resolve_trainer()
        if strategy is not None:
            placement = strategy.scope()
        elif self.trainer_used == "fused":
            placement = tf.device("/CPU:0")
        else:
            placement = contextlib.nullcontext()
        with placement:
            self.syn0 = tf.Variable(initial, name="syn0")
            self.syn1 = tf.Variable(tf.zeros([vocab, dim]), name="syn1neg")
        if self.trainer_used == "fused":
            step = self._fused_step_function(self.syn0, self.syn1)
        else:
            step = self._step_function(self.syn0, self.syn1, tf.constant(negative_table(self.counts)), strategy)
        epochs = self.epochs
        tf_seed = int(rng.integers(2**31))

        batches, stop, errors = queue.Queue(maxsize=8), threading.Event(), []

        def put(item):
            while not stop.is_set():
                try:
                    batches.put(item, timeout=0.1)
                    return
                except queue.Full:
                    continue

        def produce():  # NumPy batches, built on another thread while the steps run
            try:
                for epoch in range(epochs):
                    before = 0.0
                    for tokens, mask, after in self.epoch_batches(ids, sentence_ids, rng):
                        put((tokens, mask, epoch, before, after))
                        before = after
            except BaseException as error:  # re-raised by fit
                errors.append(error)
            for _ in range(self.workers):
                put(None)

        progress = None
        if self.verbose:
            from tqdm.auto import tqdm

            progress = tqdm(total=raw_words * epochs, unit="word", unit_scale=True, desc="word2vec", smoothing=0.1)
        epoch_loss = collections.defaultdict(float)
        epoch_pairs = collections.defaultdict(float)
        lock = threading.Lock()
        counter = itertools.count()

        def work():
            try:
                while (batch := batches.get()) is not None:
                    tokens, mask, epoch, before, after = batch
                    with lock:
                        number = next(counter)
                    lr = self.alpha - (self.alpha - self.min_alpha) * (epoch + before) / epochs
                    loss, pairs = step(
                        tokens, mask, tf.constant(lr, tf.float32), tf.constant([tf_seed, number], tf.int64)
                    )
                    with lock:
                        epoch_loss[epoch] += float(loss)
                        epoch_pairs[epoch] += float(pairs)
                        if progress is not None:
                            progress.update(raw_words * (after - before))
            except BaseException as error:  # re-raised by fit
                errors.append(error)
                stop.set()

        started = time.perf_counter()
        threads = [threading.Thread(target=produce, daemon=True)]
        # Hogwild with several workers: their steps update the shared tables concurrently.
        threads += [threading.Thread(target=work, daemon=True) for _ in range(self.workers - 1)]
        for thread in threads:
            thread.start()
        work()
        for thread in threads:
            thread.join()
        if progress is not None:
            progress.close()
        if errors:
            raise errors[0]
        seconds = time.perf_counter() - started
        self.losses = [epoch_loss[e] / max(epoch_pairs[e], 1.0) for e in range(epochs)]
        self.train_seconds = seconds
        self.words_per_second = raw_words * epochs / max(seconds, 1e-9)
        return WordVectors(self.words, self.syn0.numpy())
