import numpy as np
import pytest

from keras_seq.text import nsp_pairs


def make_documents(num_documents=40, seed=0):
    rng = np.random.default_rng(seed)
    return [
        [f"d{doc} s{index}" for index in range(rng.integers(1, 12))]
        for doc in range(num_documents)
    ]


def locate(documents):
    return {
        sentence: (doc, index)
        for doc, sentences in enumerate(documents)
        for index, sentence in enumerate(sentences)
    }


def test_half_positive_and_negatives_from_other_documents():
    documents = make_documents()
    where = locate(documents)
    pairs = nsp_pairs(documents, seed=1)
    expected = sum(max(len(d) - 1, 0) for d in documents)
    assert len(pairs) == expected
    labels = [is_next for _, _, is_next in pairs]
    assert set(labels) <= {0, 1}
    assert labels.count(0) == expected // 2
    assert labels.count(1) == expected - expected // 2
    # Every consecutive pair appears once, in document order.
    firsts = [where[a] for a, _, _ in pairs]
    assert firsts == sorted(firsts)
    assert len(set(firsts)) == expected
    for a, b, is_next in pairs:
        doc_a, index_a = where[a]
        doc_b, index_b = where[b]
        if is_next:
            assert (doc_b, index_b) == (doc_a, index_a + 1)
        else:
            assert doc_b != doc_a
            assert b != documents[doc_a][index_a + 1]
    # Negatives are spread over many documents.
    negatives = {where[b][0] for _, b, is_next in pairs if not is_next}
    assert len(negatives) > 20


def test_odd_count_rounds_negatives_down():
    pairs = nsp_pairs([["a", "b", "c", "d"], ["x"]], seed=0)
    assert [is_next for *_, is_next in pairs].count(0) == 1
    assert len(pairs) == 3
    assert all(b == "x" for _, b, is_next in pairs if not is_next)


def test_negative_never_equals_the_true_next_sentence():
    # The other document repeats the true next sentence almost everywhere.
    documents = [["a", "b"] * 10, ["b"] * 30 + ["z"]]
    negatives_after_a = []
    for seed in range(10):
        for a, b, is_next in nsp_pairs(documents, seed=seed):
            if not is_next and a == "a":  # "a" only occurs before "b"
                negatives_after_a.append(b)
    assert negatives_after_a and set(negatives_after_a) == {"z"}
    # Array sentences (token ids) are compared by value.
    ids = [[np.array([1, 2]), np.array([3, 4])], [np.array([3, 4]), np.array([5])]]
    for seed in range(5):
        for a, b, is_next in nsp_pairs(ids, seed=seed):
            if not is_next and np.array_equal(a, [1, 2]):
                np.testing.assert_array_equal(b, [5])


def test_determinism():
    documents = make_documents()
    assert nsp_pairs(documents, seed=5) == nsp_pairs(documents, seed=5)
    assert nsp_pairs(documents, seed=5) != nsp_pairs(documents, seed=6)


def test_errors():
    with pytest.raises(ValueError, match="at least 2 documents"):
        nsp_pairs([["a", "b"]])
    with pytest.raises(ValueError, match="`documents`"):
        nsp_pairs("ab")
    with pytest.raises(ValueError, match="document 1"):
        nsp_pairs([["a", "b"], "cd"])
    with pytest.raises(ValueError, match="two or more sentences"):
        nsp_pairs([["a"], ["b"]])
    with pytest.raises(ValueError, match="no sentence outside document 0"):
        nsp_pairs([["a", "b", "c"], []], seed=0)
    with pytest.raises(ValueError, match="`seed`"):
        nsp_pairs([["a", "b"], ["c"]], seed=1.5)
