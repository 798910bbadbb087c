"""The vocabulary-prefix cache of CTC LM fusion, hammered from threads."""

import sys
import threading

import numpy as np
import pytest

from keras_seq.decoding import NGramLM, ctc_beam_search_decode
from keras_seq.decoding._prefix_cache import VOCABULARY_PREFIXES, PrefixCache

LETTERS = ((1, "a"), (2, "b"))
ALPHABET = ["", "a", "b", " "]


@pytest.fixture
def frequent_switches():
    """Thread switches every microsecond, so races show up within a test."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def hammer(work, threads=8):
    errors = []

    def run(index):
        try:
            work(index)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors[:3]


def test_cache_returns_exact_prefixes_and_stays_bounded_under_threads(frequent_switches):
    cache = PrefixCache(max_entries=3)
    vocabularies = [[f"w{i}x{j}" for j in range(i + 1)] for i in range(10)]  # more than max_entries

    def work(index):
        rng = np.random.default_rng(index)
        for _ in range(3000):  # the unlocked cache this replaced failed every run at this count
            vocabulary = vocabularies[rng.integers(len(vocabularies))]
            words, prefixes, memo = cache.get(vocabulary, LETTERS)
            assert words == set(vocabulary)
            assert prefixes == {w[:i] for w in vocabulary for i in range(1, len(w) + 1)}
            memo.setdefault(vocabulary[0], len(vocabulary))
            assert len(cache) <= 3

    hammer(work)
    assert len(cache) == 3


def test_cache_keeps_the_most_recently_used():
    cache = PrefixCache(max_entries=2)
    first = cache.get(["a"], LETTERS)
    cache.get(["b"], LETTERS)
    assert cache.get(["a"], LETTERS)[2] is first[2]  # a hit refreshes "a"
    cache.get(["c"], LETTERS)  # evicts "b", the least recently used
    assert cache.get(["a"], LETTERS)[2] is first[2]
    assert cache.get(["b"], LETTERS)[1] == {"b"}


def test_fused_decoding_in_threads_equals_one_thread(frequent_switches):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 12, 4)) * 2
    lms = [NGramLM(order=2).fit(text) for text in (["ab ba", "ab"], ["ba", "ab ab"], ["a b"], ["bb a"], ["aa"])]
    options = dict(beam_width=6, top_paths=2, lm_weight=0.8, word_bonus=0.2, alphabet=ALPHABET, unknown_word_logp=-3.0)
    expected = [ctc_beam_search_decode(logits, lm=lm, **options) for lm in lms]

    def work(index):
        for round_ in range(6):
            which = (index + round_) % len(lms)  # more vocabularies than the cache holds
            paths, scores = ctc_beam_search_decode(logits, lm=lms[which], **options)
            np.testing.assert_array_equal(scores, expected[which][1])
            for got, want in zip(paths, expected[which][0]):
                assert [p.tolist() for p in got] == [p.tolist() for p in want]

    hammer(work, threads=6)
    assert len(VOCABULARY_PREFIXES) <= VOCABULARY_PREFIXES.max_entries
