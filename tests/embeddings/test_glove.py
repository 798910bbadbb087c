"""GloVe: co-occurrence counts vs brute force, weighting, training."""

import collections

import numpy as np
import pytest

from keras_seq.embeddings import GloVe
from keras_seq.embeddings.glove import cooccurrence, weighting


def test_cooccurrence_equals_brute_force(rng):
    ids = rng.integers(0, 30, 500)
    sentence_ids = np.sort(rng.integers(0, 12, 500))
    expected = collections.defaultdict(float)
    for i in range(500):
        for j in range(i + 1, min(500, i + 5)):
            if sentence_ids[i] == sentence_ids[j]:
                expected[ids[i], ids[j]] += 1 / (j - i)
                expected[ids[j], ids[i]] += 1 / (j - i)
    for chunk_size in (1_000_000, 37):  # chunked merging gives the same counts
        matrix = cooccurrence(ids, sentence_ids, 4, 30, chunk_size=chunk_size)
        dense = np.zeros((30, 30))
        for (a, b), value in expected.items():
            dense[a, b] = value
        np.testing.assert_allclose(matrix.toarray(), dense, rtol=1e-12)
        assert matrix.nnz == len(expected)


def test_cooccurrence_scales_to_a_large_vocabulary(rng):
    ids = rng.integers(0, 100_000, 200_000)
    matrix = cooccurrence(ids, np.zeros(200_000, int), 5, 100_000)
    assert matrix.shape == (100_000, 100_000)
    assert matrix.sum() == pytest.approx(2 * sum(1 / d * (200_000 - d) for d in range(1, 6)))


def test_weighting_formula():
    x = np.array([0.5, 1.0, 10.0, 99.0, 100.0, 1e4])
    np.testing.assert_allclose(weighting(x, 100, 0.75), np.minimum(1, (x / 100) ** 0.75))


def test_loss_decreases_and_vectors_reflect_cooccurrence():
    rng = np.random.default_rng(0)
    hot, cold = ["fire", "sun", "steam", "oven"], ["ice", "snow", "frost", "winter"]
    corpus = [[str(rng.choice(hot if i % 2 else cold)) for _ in range(6)] + ["and", "the"] for i in range(400)]
    glove = GloVe(vector_size=16, window=3, min_count=1, epochs=30, seed=0, x_max=10, verbose=0, batch_size=64)
    vectors = glove.fit(corpus)
    assert glove.losses[-1] < 0.5 * glove.losses[0]
    assert all(a >= b - 1e-6 for a, b in zip(glove.losses[2:], glove.losses[3:])) or glove.losses[-1] < glove.losses[5]
    assert vectors.similarity("fire", "sun") > vectors.similarity("fire", "ice")
    np.testing.assert_allclose(vectors.vectors, glove.w + glove.w_context)


@pytest.mark.parametrize(
    "bad_call, match",
    [
        (lambda: GloVe(x_max=0), "`x_max` must be > 0"),
        (lambda: GloVe(epochs=0), "`epochs` must be a positive integer"),
        (lambda: cooccurrence(np.arange(3), np.zeros(3), 0, 3), "`window` must be a positive integer"),
    ],
)
def test_bad_arguments(bad_call, match):
    with pytest.raises(ValueError, match=match):
        bad_call()
