"""A vanilla RNN in plain NumPy: forward pass, backpropagation through time,
gradient clipping, sampling and a numerical gradient check.

The teaching companion of the Keras models (seed 4.1-4.2; Karpathy's
min-char-rnn; Coursera "Dinosaurus Island"): every line of the forward and
backward pass is one of the seed's equations, so a reader can follow the
derivatives by hand and `gradient_check` proves them against finite
differences. With the same weights its forward pass equals
`keras.layers.SimpleRNN` followed by a `Dense` layer.

Forward pass (seed 4.1, with the known slip fixed: the input at step t is
x^[t], not x^[1]), for a batch of rows:

    a^[0] = 0 (or a given initial state)
    a^[t] = tanh(W_aa a^[t-1] + W_ax x^[t] + b_a)
    y_hat^[t] = g(W_ya a^[t] + b_y)

where g is the softmax over the output units (``output="softmax"``, the
character language model) or the elementwise sigmoid (``output="sigmoid"``).

Loss (seed 4.2), summed over time steps and batch rows:

* ``"sigmoid"``: L = sum_t -y^[t] log y_hat^[t] - (1 - y^[t]) log(1 - y_hat^[t])
  (the seed's binary cross-entropy, per output unit);
* ``"softmax"``: L = sum_t -sum_k y_k^[t] log y_hat_k^[t] (its multi-class form,
  what a language model over a vocabulary needs).

Both pairings share the gradient dL/dz^[t] = y_hat^[t] - y^[t] for the
pre-activation z^[t] = W_ya a^[t] + b_y, from which backpropagation through
time follows:

    dW_ya = sum_t dz^[t] a^[t]^T,        db_y = sum_t dz^[t]
    da^[t] = W_ya^T dz^[t] + W_aa^T dr^[t+1]      (dr^[T+1] = 0)
    dr^[t] = (1 - a^[t]^2) * da^[t]                (tanh' at the pre-activation)
    dW_ax = sum_t dr^[t] x^[t]^T,  dW_aa = sum_t dr^[t] a^[t-1]^T,  db_a = sum_t dr^[t]

Arrays are batch-major rows: inputs ``[B, T, n_x]``, states ``[B, n_a]``,
outputs ``[B, T, n_y]``; ``W_ax`` is ``[n_a, n_x]``, ``W_aa`` ``[n_a, n_a]``,
``W_ya`` ``[n_y, n_a]`` as in the seed (so a row computes ``x @ W_ax.T``).

Example:

>>> import numpy as np
>>> from keras_seq.numpy_rnn import NumpyRNN, gradient_check
>>> rnn = NumpyRNN(input_dim=5, hidden_dim=4, output_dim=5, seed=0)
>>> x = np.eye(5)[[[0, 1, 2], [3, 4, 0]]]          # one-hot, [B=2, T=3, 5]
>>> y = np.eye(5)[[[1, 2, 3], [4, 0, 1]]]
>>> y_hat, cache = rnn.forward(x)
>>> y_hat.shape, bool(np.allclose(y_hat.sum(-1), 1.0))
((2, 3, 5), True)
>>> round(rnn.loss(y_hat, y) / 6, 4)                # ~ log(5) at initialisation
1.6094
>>> gradient_check(rnn, x, y) < 1e-7
True
"""

from __future__ import annotations

import numpy as np

from keras_seq._validation import positive_int_errors, raise_errors

_OUTPUTS = ("softmax", "sigmoid")
PARAMETER_NAMES = ("W_ax", "W_aa", "b_a", "W_ya", "b_y")


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the maximum for stability.

    >>> from keras_seq.numpy_rnn import softmax
    >>> softmax(np.array([0.0, np.log(3.0)])).round(4).tolist()
    [0.25, 0.75]
    """
    shifted = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Elementwise logistic function 1 / (1 + exp(-z)), computed stably.

    >>> from keras_seq.numpy_rnn import sigmoid
    >>> sigmoid(np.array([0.0, 800.0, -800.0])).tolist()
    [0.5, 1.0, 0.0]
    """
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out


class NumpyRNN:
    """A one-layer tanh RNN with a softmax (or sigmoid) output, in NumPy.

    Args:
        input_dim: int, n_x, the size of an input vector x^[t].
        hidden_dim: int, n_a, the size of the state a^[t].
        output_dim: int, n_y, the size of an output y_hat^[t].
        output: ``"softmax"`` (categorical cross-entropy) or ``"sigmoid"``
            (the seed's binary cross-entropy). Defaults to ``"softmax"``.
        seed: int or None, seeds the weight initialisation. Defaults to `None`.
        init_scale: float, weights are drawn from N(0, init_scale^2) (biases
            start at 0), as in min-char-rnn. Defaults to `0.01`.

    Attributes:
        params: dict of float64 arrays ``W_ax, W_aa, b_a, W_ya, b_y``.

    Raises:
        ValueError: If a dimension is not a positive integer, `output` is
            unknown or `init_scale` is not positive.

    Example:

    >>> from keras_seq.numpy_rnn import NumpyRNN
    >>> rnn = NumpyRNN(3, 2, 3, seed=1)
    >>> sorted((k, v.shape) for k, v in rnn.params.items())
    [('W_aa', (2, 2)), ('W_ax', (2, 3)), ('W_ya', (3, 2)), ('b_a', (2,)), ('b_y', (3,))]
    """

    def __init__(
        self,
        input_dim: int,
        hidden_dim: int,
        output_dim: int,
        output: str = "softmax",
        seed: int | None = None,
        init_scale: float = 0.01,
    ):
        errors = positive_int_errors(
            {"input_dim": input_dim, "hidden_dim": hidden_dim, "output_dim": output_dim},
            allow_numpy=True,
        )
        if output not in _OUTPUTS:
            errors.append(f'`output` must be "softmax" or "sigmoid"; received {output!r}.')
        if not isinstance(init_scale, (int, float)) or not init_scale > 0:
            errors.append(f"`init_scale` must be a number > 0; received {init_scale!r}.")
        raise_errors(errors)
        self.input_dim = int(input_dim)
        self.hidden_dim = int(hidden_dim)
        self.output_dim = int(output_dim)
        self.output = output
        rng = np.random.default_rng(seed)
        n_x, n_a, n_y = self.input_dim, self.hidden_dim, self.output_dim
        self.params = {
            "W_ax": rng.normal(0.0, init_scale, (n_a, n_x)),
            "W_aa": rng.normal(0.0, init_scale, (n_a, n_a)),
            "b_a": np.zeros(n_a),
            "W_ya": rng.normal(0.0, init_scale, (n_y, n_a)),
            "b_y": np.zeros(n_y),
        }

    # ---------------------------------------------------------------- checks
    def _check_inputs(self, x, a0=None):
        x = np.asarray(x, dtype=float)
        if x.ndim != 3 or x.shape[-1] != self.input_dim:
            raise ValueError(
                f"`x` must have shape [batch, time, input_dim={self.input_dim}]; "
                f"received shape {x.shape}."
            )
        if a0 is None:
            a0 = np.zeros((x.shape[0], self.hidden_dim))
        a0 = np.asarray(a0, dtype=float)
        if a0.shape != (x.shape[0], self.hidden_dim):
            raise ValueError(
                f"`a0` must have shape [batch={x.shape[0]}, hidden_dim={self.hidden_dim}]; "
                f"received shape {a0.shape}."
            )
        return x, a0

    def _check_targets(self, y, shape):
        y = np.asarray(y, dtype=float)
        if y.shape != shape:
            raise ValueError(
                f"`y` must have the shape of the outputs {shape} (one-hot rows for "
                f"softmax, 0/1 values for sigmoid); received shape {y.shape}."
            )
        return y

    # --------------------------------------------------------------- forward
    def forward(self, x, a0=None):
        """Runs the seed's forward equations over all time steps.

        Args:
            x: float array ``[B, T, input_dim]`` (one-hot rows for characters).
            a0: optional initial state ``[B, hidden_dim]``; zeros by default.

        Returns:
            ``(y_hat, cache)``: outputs ``[B, T, output_dim]`` and what
            `backward` needs (inputs, the states a^[0..T]).
        """
        x, a0 = self._check_inputs(x, a0)
        p = self.params
        steps = x.shape[1]
        states = [a0]
        outputs = []
        for t in range(steps):
            a = np.tanh(states[-1] @ p["W_aa"].T + x[:, t] @ p["W_ax"].T + p["b_a"])
            z = a @ p["W_ya"].T + p["b_y"]
            outputs.append(softmax(z) if self.output == "softmax" else sigmoid(z))
            states.append(a)
        y_hat = np.stack(outputs, axis=1) if steps else np.zeros((x.shape[0], 0, self.output_dim))
        return y_hat, {"x": x, "states": states, "y_hat": y_hat}

    def loss(self, y_hat, y, mask=None):
        """The seed's loss, summed over batch rows and time steps (and output
        units for the sigmoid). `mask` ``[B, T]`` (1 = counts) skips padding."""
        y = self._check_targets(y, np.shape(y_hat))
        tiny = 1e-300
        if self.output == "softmax":
            per_step = -np.sum(y * np.log(np.maximum(y_hat, tiny)), axis=-1)
        else:
            per_step = -np.sum(
                y * np.log(np.maximum(y_hat, tiny)) + (1 - y) * np.log(np.maximum(1 - y_hat, tiny)),
                axis=-1,
            )
        if mask is not None:
            per_step = per_step * np.asarray(mask, dtype=float)
        return float(np.sum(per_step))

    # -------------------------------------------------------------- backward
    def backward(self, y, cache, mask=None):
        """Backpropagation through time (the equations in the module docstring).

        Args:
            y: targets shaped like the outputs.
            cache: the second value returned by `forward`.
            mask: optional ``[B, T]`` weights (1 = the step counts in the loss).

        Returns:
            dict of gradients of `loss` for every parameter, plus ``"a0"``
            (the gradient for the initial state).
        """
        y_hat = cache["y_hat"]
        y = self._check_targets(y, y_hat.shape)
        x, states = cache["x"], cache["states"]
        p = self.params
        grads = {name: np.zeros_like(value) for name, value in p.items()}
        dz_all = y_hat - y
        if mask is not None:
            dz_all = dz_all * np.asarray(mask, dtype=float)[..., None]
        d_next = np.zeros_like(states[0])  # W_aa^T dr^[t+1], zero after the last step
        for t in reversed(range(x.shape[1])):
            a, a_prev, dz = states[t + 1], states[t], dz_all[:, t]
            grads["W_ya"] += dz.T @ a
            grads["b_y"] += dz.sum(axis=0)
            da = dz @ p["W_ya"] + d_next
            dr = (1.0 - a**2) * da
            grads["W_ax"] += dr.T @ x[:, t]
            grads["W_aa"] += dr.T @ a_prev
            grads["b_a"] += dr.sum(axis=0)
            d_next = dr @ p["W_aa"]
        grads["a0"] = d_next
        return grads

    # -------------------------------------------------------------- training
    def train_step(self, x, y, learning_rate=0.01, clip_value=5.0, a0=None, mask=None):
        """One step of gradient descent with elementwise gradient clipping
        (min-char-rnn clips to [-5, 5] against exploding gradients, seed 4.5).

        Returns:
            ``(loss, a_last)``: the loss before the update and the final state
            (feed it as `a0` of the next chunk for truncated BPTT).

        Example:

        >>> import numpy as np
        >>> from keras_seq.numpy_rnn import NumpyRNN
        >>> rnn = NumpyRNN(4, 8, 4, seed=0, init_scale=0.1)
        >>> x = np.eye(4)[[[0, 1, 2, 3]]]; y = np.eye(4)[[[1, 2, 3, 0]]]
        >>> losses = [rnn.train_step(x, y, learning_rate=0.5)[0] for _ in range(200)]
        >>> losses[-1] < 0.05 * losses[0]
        True
        """
        if not isinstance(learning_rate, (int, float)) or not learning_rate > 0:
            raise ValueError(f"`learning_rate` must be a number > 0; received {learning_rate!r}.")
        y_hat, cache = self.forward(x, a0)
        value = self.loss(y_hat, y, mask)
        grads = clip_gradients(self.backward(y, cache, mask), clip_value)
        for name in PARAMETER_NAMES:
            self.params[name] -= learning_rate * grads[name]
        return value, cache["states"][-1]

    def sample(self, start_index, end_index=None, max_length=50, temperature=1.0, seed=None):
        """Draws one sequence of output indices, feeding each drawn index back
        as the next one-hot input (seed 4.4: "use that output as the input of
        the next step ... until we reach <EoS>"). Needs a softmax output over
        as many units as inputs.

        Returns:
            list of int indices, ending with `end_index` if it was drawn.

        Example:

        >>> from keras_seq.numpy_rnn import NumpyRNN
        >>> rnn = NumpyRNN(5, 3, 5, seed=0)
        >>> out = rnn.sample(start_index=0, end_index=4, max_length=6, seed=0)
        >>> 1 <= len(out) <= 6 and all(0 <= i < 5 for i in out)
        True
        """
        if self.output != "softmax" or self.input_dim != self.output_dim:
            raise ValueError(
                "`sample` needs output='softmax' and input_dim == output_dim (the "
                f"output is fed back as input); this RNN has output={self.output!r}, "
                f"input_dim={self.input_dim}, output_dim={self.output_dim}."
            )
        if not isinstance(temperature, (int, float)) or not temperature > 0:
            raise ValueError(f"`temperature` must be a number > 0; received {temperature!r}.")
        rng = np.random.default_rng(seed)
        p = self.params
        a = np.zeros(self.hidden_dim)
        index = start_index
        drawn = []
        for _ in range(max_length):
            x = np.zeros(self.input_dim)
            x[index] = 1.0
            a = np.tanh(p["W_aa"] @ a + p["W_ax"] @ x + p["b_a"])
            probs = softmax((p["W_ya"] @ a + p["b_y"]) / temperature)
            index = int(rng.choice(self.output_dim, p=probs))
            drawn.append(index)
            if index == end_index:
                break
        return drawn


def clip_gradients(grads: dict, clip_value: float | None = 5.0) -> dict:
    """Clips every gradient elementwise to ``[-clip_value, clip_value]``
    (``None`` leaves them unchanged); returns a new dict.

    >>> import numpy as np
    >>> from keras_seq.numpy_rnn import clip_gradients
    >>> clip_gradients({"W": np.array([-9.0, 0.5, 7.0])}, 5.0)["W"].tolist()
    [-5.0, 0.5, 5.0]
    """
    if clip_value is None:
        return dict(grads)
    if not isinstance(clip_value, (int, float)) or not clip_value > 0:
        raise ValueError(f"`clip_value` must be a number > 0 or None; received {clip_value!r}.")
    return {name: np.clip(g, -clip_value, clip_value) for name, g in grads.items()}


def numerical_gradients(rnn: NumpyRNN, x, y, epsilon: float = 1e-5, a0=None, mask=None) -> dict:
    """Centred finite differences (L(w + eps) - L(w - eps)) / (2 eps) of
    `rnn.loss` for every parameter entry (slow: two forward passes each)."""
    grads = {}
    for name in PARAMETER_NAMES:
        value = rnn.params[name]
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            original = value[index]
            value[index] = original + epsilon
            plus = rnn.loss(rnn.forward(x, a0)[0], y, mask)
            value[index] = original - epsilon
            minus = rnn.loss(rnn.forward(x, a0)[0], y, mask)
            value[index] = original
            grad[index] = (plus - minus) / (2 * epsilon)
        grads[name] = grad
    return grads


def gradient_check(rnn: NumpyRNN, x, y, epsilon: float = 1e-5, a0=None, mask=None) -> float:
    """The relative difference ||g_bptt - g_num|| / (||g_bptt|| + ||g_num||)
    between `backward` and `numerical_gradients`, over all parameters
    (below 1e-7 for a correct backward pass in float64)."""
    if not isinstance(epsilon, (int, float)) or not epsilon > 0:
        raise ValueError(f"`epsilon` must be a number > 0; received {epsilon!r}.")
    _, cache = rnn.forward(x, a0)
    analytic = rnn.backward(y, cache, mask)
    numeric = numerical_gradients(rnn, x, y, epsilon, a0, mask)
    a = np.concatenate([analytic[n].ravel() for n in PARAMETER_NAMES])
    b = np.concatenate([numeric[n].ravel() for n in PARAMETER_NAMES])
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / denominator) if denominator else 0.0
