"""BLEU parity with SacreBLEU, properties, and argument errors."""

import math
import random

import pytest
import sacrebleu
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.metrics import BLEU

from keras_seq.metrics import bleu_from_statistics, corpus_bleu, sentence_bleu

SMOOTHING = ["exp", "none", "floor", "add-k"]


def _random_text(rng, vocabulary, low, high):
    return " ".join(rng.choice(vocabulary) for _ in range(rng.randint(low, high)))


def _long_corpus(seed, segments=6, length=120):
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(40)] + [",", ".", "the", "of"]
    hypotheses = [
        _random_text(rng, vocabulary, length // 2, length) for _ in range(segments)
    ]
    references = [
        [_random_text(rng, vocabulary, length // 2, length) for _ in range(segments)]
        for _ in range(2)
    ]
    return hypotheses, references


# (hypotheses, reference streams): references[k][i] is reference k of segment i.
CORPORA = [
    (["the cat sat on the mat"], [["the cat sat on the mat"]]),
    (["the cat sat on the mat"], [["a dog ran in the park"]]),
    (["a cat on the mat"], [["the cat sat on the mat"]]),
    ([""], [["the cat sat on the mat"]]),
    (["", "the cat"], [["a b c d", "the cat sat"]]),
    (["the cat sat on the mat"], [[""]]),
    (["the"], [["the"]]),
    (["the the the the the the the"], [["the cat is on the mat"]]),
    (
        [
            "It is a guide to action which ensures that the military always obeys the commands of the party."
        ],
        [
            [
                "It is a guide to action that ensures that the military will forever heed Party commands."
            ],
            [
                "It is the guiding principle which guarantees the military forces always being under the command of the Party."
            ],
            [
                "It is the practical guide for the army always to heed the directions of the party."
            ],
        ],
    ),
    (
        ["the cat", "dogs bark loudly at night"],
        [
            ["the cat is here", "dogs bark"],
            ["cat", "the dogs bark loudly at night always"],
        ],
    ),
    # several references of different lengths, ties broken towards the shorter one
    (["a b c d e f"], [["a b c d"], ["a b c d e f g h"], ["a b c"]]),
    (["a b c d e"], [["a b c d"], ["a b c d e f"]]),
    (["a b c d e"], [["a b c d e f"], ["a b c d"]]),
    # missing references (None) in a stream
    (
        ["one two three", "four five six"],
        [["one two three", "four five"], [None, "four five six seven"]],
    ),
    (
        ["Grüße aus Köln", "Ça va très bien, merci!"],
        [["Grüße aus Köln am Rhein", "Ça va bien, merci !"]],
    ),
    (
        ["我爱北京天安门", "東京は 大きい 都市 です"],
        [["我爱北京", "東京は 大きい 都市 です"]],
    ),
    (
        ["emoji 🙂 test 🚀 ok", "naïve café résumé"],
        [["emoji 🙂 test ok", "naive cafe resume"]],
    ),
    (["مرحبا بالعالم الجميل", "Привет, мир!"], [["مرحبا بالعالم", "Привет мир"]]),
    (
        ["Hello, world! It's 3.14 and 1,000-2,000 (approx.)."],
        [["Hello world, it's 3.14 and 1,000 - 2,000 approx."]],
    ),
    (["He said: \"yes\"; she said 'no'?"], [["He said \"yes\" ; she said 'no' ?"]]),
    (["AT&amp;T &quot;rocks&quot; &lt;tag&gt;"], [['AT&T "rocks" <tag>']]),
    (
        ["text <skipped> here", "hyphen-\nated line\nbreak"],
        [["text here", "hyphenated line break"]],
    ),
    (
        ["trailing spaces   ", "  leading spaces"],
        [["trailing spaces", "leading spaces  "]],
    ),
    (["tabs\tand\tmore  spaces"], [["tabs and more spaces"]]),
    (["price: $5.99/kg @ 10:30 #deal"], [["price : $ 5.99 / kg @ 10 : 30 # deal"]]),
    (["The Cat Sat", "UPPER lower"], [["the cat sat", "upper LOWER"]]),
    (["a b", "c d", "e f", "g h"], [["a b", "c x", "y f", "g h"]]),
    (["x y z"], [["p q r s t u v w"]]),
    (["p q r s t u v w x y"], [["p q r"]]),
    (["a b c d", "a b c d"], [["a b c d", "d c b a"]]),
    (["..."], [["..."]]),
    (["1.000,50 € or 1,000.50 $"], [["1.000,50 € or 1,000.50 $"]]),
    _long_corpus(0),
    _long_corpus(1, segments=3, length=300),
]


def _random_corpora(count=8, seed=7):
    rng = random.Random(seed)
    vocabulary = "the a cat dog sat on mat , . ! ? 3.14 it's Köln 北京 &amp; -".split()
    corpora = []
    for _ in range(count):
        segments = rng.randint(1, 5)
        hypotheses = [_random_text(rng, vocabulary, 0, 14) for _ in range(segments)]
        references = [
            [_random_text(rng, vocabulary, 0, 14) for _ in range(segments)]
            for _ in range(rng.randint(1, 4))
        ]
        corpora.append((hypotheses, references))
    return corpora


ALL_CORPORA = CORPORA + _random_corpora()


def assert_same_bleu(ours, theirs):
    assert ours.score == theirs.score
    assert ours.precisions == theirs.precisions
    assert ours.bp == theirs.bp
    assert ours.sys_len == theirs.sys_len
    assert ours.ref_len == theirs.ref_len
    assert ours.counts == theirs.counts
    assert ours.totals == theirs.totals


def test_there_are_enough_parity_cases():
    assert len(ALL_CORPORA) >= 30


@pytest.mark.parametrize("smooth", SMOOTHING)
@pytest.mark.parametrize("tokenize", ["13a", "none"])
@pytest.mark.parametrize("case", range(len(ALL_CORPORA)))
def test_corpus_bleu_equals_sacrebleu(case, tokenize, smooth):
    hypotheses, references = ALL_CORPORA[case]
    theirs = sacrebleu.corpus_bleu(
        hypotheses, references, smooth_method=smooth, tokenize=tokenize
    )
    ours = corpus_bleu(hypotheses, references, smooth=smooth, tokenize=tokenize)
    assert_same_bleu(ours, theirs)


@pytest.mark.parametrize("smooth", SMOOTHING)
@pytest.mark.parametrize("tokenize", ["13a", "none"])
@pytest.mark.parametrize("case", range(len(ALL_CORPORA)))
def test_sentence_bleu_equals_sacrebleu(case, tokenize, smooth):
    hypotheses, references = ALL_CORPORA[case]
    hypothesis = hypotheses[0]
    sentence_references = [stream[0] for stream in references if stream[0] is not None]
    theirs = sacrebleu.sentence_bleu(
        hypothesis, sentence_references, smooth_method=smooth, tokenize=tokenize
    )
    ours = sentence_bleu(
        hypothesis, sentence_references, smooth=smooth, tokenize=tokenize
    )
    assert_same_bleu(ours, theirs)


def test_sentence_bleu_defaults_match_sacrebleu():
    # exp smoothing and the effective order: a 2-word hypothesis is not zeroed.
    theirs = sacrebleu.sentence_bleu("the cat", ["the cat sat"])
    ours = sentence_bleu("the cat", ["the cat sat"])
    assert_same_bleu(ours, theirs)
    assert ours.score > 0
    assert sentence_bleu("the cat", "the cat sat").score == ours.score


@pytest.mark.parametrize("max_order", [1, 2, 3, 5])
@pytest.mark.parametrize("case", [0, 2, 8, 9, 10, 32, 33])
def test_max_order_equals_sacrebleu(case, max_order):
    hypotheses, references = ALL_CORPORA[case]
    theirs = BLEU(max_ngram_order=max_order).corpus_score(hypotheses, references)
    assert_same_bleu(corpus_bleu(hypotheses, references, max_order=max_order), theirs)


@pytest.mark.parametrize("tokenize", ["intl", "char", "zh"])
@pytest.mark.parametrize("case", [14, 15, 16, 18])
def test_other_sacrebleu_tokenizers(case, tokenize):
    hypotheses, references = ALL_CORPORA[case]
    theirs = sacrebleu.corpus_bleu(hypotheses, references, tokenize=tokenize)
    assert_same_bleu(corpus_bleu(hypotheses, references, tokenize=tokenize), theirs)


@pytest.mark.parametrize("case", [8, 9, 25, 26])
def test_lowercase_and_effective_order(case):
    hypotheses, references = ALL_CORPORA[case]
    theirs = sacrebleu.corpus_bleu(
        hypotheses, references, lowercase=True, use_effective_order=True
    )
    ours = corpus_bleu(hypotheses, references, lowercase=True, use_effective_order=True)
    assert_same_bleu(ours, theirs)


def test_flat_reference_list_is_one_stream():
    hypotheses = ["the cat sat", "a dog"]
    assert corpus_bleu(hypotheses, ["the cat sat", "a dog ran"]) == corpus_bleu(
        hypotheses, [["the cat sat", "a dog ran"]]
    )


def test_brevity_penalty_uses_closest_reference_ties_to_shorter():
    result = corpus_bleu(["a b c d e"], [["a b c d"], ["a b c d e f"]])
    assert result.ref_len == 4
    result = corpus_bleu(["a b c d e f"], [["a b c d e f g h"], ["a b c"]])
    assert result.ref_len == 8
    assert result.bp == pytest.approx(math.exp(1 - 8 / 6))


def test_empty_corpus_scores_zero():
    result = corpus_bleu([], [])
    assert result.score == 0.0 and result.sys_len == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"tokenize": "moses"}, "`tokenize`"),
        ({"smooth": "add-one"}, "`smooth`"),
        ({"smooth": "floor", "smooth_value": -1}, "`smooth_value`"),
        ({"smooth": "add-k", "smooth_value": "1"}, "`smooth_value`"),
        ({"max_order": 0}, "`max_order`"),
    ],
)
def test_bad_options_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        corpus_bleu(["a"], [["a"]], **kwargs)
    with pytest.raises(ValueError, match=message):
        sentence_bleu("a", ["a"], **kwargs)


def test_mismatched_stream_length_raises():
    with pytest.raises(ValueError, match="`references` stream 1 has 1 segments"):
        corpus_bleu(["a", "b"], [["a", "b"], ["a"]])


def test_segment_without_reference_raises():
    with pytest.raises(ValueError, match="no reference for segment 1"):
        corpus_bleu(["a", "b"], [["a", None]])
    with pytest.raises(ValueError, match="`references`"):
        sentence_bleu("a", [])


def test_wrong_types_raise():
    with pytest.raises(TypeError, match="`hypotheses`"):
        corpus_bleu("the cat", [["the cat"]])
    with pytest.raises(TypeError, match="`references`"):
        corpus_bleu(["the cat"], "the cat")
    with pytest.raises(TypeError, match="`hypothesis`"):
        sentence_bleu(["the cat"], ["the cat"])


WORD = st.text(alphabet="abcdefgh", min_size=1, max_size=4)
SENTENCE = st.lists(WORD, min_size=0, max_size=12).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(
    hypotheses=st.lists(SENTENCE, min_size=1, max_size=4),
    data=st.data(),
    smooth=st.sampled_from(["exp", "none"]),
)
def test_bleu_is_between_0_and_100(hypotheses, data, smooth):
    references = [
        data.draw(
            st.lists(SENTENCE, min_size=len(hypotheses), max_size=len(hypotheses))
        )
    ]
    score = corpus_bleu(hypotheses, references, smooth=smooth).score
    # SacreBLEU's own arithmetic gives 100.00000000000004 for a perfect match.
    assert 0.0 <= score <= 100.0 + 1e-9
    sentence = sentence_bleu(hypotheses[0], [references[0][0]], smooth=smooth).score
    assert 0.0 <= sentence <= 100.0 + 1e-9


@settings(max_examples=60, deadline=None)
@given(words=st.lists(WORD, min_size=4, max_size=20))
def test_identical_hypothesis_and_reference_score_100(words):
    text = " ".join(words)
    assert corpus_bleu([text], [[text]]).score == pytest.approx(100.0)
    assert sentence_bleu(text, [text]).score == pytest.approx(100.0)


@pytest.mark.parametrize(
    "smooth, smooth_value",
    [("floor", 0.0), ("floor", 0.01), ("floor", 0.5), ("add-k", 0.5), ("add-k", 2)],
)
@pytest.mark.parametrize("use_effective_order", [False, True])
@pytest.mark.parametrize("case", [1, 2, 4, 7, 9, 27, 29, 32])
def test_smooth_value_equals_sacrebleu(case, smooth, smooth_value, use_effective_order):
    hypotheses, references = ALL_CORPORA[case]
    options = {"smooth_value": smooth_value, "use_effective_order": use_effective_order}
    theirs = sacrebleu.corpus_bleu(
        hypotheses, references, smooth_method=smooth, **options
    )
    ours = corpus_bleu(hypotheses, references, smooth=smooth, **options)
    assert_same_bleu(ours, theirs)
    sentence_references = [stream[0] for stream in references if stream[0] is not None]
    theirs = sacrebleu.sentence_bleu(
        hypotheses[0], sentence_references, smooth_method=smooth, **options
    )
    ours = sentence_bleu(hypotheses[0], sentence_references, smooth=smooth, **options)
    assert_same_bleu(ours, theirs)


# SacreBLEU's own sentence-level cases (its issues #98 and #141).
ROMANIAN_REFERENCE = "producţia de zahăr brut se exprimă în zahăr alb;"
ROMANIAN_HYPOTHESIS = (
    "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;"
)


@pytest.mark.parametrize(
    "smooth, smooth_value, lowercase, tokenize",
    [
        ("exp", None, False, "13a"),
        ("none", None, False, "13a"),
        ("floor", None, False, "13a"),
        ("floor", 0.1, False, "13a"),
        ("floor", 0.5, False, "13a"),
        ("add-k", None, False, "13a"),
        ("add-k", 1, False, "13a"),
        ("add-k", 2, False, "13a"),
        ("exp", None, False, "none"),
        ("exp", None, False, "intl"),
        ("exp", None, False, "char"),
        ("exp", None, True, "char"),
    ],
)
@pytest.mark.parametrize(
    "hypothesis, reference",
    [(ROMANIAN_HYPOTHESIS, ROMANIAN_REFERENCE), ("this is a cat", "okay thanks")],
)
def test_sacrebleu_sentence_cases(
    hypothesis, reference, smooth, smooth_value, lowercase, tokenize
):
    options = {
        "smooth_value": smooth_value,
        "lowercase": lowercase,
        "tokenize": tokenize,
    }
    theirs = sacrebleu.sentence_bleu(
        hypothesis, [reference], smooth_method=smooth, **options
    )
    ours = sentence_bleu(hypothesis, [reference], smooth=smooth, **options)
    assert_same_bleu(ours, theirs)


@pytest.mark.parametrize(
    "hypotheses, references",
    [(["test"], ["a test"]), (["a test"], ["a test"]), (["a little test"], ["a test"])],
)
def test_effective_order_as_sacrebleu_raw_corpus_bleu(hypotheses, references):
    # raw_corpus_bleu: no tokenization, floor smoothing, effective order.
    theirs = sacrebleu.raw_corpus_bleu(hypotheses, [references], 0.01)
    ours = corpus_bleu(
        hypotheses,
        [references],
        smooth="floor",
        smooth_value=0.01,
        tokenize="none",
        use_effective_order=True,
    )
    assert_same_bleu(ours, theirs)


def test_effective_order_stops_at_the_first_order_without_ngrams():
    # 2 hypothesis words: orders 3 and 4 have no n-grams, so the mean is over
    # orders 1-2 only, whatever their precision.
    result = sentence_bleu("the dog", ["the cat sat"], smooth="none")
    assert result.totals == [2, 1, 0, 0]
    assert result.score == 0.0  # order 2 has n-grams but no match
    result = sentence_bleu("the cat", ["the cat sat"], smooth="none")
    assert result.score == pytest.approx(100 * math.exp(1 - 3 / 2))


def _compute_bleu(correct, total, sys_len, ref_len, **options):
    # SacreBLEU adds add-k's constant to the lists it is given: pass copies.
    return BLEU.compute_bleu(list(correct), list(total), sys_len, ref_len, **options)


@st.composite
def bleu_statistics(draw):
    max_order = draw(st.integers(1, 5))
    total = draw(st.lists(st.integers(0, 12), min_size=max_order, max_size=max_order))
    correct = [draw(st.integers(0, t)) for t in total]
    sys_len = draw(st.integers(0, 30))
    ref_len = draw(st.integers(0, 30))
    return correct, total, sys_len, ref_len, max_order


@settings(max_examples=300, deadline=None)
@given(
    statistics=bleu_statistics(),
    smooth=st.sampled_from(SMOOTHING),
    smooth_value=st.one_of(st.none(), st.floats(0, 3), st.integers(0, 3)),
    use_effective_order=st.booleans(),
)
def test_bleu_from_statistics_equals_compute_bleu(
    statistics, smooth, smooth_value, use_effective_order
):
    correct, total, sys_len, ref_len, max_order = statistics
    theirs = _compute_bleu(
        correct,
        total,
        sys_len,
        ref_len,
        smooth_method=smooth,
        smooth_value=smooth_value,
        effective_order=use_effective_order,
        max_ngram_order=max_order,
    )
    given_correct, given_total = list(correct), list(total)
    ours = bleu_from_statistics(
        correct,
        total,
        sys_len,
        ref_len,
        smooth=smooth,
        smooth_value=smooth_value,
        use_effective_order=use_effective_order,
        max_order=max_order,
    )
    assert_same_bleu(ours, theirs)
    assert ours.ratio == theirs.ratio
    assert (correct, total) == (given_correct, given_total)  # inputs untouched


# SacreBLEU's degenerate-statistics and scoring cases: (correct, total,
# sys_len, ref_len, floor value).
DEGENERATE = [
    ([0, 0, 0, 0], [4, 4, 2, 1], 0, 1, 0.0),
    ([0, 0, 0, 0], [10, 11, 12, 0], 14, 10, 0.0),
    ([0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.0),
    ([6, 5, 4, 0], [6, 5, 4, 3], 6, 6, 0.0),
    ([0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.1),
    ([0, 0, 0, 0], [0, 0, 0, 0], 1, 5, 0.01),
]


@pytest.mark.parametrize("correct, total, sys_len, ref_len, value", DEGENERATE)
def test_degenerate_statistics_score_zero(correct, total, sys_len, ref_len, value):
    options = {"smooth_value": value}
    ours = bleu_from_statistics(
        correct, total, sys_len, ref_len, smooth="floor", **options
    )
    theirs = _compute_bleu(
        correct, total, sys_len, ref_len, smooth_method="floor", **options
    )
    assert ours.score == theirs.score == 0.0
    assert_same_bleu(ours, theirs)


def test_bleu_from_statistics_formula():
    result = bleu_from_statistics([9, 7, 5, 3], [10, 8, 6, 4], 11, 11, smooth="none")
    expected = 100 * (9 / 10 * 7 / 8 * 5 / 6 * 3 / 4) ** 0.25
    assert result.score == pytest.approx(expected)
    # brevity penalty from the closest reference length
    short = bleu_from_statistics([9, 7, 5, 3], [10, 8, 6, 4], 10, 12, smooth="none")
    assert short.bp == pytest.approx(math.exp(1 - 12 / 10))
    assert short.score == pytest.approx(
        short.bp * 100 * (9 / 10 * 7 / 8 * 5 / 6 * 3 / 4) ** 0.25
    )
    # add-k smooths orders >= 2 only and reports the smoothed counts
    added = bleu_from_statistics([2, 0, 0, 0], [4, 3, 2, 1], 4, 4, smooth="add-k")
    assert added.counts == [2, 1, 1, 1] and added.totals == [4, 4, 3, 2]
    assert added.score == pytest.approx(100 * (2 / 4 * 1 / 4 * 1 / 3 * 1 / 2) ** 0.25)
    # corpus BLEU is BLEU from the summed statistics
    hypotheses, references = ALL_CORPORA[9]
    corpus = corpus_bleu(hypotheses, references, smooth="floor")
    again = bleu_from_statistics(
        corpus.counts, corpus.totals, corpus.sys_len, corpus.ref_len, smooth="floor"
    )
    assert again == corpus


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"correct": [1, 1, 1]}, "`correct` must hold one count per n-gram order"),
        ({"total": [1, 1, 1, 1, 1]}, "`total` must hold one count per n-gram order"),
        ({"max_order": 0}, "`max_order`"),
        ({"smooth": "add-1"}, "`smooth`"),
        ({"smooth_value": -0.5}, "`smooth_value`"),
    ],
)
def test_bleu_from_statistics_errors(kwargs, message):
    arguments = {
        "correct": [1, 1, 1, 1],
        "total": [2, 2, 2, 2],
        "sys_len": 4,
        "ref_len": 4,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        bleu_from_statistics(**arguments)
