"""`error_measures` parity with jiwer's `process_words` / `process_characters`:
measures, counts, alignment chunks and tokenization, on jiwer's own cases,
edge cases and random inputs; the rapidfuzz tie-breaking; errors."""

import random

import jiwer
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_seq.metrics import (
    AlignmentChunk,
    ErrorMeasures,
    char_error_rate,
    error_measures,
    word_error_rate,
)


def _chunks(alignments):
    return [
        [
            (c.type, c.ref_start_idx, c.ref_end_idx, c.hyp_start_idx, c.hyp_end_idx)
            for c in s
        ]
        for s in alignments
    ]


def assert_same_as_jiwer(hypotheses, references, level="word"):
    process = jiwer.process_words if level == "word" else jiwer.process_characters
    theirs = process(references, hypotheses)
    ours = error_measures(hypotheses, references, level=level)
    assert isinstance(ours, ErrorMeasures)
    assert ours.wer == (theirs.wer if level == "word" else theirs.cer)
    if level == "word":
        assert (ours.mer, ours.wil, ours.wip) == (theirs.mer, theirs.wil, theirs.wip)
    counts = (ours.hits, ours.substitutions, ours.deletions, ours.insertions)
    expected = (theirs.hits, theirs.substitutions, theirs.deletions, theirs.insertions)
    assert counts == expected
    assert _chunks(ours.alignments) == _chunks(theirs.alignments)
    assert ours.references == theirs.references
    assert ours.hypotheses == theirs.hypotheses
    return ours


def _random_corpus(seed, segments=4, length=25, vocabulary=6):
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(vocabulary)]

    def text():
        return " ".join(rng.choice(words) for _ in range(rng.randint(0, length)))

    return [text() for _ in range(segments)], [text() for _ in range(segments)]


# (hypotheses, references): jiwer's test_measures, test_alignment,
# test_empty_ref and test_count_errors inputs, then edge cases and random ones.
CORPORA = [
    ("This is a test", "This is a test"),
    ("", "This is a test"),
    ("This test", "This is a test"),
    (["This test"], "This is a test"),
    ("This test", ["This is a test"]),
    (
        "i am a considerably longer and very much incorrect hypothesis",
        "i am a short ground truth",
    ),
    ("X", "X"),
    ("X X Y Y", "X"),
    ("X Z", "X Y X"),
    ("Y", "X"),
    ("Y Z", "X"),
    ("this is a test", "this is a"),
    ("this is a", "this is a test"),
    ("this was a test", "this is a test"),
    ("this was a messy test", "this is a test of skill"),
    ("no it will not", "this test will  have a high word error rate"),
    ("", "empty"),
    (["1", "2"], ["one", "two"]),
    (["perfect", "1", "2", "three"], ["perfect", "one", "two", "three"]),
    ("", ""),
    ([""] * 3, [""] * 3),
    ("hello", ""),
    ("0 1 2 3 4", ""),
    ("", "hello"),
    (["hello world", "done"], ["hello world", ""]),
    (["hello world", ""], ["hello world", ""]),
    (
        ["bus", "bus", "bus", "usb", "bsu", "this was ins", "", "hit"],
        ["sub", "sub", "sub", "sub", "sub", "this was", "del", "hit"],
    ),
    ("this sentence will be split by ai", "this sentence could be split"),
    ([], []),
    ("b c", "a b"),
    ("a b a", "a"),
    ("  leading and  trailing\t", "leading and trailing"),
    ("tab\tseparated words", "tab separated words"),
    ("new\nline  double\n\nbreak", "new line double break"),
    ("Grüße aus Köln 北京 🙂", "grüße aus Köln 北京"),
    _random_corpus(0),
    _random_corpus(1, segments=2, length=90),  # beyond 64 tokens
    _random_corpus(2, segments=1, length=200, vocabulary=3),
    _random_corpus(3, segments=6, length=8, vocabulary=2),
]


@pytest.mark.parametrize("level", ["word", "char"])
@pytest.mark.parametrize("case", range(len(CORPORA)))
def test_error_measures_equal_jiwer(case, level):
    hypotheses, references = CORPORA[case]
    assert_same_as_jiwer(hypotheses, references, level)


def test_known_values_from_morris_et_al():
    # jiwer's test_known_values, taken from Morris et al. (2004).
    for hypothesis, reference, (wer, mer, wil) in [
        ("X", "X", (0, 0, 0)),
        ("X X Y Y", "X", (3, 0.75, 0.75)),
        ("X Z", "X Y X", (2 / 3, 2 / 3, 5 / 6)),
        ("Y", "X", (1, 1, 1)),
        ("Y Z", "X", (2, 1, 1)),
    ]:
        result = error_measures(hypothesis, reference)
        assert (result.wer, result.mer, result.wil) == pytest.approx((wer, mer, wil))
        assert result.wip == pytest.approx(1 - wil)


def test_empty_reference_edge_cases():
    both_empty = error_measures([""] * 4, [""] * 4)
    assert (both_empty.wer, both_empty.mer, both_empty.wip, both_empty.wil) == (
        0,
        0,
        1,
        0,
    )
    inserted = error_measures("0 1 2 3", "")
    assert (inserted.insertions, inserted.wer, inserted.mer, inserted.wip) == (
        4,
        4,
        1,
        0,
    )
    deleted = error_measures("", "hello")
    assert (deleted.deletions, deleted.wer, deleted.mer, deleted.wil) == (1, 1, 1, 1)
    # An empty reference scored against an empty hypothesis changes nothing.
    with_empty = error_measures(["hello world", ""], ["hello world", ""])
    without = error_measures(["hello world"], ["hello world"])
    for field in ("wer", "mer", "wil", "wip", "hits", "insertions", "deletions"):
        assert getattr(with_empty, field) == getattr(without, field)
    assert with_empty.alignments == [[AlignmentChunk("equal", 0, 2, 0, 2)], []]


def test_alignment_takes_rapidfuzz_choice_among_equal_costs():
    # "b c" -> "a b": two substitutions or a deletion, a hit and an insertion
    # both cost 2; rapidfuzz (and so jiwer) takes the substitutions, so
    # MER is 1, not 2/3.
    result = error_measures("b c", "a b")
    assert result.alignments[0] == [AlignmentChunk("substitute", 0, 2, 0, 2)]
    assert (result.hits, result.substitutions, result.mer) == (0, 2, 1.0)
    result = error_measures("b c d", "a b c")  # here matching "b c" is cheaper
    assert [c.type for c in result.alignments[0]] == ["delete", "equal", "insert"]
    # The common prefix is matched first.
    result = error_measures("a", "a b a")
    assert result.alignments[0] == [
        AlignmentChunk("equal", 0, 1, 0, 1),
        AlignmentChunk("delete", 1, 3, 1, 1),
    ]


def test_rates_agree_with_word_and_char_error_rate():
    hypotheses, references = CORPORA[36]
    assert error_measures(hypotheses, references).wer == word_error_rate(
        hypotheses, references
    )
    assert error_measures(hypotheses, references, level="char").wer == (
        char_error_rate(hypotheses, references)
    )


def test_errors():
    with pytest.raises(ValueError, match="`level`"):
        error_measures("a", "a", level="phoneme")
    with pytest.raises(ValueError, match="`hypotheses` has 2 segments"):
        error_measures(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="`hypotheses` has 1 segments"):
        error_measures(["this sentence"], ["hello", "this", "sentence"])
    with pytest.raises(ValueError, match="lengths must match"):  # jiwer too
        jiwer.process_words(["hello", "this", "sentence"], ["this sentence"])
    with pytest.raises(TypeError, match="`references`"):
        error_measures(["a"], [None])


SENTENCE = st.lists(
    st.sampled_from(["a", "b", "c", "the", "cat", " ", "\t", "é"]), max_size=30
).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(
    pairs=st.lists(st.tuples(SENTENCE, SENTENCE), min_size=1, max_size=4),
    level=st.sampled_from(["word", "char"]),
)
def test_random_corpora_equal_jiwer(pairs, level):
    hypotheses = [h for h, _ in pairs]
    references = [r for _, r in pairs]
    ours = assert_same_as_jiwer(hypotheses, references, level)
    errors = ours.substitutions + ours.deletions + ours.insertions
    reference_tokens = ours.hits + ours.substitutions + ours.deletions
    if reference_tokens:
        assert ours.wer == errors / reference_tokens
