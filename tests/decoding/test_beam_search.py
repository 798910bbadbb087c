import itertools

import numpy as np
import pytest
import tensorflow as tf

from keras_seq.decoding import beam_search, greedy_search

END = 3


def markov_lm(seed, vocabulary=4):
    """A fixed first-order 'language model': log p(next | last token)."""
    rng = np.random.default_rng(seed)
    table = rng.dirichlet(np.full(vocabulary, 0.6), size=vocabulary)
    table[:, 0] = 1e-6  # token 0 is padding: (almost) never generated
    table /= table.sum(1, keepdims=True)
    log_table = tf.constant(np.log(table), tf.float32)

    def step(tokens, state):
        return tf.gather(log_table, tokens[:, -1]), state

    return np.log(table), step


def exhaustive(log_table, start, max_new, alpha):
    """Every hypothesis: ends with END, or reaches max_new tokens without it."""
    vocabulary = log_table.shape[0]
    results = []
    for length in range(1, max_new + 1):
        for sequence in itertools.product(range(1, vocabulary), repeat=length):
            if END in sequence[:-1]:
                continue
            if sequence[-1] != END and length < max_new:
                continue
            total, previous = 0.0, start
            for token in sequence:
                total += log_table[previous, token]
                previous = token
            results.append((total / length**alpha, sequence))
    return sorted(results, reverse=True)


@pytest.mark.parametrize("alpha", [0.0, 0.7, 1.0])
@pytest.mark.parametrize("seed", range(4))
def test_wide_beam_equals_exhaustive_search(alpha, seed):
    log_table, step = markov_lm(seed)
    max_new = 4
    tokens, scores = beam_search(
        step, [[1]], 1 + max_new, beam_width=256, end_id=END, length_penalty=alpha, num_return=3
    )
    ranking = exhaustive(log_table, 1, max_new, alpha)
    score_of = {sequence: score for score, sequence in ranking}
    returned = []
    for rank, (score, _) in enumerate(ranking[:3]):
        row = np.asarray(tokens)[0, rank]
        generated = tuple(int(t) for t in row[1:] if t != 0)
        returned.append(generated)
        # The k-th best score (sequences with equal scores may swap places).
        assert float(np.asarray(scores)[0, rank]) == pytest.approx(score, abs=1e-4)
        assert score_of[generated] == pytest.approx(score, abs=1e-4)
    assert len(set(returned)) == 3


def test_width_one_is_greedy():
    for seed in range(5):
        _, step = markov_lm(seed, vocabulary=6)
        beam, _ = beam_search(step, [[1], [2], [4]], 8, beam_width=1, end_id=END)
        greedy = greedy_search(step, [[1], [2], [4]], 8, end_id=END)
        np.testing.assert_array_equal(np.asarray(beam)[:, 0], np.asarray(greedy))


def test_short_probable_hypothesis_wins_over_expanding_finished_beams():
    # From token 1: END with p=0.45, else token 2 (0.55), after which every
    # continuation is spread thin. The best complete sequence is [1, END];
    # a search that keeps extending finished beams (or only compares
    # unfinished ones) returns a longer, less probable sequence.
    table = np.full((5, 5), 1e-9)
    table[1, END], table[1, 2] = 0.45, 0.55
    table[2, [2, 4]] = 0.5
    table[4, [2, 4]] = 0.5
    table[END, 0] = 1.0
    log_table = tf.constant(np.log(table / table.sum(1, keepdims=True)), tf.float32)

    def step(tokens, state):
        return tf.gather(log_table, tokens[:, -1]), state

    tokens, scores = beam_search(step, [[1]], 6, beam_width=4, end_id=END)
    assert np.asarray(tokens)[0, 0].tolist() == [1, END, 0, 0, 0, 0]
    assert float(np.asarray(scores)[0, 0]) == pytest.approx(np.log(0.45), abs=1e-5)


def test_state_is_repeated_and_reordered_and_batches_are_independent():
    log_table, _ = markov_lm(7, vocabulary=5)
    table = tf.constant(log_table, tf.float32)

    def step(tokens, state):
        # The state counts steps per row; reordering must keep it consistent.
        count = state["count"] + 1
        assert_rows = tf.debugging.assert_equal(count, tf.fill(tf.shape(count), tf.shape(tokens)[1]))
        with tf.control_dependencies([assert_rows]):
            return tf.gather(table, tokens[:, -1]), {"count": count}

    prompts = np.array([[1], [2], [4]], "int32")
    run = tf.function(
        lambda p: beam_search(step, p, 6, beam_width=3, end_id=END, num_return=2, state={"count": tf.zeros((3,), tf.int32)})
    )
    batch_tokens, batch_scores = run(prompts)
    for i in range(3):
        one = beam_search(step, prompts[i : i + 1], 6, beam_width=3, end_id=END, num_return=2,
                          state={"count": tf.zeros((1,), tf.int32)})
        np.testing.assert_array_equal(np.asarray(batch_tokens)[i], np.asarray(one[0])[0])
        np.testing.assert_allclose(np.asarray(batch_scores)[i], np.asarray(one[1])[0], atol=1e-6)


def test_errors():
    _, step = markov_lm(0)
    with pytest.raises(ValueError, match="`beam_width` must be a positive integer"):
        beam_search(step, [[1]], 4, beam_width=0)
    with pytest.raises(ValueError, match="`num_return` \\(3\\) must be <= `beam_width` \\(2\\)"):
        beam_search(step, [[1]], 4, beam_width=2, num_return=3)
    with pytest.raises(ValueError, match="`length_penalty` must be a number >= 0"):
        beam_search(step, [[1]], 4, length_penalty=-1)
    with pytest.raises(ValueError, match="`max_length`"):
        beam_search(step, [[1, 2]], 1)
