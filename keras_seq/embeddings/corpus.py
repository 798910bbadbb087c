"""Corpora and evaluation sets for word embeddings, all available offline.

The embedded defaults come from the test data that ships inside the `gensim`
wheel (nothing is downloaded): a shortened English Wikipedia dump (206 pages,
~480k words once the markup is stripped), the Lee news corpus, Google's
`questions-words.txt` analogies, WordSim-353 and SimLex-999. Any plain-text
file or directory of files can be used instead (`read_corpus`).
"""

from __future__ import annotations

import bz2
import functools
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


_PATTERNS = [
    (re.compile(r"<!--.*?-->", re.S), " "),
    (re.compile(r"<ref[^>/]*/>"), " "),
    (re.compile(r"<ref[^>]*>.*?</ref>", re.S), " "),
    (re.compile(r"<math[^>]*>.*?</math>", re.S), " "),
    (re.compile(r"<[^>]+>"), " "),
    (re.compile(r"\{\|.*?\|\}", re.S), " "),  # tables
    (re.compile(r"\[\[(?:file|image|category|[a-z\-]{2,12}):[^\[\]]*(?:\[\[[^\[\]]*\]\][^\[\]]*)*\]\]", re.I), " "),
    (re.compile(r"\[\[[^\[\]|]*\|([^\[\]]*)\]\]"), r"\1"),
    (re.compile(r"\[\[([^\[\]]*)\]\]"), r"\1"),
    (re.compile(r"\[https?://[^\s\]]*\s*([^\]]*)\]"), r"\1"),
    (re.compile(r"https?://\S+"), " "),
    (re.compile(r"'{2,}"), ""),
    (re.compile(r"={2,}[^=\n]*={2,}"), " "),
]
_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")
_TEXT = re.compile(r"<text[^>]*>(.*?)</text>", re.S)


def clean_wiki_markup(markup: str) -> str:
    """Strips MediaWiki markup (templates, tables, references, links, tags)
    and keeps the readable text.

    Example:

    >>> clean_wiki_markup("'''Paris''' is the [[capital city|capital]] of "
    ...                   "[[France]].{{cite web|url=x}}<ref>a</ref>")
    'Paris is the capital of France.'
    """
    import html

    text = html.unescape(markup)
    previous = None
    while previous != text:  # templates nest: peel the innermost ones first
        previous, text = text, _TEMPLATE.sub(" ", text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return re.sub(r"[ \t]+", " ", text).strip()


@functools.lru_cache(maxsize=2)
def _cached_corpus(name: str) -> tuple[tuple[str, ...], ...]:
    path = data_path(name)
    if name == "wikipedia":
        with bz2.open(path, "rt", encoding="utf-8") as f:
            pages = _TEXT.findall(f.read())
        lines = []
        for page in pages:
            if page.lstrip().lower().startswith("#redirect"):
                continue
            lines.extend(clean_wiki_markup(page).split("\n"))
    else:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
    sentences = (tuple(tokenize(line)) for line in lines)
    return tuple(s for s in sentences if len(s) > 1)


def embedded_corpus(name: str = "wikipedia") -> list[list[str]]:
    """An embedded corpus as a list of tokenised paragraphs.

    Args:
        name: ``"wikipedia"`` (the shortened English Wikipedia dump, ~480k
            words) or ``"lee"`` (300 news stories, ~60k words).

    Example:

    >>> sentences = embedded_corpus("lee")
    >>> len(sentences), sum(map(len, sentences)) > 50_000
    (300, True)
    """
    if name not in ("wikipedia", "lee"):
        raise ValueError(f'`name` must be "wikipedia" or "lee"; got {name!r}.')
    return [list(s) for s in _cached_corpus(name)]


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
