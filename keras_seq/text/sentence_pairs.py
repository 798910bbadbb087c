"""Next-sentence-prediction pairs, as in BERT pre-training."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# Rejection-sampling attempts for a negative before enumerating the candidates.
_MAX_DRAWS = 16


def nsp_pairs(
    documents: Sequence[Sequence[Any]], seed: int | None = None
) -> list[tuple[Any, Any, int]]:
    """Builds next-sentence-prediction examples from documents.

    Every pair of consecutive sentences ``(s_i, s_{i+1})`` of a document gives
    one example ``(sentence_a, sentence_b, is_next)`` with ``sentence_a =
    s_i``. Exactly half of them keep the true next sentence (``is_next=1``);
    the others replace it with a random sentence from a *different* document
    (``is_next=0``). With an odd number ``n`` of pairs there are ``n // 2``
    negatives and ``n - n // 2`` positives. Which pairs become negatives is
    chosen uniformly at random; a negative's document is drawn uniformly from
    the other non-empty documents and its sentence uniformly within it. A
    negative is never equal to the true next sentence, even when another
    document happens to contain the same sentence.

    Sentences may be any objects (strings, lists of ids, arrays); they are
    returned as given. The examples follow document order; shuffle them
    before training.

    Args:
        documents: A list of documents, each a list of sentences. At least two
            documents; documents with fewer than two sentences give no pair
            but may provide negatives.
        seed: Seed for `numpy.random.default_rng`; the result is a
            deterministic function of `documents` and `seed`. Defaults to
            `None` (fresh entropy).

    Returns:
        A list of ``(sentence_a, sentence_b, is_next)`` tuples.

    Raises:
        ValueError: If there are fewer than two documents, no document has two
            sentences, or a negative cannot be drawn from another document.

    Example:

    >>> from keras_seq.text import nsp_pairs
    >>> documents = [["a1", "a2", "a3"], ["b1", "b2", "b3"]]
    >>> pairs = nsp_pairs(documents, seed=0)
    >>> len(pairs), sum(is_next for _, _, is_next in pairs)
    (4, 2)
    >>> all(b[0] != a[0] for a, b, is_next in pairs if not is_next)
    True
    """
    documents = _validate_documents(documents)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"`seed` must be None or an int; got {seed!r}.")
    rng = np.random.default_rng(seed)

    positions = [
        (doc, index)
        for doc, sentences in enumerate(documents)
        for index in range(len(sentences) - 1)
    ]
    if not positions:
        raise ValueError(
            "`documents` must contain at least one document with two or more "
            "sentences (no consecutive pair to build)."
        )
    num_negatives = len(positions) // 2
    negatives = set(rng.permutation(len(positions))[:num_negatives].tolist())
    donors = [doc for doc, sentences in enumerate(documents) if sentences]

    pairs = []
    for number, (doc, index) in enumerate(positions):
        sentence_a, true_next = documents[doc][index], documents[doc][index + 1]
        if number in negatives:
            sentence_b = _draw_negative(documents, donors, doc, true_next, rng)
            pairs.append((sentence_a, sentence_b, 0))
        else:
            pairs.append((sentence_a, true_next, 1))
    return pairs


def _validate_documents(documents) -> list[Sequence[Any]]:
    if isinstance(documents, str | bytes) or not isinstance(documents, Sequence):
        raise ValueError(
            "`documents` must be a list of documents (each a list of "
            f"sentences); got {type(documents).__name__}."
        )
    documents = list(documents)
    if len(documents) < 2:
        raise ValueError(
            "`documents` must hold at least 2 documents so negatives can come "
            f"from a different document; got {len(documents)}."
        )
    for number, document in enumerate(documents):
        if isinstance(document, str | bytes) or not isinstance(
            document, Sequence | np.ndarray
        ):
            raise ValueError(
                "`documents` must hold lists of sentences; document "
                f"{number} is {type(document).__name__}."
            )
    return documents


def _same(first: Any, second: Any) -> bool:
    if isinstance(first, np.ndarray) or isinstance(second, np.ndarray):
        return np.array_equal(first, second)
    return bool(first == second)


def _draw_negative(documents, donors, doc, true_next, rng):
    others = [other for other in donors if other != doc]
    if others:
        for _ in range(_MAX_DRAWS):
            other = documents[others[rng.integers(len(others))]]
            sentence = other[rng.integers(len(other))]
            if not _same(sentence, true_next):
                return sentence
    # Rare: most sentences elsewhere equal the true next one. Enumerate.
    eligible = [
        sentence
        for other in others
        for sentence in documents[other]
        if not _same(sentence, true_next)
    ]
    if not eligible:
        raise ValueError(
            f"`documents` has no sentence outside document {doc} that differs "
            f"from its true next sentence {true_next!r}, so no negative can be "
            "drawn for it."
        )
    return eligible[rng.integers(len(eligible))]
