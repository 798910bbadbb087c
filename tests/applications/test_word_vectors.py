"""The word_vectors application: train, evaluate, query, debias, project."""

import numpy as np
import pytest

from applications.word_vectors import app
from applications.word_vectors.__main__ import main
from keras_seq.embeddings import WordVectors


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("wv")
    # 10 epochs: on the 60k-word Lee corpus, WordSim rho is negative for ours and gensim
    # alike after 3 epochs (-0.06..-0.19 over six seeds) and positive after 10 (0.02-0.08).
    result = app.train(size="fast", output=str(root / "v.vec"), epochs=10, verbose=0)
    return root, result


def test_train_saves_and_evaluates(trained):
    root, result = trained
    loaded = app.load_vectors(root / "v.vec")
    assert loaded.words == result["vectors"].words
    np.testing.assert_allclose(loaded.vectors, result["vectors"].vectors, rtol=1e-6)
    assert result["trainer"] == "fused"  # the default on a CPU with a C++ compiler
    evaluation = result["evaluation"]
    assert evaluation["analogies"]["total"] > 0 and evaluation["wordsim"]["pairs"] > 20
    # Trained vectors correlate with human similarity better than random vectors do.
    random = WordVectors(loaded.words, np.random.default_rng(0).normal(size=loaded.vectors.shape))
    assert evaluation["wordsim"]["spearman"] > app.evaluate(random)["wordsim"]["spearman"]


def test_query_and_cli(trained, capsys):
    root, result = trained
    vectors = str(root / "v.vec")
    neighbours = app.query(vectors, ["police"], topn=3)
    assert [w for w, _ in neighbours] == [w for w, _ in result["vectors"].most_similar("police", 3)]
    assert app.query(vectors, ["man", "woman", "he"], topn=1)[0][0] == result["vectors"].analogy("man", "woman", "he")
    assert main(["query", "police", "--vectors", vectors, "--topn", "3"]) == 0
    assert [line.split("\t")[0] for line in capsys.readouterr().out.split("\n") if line] == [w for w, _ in neighbours]
    with pytest.raises(ValueError, match="one word .* or three"):
        app.query(vectors, ["a", "b"])


def test_debias_removes_the_occupations_projection(trained, capsys):
    root, result = trained
    report = app.debias(result["vectors"], output=str(root / "fair.txt"))
    assert len(report["before"]) >= 3
    # The size of the projection before depends on the (tiny, fast) training run
    # (0.007-0.18 over seeds); what debiasing must do is remove it.
    assert report["mean_abs_before"] > 1e-3
    assert report["mean_abs_after"] < min(1e-5, report["mean_abs_before"] / 1000)
    assert main(["debias", "--vectors", str(root / "v.vec")]) == 0
    assert "mean |cos|" in capsys.readouterr().out


def test_project_and_evaluate_cli(trained, capsys):
    root, _ = trained
    assert main(["project", "--vectors", str(root / "v.vec"), "--logdir", str(root / "proj"), "--limit", "50"]) == 0
    assert len((root / "proj" / "metadata.tsv").read_text().split()) == 50
    assert main(["evaluate", "--vectors", str(root / "v.vec")]) == 0
    assert "WordSim-353 rho" in capsys.readouterr().out


def test_glove_and_user_corpus(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["the cat sat on the mat", "the dog sat on the rug"] * 30))
    result = app.train(method="glove", size="fast", data=str(corpus), output=str(tmp_path / "g.txt"), epochs=2,
                       vector_size=8, verbose=0)
    assert set(result["vectors"].words) == {"the", "cat", "sat", "on", "mat", "dog", "rug"}
    with pytest.raises(ValueError, match="`method` must be"):
        app.train(method="fasttext")
