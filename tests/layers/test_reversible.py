"""ReversibleBlock / ReversibleSequence: exact inverse and exact gradients.

The reference for every gradient is the same blocks run as an ordinary
residual stack (`block((x1, x2))` one after another, plain autodiff), with
the same weights and, with dropout, the same seed-generator states.
Gradient comparisons run in float64, where the recomputation error
(float rounding in `x2 = y2 - g(y1)`) is far below the tolerance, so any
real mistake (a missing seed restore, unsummed tied weights, re-hashing)
shows up.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.layers import ReversibleBlock, ReversibleSequence
from keras_seq.models.reformer import ReformerAttention, ReformerFeedForward
from keras_seq.testing import run_layer_test


@keras.saving.register_keras_serializable(package="keras_seq_tests")
class SelfAttention(keras.layers.Layer):
    """`keras.layers.MultiHeadAttention(x, x)` as a one-input layer."""

    def __init__(self, num_heads=2, key_dim=2, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.key_dim, self.dropout = num_heads, key_dim, dropout
        self.attention = keras.layers.MultiHeadAttention(
            num_heads, key_dim, dropout=dropout, dtype=self.dtype_policy
        )

    def build(self, inputs_shape):
        self.attention.build(inputs_shape, inputs_shape)
        self.built = True

    def call(self, inputs, training=None):
        return self.attention(inputs, inputs, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(num_heads=self.num_heads, key_dim=self.key_dim, dropout=self.dropout)
        return config


def feed_forward(width, dropout, dtype):
    return keras.Sequential(
        [
            keras.layers.Dense(2 * width, activation="gelu", dtype=dtype),
            keras.layers.Dropout(dropout, seed=1, dtype=dtype),
            keras.layers.Dense(width, dtype=dtype),
        ]
    )


def make_stack(depth, width=4, dropout=0.0, tied=False, dtype="float64"):
    keras.utils.set_random_seed(0)
    shared = SelfAttention(dropout=dropout, dtype=dtype)
    blocks = [
        ReversibleBlock(
            shared if tied else SelfAttention(dropout=dropout, dtype=dtype),
            feed_forward(width, dropout, dtype),
            dtype=dtype,
        )
        for _ in range(depth)
    ]
    return ReversibleSequence(blocks, dtype=dtype)


def inputs(width=4, length=6, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    return tf.constant(rng.normal(size=(2, length, 2 * width)).astype(dtype))


def test_inverse_reconstructs_inputs_at_depth_12():
    """Reformer blocks (pre-norm LSH attention, chunked FFN), float32."""
    keras.utils.set_random_seed(0)
    stack = ReversibleSequence(
        [
            ReversibleBlock(
                ReformerAttention(2, 4, bucket_size=4, num_hashes=2, causal=True, seed=i),
                ReformerFeedForward(16, 2),
            )
            for i in range(12)
        ]
    )
    x = inputs(width=8, length=16, dtype="float32")
    y = stack(x)
    assert np.max(np.abs(y - x)) > 1.0  # the blocks do change the streams
    np.testing.assert_allclose(stack.inverse(y), x, atol=1e-5, rtol=1e-5)


def test_inverse_and_formula_at_depth_12_float64():
    stack = make_stack(12)
    x = inputs()
    y = stack(x)
    np.testing.assert_allclose(stack.inverse(y), x, atol=1e-9, rtol=1e-9)
    # The forward is the formula y1 = x1 + f(x2), y2 = x2 + g(y1), block by block.
    x1, x2 = np.split(x.numpy(), 2, axis=-1)
    for block in stack.blocks:
        x1 = x1 + block.f(x2).numpy()
        x2 = x2 + block.g(x1).numpy()
    np.testing.assert_allclose(y, np.concatenate([x1, x2], -1), atol=1e-9, rtol=1e-9)


def test_block_inverse_with_pairs():
    keras.utils.set_random_seed(1)
    block = ReversibleBlock(keras.layers.Dense(3), keras.layers.Dense(3, activation="tanh"))
    x1, x2 = np.random.default_rng(1).normal(size=(2, 4, 5, 3)).astype("float32")
    y1, y2 = block((x1, x2))
    np.testing.assert_allclose(y1, x1 + block.f(x2), atol=1e-6)
    np.testing.assert_allclose(y2, x2 + block.g(y1), atol=1e-6)
    r1, r2 = block.inverse((y1, y2))
    np.testing.assert_allclose(r1, x1, atol=1e-5)
    np.testing.assert_allclose(r2, x2, atol=1e-5)


def _seed_states(stack):
    weights = {id(w) for w in stack.non_trainable_weights}
    return [v for v in stack.non_trainable_variables if id(v) not in weights]


def _gradients(forward, stack, x, cotangent):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = forward(x)
        loss = tf.reduce_sum(y * cotangent) + 0.5 * tf.reduce_sum(y * y)
    return [y] + tape.gradient(loss, [x] + stack.trainable_variables)


def _ordinary_gradients(stack, x, cotangent):
    """`_gradients` of the same blocks applied one after another (an ordinary
    residual stack that keeps every activation)."""

    def forward(x):
        for block in stack.blocks:
            x = block(x, training=True)
        return x

    return _gradients(forward, stack, x, cotangent)


@pytest.mark.parametrize("mode", ["eager", "function", "jit"])
@pytest.mark.parametrize("variant", ["plain", "tied", "dropout"])
def test_gradients_equal_ordinary_residual_stack(mode, variant):
    stack = make_stack(4, dropout=0.3 if variant == "dropout" else 0.0, tied=variant == "tied")
    x, cotangent = inputs(seed=2), inputs(seed=3)
    stack(x)
    if variant == "tied":
        assert len(stack.trainable_variables) < sum(
            len(b.trainable_variables) for b in stack.blocks
        )

    def reversible(x):
        return _gradients(lambda x: stack(x, training=True), stack, x, cotangent)

    def ordinary(x):
        return _ordinary_gradients(stack, x, cotangent)

    wrap = {
        "eager": lambda f: f,
        "function": tf.function,
        "jit": lambda f: tf.function(f, jit_compile=True),
    }[mode]
    states = _seed_states(stack)
    start = [s.numpy() for s in states]
    got = wrap(reversible)(x)
    after_reversible = [s.numpy() for s in states]
    for s, v in zip(states, start):
        s.assign(v)
    expected = wrap(ordinary)(x)
    after_ordinary = [s.numpy() for s in states]
    assert len(got) == len(expected) == 2 + len(stack.trainable_variables)
    for i, (a, e) in enumerate(zip(got, expected)):
        assert a is not None and e is not None, i
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-9, err_msg=f"output {i}")
    # The seed generators advance exactly as in the ordinary stack (the
    # recomputation replays the seeds without consuming new ones).
    for a, e in zip(after_reversible, after_ordinary):
        np.testing.assert_array_equal(a, e)
    if variant == "dropout":
        assert states and any(not np.array_equal(a, s) for a, s in zip(after_reversible, start))


def test_dropout_seeds_matter():
    """Without restoring the seeds, the reference gradients would differ:
    two training calls of the stack draw different dropout masks."""
    stack = make_stack(2, dropout=0.5)
    x = inputs()
    first = stack(x, training=True)
    second = stack(x, training=True)
    assert np.max(np.abs(first - second)) > 1e-3


def test_float32_gradients_close_to_ordinary_stack():
    stack = make_stack(6, dtype="float32")
    x, cotangent = inputs(dtype="float32", seed=4), inputs(dtype="float32", seed=5)
    got = _gradients(lambda x: stack(x, training=True), stack, x, cotangent)
    expected = _ordinary_gradients(stack, x, cotangent)
    for a, e in zip(got, expected):
        np.testing.assert_allclose(a, e, rtol=1e-3, atol=1e-4)


def test_eager_forward_is_not_recorded_by_the_outer_tape():
    """The outer tape records only the stack's own custom-gradient op: a
    watched intermediate of the forward pass gets no gradient path."""
    seen = []

    @keras.saving.register_keras_serializable(package="keras_seq_tests")
    class Spy(keras.layers.Layer):
        def call(self, inputs):
            seen.append(inputs)
            return inputs * 2.0

    stack = ReversibleSequence([ReversibleBlock(Spy(), Spy())])
    x = inputs(dtype="float32")
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = stack(x, training=True)
    forward_input = seen[0]
    assert tape.gradient(y, forward_input) is None  # not recorded
    # ... while the gradient with respect to the input is complete:
    # y1 = x1 + 2 x2, y2 = x2 + 2 y1 = 2 x1 + 5 x2, so dsum/dx1 = 3, dx2 = 7.
    grad = tape.gradient(y, x).numpy()
    np.testing.assert_allclose(grad[..., :4], 3.0)
    np.testing.assert_allclose(grad[..., 4:], 7.0)


def test_trains_in_model_fit():
    stack = make_stack(3, dropout=0.1, dtype="float32")
    inputs_ = keras.Input((6, 8))
    model = keras.Model(inputs_, keras.layers.Dense(1)(stack(inputs_)))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6, 8)).astype("float32")
    y = x[..., :1] * 2.0 - x[..., 5:6]
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < 0.5 * history[0]


def test_lsh_buckets_are_reused_in_the_backward_pass():
    calls = []

    @keras.saving.register_keras_serializable(package="keras_seq_tests")
    class CountingAttention(ReformerAttention):
        def compute_buckets(self, inputs, padding_mask=None):
            calls.append("hash")
            return super().compute_buckets(inputs, padding_mask)

        def call(self, inputs, padding_mask=None, training=None, buckets=None):
            calls.append("given" if buckets is not None else "hashed inside")
            return super().call(inputs, padding_mask, training, buckets)

    keras.utils.set_random_seed(0)
    blocks = [
        ReversibleBlock(
            CountingAttention(2, 4, bucket_size=4, num_hashes=2, causal=True, seed=i),
            ReformerFeedForward(16, 2, dropout=0.2),
        )
        for i in range(2)
    ]
    stack = ReversibleSequence(blocks)
    x = inputs(width=8, length=16, dtype="float32")
    stack(x)  # build
    calls.clear()
    states = _seed_states(stack)
    start = [s.numpy() for s in states]
    cotangent = inputs(width=8, length=16, dtype="float32", seed=7)
    got = _gradients(lambda x: stack(x, training=True), stack, x, cotangent)
    assert calls == ["hash", "given"] * 2 + ["given"] * 2  # forward, then backward
    for s, v in zip(states, start):
        s.assign(v)
    expected = _ordinary_gradients(stack, x, cotangent)
    for a, e in zip(got, expected):
        np.testing.assert_allclose(a, e, rtol=1e-3, atol=1e-4)


def test_inference_runs_the_blocks_plainly_with_the_same_values():
    """training=False with no tape: the blocks run one after another (the
    attention hashes inside its own call); under a tape the custom-gradient
    stack hashes once and passes the buckets. Same outputs, bit for bit,
    eagerly and traced."""
    calls = []

    @keras.saving.register_keras_serializable(package="keras_seq_tests")
    class CountingAttention(ReformerAttention):
        def call(self, inputs, padding_mask=None, training=None, buckets=None):
            calls.append("given" if buckets is not None else "hashed inside")
            return super().call(inputs, padding_mask, training, buckets)

    keras.utils.set_random_seed(0)
    blocks = [
        ReversibleBlock(
            CountingAttention(2, 4, bucket_size=4, num_hashes=3, causal=True, seed=i),
            ReformerFeedForward(16, 2, dropout=0.2),
        )
        for i in range(2)
    ]
    stack = ReversibleSequence(blocks)
    x = inputs(width=8, length=16, dtype="float32")
    mask = tf.constant(np.arange(16)[None] < np.array([[16], [11]]))

    def recorded(x, mask):
        with tf.GradientTape() as tape:
            tape.watch(x)
            return stack(x, padding_mask=mask, training=False)

    def plain(x, mask):
        return stack(x, padding_mask=mask, training=False)

    for run in (lambda f: f, tf.function):
        calls.clear()
        expected = run(recorded)(x, mask).numpy()
        assert calls == ["given"] * 2
        calls.clear()
        np.testing.assert_array_equal(run(plain)(x, mask).numpy(), expected)
        assert calls == ["hashed inside"] * 2


def test_batch_normalization_inside_raises():
    block = ReversibleBlock(keras.layers.BatchNormalization(), keras.layers.Dense(4))
    with pytest.raises(ValueError, match="BatchNormalization"):
        ReversibleSequence([block])(np.ones((1, 3, 8), "float32"))
    # A frozen layer keeps no state and is accepted.
    frozen = keras.layers.BatchNormalization()
    frozen.trainable = False
    out = ReversibleSequence([ReversibleBlock(frozen, keras.layers.Dense(4))])(
        np.ones((1, 3, 8), "float32")
    )
    assert tuple(out.shape) == (1, 3, 8)


def test_nested_hashing_layer_raises():
    nested = keras.Sequential([ReformerAttention(2, 2, bucket_size=4, seed=0)])
    block = ReversibleBlock(nested, keras.layers.Dense(4))
    with pytest.raises(ValueError, match="buckets"):
        block(np.ones((1, 8, 8), "float32"))


def test_invalid_arguments():
    with pytest.raises(ValueError, match="`f` must be a `keras.layers.Layer`"):
        ReversibleBlock(lambda x: x, keras.layers.Dense(2))
    with pytest.raises(ValueError, match="`blocks` must be a non-empty list"):
        ReversibleSequence([])
    with pytest.raises(ValueError, match="`blocks` must all be `ReversibleBlock`"):
        ReversibleSequence([keras.layers.Dense(2)])
    block = ReversibleBlock(keras.layers.Dense(2), keras.layers.Dense(2))
    with pytest.raises(ValueError, match="last axis must be even"):
        block(np.ones((1, 3, 5), "float32"))
    shape_changing = ReversibleBlock(keras.layers.Dense(3), keras.layers.Dense(2))
    with pytest.raises(ValueError, match="must keep the shape"):
        shape_changing(np.ones((1, 3, 4), "float32"))


def _dense(width):
    return keras.saving.serialize_keras_object(keras.layers.Dense(width, activation="tanh"))


def test_run_layer_test_block():
    run_layer_test(
        ReversibleBlock,
        {"f": _dense(4), "g": _dense(4)},
        np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32"),
        expected_output_shape=(2, 5, 8),
        masked_inputs=("inputs",),
    )


def test_run_layer_test_sequence():
    block = keras.saving.serialize_keras_object(
        ReversibleBlock(keras.layers.Dense(4, activation="tanh"), SelfAttention(dropout=0.1))
    )
    run_layer_test(
        ReversibleSequence,
        {"blocks": [block, block]},
        np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32"),
        expected_output_shape=(2, 5, 8),
        masked_inputs=("inputs",),
    )
