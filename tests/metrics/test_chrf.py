"""chrF / chrF++ parity with SacreBLEU (its own test cases, random corpora,
every option), properties and argument errors."""

import random

import pytest
import sacrebleu
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.metrics import CHRF

from keras_seq.metrics import ChrFScore, corpus_chrf, sentence_chrf

# SacreBLEU's test_chrf.py inputs: (hypotheses, one reference stream).
SACREBLEU_CASES = [
    (["abcdefg"], ["hijklmnop"]),
    (["a"], ["b"]),
    ([""], ["b"]),
    ([""], ["ref"]),
    ([""], ["reference"]),
    (["aa"], ["ab"]),
    (["a", "b"], ["a", "c"]),
    (["a"], ["a"]),
    (["a b c"], ["a b c"]),
    (["a b c"], ["abc"]),
    ([""], ["c"]),
    (
        [
            " risk assessment must be made of those who are qualified and expertise "
            "in the sector - these are the scientists ."
        ],
        [
            "risk assessment has to be undertaken by those who are qualified and "
            "expert in that area - that is the scientists ."
        ],
    ),
    (
        [
            " Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. "
        ],
        [
            "Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade "
            "freundschaftlich."
        ],
    ),
    (
        ["Niemand hat die Absicht, eine Mauer zu errichten"],
        ["Niemand hat die Absicht, eine Mauer zu errichten"],
    ),
]
SENTENCES = [
    (
        "Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.",
        [
            "Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít "
            "a kdo zemře."
        ],
    ),
    (
        "Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.",
        ["A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři."],
    ),
    (
        "Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.",
        [
            "Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl "
            "začít, připomněli.",
            "Lapali po dechu.",
        ],
    ),
    ("(hi) there, (friend)!", ["hi there friend", "(hi) there, friend!"]),
    ("Grüße aus Köln! 北京欢迎你 🙂", ["grüße aus köln 北京 欢迎 你"]),
]


def _random_corpus(seed):
    rng = random.Random(seed)
    words = (
        "the a cat Cat dog sat on mat , . ! ( ) 'quote' it's Köln 北京 e-mail".split()
    )
    segments = rng.randint(1, 5)

    def text():
        return "  ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))

    hypotheses = [text() for _ in range(segments)]
    streams = [[text() for _ in range(segments)] for _ in range(rng.randint(1, 3))]
    if len(streams) > 1:
        streams[-1][0] = None  # a segment with fewer references
    return hypotheses, streams


CORPORA = [(h, [r]) for h, r in SACREBLEU_CASES] + [
    _random_corpus(s) for s in range(12)
]

OPTIONS = [
    {},
    {"word_order": 2},
    {"word_order": 1, "char_order": 3},
    {"char_order": 6, "word_order": 0, "beta": 3, "eps_smoothing": True},
    {"char_order": 6, "word_order": 0, "beta": 3},
    {"beta": 3, "whitespace": True},
    {"word_order": 2, "eps_smoothing": True, "lowercase": True},
    {"char_order": 1, "beta": 1},
    {"char_order": 4, "word_order": 3, "beta": 0.5, "whitespace": True},
]


def _sacrebleu_chrf(**options):
    return CHRF(**options)


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("case", range(len(CORPORA)))
def test_corpus_chrf_equals_sacrebleu(case, options):
    hypotheses, references = CORPORA[case]
    theirs = _sacrebleu_chrf(**options).corpus_score(hypotheses, references)
    ours = corpus_chrf(hypotheses, references, **options)
    assert ours.score == theirs.score
    assert ours.name == theirs.name
    assert (ours.char_order, ours.word_order, ours.beta) == (
        theirs.char_order,
        theirs.word_order,
        theirs.beta,
    )


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("case", range(len(SENTENCES)))
def test_sentence_chrf_equals_sacrebleu(case, options):
    hypothesis, references = SENTENCES[case]
    theirs = _sacrebleu_chrf(**options).sentence_score(hypothesis, references)
    assert sentence_chrf(hypothesis, references, **options).score == theirs.score


def test_compat_functions_and_remove_whitespace():
    hypotheses, references = CORPORA[11]
    theirs = sacrebleu.corpus_chrf(hypotheses, references, remove_whitespace=False)
    assert corpus_chrf(hypotheses, references, whitespace=True).score == theirs.score
    hypothesis, sentence_references = SENTENCES[0]
    theirs = sacrebleu.sentence_chrf(
        hypothesis, sentence_references, eps_smoothing=True
    )
    ours = sentence_chrf(hypothesis, sentence_references, eps_smoothing=True)
    assert ours.score == theirs.score
    assert sentence_chrf(hypothesis, sentence_references[0]).score == (
        sentence_chrf(hypothesis, sentence_references).score
    )


def test_best_reference_is_kept_per_segment():
    # The second reference is perfect, so the segment scores 100.
    result = sentence_chrf("the cat sat", ["a dog ran", "the cat sat"])
    assert result.score == pytest.approx(100.0)
    corpus = corpus_chrf(["the cat sat"], [["a dog ran"], ["the cat sat"]])
    assert corpus.score == pytest.approx(100.0)


def test_statistics_add_up_over_segments():
    hypotheses, references = CORPORA[16]
    total = corpus_chrf(hypotheses, references, word_order=2)
    per_segment = [
        corpus_chrf(
            [h],
            [[stream[i]] for stream in references if stream[i] is not None],
            word_order=2,
        )
        for i, h in enumerate(hypotheses)
    ]
    summed = [sum(values) for values in zip(*(s.statistics for s in per_segment))]
    assert summed == total.statistics
    assert len(total.statistics) == 3 * (6 + 2)


def test_character_and_word_statistics_by_hand():
    # chrF with char_order=1: unigram characters without whitespace.
    result = corpus_chrf(["ab a"], ["abb"], char_order=1)
    assert result.statistics == [3, 3, 2]  # hyp a,b,a; ref a,b,b; matches a,b
    precision, recall = 2 / 3, 2 / 3
    assert result.score == pytest.approx(
        100 * 5 * precision * recall / (4 * precision + recall)
    )
    # chrF++ splits one punctuation mark off a word's end, else its start.
    words = corpus_chrf(["(hi) x"], ["(hi ) x"], char_order=1, word_order=1)
    assert words.statistics[3:] == [3, 4, 2]  # (hi ) x: 4 words; match ), x


def test_identical_texts_score_100_and_empty_hypothesis_0():
    assert sentence_chrf("the cat sat.", ["the cat sat."], word_order=2).score == (
        pytest.approx(100.0)
    )
    assert sentence_chrf("", ["the cat"]).score == 0.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"char_order": 0}, "`char_order`"),
        ({"word_order": -1}, "`word_order`"),
        ({"word_order": 1.5}, "`word_order`"),
        ({"beta": 0}, "`beta`"),
        ({"beta": "2"}, "`beta`"),
    ],
)
def test_bad_options_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        corpus_chrf(["a"], [["a"]], **kwargs)
    with pytest.raises(ValueError, match=message):
        sentence_chrf("a", ["a"], **kwargs)


def test_bad_inputs_raise():
    with pytest.raises(TypeError, match="`hypotheses`.*sentence_chrf"):
        corpus_chrf("a b", ["a b"])
    with pytest.raises(ValueError, match="`references` stream 0 has 1 segments"):
        corpus_chrf(["a", "b"], [["a"]])
    with pytest.raises(ValueError, match="no reference for segment 0"):
        corpus_chrf(["a"], [[None]])
    with pytest.raises(TypeError, match="`hypothesis`"):
        sentence_chrf(["a"], ["a"])
    with pytest.raises(ValueError, match="`references`"):
        sentence_chrf("a", [])


TEXT = st.lists(
    st.sampled_from(
        ["the", "cat", "Cat", "sat", "(on)", "mat,", "!", "a-b", "üñ", "x"]
    ),
    max_size=12,
).map(" ".join)


@settings(max_examples=80, deadline=None)
@given(
    hypotheses=st.lists(TEXT, min_size=1, max_size=3),
    data=st.data(),
    char_order=st.integers(1, 6),
    word_order=st.integers(0, 2),
    beta=st.sampled_from([1, 2, 3]),
    flags=st.fixed_dictionaries(
        {
            "lowercase": st.booleans(),
            "whitespace": st.booleans(),
            "eps_smoothing": st.booleans(),
        }
    ),
)
def test_random_corpora_equal_sacrebleu(
    hypotheses, data, char_order, word_order, beta, flags
):
    size = len(hypotheses)
    references = data.draw(
        st.lists(st.lists(TEXT, min_size=size, max_size=size), min_size=1, max_size=2)
    )
    options = {
        "char_order": char_order,
        "word_order": word_order,
        "beta": beta,
        **flags,
    }
    ours = corpus_chrf(hypotheses, references, **options)
    theirs = CHRF(**options).corpus_score(hypotheses, references)
    assert isinstance(ours, ChrFScore)
    assert ours.score == theirs.score
    assert 0.0 <= ours.score <= 100.0 + 1e-9
