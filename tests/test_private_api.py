"""The private Keras/TensorFlow APIs keras_seq relies on, checked against the
installed versions: if an upgrade changes one of them, these tests fail here
with a message saying which, instead of a layer misbehaving elsewhere."""

import keras
import numpy as np
import tensorflow as tf

from keras_seq import _private_api


def test_keras_mask_attribute_is_where_keras_keeps_implicit_masks():
    ids = np.array([[3, 1, 0, 0], [2, 0, 0, 0]])
    embedded = keras.layers.Embedding(5, 3, mask_zero=True)(ids)
    mask = _private_api.get_keras_mask(embedded)
    assert mask is not None, (
        "Keras no longer stores implicit masks in `_keras_mask`: update "
        "keras_seq._private_api.get_keras_mask"
    )
    np.testing.assert_array_equal(mask, ids != 0)
    assert _private_api.get_keras_mask(tf.constant(1.0)) is None
    # Keras's own losses read the same attribute (as our CTC loss and
    # Perplexity metric do): with a masked y_pred the loss is the mean over
    # the unmasked entries.
    values = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
    values[ids == 0] = 0.0
    masked = keras.layers.Masking(mask_value=0.0)(values)
    assert _private_api.get_keras_mask(masked) is not None
    y_true = np.ones((2, 4, 3), "float32")
    loss = keras.losses.MeanSquaredError()
    expected = np.square(values - 1.0).mean(-1)[ids != 0].mean()
    np.testing.assert_allclose(float(loss(y_true, masked)), expected, rtol=1e-6)
    assert abs(float(loss(y_true, values)) - expected) > 1e-3


def test_without_keras_mask_copies_only_masked_tensors():
    embedded = keras.layers.Embedding(5, 3, mask_zero=True)(np.array([[1, 0]]))
    bare = _private_api.without_keras_mask(embedded)
    assert _private_api.get_keras_mask(bare) is None
    assert _private_api.get_keras_mask(embedded) is not None  # the caller's mask stays
    np.testing.assert_array_equal(bare, embedded)
    plain = tf.constant([1.0])
    assert _private_api.without_keras_mask(plain) is plain


def test_stop_recording_pauses_every_active_tape():
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as outer, tf.GradientTape() as inner:
        outer.watch(x)
        inner.watch(x)
        with _private_api.stop_recording():
            hidden = x * x
        seen = x * x
    assert inner.gradient(hidden, x) is None, "stop_recording no longer stops tapes"
    assert outer.gradient(hidden, x) is None
    assert float(outer.gradient(seen, x)) == 4.0


def test_tape_recording_sees_every_active_tape():
    assert not _private_api.tape_recording()
    with tf.GradientTape():
        assert _private_api.tape_recording(), "could_possibly_record no longer sees tapes"
        with _private_api.stop_recording():
            assert not _private_api.tape_recording()
    assert not _private_api.tape_recording()

    @tf.function
    def inside():
        with tf.GradientTape():
            return tf.constant(_private_api.tape_recording())

    assert bool(inside())
