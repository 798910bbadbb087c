"""The sampling maths of word2vec: frequent-word subsampling, the
negative-sampling distribution P(w) ∝ count(w)^(3/4) (as a cumulative table
and as Walker's alias table) and dynamic windows (seed sections 5.2-5.3).

`keras_seq.embeddings.word2vec` re-exports every name here.
"""

from __future__ import annotations

import numpy as np


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
