"""One model, three prefixed tasks, mixed by keras_seq.data."""

import keras
import numpy as np
import pytest

from applications.text_to_text import app
from applications.text_to_text.__main__ import main
from applications.text_to_text.data import TASKS, make_datasets


def test_mixed_dataset_follows_the_strategy():
    splits = make_datasets(300, seed=0)
    train_sets = {"date_to_iso": splits["date_to_iso"][0][:300], "answer": splits["answer"][0][:100]}
    vocabulary = app.Vocabulary.build([t for p in train_sets.values() for pair in p for t in pair], level="word")
    prefixes = {"date_to_iso": "date", "answer": "answer:"}
    for strategy, expected in (("proportional", 0.75), ("equal", 0.5)):
        dataset, weights = app.mixed_dataset(vocabulary, train_sets, 100, strategy, seed=1)
        assert weights["date_to_iso"] == pytest.approx(expected)
        first_words = [
            vocabulary.id_to_token(int(row[0]))
            for inputs, _ in dataset.take(40)
            for row in inputs["encoder_tokens"].numpy()
        ]
        share = np.mean([w == prefixes["date_to_iso"] for w in first_words])
        # 4,000 draws: 3 standard deviations of a proportion is below 0.025.
        assert abs(share - expected) < 0.025


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("t2t")
    return root, app.train(size="fast", output=str(root / "t2t.keras"), eval_examples=50, verbose=0)


def test_trains_and_round_trips(trained, capsys):
    root, result = trained
    assert set(result["exact_match"]) == set(TASKS)
    assert result["history"]["accuracy"][-1] > result["history"]["accuracy"][0] + 0.1
    restored = keras.models.load_model(root / "t2t.keras")
    inputs = ["translate german to english: sieben und siebzig", "date to iso: 3 may 1 9 7 9"]
    assert restored.run(inputs) == result["model"].run(inputs)
    assert main(["predict", *inputs, "--model", str(root / "t2t.keras")]) == 0
    assert capsys.readouterr().out.splitlines() == restored.run(inputs)


def test_errors():
    with pytest.raises(ValueError, match="`mixing` must be one of"):
        app.train(size="fast", mixing="random")
    with pytest.raises(ValueError, match="`data` is not supported"):
        app.train(size="fast", data="x.tsv")
