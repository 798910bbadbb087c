"""WER / CER parity with jiwer, the Levenshtein DP, properties and errors."""

import random

import jiwer
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_seq.metrics import char_error_rate, word_error_rate
from keras_seq.metrics.edit_distance import _levenshtein


def _random_corpus(seed, segments=5, length=40):
    rng = random.Random(seed)
    words = "the a cat dog sat on mat and ran far away".split()
    hypotheses = [
        " ".join(rng.choice(words) for _ in range(rng.randint(0, length)))
        for _ in range(segments)
    ]
    references = [
        " ".join(rng.choice(words) for _ in range(rng.randint(1, length)))
        for _ in range(segments)
    ]
    return hypotheses, references


# (hypotheses, references)
CORPORA = [
    (["the cat sat on the mat"], ["the cat sat on the mat"]),
    (["the cat sat"], ["the cat sat on the mat"]),
    (["the cat sat on the mat today"], ["the cat sat"]),
    (["a dog ran"], ["the cat sat"]),
    ([""], ["the cat sat"]),
    (["the cat sat"], [""]),
    ([""], [""]),
    (["", "x y"], ["", ""]),
    (["hello"], ["hello"]),
    (["kitten"], ["sitting"]),
    (["sitting"], ["kitten"]),
    (["one two three", "four five"], ["one too three", "four five six"]),
    (["a b c d", "e f", "g"], ["a x c d", "e f g h", ""]),
    (["the the the"], ["the"]),
    (["b a"], ["a b"]),
    (["Grüße aus Köln"], ["Grüsse aus Köln"]),
    (["我爱北京天安门"], ["我爱北京"]),
    (["emoji 🙂 ok 🚀"], ["emoji ok 🚀"]),
    (["naïve café"], ["naive cafe"]),
    (["Hello, world!"], ["hello world"]),
    (["It's 3.14"], ["it is 3.14"]),
    (["  leading and trailing  "], ["leading and trailing"]),
    (["multiple   inner    spaces"], ["multiple inner spaces"]),
    (["tab\tseparated words"], ["tab separated words"]),
    (["new\nline"], ["new line"]),
    (["CASE matters"], ["case matters"]),
    (["a"], ["b"]),
    (["abc def"], ["abd def"]),
    (
        ["the quick brown fox jumps over the lazy dog"],
        ["the quick brown dog jumps over the lazy fox"],
    ),
    (["completely different words here"], ["nothing in common at all really"]),
    _random_corpus(0),
    _random_corpus(1, segments=3, length=200),
    _random_corpus(2, segments=8, length=10),
]


def test_there_are_enough_parity_cases():
    assert len(CORPORA) >= 30


@pytest.mark.parametrize("case", range(len(CORPORA)))
def test_word_error_rate_equals_jiwer(case):
    hypotheses, references = CORPORA[case]
    assert word_error_rate(hypotheses, references) == jiwer.wer(references, hypotheses)


@pytest.mark.parametrize("case", range(len(CORPORA)))
def test_char_error_rate_equals_jiwer(case):
    hypotheses, references = CORPORA[case]
    assert char_error_rate(hypotheses, references) == jiwer.cer(references, hypotheses)


def test_single_strings_are_accepted():
    assert word_error_rate("a b c", "a b d") == jiwer.wer("a b d", "a b c")
    assert char_error_rate("kitten", "sitting") == pytest.approx(3 / 7)


def _reference_levenshtein(first, second):
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        current = [i]
        for j, b in enumerate(second, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            )
        previous = current
    return previous[-1]


@settings(max_examples=100, deadline=None)
@given(
    first=st.lists(st.sampled_from("abcd"), max_size=12),
    second=st.lists(st.sampled_from("abcde"), max_size=12),
)
def test_levenshtein_matches_textbook_dp(first, second):
    assert _levenshtein(first, second) == _reference_levenshtein(first, second)
    assert _levenshtein(second, first) == _levenshtein(first, second)


SENTENCE = st.lists(
    st.sampled_from("the cat sat on a mat".split()), min_size=1, max_size=10
).map(" ".join)


@settings(max_examples=80, deadline=None)
@given(hypothesis=SENTENCE, reference=SENTENCE)
def test_wer_is_zero_iff_equal(hypothesis, reference):
    wer = word_error_rate([hypothesis], [reference])
    assert (wer == 0.0) == (hypothesis == reference)
    assert wer == jiwer.wer(reference, hypothesis)


def test_errors():
    with pytest.raises(
        ValueError, match="`hypotheses` has 2 segments but `references` has 1"
    ):
        word_error_rate(["a", "b"], ["a"])
    with pytest.raises(TypeError, match="`references`"):
        char_error_rate(["a"], [3])
