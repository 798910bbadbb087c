"""Reading corpora for word embeddings, and the offline evaluation sets.

`read_corpus` tokenises any plain-text file or directory of files.
`data_path` locates the files that ship inside the `gensim` wheel as test
data (nothing is downloaded): Google's `questions-words.txt` analogies,
WordSim-353 and SimLex-999 (the defaults of `WordVectors`' evaluations), and
the two corpora the applications train on (a shortened English Wikipedia dump
and the Lee news corpus; read them with
`applications.word_vectors.corpus.embedded_corpus`).
"""

from __future__ import annotations

import bz2
import os
import re
from collections.abc import Iterable

_WIKIPEDIA = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
_FILES = {
    "wikipedia": _WIKIPEDIA,
    "lee": "lee_background.cor",
    "questions-words": "questions-words.txt",
    "wordsim353": "wordsim353.tsv",
    "simlex999": "simlex999.txt",
}
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")


def tokenize(text: str) -> list[str]:
    """Lower-cases `text` and returns its alphabetic tokens.

    Apostrophes inside words are kept (``don't``); digits and punctuation
    are dropped.

    Example:

    >>> tokenize("The King's 3 horses, and Paris!")
    ['the', "king's", 'horses', 'and', 'paris']
    """
    return _TOKEN.findall(text.lower())


def data_path(name: str) -> str:
    """The path of an embedded data file from gensim's test data.

    Args:
        name: one of ``"wikipedia"``, ``"lee"``, ``"questions-words"``,
            ``"wordsim353"``, ``"simlex999"``.

    Raises:
        ValueError: for an unknown `name`.
        FileNotFoundError: when gensim (which carries the files) is missing.

    Example:

    >>> os.path.basename(data_path("wordsim353"))
    'wordsim353.tsv'
    """
    if name not in _FILES:
        raise ValueError(f"`name` must be one of {sorted(_FILES)}; got {name!r}.")
    import importlib.util

    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"The embedded {name!r} data ships with gensim's test data; install "
            "gensim (`pip install gensim`) or pass your own file."
        )
    path = os.path.join(list(spec.submodule_search_locations)[0], "test", "test_data", _FILES[name])
    if not os.path.exists(path):
        raise FileNotFoundError(f"gensim's test data file is missing at {path}; reinstall gensim.")
    return path


def embedded_corpus(name: str = "wikipedia") -> list[list[str]]:
    """Deprecated: the Wikipedia and Lee corpora are the applications' data;
    use `applications.word_vectors.corpus.embedded_corpus` (the same
    function), or `read_corpus(path)` for your own text.

    This alias imports the applications package, which ships with keras_seq
    (the one place the library reaches into `applications/`); it will be
    removed in a future release.
    """
    import importlib
    import warnings

    warnings.warn(
        "keras_seq.embeddings.embedded_corpus is deprecated: the embedded corpora are application data; use "
        "applications.word_vectors.corpus.embedded_corpus, or keras_seq.embeddings.read_corpus(path) for "
        "your own text.",
        DeprecationWarning,
        stacklevel=2,
    )
    return importlib.import_module("applications.word_vectors.corpus").embedded_corpus(name)


def read_corpus(path: str | os.PathLike) -> list[list[str]]:
    """Reads a plain-text corpus: a file, or every file under a directory
    (sorted, recursively). Each non-empty line becomes one tokenised sentence.

    Raises:
        ValueError: if `path` does not exist or holds no words.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        files = sorted(
            os.path.join(root, name) for root, _, names in os.walk(path) for name in names
        )
    elif os.path.isfile(path):
        files = [path]
    else:
        raise ValueError(f"`path` must be a text file or a directory of text files; {path!r} does not exist.")
    sentences = []
    for name in files:
        opener = bz2.open if name.endswith(".bz2") else open
        with opener(name, "rt", encoding="utf-8", errors="replace") as f:
            sentences.extend(s for s in (tokenize(line) for line in f) if s)
    if not sentences:
        raise ValueError(f"`path` {path!r} holds no words.")
    return sentences


def as_sentences(sentences: Iterable) -> list[list[str]]:
    """Validates a corpus given as sentences (lists of string tokens); a
    plain string sentence is split on whitespace."""
    if isinstance(sentences, (str, bytes)):
        raise ValueError(
            "`sentences` must be an iterable of sentences (lists of tokens), not one string; "
            "use `keras_seq.embeddings.read_corpus(path)` for a text file."
        )
    result = []
    for i, sentence in enumerate(sentences):
        if isinstance(sentence, str):
            sentence = sentence.split()
        sentence = list(sentence)
        for token in sentence:
            if not isinstance(token, str):
                raise ValueError(f"`sentences[{i}]` must hold string tokens; found {token!r}.")
        result.append(sentence)
    return result
