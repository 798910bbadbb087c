"""Entity-level scores against seqeval (default mode, the conlleval rules)."""

import numpy as np
import pytest
from seqeval.metrics import (
    classification_report,
    f1_score,
    precision_score,
    recall_score,
)
from seqeval.metrics.sequence_labeling import get_entities as seqeval_entities

from applications.ner.data import to_bio
from applications.ner.scoring import entity_scores, get_entities

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]


def random_sentences(rng, count, valid_share=0.5):
    sentences = []
    for _ in range(count):
        length = int(rng.integers(1, 9))
        tags = [TAGS[k] for k in rng.integers(0, len(TAGS), length)]
        sentences.append(to_bio(tags) if rng.random() < valid_share else tags)
    return sentences


def test_entities_equal_seqeval_on_random_tags():
    rng = np.random.default_rng(0)
    for tags in random_sentences(rng, 500):
        assert get_entities(tags) == seqeval_entities(tags), tags
        # BIO repair keeps the entities (conlleval already reads I- as a start).
        assert get_entities(to_bio(tags)) == get_entities(tags)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scores_equal_seqeval_on_random_corpora(seed):
    rng = np.random.default_rng(seed)
    gold = random_sentences(rng, 200)
    # Predictions: the gold tags with a third of the positions corrupted.
    predicted = []
    for tags in gold:
        noisy = [TAGS[rng.integers(len(TAGS))] if rng.random() < 0.33 else t for t in tags]
        predicted.append(noisy)
    ours = entity_scores(gold, predicted)
    assert ours["precision"] == pytest.approx(precision_score(gold, predicted))
    assert ours["recall"] == pytest.approx(recall_score(gold, predicted))
    assert ours["f1"] == pytest.approx(f1_score(gold, predicted))
    report = classification_report(gold, predicted, output_dict=True, zero_division=0)
    for kind, values in ours["per_type"].items():
        assert values["precision"] == pytest.approx(report[kind]["precision"])
        assert values["recall"] == pytest.approx(report[kind]["recall"])
        assert values["f1"] == pytest.approx(report[kind]["f1-score"])
        assert values["support"] == report[kind]["support"]


def test_edge_cases_and_errors():
    perfect = entity_scores([["B-PER", "I-PER"]], [["B-PER", "I-PER"]])
    assert (perfect["precision"], perfect["recall"], perfect["f1"]) == (1.0, 1.0, 1.0)
    # A boundary error is a miss and a false alarm.
    half = entity_scores([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "I-PER"]])
    assert (half["correct"], half["predicted"], half["gold"], half["f1"]) == (0, 1, 1, 0.0)
    empty = entity_scores([["O"]], [["O"]])
    assert empty["f1"] == 0.0 and empty["per_type"] == {}
    with pytest.raises(ValueError, match="same number of sentences"):
        entity_scores([["O"]], [])
    with pytest.raises(ValueError, match="sentence 0"):
        entity_scores([["O", "O"]], [["O"]])
