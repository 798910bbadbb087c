import numpy as np
import pytest
import tensorflow as tf

from keras_seq.decoding import beam_error_analysis, beam_search, mbr_select
from keras_seq.metrics import rouge_n


def test_mbr_picks_the_consensus_candidate():
    candidates = [
        "the cat sat on the mat",
        "a dog ran in the park",
        "the cat sat on a mat",
        "the cat is on the mat",
        "stocks fell sharply today",
    ]
    assert mbr_select(candidates) == 0
    # The outlier never wins, whatever the utility.
    for utility in ("rouge1", "rouge2", "rougeL"):
        assert mbr_select(candidates, utility=utility) in (0, 2, 3)
    # Brute force with the same utility.
    expected = [np.mean([rouge_n(a, b)[2] for b in candidates if b is not a]) for a in candidates]
    assert mbr_select(candidates) == int(np.argmax(expected))
    # A custom utility: agreement on length.
    assert mbr_select(["a", "b b", "c c", "d d d d"], utility=lambda h, r: -abs(len(h) - len(r))) == 1


def test_beam_error_analysis_on_constructed_search_and_model_errors():
    # A Markov model where the best sequence [1, 3] is hidden behind a greedy
    # first step, and a case where the model itself prefers a wrong answer.
    table = np.full((5, 5), 1e-9)
    table[1, 2], table[1, 3] = 0.55, 0.45
    table[2, 4], table[2, 3] = 0.5, 0.5
    table[4, 3] = 1.0
    table[3, 0] = 1.0
    log_table = np.log(table / table.sum(1, keepdims=True))
    step_table = tf.constant(log_table, tf.float32)

    def step(tokens, state):
        return tf.gather(step_table, tokens[:, -1]), state

    def log_prob(source, target):
        sequence = [source, *target]
        return sum(log_table[a, b] for a, b in zip(sequence, sequence[1:]))

    narrow, _ = beam_search(step, [[1]], 4, beam_width=1, end_id=3)
    found = [int(t) for t in np.asarray(narrow)[0, 0, 1:] if t]
    assert found == [2, 4, 3] or found == [2, 3]
    result = beam_error_analysis(
        log_prob,
        sources=[1, 1, 1],
        references=[[3], [2, 4, 3], found],
        hypotheses=[found, [3], found],
    )
    # Reference [3] (p=.45) beats the greedy output (p<=.275): search error.
    # Reference [2, 4, 3] (p=.275) loses to the output [3] (p=.45): model error.
    assert result["verdicts"] == ["search", "model", "correct"]
    assert result["counts"] == {"search": 1, "model": 1, "correct": 1}
    assert result["reference_log_probs"][0] == pytest.approx(np.log(0.45), abs=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="`candidates` must not be empty"):
        mbr_select([])
    with pytest.raises(ValueError, match="`utility` must be one of"):
        mbr_select(["a", "b"], utility="bleu")
    with pytest.raises(ValueError, match="same length"):
        beam_error_analysis(lambda s, t: 0.0, [1], [[1]], [])
