"""The NumPy RNN against Keras (forward), TensorFlow autodiff (backward) and
finite differences (gradient check)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.numpy_rnn import (
    PARAMETER_NAMES,
    NumpyRNN,
    clip_gradients,
    gradient_check,
    numerical_gradients,
)


def random_problem(output, seed=0, batch=3, steps=5, n_x=4, n_a=6, n_y=4):
    rng = np.random.default_rng(seed)
    rnn = NumpyRNN(n_x, n_a, n_y, output=output, seed=seed, init_scale=0.5)
    rnn.params["b_a"] = rng.normal(0, 0.3, n_a)
    rnn.params["b_y"] = rng.normal(0, 0.3, n_y)
    x = rng.normal(size=(batch, steps, n_x))
    if output == "softmax":
        y = np.eye(n_y)[rng.integers(0, n_y, (batch, steps))]
    else:
        y = (rng.random((batch, steps, n_y)) < 0.5).astype(float)
    return rnn, x, y


def test_forward_equals_keras_simple_rnn_and_dense():
    rnn, x, _ = random_problem("softmax")
    a0 = np.random.default_rng(1).normal(size=(3, 6))
    inputs = keras.Input((None, 4))
    state = keras.Input((6,))
    hidden = keras.layers.SimpleRNN(6, return_sequences=True, dtype="float64")
    dense = keras.layers.Dense(4, activation="softmax", dtype="float64")
    model = keras.Model([inputs, state], dense(hidden(inputs, initial_state=state)))
    p = rnn.params
    hidden.set_weights([p["W_ax"].T, p["W_aa"].T, p["b_a"]])
    dense.set_weights([p["W_ya"].T, p["b_y"]])
    expected = model.predict([x, a0], verbose=0)
    y_hat, cache = rnn.forward(x, a0)
    np.testing.assert_allclose(y_hat, expected, rtol=1e-6, atol=1e-9)  # Keras feeds float32 inputs
    np.testing.assert_allclose(cache["states"][0], a0)


def tf_loss_and_gradients(rnn, x, y, a0, mask):
    """The same model and loss written with TensorFlow ops, differentiated by autodiff."""
    variables = {k: tf.Variable(v) for k, v in rnn.params.items()}
    a0_var = tf.Variable(a0)
    with tf.GradientTape() as tape:
        a = a0_var
        total = tf.constant(0.0, tf.float64)
        for t in range(x.shape[1]):
            a = tf.tanh(
                a @ tf.transpose(variables["W_aa"]) + x[:, t] @ tf.transpose(variables["W_ax"]) + variables["b_a"]
            )
            z = a @ tf.transpose(variables["W_ya"]) + variables["b_y"]
            if rnn.output == "softmax":
                step = tf.nn.softmax_cross_entropy_with_logits(labels=y[:, t], logits=z)
            else:
                step = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=y[:, t], logits=z), -1)
            total += tf.reduce_sum(step * mask[:, t])
    grads = tape.gradient(total, [variables[n] for n in PARAMETER_NAMES] + [a0_var])
    return float(total), dict(zip(list(PARAMETER_NAMES) + ["a0"], [g.numpy() for g in grads]))


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_loss_and_backward_equal_tensorflow_autodiff(output):
    rnn, x, y = random_problem(output, seed=2)
    rng = np.random.default_rng(3)
    a0 = rng.normal(size=(3, 6))
    mask = np.ones((3, 5))
    mask[0, 3:] = 0.0  # a padded row
    y_hat, cache = rnn.forward(x, a0)
    expected_loss, expected = tf_loss_and_gradients(rnn, x, y, a0, mask)
    assert rnn.loss(y_hat, y, mask) == pytest.approx(expected_loss, rel=1e-10)
    grads = rnn.backward(y, cache, mask)
    for name in list(PARAMETER_NAMES) + ["a0"]:
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-8, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_gradient_check_passes(output):
    rnn, x, y = random_problem(output, seed=4)
    mask = np.ones((3, 5))
    mask[1, 2:] = 0
    assert gradient_check(rnn, x, y, mask=mask) < 1e-7
    numeric = numerical_gradients(rnn, x, y, mask=mask)
    analytic = rnn.backward(y, rnn.forward(x)[1], mask)
    np.testing.assert_allclose(numeric["W_aa"], analytic["W_aa"], rtol=1e-5, atol=1e-8)


class MissingTanhDerivative(NumpyRNN):
    """A classic BPTT bug: forgetting the (1 - a^2) factor."""

    def backward(self, y, cache, mask=None):
        states = cache["states"]
        saved = [s.copy() for s in states]
        for s in states[1:]:
            s[...] = 0.0  # makes (1 - a^2) == 1 inside the parent's backward
        try:
            return super().backward(y, cache, mask)
        finally:
            for s, original in zip(states, saved):
                s[...] = original


def test_gradient_check_catches_a_wrong_backward_pass():
    correct, x, y = random_problem("softmax", seed=5)
    broken = MissingTanhDerivative(4, 6, 4, seed=5, init_scale=0.5)
    broken.params = {k: v.copy() for k, v in correct.params.items()}
    assert gradient_check(broken, x, y) > 1e-2


def test_clipping_and_training_reduce_the_loss():
    grads = {"a": np.array([[-7.0, 2.0], [5.5, -0.1]])}
    np.testing.assert_array_equal(clip_gradients(grads, 5.0)["a"], [[-5.0, 2.0], [5.0, -0.1]])
    np.testing.assert_array_equal(clip_gradients(grads, None)["a"], grads["a"])
    # Learn "hello" one character at a time (min-char-rnn's toy task).
    chars = "helo"
    ids = [chars.index(c) for c in "hello"]
    x = np.eye(4)[[ids[:-1]]]
    y = np.eye(4)[[ids[1:]]]
    rnn = NumpyRNN(4, 10, 4, seed=0, init_scale=0.1)
    first = rnn.loss(rnn.forward(x)[0], y)
    for _ in range(300):
        rnn.train_step(x, y, learning_rate=0.3)
    y_hat, _ = rnn.forward(x)
    assert rnn.loss(y_hat, y) < 0.05 * first
    assert "".join(chars[i] for i in y_hat[0].argmax(-1)) == "ello"


def test_sample_feeds_outputs_back_and_stops_at_the_end_index():
    rnn = NumpyRNN(3, 4, 3, seed=0)
    # Make index 2 (the "end") overwhelmingly likely after any input.
    rnn.params["b_y"] = np.array([0.0, 0.0, 50.0])
    assert rnn.sample(0, end_index=2, max_length=10, seed=1) == [2]
    rnn.params["b_y"] = np.array([0.0, 50.0, 0.0])
    assert rnn.sample(0, end_index=2, max_length=4, seed=1) == [1, 1, 1, 1]
    assert rnn.sample(0, max_length=5, seed=3) == rnn.sample(0, max_length=5, seed=3)


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="hidden_dim"):
        NumpyRNN(3, 0, 3)
    with pytest.raises(ValueError, match="output"):
        NumpyRNN(3, 2, 3, output="relu")
    rnn = NumpyRNN(3, 2, 3)
    with pytest.raises(ValueError, match=r"`x` must have shape \[batch, time, input_dim=3\]"):
        rnn.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="`a0`"):
        rnn.forward(np.zeros((2, 4, 3)), a0=np.zeros((2, 5)))
    y_hat, cache = rnn.forward(np.zeros((2, 4, 3)))
    with pytest.raises(ValueError, match="`y`"):
        rnn.backward(np.zeros((2, 4, 2)), cache)
    with pytest.raises(ValueError, match="clip_value"):
        clip_gradients({}, -1.0)
    with pytest.raises(ValueError, match="sample"):
        NumpyRNN(3, 2, 4).sample(0)
    with pytest.raises(ValueError, match="learning_rate"):
        rnn.train_step(np.zeros((1, 2, 3)), np.zeros((1, 2, 3)), learning_rate=0)
