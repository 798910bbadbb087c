"""TER parity with SacreBLEU: its own cases, every tokenizer option, the shift
search on random and adversarial inputs (band, candidate limit), and errors."""

import random

import numpy as np
import pytest
import sacrebleu
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.metrics import TER

from keras_seq.metrics import TerScore, _ter_search, corpus_ter, sentence_ter

WMT_HYPOTHESES = [
    'wählen Sie " Bild neu berechnen , " um beim Ändern der Bildgröße Pixel '
    "hinzuzufügen oder zu entfernen , damit das Bild ungefähr dieselbe Größe "
    "aufweist wie die andere Größe .",
    "wenn Sie alle Aufgaben im aktuellen Dokument aktualisieren möchten , wählen "
    'Sie im Menü des Aufgabenbedienfelds die Option " Alle Aufgaben aktualisieren . "',
    'klicken Sie auf der Registerkarte " Optionen " auf die Schaltfläche " '
    'Benutzerdefiniert " und geben Sie Werte für " Fehlerkorrektur-Level " und " '
    'Y / X-Verhältnis " ein .',
    "Sie können beispielsweise ein Dokument erstellen , das ein Auto über die Bühne "
    "enthält .",
    'wählen Sie im Dialogfeld " Neu aus Vorlage " eine Vorlage aus und klicken Sie '
    'auf " Neu . "',
]
WMT_REFERENCES = [
    'wählen Sie " Bild neu berechnen , " um beim Ändern der Bildgröße Pixel '
    "hinzuzufügen oder zu entfernen , damit die Darstellung des Bildes in einer "
    "anderen Größe beibehalten wird .",
    WMT_HYPOTHESES[1],
    'klicken Sie auf der Registerkarte " Optionen " auf die Schaltfläche " '
    'Benutzerdefiniert " und geben Sie für " Fehlerkorrektur-Level " und " '
    'Y / X-Verhältnis " niedrigere Werte ein .',
    "Sie können beispielsweise ein Dokument erstellen , das ein Auto enthalt , das "
    "sich über die Bühne bewegt .",
    WMT_HYPOTHESES[4],
]

# (hypotheses, reference streams). The first five are SacreBLEU's test_ter.py.
CORPORA = [
    (["aaaa bbbb cccc dddd"], [["aaaa bbbb cccc dddd"]]),
    (["dddd eeee ffff"], [["aaaa bbbb cccc"]]),
    ([""], [["a"]]),
    (["d e f g h a b c"], [["a b c d e f g h"]]),
    (WMT_HYPOTHESES, [WMT_REFERENCES]),
    (["a b c"], [[""]]),
    ([""], [[""]]),
    (["", "x y"], [["", ""]]),
    (["The Cat sat."], [["the cat sat ."]]),
    (
        ["the cat sat on the mat", "a b c d"],
        [["a cat sat on the mat", "d c b a"], ["the mat the cat sat on", None]],
    ),
    (
        ["He said: &quot;yes&quot;, didn't he?", "It costs $5.99 (approx.)!"],
        [['he said "yes" , didn\'t he ?', "it costs $ 5.99 approx"]],
    ),
    (
        ["我爱北京天安门。", "東京は大きい都市です、本当に！"],
        [["我爱 北京 天安门", "東京は 大きい 都市 です 本当 に"]],
    ),
    (["Grüße aus Köln, Ça va?"], [["grüsse aus köln ça va"]]),
    (["tab\tseparated   words\nnewline  "], [["tab separated words newline"]]),
]


def _shuffled_corpus(seed, segments=4, length=30, vocabulary=8):
    """References are the hypotheses with blocks moved and words edited."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(vocabulary)]
    hypotheses, references = [], []
    for _ in range(segments):
        hypothesis = [rng.choice(words) for _ in range(rng.randint(1, length))]
        reference = list(hypothesis)
        for _ in range(rng.randint(0, 4)):
            start = rng.randrange(len(reference))
            block = reference[start : start + rng.randint(1, 6)]
            del reference[start : start + len(block)]
            at = rng.randint(0, len(reference))
            reference[at:at] = block
        for _ in range(rng.randint(0, 5)):
            if reference and rng.random() < 0.5:
                reference[rng.randrange(len(reference))] = rng.choice(words)
            else:
                reference.insert(rng.randint(0, len(reference)), rng.choice(words))
        hypotheses.append(" ".join(hypothesis))
        references.append(" ".join(reference))
    return hypotheses, [references]


CORPORA += [_shuffled_corpus(seed) for seed in range(8)]
CORPORA += [
    _shuffled_corpus(100, segments=2, length=120, vocabulary=40),  # beyond the band
    _shuffled_corpus(101, segments=2, length=90, vocabulary=3),  # many candidates
    (["a b c"], [[" ".join(f"w{i % 7}" for i in range(160)) + " a b c"]]),  # wide band
    ([" ".join(f"w{i % 5}" for i in range(140))], [["w1 w2 w3"]]),
]

OPTIONS = [
    {},
    {"case_sensitive": True},
    {"normalized": True},
    {"no_punct": True},
    {"normalized": True, "asian_support": True},
    {"no_punct": True, "asian_support": True},
    {"normalized": True, "no_punct": True, "case_sensitive": True},
]


def assert_same_ter(ours, theirs):
    assert isinstance(ours, TerScore)
    assert ours.score == theirs.score
    assert ours.num_edits == theirs.num_edits
    assert ours.ref_length == theirs.ref_length


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("case", range(len(CORPORA)))
def test_corpus_ter_equals_sacrebleu(case, options):
    hypotheses, references = CORPORA[case]
    theirs = TER(**options).corpus_score(hypotheses, references)
    assert_same_ter(corpus_ter(hypotheses, references, **options), theirs)


@pytest.mark.parametrize("options", OPTIONS[:4], ids=str)
@pytest.mark.parametrize("case", range(len(CORPORA)))
def test_sentence_ter_equals_sacrebleu(case, options):
    hypotheses, references = CORPORA[case]
    sentence_references = [s[0] for s in references if s[0] is not None]
    theirs = TER(**options).sentence_score(hypotheses[0], sentence_references)
    ours = sentence_ter(hypotheses[0], sentence_references, **options)
    assert_same_ter(ours, theirs)


def test_compat_function_and_known_values():
    hypotheses, references = CORPORA[4]
    theirs = sacrebleu.corpus_ter(hypotheses, references)
    assert_same_ter(corpus_ter(hypotheses, references), theirs)
    # one shift fixes "d e f g h a b c": 1 edit over 8 reference words
    result = corpus_ter(["d e f g h a b c"], ["a b c d e f g h"])
    assert (result.score, result.num_edits, result.ref_length) == (12.5, 1, 8.0)
    assert corpus_ter(["dddd eeee ffff"], ["aaaa bbbb cccc"]).score == 100.0


def test_empty_sides():
    assert corpus_ter([""], [[""]]).score == 0.0
    assert corpus_ter(["a b"], [[""]]).score == 100.0  # empty reference
    assert corpus_ter([""], [["a b c"]]).num_edits == 3


def test_several_references_take_fewest_edits_and_mean_length():
    result = sentence_ter("a b c", ["a b c d e f", "a x c"])
    assert result.num_edits == 1  # "a x c" needs one substitution
    assert result.ref_length == (6 + 3) / 2
    assert result.score == pytest.approx(100 / 4.5)


def test_candidate_limit_is_reached_and_respected(monkeypatch):
    # Two words: nearly every block matches somewhere, so the search tries over
    # 1,000 candidates; here it takes two shifts first, then stops at the limit
    # without applying the step that reached it, as SacreBLEU does.
    rng = random.Random(1)
    words = [rng.choice("ab") for _ in range(40)]
    hypothesis, reference = " ".join(words), " ".join(reversed(words))
    exhausted = []
    original = _ter_search._shift_candidates

    def recording(*args):
        candidates, checked, limit_hit = original(*args)
        exhausted.append(limit_hit)
        return candidates, checked, limit_hit

    monkeypatch.setattr(_ter_search, "_shift_candidates", recording)
    ours = sentence_ter(hypothesis, [reference])
    assert exhausted == [False, False, True]
    assert_same_ter(ours, TER().sentence_score(hypothesis, [reference]))


def test_band_limits_the_edit_distance_as_in_sacrebleu():
    # A hundred extra words in front push the matching diagonal out of the +-25
    # band: the banded distance exceeds the true Levenshtein distance (100).
    reference = [f"w{i}" for i in range(60)]
    hypothesis = [f"x{i}" for i in range(100)] + reference
    band = _ter_search._band(len(hypothesis), len(reference))
    ids = {word: i for i, word in enumerate(dict.fromkeys(hypothesis + reference))}
    banded = _ter_search._distances(
        np.array([[ids[w] for w in hypothesis]]),
        np.array([ids[w] for w in reference]),
        band,
    )[0]
    assert banded == 119  # SacreBLEU's BeamEditDistance gives 119 too
    ours = sentence_ter(" ".join(hypothesis), [" ".join(reference)])
    assert_same_ter(
        ours, TER().sentence_score(" ".join(hypothesis), [" ".join(reference)])
    )


def test_errors():
    with pytest.raises(TypeError, match="`hypotheses`.*sentence_ter"):
        corpus_ter("a b", ["a b"])
    with pytest.raises(ValueError, match="`references` stream 0 has 2 segments"):
        corpus_ter(["a"], [["a", "b"]])
    with pytest.raises(ValueError, match="no reference for segment 0"):
        corpus_ter(["a"], [[None]])
    with pytest.raises(TypeError, match="`hypothesis`"):
        sentence_ter(None, ["a"])
    with pytest.raises(ValueError, match="`references`"):
        sentence_ter("a", [])


WORDS = st.lists(st.sampled_from("a b c d e f".split()), max_size=40)


@settings(max_examples=120, deadline=None)
@given(hypothesis=WORDS, reference=WORDS, data=st.data())
def test_random_word_sequences_equal_sacrebleu(hypothesis, reference, data):
    # Build some references from the hypothesis with a block moved, so shifts
    # are actually taken, besides unrelated ones.
    if hypothesis and data.draw(st.booleans()):
        start = data.draw(st.integers(0, len(hypothesis) - 1))
        length = data.draw(st.integers(1, 8))
        block = hypothesis[start : start + length]
        rest = hypothesis[:start] + hypothesis[start + length :]
        at = data.draw(st.integers(0, len(rest)))
        reference = rest[:at] + block + rest[at:] + reference[:3]
    hypothesis, reference = " ".join(hypothesis), " ".join(reference)
    theirs = TER().sentence_score(hypothesis, [reference])
    assert_same_ter(sentence_ter(hypothesis, [reference]), theirs)
