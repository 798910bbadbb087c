"""ROUGE-N / ROUGE-L / ROUGE-Lsum parity with Google's rouge-score, F1,
properties, errors."""

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer

from keras_seq.metrics import f1_score, rouge_l, rouge_lsum, rouge_n


def _long_pair(seed, length=150):
    rng = random.Random(seed)
    words = [f"word{i}" for i in range(30)] + ["running", "runs", "ran", "the"]
    return tuple(" ".join(rng.choice(words) for _ in range(length)) for _ in range(2))


# (hypothesis, reference)
PAIRS = [
    ("the cat sat on the mat", "the cat sat on the mat"),
    ("the cat was found under the bed", "the cat was under the bed"),
    ("a dog ran in the park", "the cat sat on the mat"),
    ("", "the cat sat on the mat"),
    ("the cat sat on the mat", ""),
    ("", ""),
    ("the", "the"),
    ("the the the the", "the cat the mat"),
    ("police killed the gunman", "the gunman killed police"),
    ("The Quick Brown Fox!", "the quick, brown fox."),
    ("running runners ran quickly", "the runner runs quick"),
    ("cats and dogs are studying", "cat and dog studies"),
    ("generously generalized generation", "generous general generating"),
    ("Grüße aus Köln", "grusse aus koln"),
    ("naïve café résumé", "naive cafe resume"),
    ("我爱北京天安门", "我爱北京"),
    ("emoji 🙂 test 🚀 ok", "emoji test ok"),
    ("Привет, мир! hello world", "hello, world"),
    ("It's 3.14 and 1,000-2,000 (approx.)", "its 3 14 and 1 000 2 000 approx"),
    ("e-mail: a.b@c.com #tag", "email a b c com tag"),
    ("one two three four five", "five four three two one"),
    ("a b c d e f g", "a c e g"),
    ("x y z", "p q r"),
    ("repeated repeated repeated word", "repeated word word"),
    ("the cat", "the cat sat on the mat with a hat"),
    ("the cat sat on the mat with a hat", "the cat"),
    ("123 456 789", "123 789"),
    ("   spaces   everywhere   ", "spaces everywhere"),
    ("tabs\tand\nnewlines", "tabs and newlines"),
    ("UPPER lower MiXeD", "upper LOWER mixed"),
    ("organization organizational organize", "organ organized organizing"),
    _long_pair(0),
    _long_pair(1, length=400),
]


def _scorer(rouge_type, use_stemmer):
    return rouge_scorer.RougeScorer([rouge_type], use_stemmer=use_stemmer)


def test_there_are_enough_parity_cases():
    assert len(PAIRS) >= 30


@pytest.mark.parametrize("use_stemmer", [False, True])
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("case", range(len(PAIRS)))
def test_rouge_n_equals_rouge_score(case, n, use_stemmer):
    hypothesis, reference = PAIRS[case]
    theirs = _scorer(f"rouge{n}", use_stemmer).score(reference, hypothesis)[f"rouge{n}"]
    ours = rouge_n(hypothesis, reference, n=n, use_stemmer=use_stemmer)
    assert ours == (theirs.precision, theirs.recall, theirs.fmeasure)


def _assert_equals_rouge_score(rouge_type, ours_fn, hypothesis, reference, use_stemmer):
    theirs = _scorer(rouge_type, use_stemmer).score(reference, hypothesis)[rouge_type]
    ours = ours_fn(hypothesis, reference, use_stemmer=use_stemmer)
    assert ours == (theirs.precision, theirs.recall, theirs.fmeasure)


@pytest.mark.parametrize("use_stemmer", [False, True])
@pytest.mark.parametrize("case", range(len(PAIRS)))
def test_rouge_l_equals_rouge_score(case, use_stemmer):
    _assert_equals_rouge_score("rougeL", rouge_l, *PAIRS[case], use_stemmer)


@pytest.mark.parametrize(
    "hypothesis, references",
    [
        ("the cat sat", ["a dog", "the cat sat down", "the cat"]),
        ("x y", ["p q", "r s"]),
        ("the cats are running", ["cat running", "the cat is running fast"]),
    ],
)
@pytest.mark.parametrize("rouge_type", ["rouge1", "rouge2", "rougeL"])
def test_multiple_references_equal_score_multi(hypothesis, references, rouge_type):
    theirs = _scorer(rouge_type, True).score_multi(references, hypothesis)[rouge_type]
    if rouge_type == "rougeL":
        ours = rouge_l(hypothesis, references, use_stemmer=True)
    else:
        ours = rouge_n(hypothesis, references, n=int(rouge_type[-1]), use_stemmer=True)
    assert ours == (theirs.precision, theirs.recall, theirs.fmeasure)


def test_f1_score():
    assert f1_score(0.5, 1.0) == pytest.approx(2 / 3)
    assert f1_score(0.0, 0.0) == 0.0
    assert f1_score(1, 1) == 1.0
    values = np.asarray(f1_score(np.array([0.5, 0.0, 1.0]), np.array([1.0, 0.0, 0.25])))
    np.testing.assert_allclose(values, [2 / 3, 0.0, 0.4], rtol=1e-6)
    with pytest.raises(ValueError, match="`recall`"):
        f1_score(0.5, -0.1)


def test_errors():
    with pytest.raises(ValueError, match="`n`"):
        rouge_n("a", "a", n=0)
    with pytest.raises(ValueError, match="`reference`"):
        rouge_n("a", [])
    with pytest.raises(TypeError, match="`hypothesis`"):
        rouge_l(None, "a")


TEXT = st.lists(
    st.sampled_from("the cat sat on a mat dogs running ran quickly".split()),
    max_size=15,
).map(" ".join)


@settings(max_examples=80, deadline=None)
@given(first=TEXT, second=TEXT, n=st.integers(1, 3), use_stemmer=st.booleans())
def test_rouge_n_f1_is_symmetric(first, second, n, use_stemmer):
    forward = rouge_n(first, second, n=n, use_stemmer=use_stemmer)
    backward = rouge_n(second, first, n=n, use_stemmer=use_stemmer)
    assert forward[2] == pytest.approx(backward[2])
    assert forward[0] == pytest.approx(backward[1])
    assert 0.0 <= forward[2] <= 1.0


def _long_summary(seed, sentences=25, words=18):
    rng = random.Random(seed)
    vocabulary = [f"word{i}" for i in range(40)] + ["running", "runs", "the", "."]
    return "\n".join(
        " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, words)))
        for _ in range(sentences)
    )


# (hypothesis, reference): rouge-score's rougeLsum tests, then multi-sentence
# edge cases (empty lines, lines without tokens, repeated tokens).
SUMMARIES = [
    ("w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5", "w1 w2 w3 w4 w5"),
    ("", "w1 w2 w3 w4 w5"),
    ("w1", ""),
    ("/", "w1 w2 w3 w4 w5"),
    ("Second sentence.\nFirst Sentence.", "First sentence.\nSecond Sentence."),
    ("Second sentence. First Sentence.", "First sentence. Second Sentence."),
    ("a b c\n\n\nd e f\n", "d e f\na b c"),
    ("the cat sat\n!!!\non the mat", "the cat\nsat on the mat\n..."),
    ("the the the\nthe the", "the cat the\nthe mat"),
    ("a b a b\nb a b a", "a b\nb a\na a b b"),
    ("x y z", "p q r\ns t u"),
    ("running runners ran\nquickly running", "the runner runs\nquick runs"),
    ("line one\r\nline two", "line one\nline two"),
    ("Grüße aus Köln\nnaïve café", "grusse aus koln\nnaive cafe"),
    ("police killed the gunman", "the gunman killed police"),
    _long_pair(2, length=60),
    (_long_summary(0), _long_summary(1)),
    (_long_summary(2, sentences=40), _long_summary(3, sentences=30, words=30)),
]


@pytest.mark.parametrize("use_stemmer", [False, True])
@pytest.mark.parametrize("case", range(len(SUMMARIES)))
def test_rouge_lsum_equals_rouge_score(case, use_stemmer):
    _assert_equals_rouge_score("rougeLsum", rouge_lsum, *SUMMARIES[case], use_stemmer)


def test_rouge_lsum_union_lcs_by_hand():
    # Lin (2004), section 3.2: reference w1..w5, candidate sentences with LCS
    # w1 w2 and w1 w3 w5: the union w1 w2 w3 w5 gives 4 hits.
    precision, recall, f1 = rouge_lsum(
        "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5", "w1 w2 w3 w4 w5"
    )
    assert (precision, recall) == (4 / 10, 4 / 5)
    assert f1 == pytest.approx(2 * 0.4 * 0.8 / 1.2)
    # Sentence order does not matter; without newlines it does (plain LCS).
    assert rouge_lsum("b\na", "a\nb") == (1.0, 1.0, 1.0)
    assert rouge_lsum("b a", "a b")[2] == 0.5
    # Hits are capped by token counts: "the" occurs once in the hypothesis.
    assert rouge_lsum("the", "the\nthe")[0:2] == (1.0, 0.5)


def test_rouge_lsum_multiple_references_equal_score_multi():
    references = ["a dog\nruns", "the cat sat\non the mat", "cat"]
    hypothesis = "on the mat\nthe cats sat"
    theirs = _scorer("rougeLsum", True).score_multi(references, hypothesis)["rougeLsum"]
    ours = rouge_lsum(hypothesis, references, use_stemmer=True)
    assert ours == (theirs.precision, theirs.recall, theirs.fmeasure)


def test_rouge_lsum_errors():
    with pytest.raises(ValueError, match="`reference`"):
        rouge_lsum("a", [])
    with pytest.raises(TypeError, match="`hypothesis`"):
        rouge_lsum(["a"], "a")
    with pytest.raises(TypeError, match="`reference`"):
        rouge_lsum("a", [None])


LINES = st.lists(
    st.lists(
        st.sampled_from("the cat sat on a mat dogs running ran . !".split()),
        max_size=8,
    ).map(" ".join),
    max_size=5,
).map("\n".join)


@settings(max_examples=100, deadline=None)
@given(hypothesis=LINES, reference=LINES, use_stemmer=st.booleans())
def test_random_summaries_equal_rouge_score(hypothesis, reference, use_stemmer):
    theirs = _scorer("rougeLsum", use_stemmer).score(reference, hypothesis)["rougeLsum"]
    ours = rouge_lsum(hypothesis, reference, use_stemmer=use_stemmer)
    assert ours == (theirs.precision, theirs.recall, theirs.fmeasure)
    assert 0.0 <= ours[2] <= 1.0
