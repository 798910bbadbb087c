import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from keras_seq.decoding import filter_logits, greedy_search, sample

LOGITS = np.log(np.array([0.05, 0.4, 0.25, 0.2, 0.1]))


def constant_step(tokens, state):
    return tf.tile(tf.constant(LOGITS[None], tf.float32), [tf.shape(tokens)[0], 1]), state


def markov_step():
    rng = np.random.default_rng(3)
    table = tf.constant(np.log(rng.dirichlet(np.ones(6), size=6)), tf.float32)
    return lambda tokens, state: (tf.gather(table, tokens[:, -1]), state)


def test_zero_temperature_and_top_k_one_are_greedy():
    step = markov_step()
    prompts = np.array([[1], [2], [5]], "int32")
    greedy = np.asarray(greedy_search(step, prompts, 7))
    np.testing.assert_array_equal(np.asarray(sample(step, prompts, 7, temperature=0.0)), greedy)
    np.testing.assert_array_equal(np.asarray(sample(step, prompts, 7, top_k=1, seed=4)), greedy)
    np.testing.assert_array_equal(np.asarray(sample(step, prompts, 7, temperature=1e-4, seed=4)), greedy)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_draws_follow_the_tempered_softmax(temperature):
    draws = np.asarray(sample(constant_step, np.ones((20000, 1), "int32"), 2, temperature=temperature, seed=11))[:, 1]
    expected = np.exp(LOGITS / temperature)
    expected /= expected.sum()
    observed = np.bincount(draws, minlength=5)
    _, p_value = stats.chisquare(observed, expected * len(draws))
    assert p_value > 1e-3, (observed, expected * len(draws))


def test_top_p_never_samples_outside_the_nucleus():
    draws = np.asarray(sample(constant_step, np.ones((5000, 1), "int32"), 2, top_p=0.6, seed=2))[:, 1]
    # Sorted probabilities 0.4, 0.25, ...: the nucleus for 0.6 is {1, 2}.
    assert set(np.unique(draws)) == {1, 2}
    kept = np.asarray(filter_logits(LOGITS[None], top_k=3)) > -1e30
    assert kept.tolist() == [[False, True, True, True, False]]


def test_seeded_and_compiled_sampling_is_reproducible():
    step = markov_step()
    prompts = np.ones((4, 1), "int32")
    a = np.asarray(sample(step, prompts, 8, seed=5))
    b = np.asarray(tf.function(lambda p: sample(step, p, 8, seed=5))(prompts))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, np.asarray(sample(step, prompts, 8, seed=6)))


def test_errors():
    with pytest.raises(ValueError, match="`temperature` must be a number >= 0"):
        sample(constant_step, [[1]], 3, temperature=-1)
    with pytest.raises(ValueError, match="`top_p` must be in \\(0, 1\\]"):
        sample(constant_step, [[1]], 3, top_p=1.5)
    with pytest.raises(ValueError, match="`top_k` must be a positive integer"):
        sample(constant_step, [[1]], 3, top_k=0)


def test_unseeded_sampling_differs_per_call_also_inside_a_compiled_function():
    step = markov_step()
    prompts = np.ones((6, 1), "int32")
    compiled = tf.function(lambda p: sample(step, p, 10))
    draws = [np.asarray(compiled(prompts)) for _ in range(3)] + [np.asarray(sample(step, prompts, 10)) for _ in range(2)]
    for i in range(len(draws)):
        for j in range(i):
            assert not np.array_equal(draws[i], draws[j])
