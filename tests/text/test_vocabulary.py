import json

import numpy as np
import pytest
import tensorflow as tf

from keras_seq.text import Vocabulary

TEXTS = ["hello world", "hold the door", "world of words"]


def test_reserved_ids_and_properties():
    vocab = Vocabulary(["a", "b"])
    assert (Vocabulary.PAD, Vocabulary.UNK, Vocabulary.SOS, Vocabulary.EOS) == (
        0,
        1,
        2,
        3,
    )
    assert (vocab.pad_id, vocab.unk_id, vocab.sos_id, vocab.eos_id) == (0, 1, 2, 3)
    assert vocab.tokens == ["<pad>", "<unk>", "<sos>", "<eos>", "a", "b"]
    for i, token in enumerate(["<pad>", "<unk>", "<sos>", "<eos>"]):
        assert vocab.token_to_id(token) == i
        assert vocab.id_to_token(i) == token
    assert len(vocab) == 6
    assert len(Vocabulary()) == 4


def test_build_ordering_is_count_then_token():
    vocab = Vocabulary.build(["b a", "a c a", "c"], level="word")
    # a: 3, c: 2, b: 1
    assert vocab.tokens[4:] == ["a", "c", "b"]
    # Ties are broken by the token, independent of the text order.
    v1 = Vocabulary.build(["xy", "zw"])
    v2 = Vocabulary.build(["zw", "xy"])
    assert v1.tokens == v2.tokens == ["<pad>", "<unk>", "<sos>", "<eos>"] + list("wxyz")


def test_build_min_count_max_size_lowercase():
    vocab = Vocabulary.build(["aaab", "bc", "A"], min_count=2)
    assert vocab.tokens[4:] == ["a", "b"]
    vocab = Vocabulary.build(["aaab", "bc", "A"], max_size=5)
    assert vocab.tokens[4:] == ["a"]
    assert len(vocab) == 5
    vocab = Vocabulary.build(["aaab", "bc", "AAAAA"], lowercase=True)
    assert vocab.tokens[4:] == ["a", "b", "c"]
    assert "A" in vocab and vocab.token_to_id("A") == vocab.token_to_id("a")


def test_build_skips_reserved_words():
    vocab = Vocabulary.build(["<unk> cat <eos>"], level="word")
    assert vocab.tokens[4:] == ["cat"]


def test_tokenize():
    assert Vocabulary().tokenize("ab c") == ["a", "b", " ", "c"]
    assert Vocabulary(level="word").tokenize("  ab \t c\n") == ["ab", "c"]
    assert Vocabulary(level="word", lowercase=True).tokenize("Ab C") == ["ab", "c"]


@pytest.mark.parametrize("level", ["char", "word"])
def test_round_trip(level):
    vocab = Vocabulary.build(TEXTS, level=level)
    for text in TEXTS:
        ids = vocab.encode(text)
        assert ids.dtype == np.int32 and ids.ndim == 1
        assert vocab.decode(ids) == text
        ids = vocab.encode(text, max_length=40, add_sos=True, add_eos=True)
        assert ids.shape == (40,)
        assert ids[0] == vocab.sos_id
        assert vocab.decode(ids) == text
    batch = vocab.encode(TEXTS, add_sos=True, add_eos=True)
    assert batch.dtype == np.int32 and batch.ndim == 2
    assert batch.shape[0] == len(TEXTS)
    assert vocab.decode(batch) == TEXTS
    assert vocab.decode(tf.constant(batch)) == TEXTS


def test_encode_padding_and_batch_shapes():
    vocab = Vocabulary(["a", "b", "c"])
    np.testing.assert_array_equal(vocab.encode("cab", max_length=5), [6, 4, 5, 0, 0])
    np.testing.assert_array_equal(
        vocab.encode("cab", max_length=5, pad=False), [6, 4, 5]
    )
    batch = vocab.encode(["a", "abc", ""], add_eos=True)
    np.testing.assert_array_equal(batch, [[4, 3, 0, 0], [4, 5, 6, 3], [3, 0, 0, 0]])
    assert vocab.encode(["a"], max_length=7).shape == (1, 7)
    assert vocab.encode([], max_length=7).shape == (0, 7)
    ragged = vocab.encode(["a", "abc"], pad=False)
    assert [r.tolist() for r in ragged] == [[4], [4, 5, 6]]


def test_unknown_tokens_map_to_unk():
    vocab = Vocabulary(["h", "e", "l", "o"])
    ids = vocab.encode("hexlo")
    assert ids.tolist() == [4, 5, vocab.unk_id, 6, 7]
    assert vocab.token_to_id("x") == vocab.unk_id
    assert vocab.decode(ids) == "he<unk>lo"
    words = Vocabulary(["hi"], level="word")
    assert words.encode("hi you").tolist() == [4, 1]
    assert words.decode([4, 1]) == "hi <unk>"


def test_decode_strip_special():
    vocab = Vocabulary(["a", "b"])
    ids = [2, 4, 5, 3, 4, 0, 0]
    assert vocab.decode(ids) == "ab"
    assert vocab.decode(ids, strip_special=False) == "<sos>ab<eos>a<pad><pad>"
    words = Vocabulary(["x", "y"], level="word")
    assert words.decode([[4, 5, 3, 4], [5, 0, 0, 0]]) == ["x y", "y"]
    assert words.decode(np.array([], dtype=np.int32)) == ""


def test_contains_and_lookups():
    vocab = Vocabulary(["a", "b"])
    assert "a" in vocab and "<pad>" in vocab
    assert "z" not in vocab and 4 not in vocab
    assert vocab.id_to_token(np.int64(5)) == "b"


def test_encode_max_length_errors_and_truncation():
    vocab = Vocabulary(["a", "b", "c"])
    with pytest.raises(ValueError, match="max_length"):
        vocab.encode("abcabc", max_length=4)
    with pytest.raises(ValueError, match=r"item 1.*max_length"):
        vocab.encode(["a", "abcabc"], max_length=4)
    with pytest.raises(ValueError, match="max_length"):
        vocab.encode("abc", max_length=3, add_sos=True)
    out = vocab.encode("abcabc", max_length=4, truncate=True)
    assert out.tolist() == [4, 5, 6, 4]
    out = vocab.encode(
        "abcabc", max_length=4, add_sos=True, add_eos=True, truncate=True
    )
    assert out.tolist() == [2, 4, 5, 3]
    with pytest.raises(ValueError, match="max_length"):
        vocab.encode("a", max_length=1, add_sos=True, add_eos=True, truncate=True)
    with pytest.raises(ValueError, match="max_length"):
        vocab.encode("a", max_length=2.5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"level": "sentence"}, '`level` must be "char" or "word"'),
        ({"lowercase": "yes"}, "`lowercase` must be a bool"),
        ({"tokens": "abc"}, "`tokens` must be a list of strings"),
        ({"tokens": ["a", "b", "a"]}, "`tokens` must not repeat"),
        ({"tokens": ["a", "<unk>"]}, "`tokens` must not contain the reserved"),
        ({"tokens": ["ab"]}, "single characters"),
        ({"tokens": ["a b"], "level": "word"}, "must not contain whitespace"),
        ({"tokens": ["a", 3]}, "non-empty strings"),
        ({"tokens": [""]}, "non-empty strings"),
    ],
)
def test_constructor_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Vocabulary(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"texts": "abc"}, "`texts` must be a list of strings"),
        ({"texts": ["a", None]}, "`texts` must contain only strings"),
        ({"texts": ["a"], "min_count": 0}, "`min_count`"),
        ({"texts": ["a"], "max_size": 3}, "`max_size` must be >= 4"),
        ({"texts": ["a"], "level": "byte"}, "`level`"),
    ],
)
def test_build_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Vocabulary.build(**kwargs)


def test_other_errors():
    vocab = Vocabulary(["a"])
    with pytest.raises(ValueError, match="`id` must be in"):
        vocab.id_to_token(5)
    with pytest.raises(ValueError, match="`id` must be an integer"):
        vocab.id_to_token("a")
    with pytest.raises(ValueError, match="`ids` must be in"):
        vocab.decode([4, 9])
    with pytest.raises(ValueError, match="`ids` must have rank 1"):
        vocab.decode(np.zeros((1, 2, 3), dtype=np.int32))
    with pytest.raises(ValueError, match="`ids` must hold integers"):
        vocab.decode([1.5])
    with pytest.raises(ValueError, match="`text_or_list` must contain only strings"):
        vocab.encode(["a", 3])
    with pytest.raises(ValueError, match="`text`"):
        vocab.tokenize(3)


def test_config_round_trip_is_json_serialisable():
    vocab = Vocabulary.build(TEXTS, level="word", lowercase=True)
    config = json.loads(json.dumps(vocab.get_config()))
    clone = Vocabulary.from_config(config)
    assert clone.tokens == vocab.tokens
    assert clone.level == "word" and clone.lowercase is True
    assert clone.get_config() == vocab.get_config()


@pytest.mark.parametrize("level", ["char", "word"])
def test_save_load(tmp_path, level):
    vocab = Vocabulary.build(TEXTS + ["héllo ünïcode"], level=level, lowercase=True)
    path = tmp_path / "vocab.json"
    vocab.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"level", "lowercase", "tokens"}
    loaded = Vocabulary.load(str(path))
    assert loaded.tokens == vocab.tokens
    assert loaded.level == level and loaded.lowercase is True
    np.testing.assert_array_equal(loaded.encode(TEXTS), vocab.encode(TEXTS))


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[1, 2]",
        '{"level": "char", "lowercase": false}',
        '{"level": "char", "lowercase": false, "tokens": "abc"}',
        '{"level": "char", "lowercase": false, "tokens": ["a", "a"]}',
        '{"level": "letters", "lowercase": false, "tokens": []}',
    ],
)
def test_load_malformed(tmp_path, content):
    path = tmp_path / "bad_vocab.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match="bad_vocab.json"):
        Vocabulary.load(path)
