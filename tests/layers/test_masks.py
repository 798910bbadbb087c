import numpy as np
import pytest
import tensorflow as tf

from keras_seq.layers import causal_mask, padding_mask


def test_padding_mask_marks_real_tokens():
    ids = np.array([[5, 6, 0], [0, 0, 0], [1, 2, 3]])
    np.testing.assert_array_equal(np.asarray(padding_mask(ids)), ids != 0)
    np.testing.assert_array_equal(np.asarray(padding_mask(ids, pad_id=3)), ids != 3)


def test_causal_mask_is_the_lower_triangle():
    for n in (1, 2, 7):
        np.testing.assert_array_equal(np.asarray(causal_mask(n)), np.tril(np.ones((n, n), bool)))


def test_causal_mask_with_offset_matches_rows_of_the_full_mask():
    full = np.tril(np.ones((6, 6), bool))
    np.testing.assert_array_equal(np.asarray(causal_mask(6, 2, offset=3)), full[3:5])


def test_causal_mask_works_with_dynamic_length_in_a_graph():
    fn = tf.function(lambda x: causal_mask(tf.shape(x)[1]), input_signature=[tf.TensorSpec([None, None])])
    np.testing.assert_array_equal(fn(tf.zeros((1, 4))).numpy(), np.tril(np.ones((4, 4), bool)))


def test_errors():
    with pytest.raises(ValueError, match="token_ids"):
        padding_mask(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="length"):
        causal_mask(0)
