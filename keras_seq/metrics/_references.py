"""Hypothesis lists and SacreBLEU-style reference streams, checked once for
BLEU, chrF and TER alike."""

from __future__ import annotations

from keras_seq.metrics._streaming import text_rows


def hypothesis_list(hypotheses, sentence_function: str) -> list[str]:
    """A flat list of strings, or a `TypeError` naming `hypotheses`.

    `sentence_function` is the sentence-level twin to suggest when a single
    string is passed where a corpus is expected.
    """
    if isinstance(hypotheses, str | bytes):
        raise TypeError(
            "`hypotheses` must be a list of strings, not a single string "
            f"(use `{sentence_function}` for one sentence)."
        )
    texts = text_rows(hypotheses, "hypotheses")
    if any(not isinstance(text, str) for text in texts):
        raise TypeError("`hypotheses` must be a flat list of strings.")
    return texts


def reference_sets(references, num_segments: int) -> list[list[str]]:
    """Per-segment reference lists from SacreBLEU-style reference streams.

    `references[k][i]` is the k-th reference of segment i; a flat list of
    strings is one stream; `None` marks a missing reference.
    """
    if isinstance(references, str | bytes):
        raise TypeError(
            "`references` must be a list of reference streams, not a string."
        )
    streams = text_rows(references, "references")
    if all(item is None or isinstance(item, str) for item in streams) and streams:
        streams = [streams]
    for index, stream in enumerate(streams):
        if not isinstance(stream, list):
            raise TypeError(
                "`references` must be a list of strings (one stream) or a list of "
                f"lists of strings (several streams); item {index} is {stream!r}."
            )
        if len(stream) != num_segments:
            raise ValueError(
                f"`references` stream {index} has {len(stream)} segments but there "
                f"are {num_segments} hypotheses; every stream needs one reference "
                "(or None) per hypothesis."
            )
    sets = [
        [stream[segment] for stream in streams if stream[segment] is not None]
        for segment in range(num_segments)
    ]
    for segment, reference_set in enumerate(sets):
        if not reference_set:
            raise ValueError(f"`references` holds no reference for segment {segment}.")
    return sets


def sentence_references(hypothesis, references) -> list[str]:
    """The references of one sentence: a string or a non-empty list of strings."""
    if not isinstance(hypothesis, str):
        raise TypeError(
            f"`hypothesis` must be a string; received {type(hypothesis).__name__}."
        )
    if isinstance(references, str):
        references = [references]
    references = [r for r in text_rows(references, "references") if r is not None]
    if not references or not all(isinstance(r, str) for r in references):
        raise ValueError("`references` must be a non-empty list of strings.")
    return references
