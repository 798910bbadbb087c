"""Removing a social bias direction from word vectors (seed section 7;
Bolukbasi et al. 2016, "Man is to Computer Programmer as Woman is to
Homemaker? Debiasing Word Embeddings")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from keras_seq.embeddings.word_vectors import WordVectors, _unit_rows

_DIRECTION_METHODS = ("mean", "pca")
_EQUALIZE_METHODS = ("paper", "course")


def _pair_vectors(word_vectors, pairs, argument="pairs"):
    pairs = [tuple(p) for p in pairs]
    if not pairs or any(len(p) != 2 for p in pairs):
        raise ValueError(f"`{argument}` must be a non-empty list of (word_a, word_b) pairs; got {pairs!r}.")
    if isinstance(word_vectors, WordVectors):
        a = np.stack([word_vectors[x] for x, _ in pairs]).astype("float64")
        b = np.stack([word_vectors[y] for _, y in pairs]).astype("float64")
    else:
        a = np.asarray([x for x, _ in pairs], "float64")
        b = np.asarray([y for _, y in pairs], "float64")
    return a, b


def bias_direction(word_vectors, pairs, method: str = "mean", normalize: bool = False) -> np.ndarray:
    """The unit vector of a bias axis from definitional pairs (seed 7.1).

    - ``method="mean"``: the average of the differences e_a - e_b (the
      course's g = mean(e_he - e_she, e_male - e_female, ...)).
    - ``method="pca"``: Bolukbasi et al.'s first principal component of the
      pair-centred vectors {e_a - mu, e_b - mu} with mu = (e_a + e_b) / 2,
      signed to point like the mean difference.

    Args:
        word_vectors: a `WordVectors`, with `pairs` of words; or `pairs` of
            raw vectors (then `word_vectors` is ignored and may be None).
        pairs: list of (a, b) pairs, e.g. ``[("he", "she"), ("man", "woman")]``.
        method: ``"mean"`` or ``"pca"``.
        normalize: unit-normalise the vectors first (as the paper does).

    Returns:
        float64 array [D] of unit length.

    Example:

    >>> from keras_seq.embeddings import bias_direction
    >>> bias_direction(None, [([1.0, 1.0], [-1.0, 1.0]), ([3.0, 0.0], [1.0, 0.0])]).tolist()
    [1.0, 0.0]
    """
    if method not in _DIRECTION_METHODS:
        raise ValueError(f"`method` must be one of {list(_DIRECTION_METHODS)}; got {method!r}.")
    a, b = _pair_vectors(word_vectors, pairs)
    if normalize:
        a, b = _unit_rows(a), _unit_rows(b)
    mean = (a - b).mean(axis=0)
    if method == "mean":
        direction = mean
    else:
        centre = (a + b) / 2
        stacked = np.concatenate([a - centre, b - centre])
        direction = np.linalg.svd(stacked, full_matrices=False)[2][0]
        if direction @ mean < 0:
            direction = -direction
    norm = np.linalg.norm(direction)
    if norm == 0:
        raise ValueError("`pairs` give a zero bias direction (every pair holds two equal vectors).")
    return direction / norm


def _checked_direction(direction, dim):
    direction = np.asarray(direction, "float64")
    if direction.shape != (dim,) or not np.any(direction):
        raise ValueError(f"`direction` must be a non-zero vector of shape ({dim},); got {direction!r}.")
    return direction


def neutralize(vectors, direction) -> np.ndarray:
    """Removes the component along `direction` (seed 7.2):
    e - (e.g / |g|^2) g, for one vector [D] or rows [N, D].

    Example:

    >>> from keras_seq.embeddings import neutralize
    >>> neutralize([[2.0, 5.0], [1.0, -1.0]], [3.0, 0.0]).tolist()
    [[0.0, 5.0], [0.0, -1.0]]
    """
    vectors = np.asarray(vectors, "float64")
    g = _checked_direction(direction, vectors.shape[-1])
    return vectors - np.multiply.outer(vectors @ g / (g @ g), g)


def equalize(vector_a, vector_b, direction, method: str = "paper"):
    """Makes a definitional pair equidistant from the subspace orthogonal to
    `direction` (seed 7.3): both get the pair's mean orthogonal component nu
    and opposite bias components of equal length.

    - ``method="paper"`` (Bolukbasi et al.): e = nu + sqrt(1 - |nu|^2)
      (e_B - mu_B) / |e_B - mu_B|, for unit vectors (the results are unit
      vectors).
    - ``method="course"``: the deeplearning.ai assignment's variant, which
      divides by |e - nu - mu_B| = |e - mu| instead of |e_B - mu_B| (the same
      when the pair differs only along the bias axis).

    Here mu = (e_a + e_b) / 2, x_B is the projection of x on the bias axis
    and nu = mu - mu_B.

    Returns:
        ``(new_a, new_b)`` float64 arrays [D].

    Example:

    >>> from keras_seq.embeddings import equalize
    >>> a, b = equalize([0.6, 0.8, 0.0], [-0.8, 0.0, 0.6], [1.0, 0.0, 0.0])
    >>> a.round(4).tolist(), b.round(4).tolist()
    ([0.866, 0.4, 0.3], [-0.866, 0.4, 0.3])
    """
    if method not in _EQUALIZE_METHODS:
        raise ValueError(f"`method` must be one of {list(_EQUALIZE_METHODS)}; got {method!r}.")
    a = np.asarray(vector_a, "float64")
    b = np.asarray(vector_b, "float64")
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"`vector_a` and `vector_b` must be vectors of one shape; got {a.shape} and {b.shape}.")
    g = _checked_direction(direction, a.shape[0])

    def project(x):
        return (x @ g) / (g @ g) * g

    mu = (a + b) / 2
    mu_b = project(mu)
    nu = mu - mu_b
    scale = np.sqrt(abs(1.0 - nu @ nu))
    results = []
    for e in (a, b):
        offset = project(e) - mu_b
        denominator = np.linalg.norm(offset) if method == "paper" else np.linalg.norm(e - nu - mu_b)
        if denominator == 0:
            raise ValueError("`vector_a` and `vector_b` have the same bias component; there is nothing to equalize.")
        results.append(nu + scale * offset / denominator)
    return results[0], results[1]


def debias(
    word_vectors: WordVectors,
    definitional_pairs: Sequence[tuple[str, str]],
    equalize_pairs: Iterable[tuple[str, str]] = (),
    specific_words: Iterable[str] = (),
    method: str = "pca",
    equalize_method: str = "paper",
    normalize: bool = True,
):
    """Hard debiasing of a whole vocabulary (Bolukbasi et al. 2016).

    1. The bias direction from `definitional_pairs` (`bias_direction`).
    2. Every word except the definitional, equalize and `specific_words`
       (intrinsically gendered words such as "mother") is neutralized.
    3. Every equalize pair present in the vocabulary is equalized.

    With `normalize=True` (the paper's setting) vectors are scaled to unit
    length first and neutralized ones re-normalized.

    Returns:
        ``(debiased WordVectors, direction)``.

    Example:

    >>> from keras_seq.embeddings import WordVectors, debias
    >>> wv = WordVectors(["he", "she", "doctor"], [[1, 1, 0], [-1, 1, 0], [0.5, 0, 1]])
    >>> fair, g = debias(wv, [("he", "she")], [("he", "she")], method="mean")
    >>> round(float(fair["doctor"] @ g), 6)
    0.0
    """
    direction = bias_direction(word_vectors, definitional_pairs, method=method, normalize=normalize)
    equalize_pairs = [tuple(p) for p in equalize_pairs]
    vectors = word_vectors.vectors.astype("float64")
    if normalize:
        vectors = _unit_rows(vectors)
    keep = {w for pair in definitional_pairs for w in pair} | set(specific_words)
    keep |= {w for pair in equalize_pairs for w in pair}
    neutral = np.array([w not in keep for w in word_vectors.words])
    vectors[neutral] = neutralize(vectors[neutral], direction)
    if normalize:
        vectors[neutral] = _unit_rows(vectors[neutral])
    for a, b in equalize_pairs:
        if a in word_vectors and b in word_vectors:
            i, j = word_vectors.index[a], word_vectors.index[b]
            vectors[i], vectors[j] = equalize(vectors[i], vectors[j], direction, method=equalize_method)
    return WordVectors(word_vectors.words, vectors), direction
