"""Speech-recognition error measures with their alignment, equal to jiwer's.

Each hypothesis is aligned to its reference by a minimum-edit (Levenshtein)
alignment; over the corpus we count hits H, substitutions S, deletions D and
insertions I (N = H + S + D reference tokens, M = H + S + I hypothesis tokens):

    WER = (S + D + I) / N                 word error rate
    MER = (S + D + I) / (H + S + D + I)   match error rate
    WIP = (H / N) * (H / M)               word information preserved
    WIL = 1 - WIP                         word information lost

(Morris et al., 2004). Edge cases follow jiwer: with no reference token at all,
WER is the number of insertions, MER is 1 (0 if the hypotheses are empty too)
and WIP is 0 (1 if both are empty); with no hypothesis token WIP is 0.

Several minimum-edit alignments often exist (`a b` -> `b c` is two
substitutions, or a deletion, a hit and an insertion), and H, S, D, I and so
MER/WIL/WIP depend on which one is taken. We take jiwer's, i.e. rapidfuzz's:
the common prefix and suffix are matched first, then the dynamic programme is
walked back from the end preferring a deletion, then an insertion, then a
match or substitution (the rule of Hyyrö's bit-parallel alignment). rapidfuzz
switches to Hirschberg's divide and conquer when the banded matrix would exceed
about 4 million cells (segments of a few thousand tokens), where its choice
among equal-cost alignments can differ; WER is the same either way.

References:
    Morris, Maier and Green, 2004, "From WER and RIL to MER and WIL: improved
    evaluation measures for connected speech recognition". Hyyrö, 2004, "A
    Note on Bit-Parallel Alignment Computation".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from keras_seq.metrics._streaming import check_same_segment_count
from keras_seq.metrics.edit_distance import _LEVELS, _text_list, _tokens

_CHUNK_TYPES = ("equal", "substitute", "delete", "insert")


@dataclasses.dataclass(frozen=True)
class AlignmentChunk:
    """A run of one edit type in an alignment (jiwer's `AlignmentChunk`).

    Attributes:
        type: str, `"equal"`, `"substitute"`, `"delete"` or `"insert"`.
        ref_start_idx: int, the run's first reference token.
        ref_end_idx: int, one past its last reference token.
        hyp_start_idx: int, the run's first hypothesis token.
        hyp_end_idx: int, one past its last hypothesis token.
    """

    type: str
    ref_start_idx: int
    ref_end_idx: int
    hyp_start_idx: int
    hyp_end_idx: int


@dataclasses.dataclass(frozen=True)
class ErrorMeasures:
    """Corpus error measures and alignments (jiwer's `WordOutput`).

    Attributes:
        references: list of token lists, the tokenized references.
        hypotheses: list of token lists, the tokenized hypotheses.
        alignments: list (one per segment) of lists of `AlignmentChunk`.
        wer: float, the error rate (CER for `level="char"`).
        mer: float, the match error rate.
        wil: float, the word (token) information lost.
        wip: float, the word (token) information preserved.
        hits: int, matched tokens.
        substitutions: int.
        deletions: int, reference tokens missing from the hypothesis.
        insertions: int, hypothesis tokens not in the reference.
    """

    references: list
    hypotheses: list
    alignments: list
    wer: float
    mer: float
    wil: float
    wip: float
    hits: int
    substitutions: int
    deletions: int
    insertions: int


def _affix_lengths(first: list, second: list) -> tuple[int, int]:
    prefix = 0
    while prefix < min(len(first), len(second)) and first[prefix] == second[prefix]:
        prefix += 1
    suffix = 0
    limit = min(len(first), len(second)) - prefix
    while suffix < limit and first[-1 - suffix] == second[-1 - suffix]:
        suffix += 1
    return prefix, suffix


def _vertical_steps(reference: np.ndarray, hypothesis: np.ndarray) -> np.ndarray:
    """`[len(ref) + 1, len(hyp) + 1]` int8 D[i][j] - D[i-1][j] (row 0 unused).

    D is the Levenshtein matrix of reference prefixes (rows) against hypothesis
    prefixes (columns), one vectorised row per reference token.
    """
    columns = np.arange(len(hypothesis) + 1)
    steps = np.zeros((len(reference) + 1, len(hypothesis) + 1), dtype=np.int8)
    previous = columns.copy()
    for row, token in enumerate(reference, start=1):
        best = np.minimum(previous[:-1] + (hypothesis != token), previous[1:] + 1)
        candidates = np.concatenate(([row], best))
        # Insertions chain along the row: cell j = min_k (candidate k + j - k).
        current = np.minimum.accumulate(candidates - columns) + columns
        steps[row] = current - previous
        previous = current
    return steps


def _edit_steps(reference: list, hypothesis: list) -> list[str]:
    """One of `_CHUNK_TYPES` per alignment step, from the start, as rapidfuzz."""
    prefix, suffix = _affix_lengths(reference, hypothesis)
    reference_core = reference[prefix : len(reference) - suffix]
    hypothesis_core = hypothesis[prefix : len(hypothesis) - suffix]
    ids: dict = {}
    reference_ids = np.array([ids.setdefault(t, len(ids)) for t in reference_core])
    hypothesis_ids = np.array([ids.setdefault(t, len(ids)) for t in hypothesis_core])
    vertical = _vertical_steps(reference_ids, hypothesis_ids).tolist()
    row, column = len(reference_core), len(hypothesis_core)
    backwards = []
    while row and column:
        if vertical[row][column] == 1:
            backwards.append("delete")
            row -= 1
            continue
        column -= 1
        if column and vertical[row][column] == -1:
            backwards.append("insert")
            continue
        row -= 1
        same = reference_ids[row] == hypothesis_ids[column]
        backwards.append("equal" if same else "substitute")
    backwards += ["delete"] * row + ["insert"] * column
    return ["equal"] * prefix + backwards[::-1] + ["equal"] * suffix


def _chunks(steps: list[str]) -> list[AlignmentChunk]:
    chunks = []
    reference_index = hypothesis_index = 0
    start = 0
    for index, step in enumerate(steps):
        if index + 1 < len(steps) and steps[index + 1] == step:
            continue
        length = index + 1 - start
        reference_length = 0 if step == "insert" else length
        hypothesis_length = 0 if step == "delete" else length
        chunks.append(
            AlignmentChunk(
                step,
                reference_index,
                reference_index + reference_length,
                hypothesis_index,
                hypothesis_index + hypothesis_length,
            )
        )
        reference_index += reference_length
        hypothesis_index += hypothesis_length
        start = index + 1
    return chunks


def _measures(counts: dict, reference_tokens: int, hypothesis_tokens: int) -> dict:
    hits = counts["equal"]
    errors = counts["substitute"] + counts["delete"] + counts["insert"]
    if reference_tokens == 0:
        both_empty = hypothesis_tokens == 0
        wer = float(counts["insert"])
        mer, wip = (0.0, 1.0) if both_empty else (1.0, 0.0)
    else:
        wer = errors / (hits + counts["substitute"] + counts["delete"])
        mer = errors / (hits + errors)
        wip = 0.0
        if hypothesis_tokens:
            wip = (hits / reference_tokens) * (hits / hypothesis_tokens)
    return {"wer": wer, "mer": mer, "wil": 1 - wip, "wip": wip}


def _segments(texts, argument: str) -> list[str]:
    texts = _text_list(texts, argument)
    return texts or [""]  # jiwer scores an empty list as one empty segment


def error_measures(
    hypotheses: str | Sequence[str],
    references: str | Sequence[str],
    level: str = "word",
) -> ErrorMeasures:
    """WER, MER, WIL, WIP, edit counts and alignments, equal to jiwer's.

    `level="word"` equals `jiwer.process_words(references, hypotheses)` with
    its default transforms (runs of two or more whitespace characters become
    one space, the ends are stripped, words are split on spaces);
    `level="char"` equals `jiwer.process_characters` (ends stripped, every
    other character a token), whose `cer` is our `wer`. Note the argument
    order: hypotheses first, as everywhere in `keras_seq.metrics`.

    Args:
        hypotheses: str or list of str, system outputs.
        references: str or list of str, one reference per hypothesis.
        level: str, `"word"` or `"char"`. Defaults to `"word"`.

    Returns:
        An `ErrorMeasures` with `.wer .mer .wil .wip`, the corpus counts
        `.hits .substitutions .deletions .insertions`, the per-segment
        `.alignments` (lists of `AlignmentChunk`) and the tokenized
        `.references` / `.hypotheses`.

    Raises:
        ValueError: for an unknown `level` or lists of different lengths.
        TypeError: if an item is not a string.

    Example:
    >>> from keras_seq.metrics import error_measures
    >>> result = error_measures("this was a messy test", "this is a test of skill")
    >>> result.wer, result.hits, result.substitutions, result.deletions, result.insertions
    (0.6666666666666666, 3, 1, 2, 1)
    >>> [chunk.type for chunk in result.alignments[0]]
    ['equal', 'substitute', 'equal', 'insert', 'equal', 'delete']
    >>> round(result.mer, 4), round(result.wil, 4), round(result.wip, 4)
    (0.5714, 0.7, 0.3)
    """
    if level not in _LEVELS:
        raise ValueError(f"`level` must be one of {_LEVELS}; received {level!r}.")
    hypothesis_texts = _segments(hypotheses, "hypotheses")
    reference_texts = _segments(references, "references")
    check_same_segment_count("hypotheses", hypothesis_texts, "references", reference_texts)
    tokenized_references = [_tokens(text, level) for text in reference_texts]
    tokenized_hypotheses = [_tokens(text, level) for text in hypothesis_texts]
    counts = dict.fromkeys(_CHUNK_TYPES, 0)
    alignments = []
    for reference, hypothesis in zip(
        tokenized_references, tokenized_hypotheses, strict=True
    ):
        steps = _edit_steps(reference, hypothesis)
        for step in steps:
            counts[step] += 1
        alignments.append(_chunks(steps))
    measures = _measures(
        counts,
        sum(map(len, tokenized_references)),
        sum(map(len, tokenized_hypotheses)),
    )
    return ErrorMeasures(
        references=tokenized_references,
        hypotheses=tokenized_hypotheses,
        alignments=alignments,
        hits=counts["equal"],
        substitutions=counts["substitute"],
        deletions=counts["delete"],
        insertions=counts["insert"],
        **measures,
    )
