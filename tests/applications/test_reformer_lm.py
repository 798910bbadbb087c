"""applications.reformer_lm: recall documents, training, scoring, CLI."""

import numpy as np
import pytest

from applications.reformer_lm import app
from applications.reformer_lm.__main__ import main
from applications.reformer_lm.data import (
    CODE_WORDS,
    MARKER,
    Vocabulary,
    english_words,
    generate_documents,
)
from keras_seq.metrics import perplexity


def test_documents_repeat_the_code_at_the_end():
    docs = generate_documents(5, length=120, seed=3, num_codes=3)
    for doc in docs:
        assert len(doc) == 120
        head, tail = doc[3:6], doc[-4:-1]
        assert head == tail and all(w in CODE_WORDS for w in head)
        assert doc[1] == doc[-6] == MARKER
        # The filler never contains code words: only the two copies do.
        assert sum(w in CODE_WORDS for w in doc) == 6
    vocabulary = Vocabulary.build(docs)
    ids, recall = vocabulary.encode_documents(docs)
    assert ids.shape == (5, 120)
    for row, doc in enumerate(docs):
        assert [doc[i] for i in np.flatnonzero(recall[row])] == doc[-4:-1]
    assert generate_documents(2, 50, seed=1) == generate_documents(2, 50, seed=1)
    assert generate_documents(2, 50, seed=1) != generate_documents(2, 50, seed=2)


def test_english_filler_is_lee_corpus_text():
    words = english_words("english")
    assert len(words) > 50_000
    doc = generate_documents(1, length=300, seed=0, data="english")[0]
    filler = doc[8:-6]
    joined = " ".join(words)
    assert " ".join(filler[:20]) in joined  # consecutive corpus text


def test_invalid_arguments():
    with pytest.raises(ValueError, match="`length` must be an integer >= 16"):
        generate_documents(1, length=10)
    with pytest.raises(ValueError, match="`n` must be an integer >= 1"):
        generate_documents(0)
    with pytest.raises(ValueError, match="`data` must be 'generated', 'english'"):
        generate_documents(1, 100, data="/no/such/file.txt")
    with pytest.raises(ValueError, match="`size` must be one of"):
        app.train(size="huge")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("reformer_lm")
    result = app.train(
        size="fast", output=str(root / "lm.keras"), log_dir=str(root / "logs"),
        eval_examples=8, verbose=0,
    )
    return root, result


def test_fast_size_learns_the_word_distribution(trained):
    _, result = trained
    model = result["model"]
    assert model.sequence_length == app.SIZES["fast"].length
    losses = result["history"]["val_loss"]
    assert losses[-1] < losses[0]
    # Uniform guessing has perplexity |V|; the filler is far more predictable.
    assert result["perplexity"] < 0.5 * len(model.vocabulary)
    assert 0.0 <= result["recall_accuracy"] <= 1.0
    assert result["chance"] == pytest.approx(1 / 26)


def test_score_matches_the_perplexity_metric(trained):
    _, result = trained
    model = result["model"]
    docs = generate_documents(3, model.sequence_length, seed=99)
    scored = app.score(model, docs)
    ids, recall = model.vocabulary.encode_documents(docs)
    logits = np.asarray(model(ids[:, :-1]))
    expected = float(perplexity(ids[:, 1:], logits, mask=ids[:, 1:] > 0))
    assert scored["perplexity"] == pytest.approx(expected, rel=1e-4)
    guesses = logits.argmax(-1)[recall[:, 1:]]
    truth = ids[:, 1:][recall[:, 1:]]
    assert scored["recall_accuracy"] == pytest.approx(float(np.mean(guesses == truth)))


def test_saved_model_predicts_and_evaluates(trained, capsys):
    root, result = trained
    path = str(root / "lm.keras")
    restored = app.load(path)
    ids, _ = restored.vocabulary.encode_documents(generate_documents(1, 256, seed=5))
    np.testing.assert_allclose(restored(ids), result["model"](ids), atol=1e-6)
    lines = app.predict(path, ["code : alfa bravo charlie delta . the of and code :"], 4)
    assert lines[0].startswith("code : alfa") and " -> " in lines[0]
    assert len(lines[0].split(" -> ")[1].split()) <= 4
    assert main(["predict", "--model", path, "the of and"]) == 0
    assert "the of and -> " in capsys.readouterr().out
    evaluated = app.evaluate(path, examples=2)
    assert evaluated["eval_examples"] == 2 and evaluated["perplexity"] > 1.0
