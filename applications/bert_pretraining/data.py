"""Pretraining text: the Lee news corpus shipped in gensim's wheel, or a file
in BERT's pretraining format.

The embedded default is `lee_background.cor` from gensim's test data (300
Australian news stories, ~60k words, one story per line), which installs with
the `gensim` package: nothing is downloaded. Stories are split into sentences.
The standard real format is BERT's `create_pretraining_data` input: one
sentence per line, documents separated by blank lines (`load_corpus`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")


def split_sentences(text: str) -> list[str]:
    """Splits running text at `.`, `!` or `?` followed by a capital or digit.

    Example:
    >>> split_sentences("It rained. Then 5 people left! Why?")
    ['It rained.', 'Then 5 people left!', 'Why?']
    """
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def lee_corpus_path() -> str:
    """Path of gensim's `lee_background.cor` (installed with gensim)."""
    from gensim.test.utils import datapath

    path = datapath("lee_background.cor")
    if not os.path.exists(path):
        raise FileNotFoundError(f"gensim's Lee corpus is missing at {path}; reinstall gensim.")
    return path


def load_lee_documents() -> list[list[str]]:
    """The Lee corpus as documents (lists of sentences); stories with fewer
    than two sentences are dropped (they make no sentence pairs)."""
    with open(lee_corpus_path(), encoding="utf-8", errors="replace") as f:
        documents = [split_sentences(line) for line in f if line.strip()]
    return [d for d in documents if len(d) >= 2]


def load_corpus(path: str | os.PathLike) -> list[list[str]]:
    """Reads BERT's pretraining format: a sentence per line, blank lines
    between documents.

    Raises:
        ValueError: if the file holds fewer than two documents of at least
            two sentences.
    """
    documents, current = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                current.append(line)
            elif current:
                documents.append(current)
                current = []
    if current:
        documents.append(current)
    documents = [d for d in documents if len(d) >= 2]
    if len(documents) < 2:
        raise ValueError(
            f"{path}: expected at least two documents of two or more sentences "
            "(one sentence per line, a blank line between documents)."
        )
    return documents


def save_corpus(path: str | os.PathLike, documents: Sequence[Sequence[str]]) -> None:
    """Writes documents in BERT's pretraining format (see `load_corpus`)."""
    with open(path, "w", encoding="utf-8") as f:
        for document in documents:
            for sentence in document:
                if "\n" in sentence or not sentence.strip():
                    raise ValueError(f"sentence {sentence!r} is empty or spans lines")
                f.write(sentence.strip() + "\n")
            f.write("\n")
