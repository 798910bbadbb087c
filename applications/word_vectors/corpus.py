"""The embedded training text of the word-vector applications: the
shortened English Wikipedia dump and the Lee news corpus that ship inside
gensim's wheel as test data (nothing is downloaded), read and tokenised.

This is application data, so it lives with the applications; the library
reads any plain text with `keras_seq.embeddings.read_corpus`.
(`keras_seq.embeddings.embedded_corpus` still works, with a
`DeprecationWarning`.)
"""

from __future__ import annotations

import bz2
import functools
import re

from keras_seq.embeddings import data_path, tokenize

CORPORA = ("wikipedia", "lee")

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

    >>> from applications.word_vectors.corpus import embedded_corpus
    >>> sentences = embedded_corpus("lee")
    >>> len(sentences), sum(map(len, sentences)) > 50_000
    (300, True)
    """
    if name not in CORPORA:
        raise ValueError(f'`name` must be "wikipedia" or "lee"; got {name!r}.')
    return [list(s) for s in _cached_corpus(name)]
