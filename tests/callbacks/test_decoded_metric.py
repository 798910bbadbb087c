import glob

import keras
import numpy as np
import pytest
import sacrebleu
import tensorflow as tf

from keras_seq.callbacks import DecodedMetric, decoded_scores


def test_scores_equal_the_peers():
    hypotheses = ["the cat sat on the mat today", "a dog barked at night", "hello world"]
    references = ["the cat sat on the mat", "the dog barked all night", "hello world"]
    scores = decoded_scores(hypotheses, references)
    assert scores["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hypotheses, [references]).score)
    assert scores["exact_match"] == pytest.approx(1 / 3)
    assert 0 < scores["rouge2"] < scores["rouge1"] < 1


def test_logs_to_history_and_tensorboard(tmp_path):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    outputs = iter([["a b"], ["a c"], ["a c"]])
    callback = DecodedMetric(lambda m, xs: next(outputs), ["x"], ["a c"], log_dir=str(tmp_path), metrics=("exact_match", "rouge1"))
    history = model.fit(np.zeros((2, 1)), np.zeros((2, 1)), epochs=3, verbose=0, callbacks=[callback])
    assert history.history["val_decoded_exact_match"] == [0.0, 1.0, 1.0]
    steps = {}
    for path in glob.glob(f"{tmp_path}/validation/events.*"):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                steps.setdefault(value.tag, []).append(event.step)
    assert sorted(steps["decoded_exact_match"]) == [0, 1, 2]


def test_errors():
    with pytest.raises(ValueError, match="`decode_fn` must be callable"):
        DecodedMetric(None, [], [])
    with pytest.raises(ValueError, match="same length"):
        DecodedMetric(lambda m, x: x, ["a"], [])
    with pytest.raises(ValueError, match="`metrics` must be drawn from"):
        DecodedMetric(lambda m, x: x, [], [], metrics=("meteor",))
