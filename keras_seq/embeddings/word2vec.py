"""word2vec: skip-gram and CBOW with negative sampling, trained in large
batched TensorFlow steps fed by a tf.data pipeline (seed sections 5.2-5.3)."""

from __future__ import annotations

import collections
import time

import numpy as np

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


class Word2Vec:
    """word2vec (Mikolov et al. 2013) with negative sampling.

    Skip-gram (`sg=True`) trains, for each word w_t and each context word c
    in its dynamic window, the binary classifier sigma(v_c . u_{w_t}) = 1 against
    `negative` words n drawn from P(w) ∝ count(w)^(3/4) with
    sigma(v_c . u_n) = 0 (seed 5.3: the softmax over the vocabulary of 5.2
    made cheap). CBOW (`sg=False`) classifies w_t from the mean of its
    context vectors instead. Frequent words are subsampled with gensim's
    formula (`keep_probabilities`), windows are shrunk at random
    (`window_contexts`), and the learning rate decays linearly from `alpha`
    to `min_alpha` over training, as in word2vec.c and gensim.

    Unlike gensim's per-pair C loop, each step processes `batch_size`
    consecutive centre positions (of the subsampled corpus, its sentences
    shuffled each epoch) in one compiled TensorFlow function: the input
    vectors of the span are gathered once and framed into windows, every
    (context, centre) pair and its negatives is scored with batched matmuls,
    the negatives are shared by the pairs of one window (and by
    `shared_negatives` consecutive windows), and the summed updates are
    scattered into the two tables (the input-side updates summed per
    position first). The result equals the sum of word2vec's per-pair SGD
    updates at the current weights (tests check this against a loop).
    Summed updates are less stable than sequential ones: very large batches
    or `shared_negatives` > 1 can diverge on small corpora; a word updated
    more than `max_row_updates` times in one step has its update scaled
    down. A tf.data pipeline builds the batches in NumPy while the previous
    step runs, and a tqdm bar shows words/s.

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
        batch_size: centre words per step.
        shared_negatives: windows that share one draw of negatives.
        max_row_updates: per-step cap on summed updates of one word.
        verbose: show a progress bar (words/s) when truthy.
        max_vocab_size: keep only this many most frequent words.

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
        shared_negatives: int = 1,
        max_row_updates: int = 64,
        max_vocab_size: int | None = None,
        verbose: int = 1,
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
        ]:
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer; got {value!r}.")
        if not 0 <= sample < 1:
            raise ValueError(f"`sample` must be in [0, 1); got {sample!r}.")
        if not 0 < alpha or not 0 <= min_alpha <= alpha:
            raise ValueError(f"`alpha` must be > 0 and `min_alpha` in [0, alpha]; got {alpha!r}, {min_alpha!r}.")
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
    def _step_function(self, syn0, syn1, cumulative):
        import tensorflow as tf

        k, sg, w, group = self.negative, self.sg, self.window, self.shared_negatives
        cap = float(self.max_row_updates)
        span = 2 * w + 1

        def capped_scatter_add(table, updates, indices):
            """Adds the rows; a word updated more than `max_row_updates`
            times in this step has its updates scaled by max_row_updates / n,
            so that summed updates of very frequent words cannot diverge."""
            unique, position, counts = tf.unique_with_counts(indices)
            scale = tf.minimum(1.0, cap / tf.cast(tf.gather(counts, position), tf.float32))
            table.scatter_add(tf.IndexedSlices(updates * scale[:, None], indices))

        def overlap_add(frames):
            """[B, 2W+1, D] per-window rows -> [B + 2W, D] per-position sums."""
            return tf.add_n([tf.pad(frames[:, j, :], [[j, span - 1 - j], [0, 0]]) for j in range(span)])

        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([None, span], tf.bool),
                tf.TensorSpec([], tf.float32),
                tf.TensorSpec([2], tf.int64),
            ],
            reduce_retracing=True,
        )
        def step(tokens, window_mask, lr, seed):
            batch = tf.shape(window_mask)[0]
            groups = (batch + group - 1) // group
            extra = groups * group - batch  # pad the batch to whole groups
            centres = tokens[w : w + batch]
            mask = tf.pad(tf.cast(window_mask, tf.float32), [[0, extra], [0, 0]])  # [G*g, 2W+1]
            vectors = tf.gather(syn0, tokens)  # [B + 2W, D]
            dim = tf.shape(vectors)[1]
            contexts = tf.signal.frame(vectors, span, 1, axis=0)  # [B, 2W+1, D]
            contexts = tf.pad(contexts, [[0, extra], [0, 0], [0, 0]])
            positives = tf.pad(tf.gather(syn1, centres), [[0, extra], [0, 0]])  # [G*g, D]
            negatives = tf.reshape(draw_negatives(cumulative, groups * k, seed), [groups, k])
            u_neg = tf.gather(syn1, negatives)  # [G, k, D]
            padded_centres = tf.pad(centres, [[0, extra]], constant_values=-1)
            # A negative equal to the centre word is skipped, as in word2vec.c.
            neg_weight = tf.cast(
                tf.reshape(padded_centres, [groups, group, 1]) != negatives[:, None, :], tf.float32
            )  # [G, g, k]
            if sg:
                pos_scores = tf.reduce_sum(contexts * positives[:, None, :], axis=-1)  # [G*g, 2W+1]
                grouped = tf.reshape(contexts, [groups, group * span, dim])
                neg_scores = tf.reshape(
                    tf.matmul(grouped, u_neg, transpose_b=True), [groups, group, span, k]
                )
                neg_mask = tf.reshape(mask, [groups, group, span, 1]) * neg_weight[:, :, None, :]
                g_pos = (1.0 - tf.sigmoid(pos_scores)) * mask * lr  # [G*g, 2W+1]
                g_neg = -tf.sigmoid(neg_scores) * neg_mask * lr  # [G, g, 2W+1, k]
                flat_g_neg = tf.reshape(g_neg, [groups, group * span, k])
                d_contexts = g_pos[:, :, None] * positives[:, None, :] + tf.reshape(
                    tf.matmul(flat_g_neg, u_neg), [groups * group, span, dim]
                )
                d_positives = tf.reduce_sum(g_pos[:, :, None] * contexts, axis=1)  # [G*g, D]
                d_negatives = tf.matmul(flat_g_neg, grouped, transpose_a=True)  # [G, k, D]
                loss = -tf.reduce_sum(tf.math.log_sigmoid(pos_scores) * mask) - tf.reduce_sum(
                    tf.math.log_sigmoid(-neg_scores) * neg_mask
                )
                pairs = tf.reduce_sum(mask)
            else:
                count = tf.reduce_sum(mask, axis=1, keepdims=True)
                hidden = tf.reduce_sum(contexts * mask[:, :, None], axis=1) / tf.maximum(count, 1.0)
                present = tf.cast(count[:, 0] > 0, tf.float32)  # [G*g]
                pos_scores = tf.reduce_sum(hidden * positives, axis=-1)
                grouped = tf.reshape(hidden, [groups, group, dim])
                neg_scores = tf.matmul(grouped, u_neg, transpose_b=True)  # [G, g, k]
                neg_mask = tf.reshape(present, [groups, group, 1]) * neg_weight
                g_pos = (1.0 - tf.sigmoid(pos_scores)) * present * lr
                g_neg = -tf.sigmoid(neg_scores) * neg_mask * lr
                d_hidden = g_pos[:, None] * positives + tf.reshape(tf.matmul(g_neg, u_neg), [-1, dim])
                # gensim's cbow_mean: every context word receives the whole error.
                d_contexts = d_hidden[:, None, :] * mask[:, :, None]
                d_positives = g_pos[:, None] * hidden
                d_negatives = tf.matmul(g_neg, grouped, transpose_a=True)  # [G, k, D]
                loss = -tf.reduce_sum(tf.math.log_sigmoid(pos_scores) * present) - tf.reduce_sum(
                    tf.math.log_sigmoid(-neg_scores) * neg_mask
                )
                pairs = tf.reduce_sum(present)
            capped_scatter_add(syn0, overlap_add(d_contexts[:batch]), tokens)
            capped_scatter_add(
                syn1,
                tf.concat([d_positives[:batch], tf.reshape(d_negatives, [-1, dim])], 0),
                tf.concat([centres, tf.reshape(negatives, [-1])], 0),
            )
            return loss, pairs

        return step

    def fit(self, sentences) -> WordVectors:
        """Builds the vocabulary and trains; returns the input vectors as a
        `WordVectors` (most frequent word first). Sets `words_per_second`
        (raw corpus words per second of training, as gensim reports) and
        `losses` (mean loss per pair per epoch)."""
        import tensorflow as tf

        sentences = as_sentences(sentences)
        self.build_vocabulary(sentences)
        ids, sentence_ids = self.encode(sentences)
        raw_words = sum(len(s) for s in sentences)
        rng = np.random.default_rng(self.seed)
        vocab, dim = len(self.words), self.vector_size
        initial = ((rng.random((vocab, dim)) - 0.5) / dim).astype("float32")
        self.syn0 = tf.Variable(initial, name="syn0")
        self.syn1 = tf.Variable(tf.zeros([vocab, dim]), name="syn1neg")
        cumulative = tf.constant(negative_table(self.counts))
        step = self._step_function(self.syn0, self.syn1, cumulative)
        epochs = self.epochs
        tf_seed = int(rng.integers(2**31))

        def batches():
            for epoch in range(epochs):
                before = 0.0
                for tokens, mask, after in self.epoch_batches(ids, sentence_ids, rng):
                    yield tokens, mask, np.array([epoch, before, after], "float64")
                    before = after

        signature = (
            tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([None, 2 * self.window + 1], tf.bool),
            tf.TensorSpec([3], tf.float64),
        )
        dataset = tf.data.Dataset.from_generator(batches, output_signature=signature).prefetch(4)
        progress = None
        if self.verbose:
            from tqdm.auto import tqdm

            progress = tqdm(total=raw_words * epochs, unit="word", unit_scale=True, desc="word2vec", smoothing=0.1)
        self.losses = []
        epoch_loss = epoch_pairs = 0.0
        current_epoch, counter = 0, 0
        started = time.perf_counter()
        for tokens, mask, where in dataset:
            epoch, before, after = where.numpy()
            if int(epoch) != current_epoch:
                self.losses.append(epoch_loss / max(epoch_pairs, 1.0))
                epoch_loss = epoch_pairs = 0.0
                current_epoch = int(epoch)
            fraction = (epoch + before) / epochs
            lr = self.alpha - (self.alpha - self.min_alpha) * fraction
            loss, pairs = step(tokens, mask, tf.constant(lr, tf.float32), tf.constant([tf_seed, counter], tf.int64))
            counter += 1
            epoch_loss += float(loss)
            epoch_pairs += float(pairs)
            if progress is not None:
                progress.update(raw_words * (after - before))
        self.losses.append(epoch_loss / max(epoch_pairs, 1.0))
        seconds = time.perf_counter() - started
        if progress is not None:
            progress.close()
        self.train_seconds = seconds
        self.words_per_second = raw_words * epochs / max(seconds, 1e-9)
        return WordVectors(self.words, self.syn0.numpy())
