import numpy as np
import pytest
import tensorflow as tf

from keras_seq.text import shift_right


def test_numpy_shift():
    targets = np.array([[5, 6, 7, 3], [8, 3, 0, 0]], dtype=np.int32)
    out = shift_right(targets, start_id=2)
    assert isinstance(out, np.ndarray)
    assert out.dtype == np.int32
    assert out.shape == targets.shape
    np.testing.assert_array_equal(out, [[2, 5, 6, 7], [2, 8, 3, 0]])
    # The input is untouched.
    np.testing.assert_array_equal(targets, [[5, 6, 7, 3], [8, 3, 0, 0]])


def test_list_input_and_numpy_integer_start_id():
    out = shift_right([[1, 2], [3, 4]], np.int64(9))
    np.testing.assert_array_equal(out, [[9, 1], [9, 3]])


def test_single_step_and_empty_time():
    np.testing.assert_array_equal(shift_right(np.array([[4], [5]]), 2), [[2], [2]])
    empty = np.zeros((3, 0), dtype=np.int64)
    assert shift_right(empty, 2).shape == (3, 0)


def test_tf_tensor_shift():
    targets = tf.constant([[5, 6, 7, 3], [8, 3, 0, 0]], dtype=tf.int64)
    out = shift_right(targets, start_id=2)
    assert tf.is_tensor(out)
    assert out.dtype == tf.int64
    np.testing.assert_array_equal(out.numpy(), [[2, 5, 6, 7], [2, 8, 3, 0]])


def test_inside_tf_function_with_dynamic_shape():
    @tf.function(input_signature=[tf.TensorSpec(shape=[None, None], dtype=tf.int32)])
    def fn(targets):
        return shift_right(targets, start_id=2)

    for batch, time in [(2, 4), (3, 1), (1, 6)]:
        targets = np.arange(batch * time, dtype=np.int32).reshape(batch, time) + 4
        out = fn(tf.constant(targets)).numpy()
        np.testing.assert_array_equal(out, shift_right(targets, 2))
        assert out.shape == (batch, time)


def test_inside_tf_data_map():
    ds = tf.data.Dataset.from_tensor_slices(np.array([[4, 5, 3], [6, 3, 0]]))
    ds = ds.batch(2).map(lambda t: (shift_right(t, 2), t))
    decoder_inputs, _ = next(iter(ds))
    np.testing.assert_array_equal(decoder_inputs.numpy(), [[2, 4, 5], [2, 6, 3]])


@pytest.mark.parametrize(
    "bad", [np.array([1, 2, 3]), np.zeros((2, 3, 4)), tf.constant([1, 2, 3])]
)
def test_rank_validation(bad):
    with pytest.raises(ValueError, match="`targets` must have rank 2"):
        shift_right(bad, 2)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2", None])
def test_start_id_validation(bad):
    with pytest.raises(ValueError, match="`start_id`"):
        shift_right(np.zeros((2, 2), dtype=np.int32), bad)
