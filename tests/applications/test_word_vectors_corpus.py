"""The embedded corpora (gensim's test data) read by the word-vector
applications, and the library's deprecated alias of the reader."""

import bz2
import re

import pytest

from applications.word_vectors.corpus import clean_wiki_markup, embedded_corpus
from keras_seq.embeddings import data_path, read_corpus, tokenize


def test_lee_is_one_tokenised_story_per_line():
    # The Lee file holds one story per line: the reader equals tokenising each line.
    stories = embedded_corpus("lee")
    with open(data_path("lee"), encoding="utf-8", errors="replace") as handle:
        expected = [tokenize(line) for line in handle]
    assert stories == [s for s in expected if len(s) > 1]
    assert len(stories) == 300
    assert read_corpus(data_path("lee")) == [s for s in expected if s]


def test_wikipedia_keeps_the_text_of_every_article_page():
    paragraphs = embedded_corpus("wikipedia")
    words = sum(map(len, paragraphs))
    assert 400_000 < words < 550_000
    vocabulary = {w for p in paragraphs for w in p}
    assert {"anarchism", "king", "queen", "paris", "france"} <= vocabulary
    # Markup never survives: no template, link or tag syntax in any token.
    assert not any(re.search(r"[\[\]{}<>|=]", w) for w in vocabulary)
    with bz2.open(data_path("wikipedia"), "rt", encoding="utf-8") as handle:
        pages = handle.read().count("<page>")
    assert pages == 206


def test_markup_cleaning():
    text = clean_wiki_markup(
        "{{Infobox|name={{nested}}}}'''Anarchism''' is a [[political philosophy|philosophy]]<ref>x</ref> "
        "[[Category:Politics]] ([[File:A.png|thumb|a [[link]]]]) see [http://example.org Example]."
    )
    assert text == "Anarchism is a philosophy ( ) see Example."


def test_the_library_alias_is_deprecated_and_equal():
    from keras_seq.embeddings import embedded_corpus as deprecated

    with pytest.warns(DeprecationWarning, match="applications.word_vectors.corpus.embedded_corpus"):
        stories = deprecated("lee")
    assert stories == embedded_corpus("lee")
    with pytest.raises(ValueError, match="`name` must be"):
        embedded_corpus("reddit")
