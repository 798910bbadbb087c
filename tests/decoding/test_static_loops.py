"""The decoding loops over a fixed-size token buffer (static steps).

Written with `keras.ops` and NumPy only, so the same file runs on the
TensorFlow backend and, through tests/test_jax_backend.py, on JAX.
"""

import itertools

import keras
import numpy as np
import pytest
from keras import ops
from scipy import stats

from keras_seq.decoding import beam_search, greedy_search, sample, static_step

END = 3


def markov_table(seed, vocabulary=5):
    rng = np.random.default_rng(seed)
    table = rng.dirichlet(np.full(vocabulary, 0.6), size=vocabulary)
    table[:, 0] = 1e-6  # padding is (almost) never generated
    return np.log(table / table.sum(1, keepdims=True)).astype("float32")


def static_markov(log_table):
    table = ops.convert_to_tensor(log_table)

    @static_step
    def step(tokens, state, index):
        # Reads only the token before `index` of the whole buffer.
        return ops.take(table, ops.take(tokens, index - 1, axis=1), axis=0), state

    return step


def jit(fn):
    """`fn` compiled with XLA on the current backend."""
    if keras.config.backend() == "jax":
        import jax

        return jax.jit(fn)
    import tensorflow as tf

    return tf.function(fn, jit_compile=True, autograph=False)


def reference_greedy(log_table, prompt, max_length):
    """Plain NumPy: the prompt (up to its first 0), then argmax until END."""
    sequence = list(prompt[: np.argmin(np.append(prompt, 0) != 0)])
    while len(sequence) < max_length:
        sequence.append(int(np.argmax(log_table[sequence[-1]])))
        if sequence[-1] == END:
            break
    return sequence + [0] * (max_length - len(sequence))


@pytest.mark.parametrize("seed", range(3))
def test_static_greedy_equals_numpy_reference_eager_and_compiled(seed):
    log_table = markov_table(seed)
    step = static_markov(log_table)
    prompts = np.array([[1, 4, 0], [2, 0, 0], [4, 2, 1]], "int32")
    expected = [reference_greedy(log_table, p, 8) for p in prompts]
    eager = greedy_search(step, prompts, 8, end_id=END)
    compiled = jit(lambda p: greedy_search(step, p, 8, end_id=END))(prompts)
    assert np.asarray(eager).tolist() == expected
    assert np.asarray(compiled).tolist() == expected


def exhaustive_best(log_table, start, max_new, alpha):
    best = None
    for length in range(1, max_new + 1):
        for sequence in itertools.product(range(1, log_table.shape[0]), repeat=length):
            if END in sequence[:-1] or (sequence[-1] != END and length < max_new):
                continue
            path = (start,) + sequence
            total = sum(log_table[a, b] for a, b in zip(path, path[1:]))
            if best is None or total / length**alpha > best[0]:
                best = (total / length**alpha, sequence)
    return best


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_static_beam_equals_exhaustive_search_eager_and_compiled(alpha):
    log_table = markov_table(5)
    step = static_markov(log_table)

    def run(p):
        return beam_search(step, p, 5, beam_width=64, end_id=END, length_penalty=alpha)

    score, sequence = exhaustive_best(log_table, 1, 4, alpha)
    for tokens, scores in (run(np.array([[1]], "int32")), jit(run)(np.array([[1]], "int32"))):
        row = np.asarray(tokens)[0, 0]
        assert tuple(int(t) for t in row[1:] if t != 0) == sequence
        assert float(np.asarray(scores)[0, 0]) == pytest.approx(score, abs=1e-4)


def test_static_sampling_same_seed_same_tokens_eager_and_compiled():
    step = static_markov(markov_table(2, vocabulary=6))
    prompts = np.ones((6, 1), "int32")
    eager = np.asarray(sample(step, prompts, 9, top_p=0.9, seed=4))
    compiled = np.asarray(jit(lambda p: sample(step, p, 9, top_p=0.9, seed=4))(prompts))
    np.testing.assert_array_equal(eager, compiled)
    np.testing.assert_array_equal(eager, np.asarray(sample(step, prompts, 9, top_p=0.9, seed=4)))
    assert not np.array_equal(eager, np.asarray(sample(step, prompts, 9, top_p=0.9, seed=5)))


def test_seed_generator_and_no_seed_give_different_calls():
    step = static_markov(markov_table(1, vocabulary=8))
    prompts = np.ones((8, 1), "int32")
    generator = keras.random.SeedGenerator(3)
    with_generator = [np.asarray(sample(step, prompts, 10, seed=generator)) for _ in range(3)]
    without_seed = [np.asarray(sample(step, prompts, 10)) for _ in range(3)]
    for draws in (with_generator, without_seed):
        assert all(not np.array_equal(a, b) for a, b in itertools.combinations(draws, 2))
    # A generator in the same state gives the same calls again.
    again = keras.random.SeedGenerator(3)
    np.testing.assert_array_equal(np.asarray(sample(step, prompts, 10, seed=again)), with_generator[0])


def test_static_draws_follow_the_tempered_softmax():
    logits = np.log(np.array([0.05, 0.4, 0.25, 0.2, 0.1], "float32"))
    table = ops.convert_to_tensor(np.tile(logits, (5, 1)))
    step = static_step(lambda tokens, state, index: (ops.take(table, ops.take(tokens, index - 1, axis=1), axis=0), state))
    draws = np.asarray(sample(step, np.ones((20000, 1), "int32"), 2, temperature=0.7, seed=8))[:, 1]
    expected = np.exp(logits.astype("float64") / 0.7)
    expected /= expected.sum()
    _, p_value = stats.chisquare(np.bincount(draws, minlength=5), expected * len(draws))
    assert p_value > 1e-3
