"""BERT pretraining from scratch on gensim's Lee corpus, then span QA."""

import numpy as np
import pytest

from applications.bert_pretraining import app
from applications.bert_pretraining.__main__ import main
from applications.bert_pretraining.data import (
    load_corpus,
    load_lee_documents,
    save_corpus,
    split_sentences,
)
from applications.qa.data import generate_examples, save_squad


def test_lee_corpus_ships_with_gensim():
    documents = load_lee_documents()
    assert len(documents) > 250
    assert all(len(d) >= 2 for d in documents)
    assert documents[0][0].startswith("Hundreds of people have been forced to vacate their homes")


def test_corpus_format_round_trip_and_errors(tmp_path):
    documents = [["One sentence.", "Two sentences."], ["Another doc.", "It ends here."]]
    save_corpus(tmp_path / "c.txt", documents)
    assert load_corpus(tmp_path / "c.txt") == documents
    (tmp_path / "bad.txt").write_text("only one sentence\n")
    with pytest.raises(ValueError, match="at least two documents"):
        load_corpus(tmp_path / "bad.txt")
    assert split_sentences("Mr Smith left. 5 came back.") == ["Mr Smith left.", "5 came back."]


def test_qa_spans_map_words_to_word_pieces():
    pieces = app.WordPieces(app.train_wordpiece(["anna was born in lisbon in 1990"] * 20, 200))
    examples = generate_examples(50, seed=3)
    x, y, kept = app.qa_data(examples, pieces, 128)
    for tokens, start, end, example in zip(x["token_ids"], y["start"], y["end"], kept):
        answer = np.concatenate(pieces.ids(example["answer_text"].split()))
        np.testing.assert_array_equal(tokens[start : end + 1], answer)
        # [CLS] question [SEP] context [SEP]: exactly three special tokens.
        assert (tokens == app.CLS).sum() == 1 and (tokens == app.SEP).sum() == 2


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("bert")
    return root, app.train(size="fast", output=str(root / "qa.keras"), eval_examples=300, verbose=0)


def test_pretraining_and_fine_tuning_learn(trained):
    _, result = trained
    # Fast size: a few seconds of pretraining must still beat the untrained model,
    # and fine-tuning must find answer spans far above chance (~1/200; the
    # fast size reaches ~0.3).
    assert result["mlm_accuracy_after"] > result["mlm_accuracy_before"] + 0.01
    assert result["qa_exact_match"] > 0.15
    assert len(result["qa_history"]["val_exact_match"]) == app.SIZES["fast"].qa_epochs
    assert result["history"]["loss"][-1] < result["history"]["loss"][0]


def test_saved_model_evaluates_and_answers(trained, tmp_path, capsys):
    root, result = trained
    squad = tmp_path / "squad.json"
    save_squad(squad, generate_examples(20, seed=5))
    assert main(["evaluate", "--model", str(root / "qa.keras"), "--data", str(squad)]) == 0
    assert "20 examples: span-QA exact match" in capsys.readouterr().out
    assert main(["predict", "where was anna born ? | anna was born in lisbon .", "--model", str(root / "qa.keras")]) == 0
    answer = capsys.readouterr().out.strip()
    assert answer and answer in "anna was born in lisbon ."


def test_sentence_segments_and_task_adaptive_pairs():
    examples = generate_examples(40, seed=2)
    texts = [e["context"] for e in examples] + [e["question"] for e in examples]
    pieces = app.WordPieces(app.train_wordpiece(texts * 10, 600))
    x, y, kept = app.qa_data(examples, pieces, 64, sentence_segments=8)
    assert len(kept) == 40
    for tokens, segments, example in zip(x["token_ids"], x["segment_ids"], kept):
        first = int(np.argmax(tokens == app.SEP)) + 1
        assert (segments[:first] == 0).all()
        expected, sentence = [], 0
        for word in example["context"].split():
            expected += [1 + min(sentence, 7)] * len(pieces.ids([word])[0])
            sentence += word == "."
        n = len(expected)
        np.testing.assert_array_equal(segments[first : first + n], expected)
        assert tokens[first + n] == app.SEP and (tokens[first + n + 1 :] == app.PAD).all()
    rows, segments, labels = app.qa_pretraining_rows(examples, pieces, 64, 8, seed=0)
    assert 10 <= sum(labels) <= 30
    questions = [np.concatenate(pieces.ids(e["question"].split())) for e in examples]
    for i, (row, label) in enumerate(zip(rows, labels)):
        first = int(np.argmax(row == app.SEP))
        asked = row[1:first]
        if label:
            np.testing.assert_array_equal(asked, questions[i])
        else:  # another passage's question
            assert any(np.array_equal(asked, q) for j, q in enumerate(questions) if j != i)


def test_question_match_token_types():
    examples = generate_examples(30, seed=4)
    texts = [e["context"] for e in examples] + [e["question"] for e in examples]
    pieces = app.WordPieces(app.train_wordpiece(texts * 10, 600))
    x, _, kept = app.qa_data(examples, pieces, 64, sentence_segments=8, question_match=True)
    for tokens, segments, example in zip(x["token_ids"], x["segment_ids"], kept):
        first = int(np.argmax(tokens == app.SEP)) + 1
        asked = set(example["question"].split())
        expected, sentence = [], 0
        for word in example["context"].split():
            expected += [1 + 2 * min(sentence, 7) + (word in asked)] * len(pieces.ids([word])[0])
            sentence += word == "."
        np.testing.assert_array_equal(segments[first : first + len(expected)], expected)
    assert x["segment_ids"].max() <= 16
