"""ROUGE-N / ROUGE-L parity with Google's rouge-score, F1, properties, errors."""

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer

from keras_seq.metrics import f1_score, rouge_l, rouge_n


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


@pytest.mark.parametrize("use_stemmer", [False, True])
@pytest.mark.parametrize("case", range(len(PAIRS)))
def test_rouge_l_equals_rouge_score(case, use_stemmer):
    hypothesis, reference = PAIRS[case]
    theirs = _scorer("rougeL", use_stemmer).score(reference, hypothesis)["rougeL"]
    ours = rouge_l(hypothesis, reference, use_stemmer=use_stemmer)
    assert ours == (theirs.precision, theirs.recall, theirs.fmeasure)


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
