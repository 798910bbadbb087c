import math

import kenlm
import numpy as np
import pytest

from keras_seq.decoding import KenLMAdapter, NGramLM

WORDS = "turn on off the light fan up down left right yes no stop go".split()


@pytest.fixture
def texts(rng):
    return [" ".join(rng.choice(WORDS, size=rng.integers(1, 7))) for _ in range(200)]


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("level", ["word", "char"])
def test_every_conditional_distribution_sums_to_one(texts, order, level):
    lm = NGramLM(order, level=level).fit(texts)
    contexts = [("<s>",), ("<s>", "turn"), ("the", "light"), ("zebra",), ("t", "u"), ("o", "n", " ")]
    for context in contexts:
        total = sum(10 ** lm.log10_prob(context, token) for token in lm.vocabulary)
        assert abs(total - 1.0) < 1e-9, (context, total)


def test_bigram_kneser_ney_formula():
    lm = NGramLM(order=2).fit(["a b", "a c", "b c"])
    # Bigram counts (raw): <s>a 2, <s>b 1, ab 1, ac 1, bc 1, b</s> 1, c</s> 2 -> n1=5, n2=2.
    d2 = 5 / (5 + 2 * 2)
    # Unigram continuation counts N1+(. w): a 1 (<s>), b 2 (<s>, a), c 2 (a, b), </s> 2 (b, c).
    # n1=1, n2=3 -> d1 = 1 / 7; vocabulary a b c </s> <unk>.
    d1 = 1 / 7
    p1_c = (2 - d1) / 7 + d1 * 4 / 7 / 5
    # Context "a": seen twice (a b, a c), two types.
    expected = (1 - d2) / 2 + d2 * 2 / 2 * p1_c
    assert math.isclose(10 ** lm.log10_prob(("a",), "c"), expected, rel_tol=1e-12)
    assert math.isclose(lm(("a",), "c"), math.log(expected), rel_tol=1e-12)
    p1_unk = d1 * 4 / 7 / 5
    assert math.isclose(10 ** lm.log10_prob(("a",), "zebra"), d2 * p1_unk, rel_tol=1e-12)


@pytest.mark.parametrize("order", [2, 3, 4])
def test_arpa_read_by_kenlm_gives_the_same_scores(tmp_path, texts, order):
    lm = NGramLM(order).fit(texts)
    path = lm.to_arpa(tmp_path / "lm.arpa")
    model = kenlm.Model(str(path))
    for sentence in texts[:15] + ["turn zebra light", "stop stop the the the", "unknown"]:
        assert math.isclose(lm.score(sentence), model.score(sentence), abs_tol=1e-4)
        assert math.isclose(
            lm.score(sentence, bos=False, eos=False),
            model.score(sentence, bos=False, eos=False),
            abs_tol=1e-4,
        )
    adapter = KenLMAdapter(model)
    for context, word in [(("<s>",), "turn"), (("turn", "on"), "the"), (("<s>", "zebra"), "fan")]:
        assert math.isclose(adapter(context, word), lm(context, word), abs_tol=3e-4)


def test_char_level_arpa_with_space_symbol(tmp_path, texts):
    lm = NGramLM(3, level="char").fit(texts)
    model = kenlm.Model(str(lm.to_arpa(tmp_path / "chars.arpa")))
    for sentence in texts[:5]:
        as_tokens = " ".join("<space>" if c == " " else c for c in sentence)
        assert math.isclose(lm.score(sentence), model.score(as_tokens), abs_tol=1e-4)
    adapter = KenLMAdapter(model, level="char")
    assert math.isclose(adapter(("<s>", "o", "n"), " "), lm(("<s>", "o", "n"), " "), abs_tol=3e-4)


def test_fused_decoding_with_kenlm_equals_ngram(tmp_path, texts, rng):
    from keras_seq.decoding import ctc_beam_search_decode

    alphabet = ["_"] + sorted(set("".join(WORDS))) + [" "]
    lm = NGramLM(3).fit(texts)
    adapter = KenLMAdapter(str(lm.to_arpa(tmp_path / "lm.arpa")))
    logits = rng.normal(size=(2, 30, len(alphabet))) * 4
    ours = ctc_beam_search_decode(logits, beam_width=8, lm=lm, alphabet=alphabet, top_paths=2)
    theirs = ctc_beam_search_decode(logits, beam_width=8, lm=adapter, alphabet=alphabet, top_paths=2)
    for b in range(2):
        assert [p.tolist() for p in ours[0][b]] == [p.tolist() for p in theirs[0][b]]
    np.testing.assert_allclose(ours[1], theirs[1], atol=1e-3)


def test_errors():
    with pytest.raises(ValueError, match="`order` must be a positive integer"):
        NGramLM(0)
    with pytest.raises(ValueError, match="`level` must be 'word' or 'char'"):
        NGramLM(2, level="byte")
    with pytest.raises(ValueError, match="not fitted"):
        NGramLM(2)(("<s>",), "a")
    with pytest.raises(ValueError, match="`texts` must be an iterable of sentences"):
        NGramLM(2).fit("one string")
    with pytest.raises(ValueError, match="`token` cannot be '<s>'"):
        NGramLM(2).fit(["a"]).log10_prob((), "<s>")
