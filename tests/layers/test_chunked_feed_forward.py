import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.layers import ChunkedFeedForward
from keras_seq.testing import run_layer_test


def _numpy_ffn(layer, x):
    w1, b1 = (w.numpy() for w in layer.hidden_dense.weights)
    w2, b2 = (w.numpy() for w in layer.output_dense.weights)
    hidden = np.maximum(x @ w1 + b1, 0.0)  # relu
    return hidden @ w2 + b2


@pytest.mark.parametrize("length, num_chunks", [(8, 4), (7, 3), (2, 5), (1, 1)])
def test_equals_unchunked_ffn(length, num_chunks):
    x = np.random.default_rng(length).normal(size=(2, length, 6)).astype("float32")
    chunked = ChunkedFeedForward(12, num_chunks)
    whole = ChunkedFeedForward(12, 1)
    chunked(x)
    whole(x)
    whole.set_weights(chunked.get_weights())
    np.testing.assert_allclose(chunked(x), whole(x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(chunked(x), _numpy_ffn(chunked, x), rtol=1e-5, atol=1e-5)

    def gradients(layer):
        inputs = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = tf.reduce_sum(layer(inputs) ** 2)
        return tape.gradient(loss, [inputs] + layer.trainable_variables)

    for a, b in zip(gradients(chunked), gradients(whole)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_compiled_with_dynamic_length_equals_eager():
    layer = ChunkedFeedForward(8, 3, activation="gelu")
    x = np.random.default_rng(0).normal(size=(1, 10, 4)).astype("float32")
    eager = layer(x)
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, 4))])
    np.testing.assert_allclose(fn(x), eager, rtol=1e-6, atol=1e-6)
    xla = tf.function(lambda x: layer(x), jit_compile=True)
    np.testing.assert_allclose(xla(x), eager, rtol=1e-5, atol=1e-5)


def test_dropout_only_in_training():
    layer = ChunkedFeedForward(64, 4, dropout=0.5)
    x = np.ones((1, 8, 4), "float32")
    np.testing.assert_allclose(layer(x), layer(x))
    assert np.max(np.abs(layer(x, training=True) - layer(x))) > 1e-4


def test_invalid_arguments():
    with pytest.raises(ValueError, match="`intermediate_dim` must be a positive integer"):
        ChunkedFeedForward(0, 2)
    with pytest.raises(ValueError, match="`num_chunks` must be a positive integer"):
        ChunkedFeedForward(4, 1.5)
    with pytest.raises(ValueError, match=r"`dropout` must be a float in \[0, 1\)"):
        ChunkedFeedForward(4, 2, dropout=1.0)
    with pytest.raises(ValueError, match="rank 3"):
        ChunkedFeedForward(4, 2)(np.ones((2, 4), "float32"))


def test_run_layer_test():
    run_layer_test(
        ChunkedFeedForward,
        {"intermediate_dim": 8, "num_chunks": 3, "dropout": 0.1},
        np.random.default_rng(0).normal(size=(2, 7, 4)).astype("float32"),
        expected_output_shape=(2, 7, 4),
        masked_inputs=("inputs",),
    )


def test_keras_mask_passes_through():
    inputs = keras.Input((None, 4))
    masked = keras.layers.Masking(0.0)(inputs)
    out = ChunkedFeedForward(8, 2)(masked)
    assert out._keras_mask is not None
