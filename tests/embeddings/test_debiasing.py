"""Debiasing (Bolukbasi et al. 2016): direction, neutralize, equalize, debias."""

import numpy as np
import pytest

from keras_seq.embeddings import (
    WordVectors,
    bias_direction,
    debias,
    equalize,
    neutralize,
)


@pytest.fixture
def gendered(rng):
    """Vectors with a planted gender axis g: word = base + s * g."""
    g = rng.normal(size=20)
    g /= np.linalg.norm(g)
    words, vectors = [], []
    for name, sign in [("he", 1), ("she", -1), ("man", 1), ("woman", -1), ("king", 1), ("queen", -1)]:
        words.append(name)
        vectors.append(rng.normal(size=20) * 0.1 + sign * 1.5 * g)
    for name in ["doctor", "nurse", "engineer", "babysitter", "table"]:
        words.append(name)
        vectors.append(rng.normal(size=20) * 0.3 + rng.uniform(-1, 1) * g)
    return WordVectors(words, np.array(vectors)), g


def test_mean_direction_is_the_mean_difference(gendered):
    wv, g = gendered
    pairs = [("he", "she"), ("man", "woman")]
    expected = ((wv["he"] - wv["she"]) + (wv["man"] - wv["woman"])) / 2
    np.testing.assert_allclose(bias_direction(wv, pairs), expected / np.linalg.norm(expected), rtol=1e-6)
    assert bias_direction(wv, pairs) @ g > 0.9


def test_pca_direction_is_the_top_principal_component(gendered):
    wv, g = gendered
    pairs = [("he", "she"), ("man", "woman"), ("king", "queen")]
    rows = []
    for a, b in pairs:
        mu = (wv[a] + wv[b]) / 2
        rows += [wv[a] - mu, wv[b] - mu]
    rows = np.array(rows, "float64")
    eigenvalues, eigenvectors = np.linalg.eigh(rows.T @ rows)  # brute-force PCA of the centred pairs
    top = eigenvectors[:, -1]
    direction = bias_direction(wv, pairs, method="pca")
    assert abs(direction @ top) == pytest.approx(1.0, abs=1e-8)
    assert direction @ (wv["he"] - wv["she"]) > 0  # signed like the differences
    assert direction @ g > 0.95


def test_neutralize_leaves_zero_projection(gendered, rng):
    wv, g = gendered
    for direction in (g, 3.0 * g, bias_direction(wv, [("he", "she")])):
        fixed = neutralize(wv.vectors, direction)
        np.testing.assert_allclose(fixed @ direction, 0.0, atol=1e-10)
        # Only the component along the axis changes.
        removed = wv.vectors - fixed
        np.testing.assert_allclose(np.abs(cosine_rows(removed, direction)), 1.0, atol=1e-8)
    single = neutralize(wv["doctor"], g)
    assert single.shape == (20,) and abs(single @ g) < 1e-12


def cosine_rows(rows, direction):
    return rows @ direction / np.linalg.norm(rows, axis=1) / np.linalg.norm(direction)


@pytest.mark.parametrize("method", ["paper", "course"])
def test_equalize_makes_the_pair_equidistant(gendered, method):
    wv, g = gendered
    a, b = (wv[w].astype("float64") for w in ("man", "woman"))
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    new_a, new_b = equalize(a, b, g, method=method)
    # Same component orthogonal to g (the pair's mean nu) ...
    orth_a, orth_b = neutralize(new_a, g), neutralize(new_b, g)
    np.testing.assert_allclose(orth_a, orth_b, atol=1e-10)
    np.testing.assert_allclose(orth_a, neutralize((a + b) / 2, g), atol=1e-10)
    # ... and bias components of equal length and opposite sign: equidistant.
    assert new_a @ g == pytest.approx(-(new_b @ g), abs=1e-10)
    assert new_a @ g > 0
    for word in ["doctor", "nurse"]:
        neutral = neutralize(wv[word], g)
        assert np.linalg.norm(new_a - neutral) == pytest.approx(np.linalg.norm(new_b - neutral), rel=1e-10)
    if method == "paper":
        assert np.linalg.norm(new_a) == pytest.approx(1.0) and np.linalg.norm(new_b) == pytest.approx(1.0)


def test_equalize_course_formula_by_hand():
    # Pair differing off the axis: the course divides by |e - mu|, the paper by |e_B - mu_B|.
    g = np.array([1.0, 0.0, 0.0])
    a, b = np.array([0.6, 0.8, 0.0]), np.array([-0.8, 0.0, 0.6])
    mu = (a + b) / 2
    nu = np.array([0.0, 0.4, 0.3])
    offset_a = np.array([0.7, 0.0, 0.0])
    course_a, _ = equalize(a, b, g, method="course")
    np.testing.assert_allclose(course_a, nu + np.sqrt(1 - 0.25) * offset_a / np.linalg.norm(a - mu))
    paper_a, _ = equalize(a, b, g, method="paper")
    np.testing.assert_allclose(paper_a, nu + np.sqrt(0.75) * np.array([1.0, 0, 0]))


def test_debias_whole_vocabulary(gendered):
    wv, g = gendered
    fair, direction = debias(
        wv,
        definitional_pairs=[("he", "she"), ("man", "woman")],
        equalize_pairs=[("king", "queen"), ("absent", "pair")],
        method="pca",
    )
    assert fair.words == wv.words
    for word in ["doctor", "nurse", "engineer", "babysitter", "table"]:
        assert abs(fair[word] @ direction) < 1e-6
        assert np.linalg.norm(fair[word]) == pytest.approx(1.0, abs=1e-6)
    assert fair["king"] @ direction == pytest.approx(-(fair["queen"] @ direction), abs=1e-6)
    assert abs(fair["king"] @ direction) > 0.3
    # Definitional words are kept (only normalised).
    np.testing.assert_allclose(fair["he"], wv["he"] / np.linalg.norm(wv["he"]), rtol=1e-6)
    before = np.abs(wv.unit_vectors[[wv.index["doctor"], wv.index["nurse"]]] @ direction).max()
    assert before > 0.05


def test_bad_arguments(gendered):
    wv, g = gendered
    with pytest.raises(ValueError, match="`method` must be one of"):
        bias_direction(wv, [("he", "she")], method="svd")
    with pytest.raises(ValueError, match="`pairs` must be a non-empty list"):
        bias_direction(wv, [])
    with pytest.raises(ValueError, match="`direction` must be a non-zero vector of shape \\(20,\\)"):
        neutralize(wv.vectors, np.zeros(20))
    with pytest.raises(ValueError, match="`method` must be one of"):
        equalize(wv["he"], wv["she"], g, method="bolukbasi")
    with pytest.raises(ValueError, match="same bias component"):
        equalize(wv["he"], wv["he"], g)
    with pytest.raises(ValueError, match="zero bias direction"):
        bias_direction(wv, [("he", "he")])
