"""The qa application: SQuAD metrics, the memory network, training, reload and CLI."""

import re
import string
from collections import Counter

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from applications.qa import app
from applications.qa.__main__ import main
from applications.qa.babi import format_babi, generate_stories
from applications.qa.data import generate_examples
from applications.qa.memnet import LstmReader, MemoryNetwork, position_encoding

# --------------------------------------------------------------------------
# The official SQuAD v1.1 evaluation formula (evaluate-v1.1.py), transcribed
# as the reference for app.normalize_answer / exact_match / f1.


def official_normalize(s):
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def official_f1(prediction, truth):
    p, t = official_normalize(prediction).split(), official_normalize(truth).split()
    same = sum((Counter(p) & Counter(t)).values())
    if same == 0:
        return 0
    precision, recall = same / len(p), same / len(t)
    return 2 * precision * recall / (precision + recall)


def official_max(metric, prediction, truths):
    return max(metric(prediction, t) for t in truths)


TEXT = st.lists(
    st.sampled_from(["the", "a", "an", "The", "Anna", "paris", "bus", "driver", "1987", ",", ".", "'s", "-",
                     "(", ")", " ", "  ", "théâtre", "an–the", "a\tb", "thea", "x"]),
    max_size=8,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(TEXT, st.lists(TEXT, min_size=1, max_size=3))
def test_squad_metrics_match_the_official_formula(prediction, truths):
    assert app.normalize_answer(prediction) == official_normalize(prediction)
    assert app.exact_match(prediction, truths) == float(
        official_max(lambda a, b: official_normalize(a) == official_normalize(b), prediction, truths)
    )
    assert app.f1(prediction, truths) == pytest.approx(official_max(official_f1, prediction, truths))


def test_squad_metrics_by_hand():
    assert app.exact_match("The Bus Driver", ["a bus driver!"]) == 1.0
    # 2 common tokens of 3 predicted and 2 true: P = 2/3, R = 1, F1 = 0.8.
    assert app.f1("march 2004 paris", ["March, 2004"]) == pytest.approx(0.8)
    assert app.f1("", ["x"]) == 0.0


# --------------------------------------------------------------------------
# Memory network.


def test_position_encoding_formula():
    ids = np.array([[4, 9, 2, 0, 0], [7, 0, 0, 0, 0]])
    got = np.asarray(position_encoding(ids, 6))
    for row, sentence in zip(got, ids):
        J = int((sentence != 0).sum())
        for j in range(5):
            for k in range(6):
                expected = (1 - (j + 1) / J) - ((k + 1) / 6) * (1 - 2 * (j + 1) / J) if j < J else 0.0
                assert row[j, k] == pytest.approx(expected, abs=1e-6)


def test_memory_network_ignores_empty_slots_and_uses_time(tmp_path):
    model = MemoryNetwork(30, memory_size=5, embedding_dim=8, hops=3)
    story = np.array([[[3, 4, 5], [6, 7, 0], [8, 9, 10], [0, 0, 0], [0, 0, 0]]])
    question = np.array([[11, 3, 0]])
    logits, attention = model.call({"story": story, "question": question}, return_attention=True)
    attention = np.asarray(attention)
    assert attention.shape == (1, 3, 5)
    np.testing.assert_allclose(attention[0, :, 3:], 0.0, atol=1e-7)
    np.testing.assert_allclose(attention.sum(-1), 1.0, rtol=1e-5)
    # Temporal encoding: the same sentences in other slots give other outputs.
    moved = np.asarray(model({"story": story[:, [2, 1, 0, 3, 4]], "question": question}))
    assert np.abs(moved - np.asarray(logits)).max() > 1e-4
    # Saved and reloaded, outputs are identical; the LSTM baseline too.
    for net in (model, LstmReader(30, units=8, embedding_dim=8)):
        net({"story": story, "question": question})
        path = tmp_path / f"{type(net).__name__}.keras"
        net.save(path)
        restored = keras.models.load_model(path)
        np.testing.assert_allclose(
            np.asarray(restored({"story": story, "question": question})),
            np.asarray(net({"story": story, "question": question})),
            rtol=1e-6,
            atol=1e-6,
        )
    with pytest.raises(ValueError, match="`hops` must be a positive integer"):
        MemoryNetwork(30, memory_size=5, hops=0)


def test_babi_codec_puts_the_latest_sentence_first():
    examples = [{"story": ["Mary went to the garden.", "John moved to the office."],
                 "question": "Where is Mary?", "answer": "garden"}]
    codec = app.BabiCodec.fit(examples)
    x, y = codec.encode(examples)
    vocab = codec.vocabulary
    assert [vocab.id_to_token(int(i)) for i in x["story"][0, 0] if i] == "john moved to the office".split()
    assert [vocab.id_to_token(int(i)) for i in x["story"][0, 1] if i] == "mary went to the garden".split()
    assert vocab.id_to_token(int(y[0])) == "garden"


# --------------------------------------------------------------------------
# Training, reload and the command line.


@pytest.fixture(scope="module")
def babi_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("qa_babi")
    result = app.train(size="fast", task="babi1", model="memn2n", output=str(root / "babi.keras"),
                       log_dir=str(root / "logs"), eval_examples=500, verbose=0)
    return root, result


def test_memory_network_learns_babi1_fast(babi_model):
    root, result = babi_model
    # Stated baseline: always answering the most frequent location (~1/6).
    assert result["majority_baseline"] < 0.3
    assert result["accuracy"] >= 0.8, result["examples"][:3]
    assert any((root / "logs").rglob("*tfevents*"))


def test_babi_model_predicts_after_reload(babi_model, capsys, tmp_path):
    root, result = babi_model
    story = "Mary went to the garden. John moved to the office. Mary travelled to the kitchen."
    assert main(["predict", f"{story} | Where is John?", f"{story} | Where is Mary?",
                 "--model", str(root / "babi.keras")]) == 0
    assert capsys.readouterr().out.split() == ["office", "kitchen"]
    # evaluate on a real-format file written here
    path = tmp_path / "qa1_test.txt"
    path.write_text(format_babi(generate_stories(1, 40, seed=123)), encoding="utf-8")
    assert main(["evaluate", "--model", str(root / "babi.keras"), "--data", str(path)]) == 0
    out = capsys.readouterr().out
    accuracy = float(re.search(r"accuracy ([\d.]+)%", out)[1])
    assert out.startswith("200 examples") and accuracy >= 80
    with pytest.raises(ValueError, match="story \\| question"):
        app.predict(root / "babi.keras", ["no separator"])


@pytest.fixture(scope="module")
def span_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("qa_span")
    result = app.train(size="fast", task="squad", output=str(root / "span.keras"), eval_examples=300, verbose=0)
    return root, result


def test_span_qa_fast_beats_chance(span_model):
    _, result = span_model
    # Stated baseline: a uniformly random valid span (<= 4 words) of the context.
    assert result["chance_exact_match"] < 0.01
    assert result["exact_match"] > 20 * result["chance_exact_match"], result["examples"][:3]
    assert result["f1"] >= result["exact_match"]
    assert result["history"]["loss"][-1] < result["history"]["loss"][0]


def test_span_model_predicts_after_reload(span_model, capsys):
    root, result = span_model
    examples = generate_examples(20, seed=99)
    texts = [f"{e['question']} | {e['context']}" for e in examples]
    assert main(["predict", *texts, "--model", str(root / "span.keras")]) == 0
    printed = capsys.readouterr().out.splitlines()
    expected, _ = app.predict_spans(result["model"], result["codec"], examples)
    assert printed == expected
    assert all(answer in e["context"] for answer, e in zip(printed, examples))


def test_bad_arguments():
    with pytest.raises(ValueError, match="`task` must be one of"):
        app.train(size="fast", task="babi3")
    with pytest.raises(ValueError, match="`model` must be one of"):
        app.train(size="fast", task="babi1", model="gru", train_examples=1, epochs=1, verbose=0)
