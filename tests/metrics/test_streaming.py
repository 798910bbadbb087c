"""Streaming metrics: accumulation, weights, tensors, graph mode, configs, fit."""

import jiwer
import keras
import numpy as np
import pytest
import tensorflow as tf
from rouge_score import rouge_scorer

from keras_seq.metrics import (
    Bleu,
    EditDistance,
    Perplexity,
    RougeN,
    corpus_bleu,
    perplexity,
    sentence_bleu,
    word_error_rate,
)

HYPOTHESES = [
    "the cat sat on the mat",
    "a quick brown fox jumps over the lazy dog",
    "it is raining",
    "we went to the market to buy some fresh bread",
    "hello there",
    "the results are shown in table two",
]
REFERENCES = [  # two reference streams of different lengths
    [
        "the cat sat on the mat",
        "the quick brown fox jumped over the lazy dog",
        "it rains heavily today",
        "we went to the market to buy fresh bread",
        "hello",
        "results are shown in the second table",
    ],
    [
        "a cat was sitting on the mat",
        "a fast brown fox leaps over a lazy dog",
        "it is raining",
        "we walked to the market for bread",
        "hi there friend",
        "table two shows the results",
    ],
]
BATCHES = [slice(0, 2), slice(2, 3), slice(3, 6)]


def _streams(indices):
    return [[stream[i] for i in indices] for stream in REFERENCES]


def test_bleu_over_three_batches_equals_corpus_bleu():
    metric = Bleu()
    for batch in BATCHES:
        metric.update_state([stream[batch] for stream in REFERENCES], HYPOTHESES[batch])
    expected = corpus_bleu(HYPOTHESES, REFERENCES)
    assert float(metric.result()) == pytest.approx(expected.score, rel=1e-6)
    np.testing.assert_array_equal(metric.matches.numpy(), expected.counts)
    np.testing.assert_array_equal(metric.totals.numpy(), expected.totals)
    assert float(metric.hypothesis_length.numpy()) == expected.sys_len
    assert float(metric.reference_length.numpy()) == expected.ref_len


def test_bleu_is_not_a_mean_of_sentence_or_batch_scores():
    hypotheses = ["the cat sat on the mat with a hat", "dog"]
    references = [["the cat sat on the mat with a hat", "a big dog barked"]]
    metric = Bleu()
    metric.update_state([references[0][:1]], hypotheses[:1])
    metric.update_state([references[0][1:]], hypotheses[1:])
    corpus = corpus_bleu(hypotheses, references).score
    sentence_mean = np.mean(
        [sentence_bleu(h, [r]).score for h, r in zip(hypotheses, references[0])]
    )
    assert float(metric.result()) == pytest.approx(corpus, rel=1e-6)
    assert abs(corpus - sentence_mean) > 5.0


def test_bleu_sample_weight_zero_removes_and_two_duplicates():
    removed = Bleu()
    removed.update_state(REFERENCES, HYPOTHESES, sample_weight=[1, 1, 0, 1, 1, 1])
    keep = [0, 1, 3, 4, 5]
    expected = corpus_bleu([HYPOTHESES[i] for i in keep], _streams(keep)).score
    assert float(removed.result()) == pytest.approx(expected, rel=1e-6)

    doubled = Bleu()
    doubled.update_state(
        REFERENCES, HYPOTHESES, sample_weight=np.array([1, 2, 1, 1, 1, 1])
    )
    order = [0, 1, 1, 2, 3, 4, 5]
    expected = corpus_bleu([HYPOTHESES[i] for i in order], _streams(order)).score
    assert float(doubled.result()) == pytest.approx(expected, rel=1e-6)


def test_bleu_accepts_string_tensors_batch_major():
    single = Bleu()
    single.update_state(tf.constant(REFERENCES[0]), tf.constant(HYPOTHESES))
    assert float(single.result()) == pytest.approx(
        corpus_bleu(HYPOTHESES, REFERENCES[:1]).score, rel=1e-6
    )
    multi = Bleu()
    rows = np.array(REFERENCES, dtype=object).T.tolist()
    rows[4][1] = ""  # padding: segment 4 keeps only its first reference
    multi.update_state(tf.constant(rows), tf.constant(HYPOTHESES))
    streams = [REFERENCES[0], [*REFERENCES[1][:4], None, REFERENCES[1][5]]]
    assert float(multi.result()) == pytest.approx(
        corpus_bleu(HYPOTHESES, streams).score, rel=1e-6
    )


def test_bleu_token_ids_with_detokenize():
    vocabulary = ["<pad>", "the", "cat", "sat", "on", "mat", "a", "dog"]

    def detokenize(ids):
        return [" ".join(vocabulary[i] for i in row if i) for row in np.asarray(ids)]

    references = np.array([[1, 2, 3, 4, 1, 5], [6, 7, 3, 0, 0, 0]])
    hypotheses = tf.constant([[1, 2, 3, 4, 5, 0], [6, 7, 0, 0, 0, 0]])
    metric = Bleu(detokenize=detokenize)
    metric.update_state(references, hypotheses)
    expected = corpus_bleu(detokenize(hypotheses), [detokenize(references)]).score
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="pass `detokenize=`"):
        Bleu().update_state(references, hypotheses)


def test_bleu_updates_inside_tf_function():
    metric = Bleu()

    @tf.function
    def update(references, hypotheses, weights):
        metric.update_state(references, hypotheses, sample_weight=weights)
        return metric.result()

    for batch in BATCHES:
        weights = tf.ones([len(HYPOTHESES[batch])])
        update(
            tf.constant(REFERENCES[0][batch]), tf.constant(HYPOTHESES[batch]), weights
        )
    expected = corpus_bleu(HYPOTHESES, REFERENCES[:1]).score
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)

    @tf.function
    def update_with_streams():
        metric.update_state(REFERENCES, HYPOTHESES)

    with pytest.raises(ValueError, match="not nested Python lists"):
        update_with_streams()


@pytest.mark.parametrize("max_order", [1, 2])
def test_bleu_low_orders(max_order):
    metric = Bleu(max_order=max_order)
    metric.update_state(REFERENCES, HYPOTHESES)
    assert metric.matches.shape == (max_order,)
    expected = corpus_bleu(HYPOTHESES, REFERENCES, max_order=max_order).score
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)


def test_bleu_reset_and_errors():
    metric = Bleu(max_order=2, smooth="none", tokenize="none")
    metric.update_state(REFERENCES, HYPOTHESES)
    assert float(metric.result()) > 0
    metric.reset_state()
    assert float(metric.result()) == 0.0
    with pytest.raises(ValueError, match="`references` stream 0 has 1 segments"):
        metric.update_state(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="`sample_weight`"):
        metric.update_state(["a", "b"], ["a", "b"], sample_weight=[1, 2, 3])
    with pytest.raises(ValueError, match="`tokenize`"):
        Bleu(tokenize="moses")
    with pytest.raises(ValueError, match="`smooth`"):
        Bleu(smooth="add-one")
    with pytest.raises(ValueError, match="`smooth_value`"):
        Bleu(smooth="floor", smooth_value=-0.1)


@pytest.mark.parametrize(
    "smooth, smooth_value",
    [("floor", None), ("floor", 0.5), ("add-k", None), ("add-k", 2)],
)
def test_bleu_streams_every_smoothing_method(smooth, smooth_value):
    metric = Bleu(max_order=5, smooth=smooth, smooth_value=smooth_value)
    for batch in BATCHES:
        metric.update_state([stream[batch] for stream in REFERENCES], HYPOTHESES[batch])
    expected = corpus_bleu(
        HYPOTHESES, REFERENCES, max_order=5, smooth=smooth, smooth_value=smooth_value
    )
    assert float(metric.result()) == pytest.approx(expected.score, rel=1e-6)


def test_rouge_n_streaming_weighted_mean_f1():
    scorer = rouge_scorer.RougeScorer(["rouge2"])
    f1 = [
        scorer.score(r, h)["rouge2"].fmeasure for h, r in zip(HYPOTHESES, REFERENCES[0])
    ]
    weights = np.array([1.0, 2.0, 0.0, 1.0, 0.5, 1.0])
    metric = RougeN(n=2)
    for batch in BATCHES:
        metric.update_state(
            REFERENCES[0][batch], HYPOTHESES[batch], sample_weight=weights[batch]
        )
    expected = float(np.sum(weights * f1) / weights.sum())
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)


def test_edit_distance_streaming_equals_corpus_rate():
    for level, reference_fn in (("word", jiwer.wer), ("char", jiwer.cer)):
        metric = EditDistance(level=level)
        for batch in BATCHES:
            metric.update_state(tf.constant(REFERENCES[0][batch]), HYPOTHESES[batch])
        expected = reference_fn(REFERENCES[0], HYPOTHESES)
        assert float(metric.result()) == pytest.approx(expected, rel=1e-6)


def test_edit_distance_weights_and_graph_mode():
    metric = EditDistance()
    update = tf.function(metric.update_state)
    update(
        tf.constant(REFERENCES[0]),
        tf.constant(HYPOTHESES),
        tf.constant([1.0, 0, 2, 1, 1, 1]),
    )
    order = [0, 2, 2, 3, 4, 5]
    expected = word_error_rate(
        [HYPOTHESES[i] for i in order], [REFERENCES[0][i] for i in order]
    )
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="`level`"):
        EditDistance(level="phoneme")


def test_edit_distance_with_empty_references_counts_insertions():
    metric = EditDistance()
    metric.update_state([""], ["two words"])
    assert float(metric.result()) == jiwer.wer([""], ["two words"]) == 2


def test_perplexity_streaming_matches_numpy(rng, numpy_perplexity):
    metric = Perplexity(mask_token_id=0)
    all_labels, all_logits, all_weights = [], [], []
    for _ in range(3):
        labels = rng.integers(0, 9, size=(2, 5))
        logits = rng.normal(scale=2.0, size=(2, 5, 9)).astype("float32")
        row_weights = rng.uniform(0.5, 2.0, size=2).astype("float32")
        metric.update_state(labels, logits, sample_weight=row_weights)
        all_labels.append(labels)
        all_logits.append(logits)
        all_weights.append((labels != 0) * row_weights[:, None])
    expected = numpy_perplexity(
        np.concatenate(all_labels),
        np.concatenate(all_logits),
        np.concatenate(all_weights),
    )
    assert float(metric.result()) == pytest.approx(expected, rel=1e-5)
    assert metric.total_nll.dtype == "float32"
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_perplexity_from_probabilities(rng):
    labels = rng.integers(0, 6, size=(2, 4))
    logits = rng.normal(size=(2, 4, 6)).astype("float32")
    metric = Perplexity(from_logits=False)
    metric.update_state(labels, keras.ops.softmax(logits))
    assert float(metric.result()) == pytest.approx(
        float(perplexity(labels, logits)), rel=1e-5
    )


@pytest.mark.parametrize(
    "metric",
    [
        Bleu(max_order=3, smooth="none", tokenize="none", lowercase=True, name="b"),
        Bleu(smooth="floor", smooth_value=0.25, name="b_floor"),
        RougeN(n=2, use_stemmer=True, name="r2"),
        EditDistance(level="char", name="cer"),
        Perplexity(from_logits=False, mask_token_id=0, name="ppl"),
    ],
    ids=["bleu", "bleu_floor", "rouge", "edit", "perplexity"],
)
def test_get_config_round_trip(metric):
    config = metric.get_config()
    clone = type(metric).from_config(config)
    assert clone.get_config() == config
    revived = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert type(revived) is type(metric)
    assert revived.get_config() == config


def test_perplexity_in_compile_and_fit(rng, tmp_path):
    vocabulary, length = 12, 6
    inputs = keras.Input((length,), dtype="int32")
    hidden = keras.layers.Embedding(vocabulary, 8)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(vocabulary)(hidden))
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[Perplexity()],
    )
    x = rng.integers(0, vocabulary, size=(32, length))
    y = (x + 1) % vocabulary
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    values = history.history["perplexity"]
    assert len(values) == 2 and all(np.isfinite(values)) and values[1] < values[0]
    evaluated = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    expected = float(perplexity(y, model.predict(x, verbose=0)))
    assert evaluated["perplexity"] == pytest.approx(expected, rel=1e-4)

    model.save(tmp_path / "model.keras")
    restored = keras.models.load_model(tmp_path / "model.keras")
    again = restored.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert again["perplexity"] == pytest.approx(evaluated["perplexity"], rel=1e-5)
