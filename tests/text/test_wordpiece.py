import numpy as np
import pytest
import tensorflow as tf

from keras_seq.text import train_wordpiece, wordpiece_tokenizer

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "A quick movement of the enemy will jeopardize six gunboats!",
    "The five boxing wizards jump quickly; the dog sleeps.",
    "Jumping foxes and sleeping dogs, quickly jumping again.",
] * 15
RESERVED = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@pytest.fixture(scope="module")
def vocabulary():
    return train_wordpiece(CORPUS, vocabulary_size=200)


def test_training(vocabulary):
    assert vocabulary[:5] == RESERVED
    assert len(vocabulary) <= 200
    assert len(set(vocabulary)) == len(vocabulary)
    # Frequent words become whole tokens; every character has a piece.
    for word in ("the", "quick", "dog"):
        assert word in vocabulary
    for char in set("".join(CORPUS).lower()) - {" "}:
        assert char in vocabulary
    # Lower-cased by default.
    assert "The" not in vocabulary
    # Deterministic, and a Dataset gives the same vocabulary as a list.
    assert train_wordpiece(CORPUS, 200) == vocabulary
    dataset = tf.data.Dataset.from_tensor_slices(CORPUS)
    assert train_wordpiece(dataset, 200) == vocabulary
    # A small size caps the vocabulary.
    assert len(train_wordpiece(CORPUS, 30)) <= 30


def test_round_trip_and_padding(vocabulary):
    tokenizer = wordpiece_tokenizer(vocabulary)
    assert tokenizer.token_to_id("[PAD]") == 0
    assert tokenizer.vocabulary_size() == len(vocabulary)
    text = "the quick dog jumps over the lazy fox"
    ids = tokenizer(text)
    assert tokenizer.detokenize(ids) == text
    # Mixed case and pieces: the output is lower-cased and rejoined.
    assert tokenizer.detokenize(tokenizer("Jumping FOXES")) == "jumping foxes"
    padded = wordpiece_tokenizer(vocabulary, sequence_length=16)
    batch = np.asarray(padded(["the dog", text]))
    assert batch.shape == (2, 16)
    np.testing.assert_array_equal(batch[0, 2:], 0)
    np.testing.assert_array_equal(batch[1, : len(ids)], np.asarray(ids))


def test_unknown_characters_become_unk(vocabulary):
    tokenizer = wordpiece_tokenizer(vocabulary)
    unk = tokenizer.token_to_id("[UNK]")
    assert unk == 1
    ids = np.asarray(tokenizer("the ☃ dog")).tolist()
    assert ids == [tokenizer.token_to_id("the"), unk, tokenizer.token_to_id("dog")]
    # A word with one unknown character is one [UNK].
    assert np.asarray(tokenizer("d☃g")).tolist() == [unk]


def test_special_tokens_in_strings(vocabulary):
    tokenizer = wordpiece_tokenizer(vocabulary, special_tokens_in_strings=True)
    ids = np.asarray(tokenizer("[CLS] the dog [SEP]")).tolist()
    assert ids[0] == 2 and ids[-1] == 3
    assert np.asarray(wordpiece_tokenizer(vocabulary)("[CLS]")).tolist()[0] != 2


def test_vocabulary_file(tmp_path, vocabulary):
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    tokenizer = wordpiece_tokenizer(path)
    assert tokenizer.get_vocabulary() == vocabulary


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(vocabulary_size=5), "`vocabulary_size`"),
        (dict(vocabulary_size=2.5), "`vocabulary_size`"),
        (dict(reserved_tokens=["[UNK]", "[PAD]"]), "start with '\\[PAD\\]'"),
        (dict(reserved_tokens=[]), "must not be empty"),
        (dict(reserved_tokens=["[PAD]", "[PAD]"]), "must not repeat"),
        (dict(lowercase="yes"), "`lowercase`"),
        (dict(suffix_indicator=""), "`suffix_indicator`"),
        (dict(texts=[]), "`texts` must not be empty"),
        (dict(texts="one string"), "`texts`"),
        (dict(texts=["ok", 3]), "item 1"),
        (dict(texts=tf.data.Dataset.range(3)), "dataset of strings"),
    ],
)
def test_train_errors(kwargs, match):
    call = dict(texts=CORPUS, vocabulary_size=50)
    call.update(kwargs)
    with pytest.raises(ValueError, match=match):
        train_wordpiece(**call)
