"""GLUE's metrics equal scikit-learn's and SciPy's; the GLUE score averages
as the leaderboard does; the baselines are what they say."""

import numpy as np
import pytest
import scipy.stats
import sklearn.feature_extraction.text
import sklearn.linear_model
import sklearn.metrics
import sklearn.naive_bayes

from applications.glue import baselines, metrics
from applications.glue.formats import Example


@pytest.mark.parametrize("seed", range(5))
def test_classification_metrics_equal_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 200)
    predictions = np.where(rng.random(200) < 0.7, labels, 1 - labels)
    assert metrics.matthews_corrcoef(labels, predictions) == pytest.approx(sklearn.metrics.matthews_corrcoef(labels, predictions), abs=1e-12)
    assert metrics.f1(labels, predictions) == pytest.approx(sklearn.metrics.f1_score(labels, predictions), abs=1e-12)
    assert metrics.accuracy(labels, predictions) == pytest.approx(sklearn.metrics.accuracy_score(labels, predictions))
    three = rng.choice(["entailment", "neutral", "contradiction"], 100)
    guess = rng.choice(["entailment", "neutral", "contradiction"], 100)
    assert metrics.accuracy(three, guess) == pytest.approx(sklearn.metrics.accuracy_score(three, guess))
    strings, guessed = labels.astype(str), predictions.astype(str)  # the files' label strings
    result = metrics.task_metrics("MRPC", strings, guessed)
    assert result["f1"] == pytest.approx(sklearn.metrics.f1_score(strings, guessed, pos_label="1"), abs=1e-12)
    assert metrics.task_metrics("CoLA", strings, guessed)["mcc"] == pytest.approx(
        sklearn.metrics.matthews_corrcoef(strings, guessed), abs=1e-12)  # fmt: skip


@pytest.mark.parametrize("seed", range(5))
def test_correlations_equal_scipy_with_and_without_ties(seed):
    rng = np.random.default_rng(seed)
    scores = rng.uniform(0, 5, 150)
    predictions = scores + rng.normal(0, 1.5, 150)
    assert metrics.pearson(scores, predictions) == pytest.approx(scipy.stats.pearsonr(scores, predictions)[0], abs=1e-12)
    assert metrics.spearman(scores, predictions) == pytest.approx(scipy.stats.spearmanr(scores, predictions)[0], abs=1e-12)
    tied, tied_predictions = np.round(scores), np.round(predictions / 2)  # many ties on both sides
    assert metrics.spearman(tied, tied_predictions) == pytest.approx(scipy.stats.spearmanr(tied, tied_predictions)[0], abs=1e-12)
    result = metrics.task_metrics("STS-B", scores, predictions)
    assert set(result) == {"pearson", "spearman"}


def test_degenerate_cases_are_zero_where_the_peers_give_zero_or_nan():
    labels = np.array([1, 0, 1, 0])
    constant = np.ones(4, int)
    assert metrics.matthews_corrcoef(labels, constant) == sklearn.metrics.matthews_corrcoef(labels, constant) == 0.0
    assert metrics.f1(labels, np.zeros(4, int)) == sklearn.metrics.f1_score(labels, np.zeros(4, int), zero_division=0) == 0.0
    with pytest.warns(scipy.stats.ConstantInputWarning):
        assert np.isnan(scipy.stats.pearsonr([1.0, 2.0, 3.0], [2.0, 2.0, 2.0])[0])
    assert metrics.pearson([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]) == 0.0  # a constant prediction carries no information
    assert metrics.spearman([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]) == 0.0
    assert metrics.matthews_corrcoef([1, 1], [1, 1]) == sklearn.metrics.matthews_corrcoef([1, 1], [1, 1]) == 0.0
    with pytest.raises(ValueError, match="non-empty 1-D arrays of one length"):
        metrics.accuracy([1, 0], [1])
    with pytest.raises(ValueError, match="for two classes"):
        metrics.matthews_corrcoef([0, 1, 2], [0, 1, 1])


def test_the_glue_score_of_bert_large_on_the_leaderboard():
    """BERT-large's test results as the GLUE leaderboard lists them (Devlin
    et al., 2019): score 80.5 = mean of the nine tasks, where MRPC, STS-B
    and QQP average their two metrics and MNLI its matched and mismatched
    accuracy; AX (39.6) is not counted."""
    results = {
        "CoLA": {"mcc": 60.5}, "SST-2": {"accuracy": 94.9}, "MRPC": {"f1": 89.3, "accuracy": 85.4},
        "STS-B": {"pearson": 87.6, "spearman": 86.5}, "QQP": {"f1": 72.1, "accuracy": 89.3},
        "MNLI-m": {"accuracy": 86.7}, "MNLI-mm": {"accuracy": 85.9}, "QNLI": {"accuracy": 92.7},
        "RTE": {"accuracy": 70.1}, "WNLI": {"accuracy": 65.1}, "AX": {"mcc": 39.6},
    }  # fmt: skip
    assert round(metrics.glue_score(results), 1) == 80.5
    by_hand = (60.5 + 94.9 + (89.3 + 85.4) / 2 + (87.6 + 86.5) / 2 + (72.1 + 89.3) / 2 + (86.7 + 85.9) / 2 + 92.7 + 70.1 + 65.1) / 9
    assert metrics.glue_score(results) == pytest.approx(by_hand)
    with pytest.raises(ValueError, match="GLUE evaluation sets"):
        metrics.glue_score({"MNLI": {"accuracy": 1.0}})


def _examples(rows):
    return [Example(str(i), *row) for i, row in enumerate(rows)]


def test_majority_predicts_the_most_frequent_training_label_or_the_mean_score():
    train = _examples([("a", None, "0"), ("b", None, "1"), ("c", None, "1")])
    assert baselines.majority("SST-2", train)(_examples([("x", None, None)] * 2)) == ["1", "1"]
    scores = _examples([("a", "b", 1.0), ("c", "d", 4.0)])
    assert baselines.majority("STS-B", scores)(scores) == [2.5, 2.5]


def test_the_lexical_baseline_of_one_sentence_is_scikit_learn_s_naive_bayes():
    rng = np.random.default_rng(0)
    vocabulary = ["good", "bad", "plot", "not", "fine", "dull", "the", "movie", "was"]
    texts = [" ".join(rng.choice(vocabulary, rng.integers(2, 8))) for _ in range(300)]
    labels = [str(int(("good" in t) + ("fine" in t) > ("bad" in t) + rng.random())) for t in texts]
    train, test = _examples([(t, None, y) for t, y in zip(texts[:200], labels[:200])]), texts[200:] + ["unseen words only"]
    ours = baselines.lexical("SST-2", train)(_examples([(t, None, None) for t in test]))
    vectorizer = sklearn.feature_extraction.text.CountVectorizer(token_pattern=r"\w+")
    classifier = sklearn.naive_bayes.MultinomialNB(alpha=1.0).fit(vectorizer.fit_transform(texts[:200]), labels[:200])
    assert ours == list(classifier.predict(vectorizer.transform(test)))


def test_the_lexical_baseline_of_pairs_uses_word_overlap_only():
    assert baselines.overlap_features("the dog chased the cat", "a bird sang") == [0.0, 0.0, 0.0, 0.6, 0.0]
    same_words = baselines.overlap_features("the dog chased the cat", "the cat chased the dog")
    assert same_words == baselines.overlap_features("the dog chased the cat", "the dog chased the cat")
    # Label = "the second sentence shares at least half its words": learnable from overlap.
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(30)]
    rows = []
    for _ in range(400):
        first = list(rng.choice(words, 6, replace=False))
        shared = int(rng.integers(0, 7))
        second = first[:shared] + [f"x{i}" for i in rng.integers(0, 50, 6 - shared)]
        rows.append((" ".join(first), " ".join(second), "1" if shared >= 3 else "0"))
    train, test = _examples(rows[:300]), _examples(rows[300:])
    predictions = baselines.lexical("MRPC", train)(test)
    assert metrics.accuracy([e.label for e in test], predictions) >= 0.95
    # STS-B: an ordinary least-squares line over the same features.
    scores = _examples([(a, b, 5.0 * len(set(a.split()) & set(b.split())) / 6) for a, b, _ in rows[:300]])
    features = np.array([baselines.overlap_features(e.text_a, e.text_b) for e in scores])
    peer = sklearn.linear_model.LinearRegression().fit(features, [e.label for e in scores])
    ours = baselines.lexical("STS-B", scores)(test)
    expected = peer.predict(np.array([baselines.overlap_features(e.text_a, e.text_b) for e in test]))
    np.testing.assert_allclose(ours, expected, atol=1e-6)
