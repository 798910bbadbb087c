"""Tercom's greedy shift search for TER, with SacreBLEU's rules and limits.

`edit_count(hypothesis, reference)` is the number of edits TER charges: shifts
plus the banded edit distance of the shifted hypothesis. Every rule that decides
which shift is taken is SacreBLEU's (`sacrebleu.metrics.lib_ter`), since any
difference changes scores:

- edit distances are computed only in a band of `_BEAM_WIDTH` cells either side
  of the (length-ratio) diagonal; the last row is complete;
- ties in the edit-distance trace prefer a match/substitution, then consuming a
  hypothesis word, then a reference word; that trace aligns the two sides;
- a candidate block is a run of up to `_MAX_SHIFT_SIZE` hypothesis words equal
  to a run of reference words starting at most `_MAX_SHIFT_DISTANCE` away, with
  an error on both sides and its reference start not aligned inside it; its
  destinations are just after the hypothesis words aligned to the reference
  positions before and inside the run;
- the best shift gains the most, then moves the longest block, then the
  earliest block, then to the earliest destination; search stops when no shift
  gains or once `_MAX_CANDIDATES` candidates have been tried in the segment
  (the step that reaches the limit is discarded, as in SacreBLEU).

The edit distances of all candidates of one step are computed together, one
NumPy row operation per hypothesis word.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

_MAX_SHIFT_SIZE = 10
_MAX_SHIFT_DISTANCE = 50
_BEAM_WIDTH = 25
_MAX_CANDIDATES = 1000
_INFINITY = 10**16  # an unreachable cell, outside the band


def _band(num_hypothesis: int, num_reference: int) -> list[tuple[int, int]]:
    """The computed columns `[low, high)` of DP rows 1..num_hypothesis."""
    ratio = num_reference / num_hypothesis
    width = _BEAM_WIDTH
    if _BEAM_WIDTH < ratio / 2:
        width = math.ceil(ratio / 2 + _BEAM_WIDTH)
    windows = []
    for row in range(1, num_hypothesis + 1):
        diagonal = math.floor(row * ratio)
        high = min(num_reference + 1, diagonal + width)
        if row == num_hypothesis:
            high = num_reference + 1
        windows.append((max(0, diagonal - width), high))
    return windows


def _distances(hypotheses: np.ndarray, reference: np.ndarray, band, keep=False):
    """Banded edit distances of `[C, H]` hypotheses to one reference.

    Returns the `[C]` distances, or with `keep=True` the `[H + 1, R + 1]` matrix
    of the first hypothesis (cells outside the band hold `_INFINITY`).
    """
    count = hypotheses.shape[0]
    columns = np.arange(len(reference) + 1)
    previous = np.tile(columns, (count, 1))
    rows = [previous[0]]
    for index, (low, high) in enumerate(band):
        candidates = np.empty((count, high - low), dtype=np.int64)
        first = max(low, 1)
        if low == 0:
            candidates[:, 0] = previous[:, 0] + 1
        if high > first:
            mismatch = (
                hypotheses[:, index : index + 1] != reference[first - 1 : high - 1]
            )
            diagonal = previous[:, first - 1 : high - 1] + mismatch
            candidates[:, first - low :] = np.minimum(
                diagonal, previous[:, first:high] + 1
            )
        # Insertions chain along the row: cell j = min_k (candidate k + j - k).
        offsets = columns[low:high]
        chained = np.minimum.accumulate(candidates - offsets, axis=1) + offsets
        current = np.full((count, len(reference) + 1), _INFINITY, dtype=np.int64)
        current[:, low:high] = np.minimum(chained, _INFINITY)
        previous = current
        if keep:
            rows.append(current[0])
    return np.stack(rows) if keep else previous[:, -1]


def _alignment(hypothesis, reference, matrix):
    """Walk the trace back with Tercom's tie-breaking.

    Returns `(aligned, hypothesis_errors, reference_errors)`: `aligned[r]` is
    the hypothesis position matched or substituted to reference word r, or the
    last hypothesis position before it (-1 at the start) if r is unmatched;
    the error lists are prefix sums of per-word error flags.
    """
    matrix = matrix.tolist()
    row, column = len(hypothesis), len(reference)
    steps = []  # "diag", "hyp" (hypothesis word unmatched) or "ref"
    while row > 0 or column > 0:
        if row == 0:
            step = "ref"
        elif column == 0:
            step = "hyp"
        else:
            value = matrix[row][column]
            mismatch = hypothesis[row - 1] != reference[column - 1]
            if matrix[row - 1][column - 1] + mismatch == value:
                step = "diag"
            elif matrix[row - 1][column] + 1 == value:
                step = "hyp"
            else:
                step = "ref"
        steps.append(step)
        row -= step != "ref"
        column -= step != "hyp"
    aligned = [0] * len(reference)
    hypothesis_errors, reference_errors = [0], [0]
    row = column = 0
    for step in reversed(steps):
        if step == "diag":
            error = int(hypothesis[row] != reference[column])
            aligned[column] = row
            hypothesis_errors.append(hypothesis_errors[-1] + error)
            reference_errors.append(reference_errors[-1] + error)
            row, column = row + 1, column + 1
        elif step == "hyp":
            hypothesis_errors.append(hypothesis_errors[-1] + 1)
            row += 1
        else:
            aligned[column] = row - 1
            reference_errors.append(reference_errors[-1] + 1)
            column += 1
    return aligned, hypothesis_errors, reference_errors


def _shift_candidates(hypothesis, reference, alignment, checked):
    """Candidate shifts `(start, length, destination)` in SacreBLEU's order.

    Returns `(candidates, checked, exhausted)`; `exhausted` says the
    per-segment candidate limit was reached during this step.
    """
    aligned, hypothesis_errors, reference_errors = alignment
    positions = defaultdict(list)
    for index, word in enumerate(reference):
        positions[word].append(index)
    candidates = []
    for start in range(len(hypothesis)):
        for reference_start in positions.get(hypothesis[start], ()):
            if abs(reference_start - start) > _MAX_SHIFT_DISTANCE:
                continue
            run = 0
            while (
                run < _MAX_SHIFT_SIZE
                and start + run < len(hypothesis)
                and reference_start + run < len(reference)
                and hypothesis[start + run] == reference[reference_start + run]
            ):
                run += 1
            for length in range(1, run + 1):
                if hypothesis_errors[start + length] == hypothesis_errors[start]:
                    continue  # the block is already right
                end = reference_start + length
                if reference_errors[end] == reference_errors[reference_start]:
                    continue  # its reference words are already matched
                if start <= aligned[reference_start] < start + length:
                    continue  # it would move within itself
                previous = -1
                for position in range(reference_start - 1, end):
                    destination = 0 if position < 0 else aligned[position] + 1
                    if destination != previous:
                        candidates.append((start, length, destination))
                        checked += 1
                        previous = destination
                if checked >= _MAX_CANDIDATES:
                    return candidates, checked, True
    return candidates, checked, False


def _shifted(words, start, length, destination):
    """Move `words[start:start + length]` before index `destination`.

    A destination inside or just after the block counts in the remaining
    words, as in SacreBLEU (so `destination == start` is no move).
    """
    block = words[start : start + length]
    rest = words[:start] + words[start + length :]
    if destination > start + length:
        destination -= length
    return rest[:destination] + block + rest[destination:]


def edit_count(hypothesis: list[str], reference: list[str]) -> int:
    """TER's edits (shifts + banded edit distance) from hypothesis to reference."""
    if not reference:
        return len(hypothesis)
    if not hypothesis:
        return len(reference)
    ids: dict[str, int] = {}
    reference_ids = np.array([ids.setdefault(w, len(ids)) for w in reference])
    current = [ids.setdefault(w, len(ids)) for w in hypothesis]
    band = _band(len(current), len(reference_ids))
    reference_list = reference_ids.tolist()
    shifts = checked = 0
    while True:
        matrix = _distances(np.array([current]), reference_ids, band, keep=True)
        distance = int(matrix[-1, -1])
        alignment = _alignment(current, reference_list, matrix)
        candidates, checked, exhausted = _shift_candidates(
            current, reference_list, alignment, checked
        )
        if exhausted or not candidates:
            return shifts + distance
        unique = list(dict.fromkeys(candidates))
        moved = np.array([_shifted(current, *candidate) for candidate in unique])
        gains = distance - _distances(moved, reference_ids, band)
        best = max(
            range(len(unique)),
            key=lambda k: (gains[k], unique[k][1], -unique[k][0], -unique[k][2]),
        )
        if gains[best] <= 0:
            return shifts + distance
        shifts += 1
        current = moved[best].tolist()
