"""word2vec: skip-gram and CBOW with negative sampling (seed sections
5.2-5.3): the `Word2Vec` model (vocabulary, batches, the training loop).

How a batch updates the tables lives in `word2vec_trainers` (the fused C++
CPU op and the batched TensorFlow trainer); the sampling maths (subsampling,
P(w) ∝ count^(3/4), Walker's alias table, dynamic windows) in `sampling`.
Their public names are re-exported here.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import queue
import threading
import time

import numpy as np

from keras_seq.embeddings.corpus import as_sentences
from keras_seq.embeddings.sampling import (  # noqa: F401  (re-exported)
    alias_table,
    draw_negatives,
    keep_probabilities,
    negative_distribution,
    negative_table,
    skipgram_pairs,
    window_mask,
)
from keras_seq.embeddings.word2vec_trainers import (  # noqa: F401  (re-exported)
    KERNEL_SOURCE,
    TRAINERS,
    BatchedUpdates,
    batched_step_function,
    fused_kernel,
    fused_step_function,
    resolve_trainer,
)
from keras_seq.embeddings.word_vectors import WordVectors

# Centre words per step when `batch_size` is None, per trainer.
DEFAULT_BATCH_SIZES = {"batched": 2048, "fused": 10_000}


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
            strategy); the learning rate is updated once per step. Defaults
            to `None`: 2,048 for the batched trainer, 10,000 for the fused
            one (gensim's job size; its steps are sequential SGD, so the
            batch only sets how often the learning rate is updated and how
            many calls Python makes).
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
        batch_size: int | None = None,
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
            ("batch_size", 1 if batch_size is None else batch_size),
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
        self.batch_size = None if batch_size is None else int(batch_size)
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
        counter = collections.Counter(itertools.chain.from_iterable(sentences))
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
        lengths = np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences))
        # One C-level pass (map over dict.get): out-of-vocabulary words become -1.
        ids = np.fromiter(
            map(index.get, itertools.chain.from_iterable(sentences), itertools.repeat(-1)),
            dtype=np.int32, count=int(lengths.sum()),
        )
        sentence_ids = np.repeat(np.arange(len(sentences), dtype=np.int32), lengths)
        keep = ids >= 0
        return ids[keep], sentence_ids[keep]

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
        batch = self.batch_size or DEFAULT_BATCH_SIZES.get(self.trainer_used, DEFAULT_BATCH_SIZES["batched"])
        for start in range(0, n, batch):
            stop = min(n, start + batch)
            yield padded[start : stop + 2 * w], mask[start:stop], stop / n

    # ------------------------------------------------------------- training
    def _updates_function(self):
        """The batched trainer's `BatchedUpdates` for this model's settings."""
        return BatchedUpdates(self.negative, self.sg, self.window, self.shared_negatives)

    def _step_function(self, syn0, syn1, cumulative, strategy=None):
        """The batched trainer's compiled step (see `batched_step_function`)."""
        return batched_step_function(self, syn0, syn1, cumulative, strategy)

    def _resolve_trainer(self):
        """'fused' or 'batched' for this fit (see `trainer`)."""
        return resolve_trainer(self)

    def _fused_step_function(self, syn0, syn1):
        """The fused trainer's step (see `fused_step_function`)."""
        return fused_step_function(self, syn0, syn1)

    def fit(self, sentences) -> WordVectors:
        """Builds the vocabulary and trains; returns the input vectors as a
        `WordVectors` (most frequent word first). Sets `words_per_second`
        (raw corpus words per second of training, word -> id lookup included,
        as gensim's `train` reports), `losses` (mean loss per pair per epoch)
        and `trainer_used`."""
        sentences = as_sentences(sentences)
        self.build_vocabulary(sentences)
        # The clock starts before the word -> id lookup, which gensim's `train` does inside
        # its own timing (its `build_vocab` corresponds to `build_vocabulary`).
        started = time.perf_counter()
        ids, sentence_ids = self.encode(sentences)
        raw_words = sum(len(s) for s in sentences)
        rng = np.random.default_rng(self.seed)
        step = self._create_tables(rng)
        tf_seed = int(rng.integers(2**31))
        losses, pairs = self._train(step, ids, sentence_ids, rng, tf_seed, raw_words)
        seconds = time.perf_counter() - started
        self.losses = [losses[e] / max(pairs[e], 1.0) for e in range(self.epochs)]
        self.train_seconds = seconds
        self.words_per_second = raw_words * self.epochs / max(seconds, 1e-9)
        return WordVectors(self.words, self.syn0.numpy())

    def _create_tables(self, rng):
        """Creates `syn0`/`syn1` on the trainer's device; returns its step."""
        import tensorflow as tf

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
            return self._fused_step_function(self.syn0, self.syn1)
        return self._step_function(self.syn0, self.syn1, tf.constant(negative_table(self.counts)), strategy)

    def _train(self, step, ids, sentence_ids, rng, tf_seed, raw_words):
        """Runs every epoch's steps: a thread builds the NumPy batches while
        `workers` threads (this one included) run the steps, Hogwild when
        there are several. Returns per-epoch loss and pair sums."""
        import tensorflow as tf

        epochs = self.epochs
        # Room for the next epoch's first batches while the producer builds that epoch (with
        # several workers a short queue ran dry at every epoch boundary).
        batches, stop, errors = queue.Queue(maxsize=64), threading.Event(), []

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
        return epoch_loss, epoch_pairs
