"""TER, the translation edit rate (Snover et al., 2006), equal to SacreBLEU's.

TER counts the edits that turn the hypothesis into a reference, where moving a
contiguous block of words ("shift") costs one edit like an insertion, deletion
or substitution, and divides by the reference length:

    TER = 100 * (shifts + edit distance after the shifts) / reference words.

Finding the best shifts is NP-hard, so Tercom (and SacreBLEU, which
re-implements it) searches greedily: while some shift lowers the edit distance,
apply the one that lowers it most (then the longest block, the earliest block,
the earliest destination). Only blocks of up to 10 words that also occur in the
reference, that are misaligned on both sides and that move at most 50 positions
are tried, at most 1,000 candidates per segment; the edit distance is computed
in a band of +-25 words around the diagonal. We reproduce every one of these
rules, so scores are SacreBLEU's exactly; the candidates of one greedy step are
scored together in one NumPy dynamic programme.

Texts are normalised by SacreBLEU's Tercom tokenizer (`sacrebleu.tokenizers`):
lowercased unless `case_sensitive`, optionally `normalized` (punctuation split
off, XML entities decoded), `no_punct`, and `asian_support` for CJK text. With
several references a segment takes the fewest edits over its references and the
mean reference length.

References:
    Snover et al., 2006, "A Study of Translation Edit Rate with Targeted Human
    Annotation". Post, 2018, "A Call for Clarity in Reporting BLEU Scores".
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

from keras_seq.metrics._references import (
    hypothesis_list,
    reference_sets,
    sentence_references,
)
from keras_seq.metrics._ter_search import edit_count


@dataclasses.dataclass(frozen=True)
class TerScore:
    """A TER score with its statistics (as SacreBLEU's `TERScore`).

    Attributes:
        score: float, 100 * edits / reference length (100 when the references
            are empty but the hypotheses are not, 0 when both are empty).
        num_edits: int, the total number of edits (shifts included).
        ref_length: float, the summed mean reference length.
    """

    score: float
    num_edits: int
    ref_length: float


@functools.cache
def _tokenizer(normalized, no_punct, asian_support, case_sensitive):
    from sacrebleu.tokenizers.tokenizer_ter import TercomTokenizer

    return TercomTokenizer(
        normalized=normalized,
        no_punct=no_punct,
        asian_support=asian_support,
        case_sensitive=case_sensitive,
    )


def _segment_statistics(
    hypothesis: str, references: list[str], tokenize
) -> tuple[int, float]:
    """`(fewest edits over the references, mean reference length)`."""
    hypothesis_words = tokenize(hypothesis.rstrip()).split()
    fewest_edits = None
    reference_words = 0
    for reference in references:
        words = tokenize(reference.rstrip()).split()
        edits = edit_count(hypothesis_words, words)
        reference_words += len(words)
        if fewest_edits is None or edits < fewest_edits:
            fewest_edits = edits
    return fewest_edits, reference_words / len(references)


def _result(edits, reference_length) -> TerScore:
    if reference_length > 0:
        rate = edits / reference_length
    else:
        rate = 1.0 if edits > 0 else 0.0
    return TerScore(100 * rate, int(edits), reference_length)


def corpus_ter(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str | None]] | Sequence[str],
    normalized: bool = False,
    no_punct: bool = False,
    asian_support: bool = False,
    case_sensitive: bool = False,
) -> TerScore:
    """Corpus TER, equal to SacreBLEU's `TER(...).corpus_score`.

    Edits and reference lengths are summed over segments before dividing.

    Args:
        hypotheses: list of str, one system output per segment.
        references: SacreBLEU reference streams, as for `corpus_bleu`.
        normalized: bool, apply Tercom's normalisation (punctuation and XML
            entities). Defaults to `False`.
        no_punct: bool, remove punctuation. Defaults to `False`.
        asian_support: bool, with `normalized` split CJK text into characters,
            with `no_punct` also remove CJK punctuation. Defaults to `False`.
        case_sensitive: bool, do not lowercase. Defaults to `False`.

    Returns:
        A `TerScore` with `.score` (lower is better), `.num_edits` and
        `.ref_length`.

    Raises:
        ValueError: for a reference stream whose length differs from
            `hypotheses`, or a segment without a reference.
        TypeError: if `hypotheses` or `references` do not hold strings.

    Example:
    >>> from keras_seq.metrics import corpus_ter
    >>> result = corpus_ter(["d e f g h a b c"], ["a b c d e f g h"])
    >>> result.score, result.num_edits  # one shift moves "a b c" to the front
    (12.5, 1)
    >>> corpus_ter(["the cat sat on the mat", "hello"],
    ...            [["a cat sat on the mat", "hello there"]]).score
    25.0
    """
    tokenize = _tokenizer(normalized, no_punct, asian_support, case_sensitive)
    hypotheses = hypothesis_list(hypotheses, "sentence_ter")
    references = reference_sets(references, len(hypotheses))
    edits, reference_length = 0, 0.0
    for hypothesis, segment_references in zip(hypotheses, references, strict=True):
        segment_edits, segment_length = _segment_statistics(
            hypothesis, segment_references, tokenize
        )
        edits += segment_edits
        reference_length += segment_length
    return _result(edits, reference_length)


def sentence_ter(
    hypothesis: str,
    references: Sequence[str] | str,
    normalized: bool = False,
    no_punct: bool = False,
    asian_support: bool = False,
    case_sensitive: bool = False,
) -> TerScore:
    """TER of one sentence, equal to SacreBLEU's `TER(...).sentence_score`.

    Args:
        hypothesis: str, the system output.
        references: a str or a list of str (fewest edits, mean length).
        normalized, no_punct, asian_support, case_sensitive: as in
            `corpus_ter`.

    Returns:
        A `TerScore`.

    Raises:
        ValueError: if there is no reference.
        TypeError: if `hypothesis` is not a string.

    Example:
    >>> from keras_seq.metrics import sentence_ter
    >>> sentence_ter("The cat sat", ["the cat sat down"]).score
    25.0
    >>> sentence_ter("The cat sat", "the cat sat down", case_sensitive=True).score
    50.0
    """
    tokenize = _tokenizer(normalized, no_punct, asian_support, case_sensitive)
    references = sentence_references(hypothesis, references)
    return _result(*_segment_statistics(hypothesis, references, tokenize))
