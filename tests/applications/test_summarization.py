"""The summarizer: loss on summary tokens only, end-to-end training, save/load."""

import keras
import numpy as np
import pytest

from applications.summarization import app
from applications.summarization.__main__ import main
from applications.summarization.data import generate_pairs


def test_loss_ignores_the_article_targets():
    pairs = generate_pairs(4, seed=1)
    articles, summaries = [p[0] for p in pairs], [p[1] for p in pairs]
    vocabulary = app.build_vocabulary(articles, summaries)
    inputs, targets, weights = app.language_model_batch(vocabulary, articles, summaries)
    # Weighted positions are exactly the summary tokens and the final <eos>.
    for row, weight, summary in zip(targets, weights, summaries):
        np.testing.assert_array_equal(row[weight == 1], vocabulary.encode(summary, add_eos=True, pad=False))
    model = app.build_model(vocabulary, size="fast")
    logits = model(inputs)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    changed = targets.copy()
    article_positions = (weights == 0) & (targets != 0)
    changed[article_positions] = (changed[article_positions] + 5) % len(vocabulary)
    a = float(loss(targets, logits, sample_weight=weights))
    b = float(loss(changed, logits, sample_weight=weights))
    assert a == pytest.approx(b, rel=1e-6)
    # Without the weights, the same change does move the loss.
    assert abs(float(loss(changed, logits)) - float(loss(targets, logits))) > 1e-5


# `trained` (tests/applications/conftest.py) trains `app` once with these options.
FAST_TRAINING = {"output": "s.keras", "eval_examples": 200}


def test_fast_size_learns(trained):
    _, result = trained
    assert result["rougeL"] > 0.5, result["examples"][:3]
    assert result["history"]["val_loss"][-1] < result["history"]["val_loss"][0]


def test_reload_and_cli(trained, capsys):
    root, result = trained
    restored = keras.models.load_model(root / "s.keras")
    article = generate_pairs(1, seed=77)[0][0]
    assert restored.summarize(article) == result["model"].summarize(article)
    assert main(["predict", article, "--model", str(root / "s.keras")]) == 0
    assert capsys.readouterr().out.strip() == restored.summarize(article)
