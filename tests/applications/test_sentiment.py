"""The sentiment application: generated splits, loaders, averaging vs LSTM."""

import numpy as np
import pytest

from applications.sentiment import app
from applications.sentiment.__main__ import main
from applications.sentiment.data import (
    CLASSES,
    SEEN,
    UNSEEN,
    generate_negations,
    load_csv,
    load_imdb,
    make_dataset,
)
from applications.word_vectors.corpus import embedded_corpus


def test_splits_are_disjoint_and_unseen_words_are_in_the_corpus():
    train, tests = make_dataset(2000, 300, seed=4)
    train_words = {w for text, _ in train for w in text.split()}
    unseen = {w for words in UNSEEN.values() for w in words}
    assert not unseen & train_words
    assert all(any(w in unseen for w in text.split()) for text, _ in tests["unseen"])
    assert not {text for text, _ in tests["seen"]} & {text for text, _ in train}
    corpus_words = {w for s in embedded_corpus("wikipedia") for w in s}
    assert unseen <= corpus_words
    # Negation flips the polarity: every negated joy keyword is labelled sadness and vice versa.
    for text, label in generate_negations(200, seed=1):
        assert "not" in text.split()
        keyword = next(w for w in text.split() if w in SEEN["joy"] + SEEN["sadness"])
        assert CLASSES[label] == ("sadness" if keyword in SEEN["joy"] else "joy")


def test_csv_tsv_and_imdb_loaders(tmp_path):
    (tmp_path / "a.csv").write_text('text,label\n"good, really",pos\nawful,neg\n')
    assert load_csv(tmp_path / "a.csv") == (["good, really", "awful"], [1, 0], ["neg", "pos"])
    (tmp_path / "b.tsv").write_text("fine day\tjoy\nrain again\tsadness\n")
    assert load_csv(tmp_path / "b.tsv") == (["fine day", "rain again"], [0, 1], ["joy", "sadness"])
    (tmp_path / "c.csv").write_text("text,label\nno label here,\n")
    with pytest.raises(ValueError, match="line 2 must hold a text and a label"):
        load_csv(tmp_path / "c.csv")
    for name, text in [("neg", "bad film"), ("pos", "great<br />film")]:
        (tmp_path / "imdb" / "train" / name).mkdir(parents=True)
        (tmp_path / "imdb" / "train" / name / "0_1.txt").write_text(text)
    assert load_imdb(tmp_path / "imdb", "train") == (["bad film", "great film"], [0, 1], ["neg", "pos"])
    with pytest.raises(ValueError, match="must contain `neg/` and `pos/`"):
        load_imdb(tmp_path / "imdb")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("sentiment")
    result = app.train(size="fast", cache_dir=str(root), output=str(root / "s.keras"), eval_examples=400, verbose=0)
    return root, result


@pytest.mark.long
def test_lstm_handles_negation_and_averaging_does_not(trained):
    _, result = trained
    average, lstm = result["accuracy"]["average"], result["accuracy"]["lstm"]
    assert lstm["seen"] > 0.8
    assert lstm["negation"] > 0.75
    assert average["negation"] < 0.65
    assert lstm["negation"] > average["negation"] + 0.2


def test_pretrained_rows_and_unseen_words_reach_the_model(trained):
    _, result = trained
    vocabulary, vectors = result["vocabulary"], result["vectors"]
    embedding = np.array(result["models"]["average"].get_layer("pretrained_embedding").embeddings)
    for word in ["rice", "hockey", "grief"]:  # unseen in training, known from the corpus
        np.testing.assert_allclose(embedding[vocabulary.token_to_id(word)], vectors[word], rtol=1e-6)
    assert not result["models"]["lstm"].get_layer("pretrained_embedding").trainable


def test_saved_models_predict_and_evaluate(trained, capsys):
    root, result = trained
    path = str(root / "s_lstm.keras")
    texts = ["i am not happy", "we talked about football again"]
    expected = [CLASSES[i] for i in np.argmax(result["models"]["lstm"].predict(
        app.encode(result["vocabulary"], texts), verbose=0), axis=-1)]
    assert app.predict(path, texts) == expected
    assert main(["predict", *texts, "--model", path]) == 0
    assert [line.split("\t")[1] for line in capsys.readouterr().out.strip().split("\n")] == expected
    scores = app.evaluate(path, examples=100)
    assert set(scores["accuracy"]["s_lstm.keras"]) == {"seen", "unseen", "negation"}
    with pytest.raises(ValueError, match="`kind` must be one of"):
        app.build_model("gru", result["vocabulary"], result["vectors"])
