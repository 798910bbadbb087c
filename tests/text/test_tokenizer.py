"""`keras_seq.text.WordPieceTokenizer` against keras-hub's `WordPieceTokenizer`
(the peer it replaces on the start-up path): identical ids and detokenized
text eagerly and inside tf.data, for every pre-tokenization option."""

import json
import os
import subprocess
import sys

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.text import WordPieceTokenizer, train_wordpiece, wordpiece_tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Punctuation, accents (composed and combining), CJK, full-width and
# ligature characters that case folding rewrites, German sharp s, control
# and format characters (tab, zero-width space, soft hyphen), special tokens
# typed in the text (also lower-case and glued to words), emoji, words over
# 100 bytes, empty and blank strings.
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Don't stop -- it's 3:45pm; e-mail me@example.com!",
    "Café naïve résumé, Ärger über Straße",
    "cafe\u0301 with a combining accent",
    "北京は東京より大きい? 한국어 テキスト",
    "ＦＵＬＬ width and the ﬁne ligature",
    "tab\tnew\nline\u200bzero\u00adsoft\u2028sep",
    "[CLS] hello [SEP] world [MASK] [cls] x[SEP]y [UNK]",
    "emoji 🙂 and ☃ snow",
    "a" * 120 + " ok " + "é" * 60,
    "unbelievably unknowable quickly jumping",
    "",
    "   ",
]
EXTRA_TOKENS = ["##ly", "un", "##believ", "##able", "quick", "##ing", "é", "##é"]

OPTIONS = [
    {},
    {"strip_accents": True},
    {"lowercase": False},
    {"special_tokens_in_strings": True},
    {"special_tokens_in_strings": True, "lowercase": False},
    {"split_on_cjk": False},
    {"sequence_length": 9},
    {"sequence_length": 40, "strip_accents": True, "special_tokens_in_strings": True},
]


@pytest.fixture(scope="module")
def vocabulary():
    learned = train_wordpiece(CORPUS * 10, 400, lowercase=False)
    return learned + [t for t in EXTRA_TOKENS if t not in learned]


def _hub(vocabulary, **options):
    return wordpiece_tokenizer(vocabulary, **options)


def _rows(value):
    if isinstance(value, tf.RaggedTensor):
        return value.to_list()
    if isinstance(value, list):
        return [np.asarray(row).tolist() for row in value]
    return np.asarray(value).tolist()


@pytest.mark.parametrize(
    "options", OPTIONS, ids=lambda o: json.dumps(o, sort_keys=True)
)
def test_eager_equals_keras_hub(vocabulary, options):
    hub, ours = _hub(vocabulary, **options), WordPieceTokenizer(vocabulary, **options)
    assert isinstance(hub, keras_hub.tokenizers.WordPieceTokenizer)
    for text in CORPUS:
        expected, got = hub(text), ours(text)
        assert type(got) is type(expected) and got.dtype == expected.dtype
        assert got.tolist() == expected.tolist(), text
        assert ours.detokenize(got) == hub.detokenize(expected)
    # Batches: lists, NumPy and tensors of strings, bytes.
    for batch in (
        CORPUS,
        np.array(CORPUS),
        tf.constant(CORPUS),
        [t.encode() for t in CORPUS],
    ):
        expected, got = hub(batch), ours(batch)
        assert type(got) is type(expected)
        assert _rows(got) == _rows(expected)
        assert ours.detokenize(got) == hub.detokenize(expected)
    # Detokenizing ids that were not produced by tokenizing: leading and bare
    # suffix pieces, special tokens, a ragged batch.
    ids = [vocabulary.index(t) for t in ("##ly", "un", "##believ", "##able", "[SEP]", "##", "quick")
           if t in vocabulary]  # fmt: skip
    assert ours.detokenize(ids) == hub.detokenize(ids)
    assert ours.detokenize([ids, ids[:2]]) == hub.detokenize([ids, ids[:2]])


@pytest.mark.parametrize(
    "options", OPTIONS, ids=lambda o: json.dumps(o, sort_keys=True)
)
def test_tf_data_equals_keras_hub(vocabulary, options):
    hub, ours = _hub(vocabulary, **options), WordPieceTokenizer(vocabulary, **options)
    texts = tf.data.Dataset.from_tensor_slices(CORPUS)
    for dataset in (texts, texts.batch(4)):
        expected = [_rows(x) for x in dataset.map(hub)]
        got = list(dataset.map(ours))
        assert [_rows(x) for x in got] == expected
        assert all(x.dtype == tf.int32 for x in got)
        if options.get("sequence_length"):
            assert all(
                isinstance(x, tf.Tensor) and x.shape[-1] == options["sequence_length"]
                for x in got
            )
    # Detokenization inside a graph equals keras-hub's.
    ids = ours(CORPUS)
    ragged = tf.ragged.constant(ids) if isinstance(ids, list) else tf.constant(ids)
    graph = tf.function(ours.detokenize)(ragged)
    assert [t.decode() for t in graph.numpy()] == hub.detokenize(ids)


def test_eager_and_graph_paths_agree_with_each_other(vocabulary):
    ours = WordPieceTokenizer(vocabulary, strip_accents=True)
    eager = ours(CORPUS)
    assert _rows(tf.function(ours)(tf.constant(CORPUS))) == eager
    # A scalar string in a graph gives a vector; ragged input is tokenized
    # per string (the graph path, also eagerly).
    assert tf.function(ours)(tf.constant(CORPUS[0])).numpy().tolist() == eager[0]
    nested = ours(tf.ragged.constant([CORPUS[:2], CORPUS[2:3]]))
    assert nested.to_list() == [eager[:2], eager[2:3]]


def test_words_beyond_100_bytes_and_unknown_characters(vocabulary):
    ours = WordPieceTokenizer(vocabulary)
    unk = vocabulary.index("[UNK]")
    # 100 bytes is tokenized, 101 bytes is one [UNK] (keras-hub's limit).
    assert ours("a" * 100).tolist() != [unk]
    assert ours("a" * 101).tolist() == [unk]
    assert ours("é" * 51).tolist() == [unk]  # 102 bytes, 51 characters
    assert "♞" not in vocabulary
    assert ours("♞").tolist() == [unk]
    assert ours("the♞").tolist() == [unk]  # one unknown character: the whole word


def test_config_round_trip_and_saving(tmp_path, vocabulary):
    ours = WordPieceTokenizer(
        vocabulary,
        sequence_length=12,
        strip_accents=True,
        special_tokens_in_strings=True,
    )
    config = ours.get_config()
    json.dumps(config)
    assert config["vocabulary"] == vocabulary
    again = WordPieceTokenizer.from_config(config)
    np.testing.assert_array_equal(again(CORPUS), ours(CORPUS))
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(ours)
    )
    assert isinstance(restored, WordPieceTokenizer)
    np.testing.assert_array_equal(restored(CORPUS), ours(CORPUS))
    # In a saved model: a text-to-ids model reloaded from a .keras file.
    inputs = keras.Input(shape=(), dtype="string")
    model = keras.Model(inputs, ours(inputs))
    path = str(tmp_path / "tokenizer.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(np.asarray(loaded(tf.constant(CORPUS))), ours(CORPUS))


def test_vocabulary_helpers(tmp_path, vocabulary):
    ours, hub = WordPieceTokenizer(vocabulary), _hub(vocabulary)
    assert ours.get_vocabulary() == hub.get_vocabulary() == vocabulary
    assert ours.vocabulary_size() == hub.vocabulary_size()
    assert ours.token_to_id("[SEP]") == hub.token_to_id("[SEP]") == 3
    assert ours.id_to_token(4) == hub.id_to_token(4) == "[MASK]"
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    assert WordPieceTokenizer(str(path)).get_vocabulary() == vocabulary
    with pytest.raises(ValueError, match="`token`"):
        ours.token_to_id("no such token")
    with pytest.raises(ValueError, match="`id`"):
        ours.id_to_token(len(vocabulary))


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((["a", "[PAD]", "[UNK]"],), {}, "'\\[PAD\\]' at id 0"),
        ((["[PAD]", "a"],), {}, "`oov_token`"),
        ((["[PAD]", "[UNK]", "a", "a"],), {}, "duplicate"),
        (([],), {}, "must not be empty"),
        ((["[PAD]", "[UNK]"],), dict(sequence_length=0), "`sequence_length`"),
        ((["[PAD]", "[UNK]"],), dict(lowercase=1), "`lowercase`"),
        ((["[PAD]", "[UNK]"],), dict(suffix_indicator=""), "`suffix_indicator`"),
        (("/no/such/vocab.txt",), {}, "cannot be read"),
        ((42,), {}, "`vocabulary`"),
    ],
)
@pytest.mark.parametrize(
    "make", [WordPieceTokenizer, wordpiece_tokenizer], ids=["layer", "keras_hub"]
)
def test_argument_errors(make, args, kwargs, match):
    # One table for both constructors: `wordpiece_tokenizer` (keras-hub's
    # layer) and `WordPieceTokenizer` check their arguments in one function.
    with pytest.raises(ValueError, match=match):
        make(*args, **kwargs)


def test_input_errors(vocabulary):
    ours = WordPieceTokenizer(vocabulary)
    with pytest.raises(ValueError, match="item 1"):
        ours(["ok", 3])
    with pytest.raises(ValueError, match="`inputs` must be strings"):
        ours(tf.constant([1, 2]))
    with pytest.raises(ValueError, match="`inputs`"):
        ours(3.5)


def test_predict_path_imports_neither_keras_hub_nor_tensorflow_text():
    # The start-up goal (issue 20): the applications that tokenize with
    # WordPiece load their modules and tokenize without keras-hub.
    code = (
        "import sys\n"
        "import applications.transformer_nmt.app, applications.bert_pretraining.app\n"
        "import applications.text_to_text.app\n"
        "from keras_seq.text import WordPieceTokenizer\n"
        "t = WordPieceTokenizer(['[PAD]', '[UNK]', 'a', '##b'])\n"
        "assert t(['ab a', 'Ab!']) == [[2, 3, 2], [2, 3, 1]], t(['ab a', 'Ab!'])\n"
        "assert t.detokenize([2, 3, 2]) == 'ab a'\n"
        "print(sorted(m for m in ('keras_hub', 'tensorflow_text') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
