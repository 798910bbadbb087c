import numpy as np
import pytest
import tensorflow as tf

from keras_seq.data import bucket_by_length, padded_batches


def batches_of(dataset):
    return list(dataset.as_numpy_iterator())


def ragged_dataset(sequences, dtype=tf.int64):
    return tf.data.Dataset.from_generator(
        lambda: iter(sequences), output_signature=tf.TensorSpec([None], dtype)
    )


SEQUENCES = [[5, 6, 7], [8], [9, 10], [11, 12, 13, 14], [15]]


def test_padded_batches_from_list():
    batches = batches_of(padded_batches(SEQUENCES, batch_size=2))
    assert [b.tolist() for b in batches] == [
        [[5, 6, 7], [8, 0, 0]],
        [[9, 10, 0, 0], [11, 12, 13, 14]],
        [[15]],
    ]
    assert batches[0].dtype == np.int32
    # NumPy rows keep their dtype; empty rows are allowed.
    rows = [np.array([3, 4], np.int64), np.array([], np.int64)]
    (batch,) = batches_of(padded_batches(rows, batch_size=4, padding_value=-1))
    assert batch.dtype == np.int64
    assert batch.tolist() == [[3, 4], [-1, -1]]


def test_padded_batches_from_dataset_and_drop_remainder():
    dataset = ragged_dataset(SEQUENCES)
    batches = batches_of(padded_batches(dataset, 2, drop_remainder=True))
    assert len(batches) == 2
    assert all(b.shape[0] == 2 and b.dtype == np.int64 for b in batches)
    out = padded_batches(dataset, 2, drop_remainder=True)
    assert out.element_spec.shape.as_list() == [2, None]


def test_padded_batches_tuples_and_dicts():
    pairs = tf.data.Dataset.from_generator(
        lambda: iter([([1, 2, 3], [4], 0), ([5], [6, 7], 1)]),
        output_signature=(
            tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([], tf.int32),
        ),
    )
    ((source, target, label),) = batches_of(padded_batches(pairs, 2))
    assert source.tolist() == [[1, 2, 3], [5, 0, 0]]
    assert target.tolist() == [[4, 0], [6, 7]]
    assert label.tolist() == [0, 1]
    # A per-component padding value, and strings padded with "".
    examples = pairs.map(
        lambda s, t, y: {"tokens": s, "labels": t, "text": tf.strings.as_string(t)}
    )
    (batch,) = batches_of(
        padded_batches(
            examples, 2, padding_value={"tokens": 0, "labels": -100, "text": ""}
        )
    )
    assert batch["labels"].tolist() == [[4, -100], [6, 7]]
    assert batch["text"].tolist() == [[b"4", b""], [b"6", b"7"]]


def test_padded_batches_shuffle_is_seeded():
    sequences = [[i] * (i % 4 + 1) for i in range(1, 41)]

    def order(seed):
        batches = batches_of(padded_batches(sequences, 8, shuffle_buffer=40, seed=seed))
        return [row[0] for batch in batches for row in batch]

    first = order(3)
    assert sorted(first) == list(range(1, 41))
    assert first != list(range(1, 41))
    assert order(3) == first
    assert order(4) != first


def test_bucket_by_length_groups_similar_lengths():
    rng = np.random.default_rng(0)
    sequences = [list(range(1, n + 1)) for n in rng.integers(1, 30, size=200)]
    dataset = bucket_by_length(
        sequences, bucket_boundaries=[10, 20], batch_sizes=[8, 4, 2]
    )
    seen = 0
    for batch in batches_of(dataset):
        lengths = (batch != 0).sum(axis=1)
        buckets = np.digitize(lengths, [10, 20])
        assert len(set(buckets)) == 1
        assert len(batch) <= [8, 4, 2][buckets[0]]
        assert batch.shape[1] == lengths.max()
        seen += len(batch)
    assert seen == 200


def _firsts_of_full_batches(dataset):
    """The first source tokens of the batches holding two pairs, sorted."""
    return sorted(
        int(first)
        for source, _ in batches_of(dataset)
        if len(source) == 2
        for first in source[:, 0]
    )


def test_bucket_by_length_pairs_and_custom_length_fn():
    pairs = tf.data.Dataset.from_generator(
        lambda: iter([([1], [1, 1, 1, 1, 1]), ([2], [2]), ([3, 3, 3, 3, 3], [3])]),
        output_signature=(
            tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([None], tf.int32),
        ),
    )
    # Default: the longest component -> lengths 5, 1, 5.
    assert _firsts_of_full_batches(bucket_by_length(pairs, [3], [2, 2])) == [1, 3]
    # Bucketing on the source only: lengths 1, 1, 5.
    by_source = bucket_by_length(
        pairs, [3], [2, 2], length_fn=lambda source, target: tf.size(source)
    )
    assert _firsts_of_full_batches(by_source) == [1, 2]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(batch_size=0), "`batch_size`"),
        (dict(batch_size=2.0), "`batch_size`"),
        (dict(shuffle_buffer=0), "`shuffle_buffer`"),
        (dict(seed="a"), "`seed`"),
        (dict(drop_remainder=1), "`drop_remainder`"),
        (dict(padding_value="x"), "`padding_value`"),
        (dict(padding_value=0.5), "`padding_value`"),
        (dict(padding_value={"a": 0}), "`padding_value`"),
        (dict(dataset_or_sequences=[]), "must not be an empty list"),
        (dict(dataset_or_sequences="abc"), "`dataset_or_sequences`"),
        (dict(dataset_or_sequences=[[1, 2], [[3]]]), "item 1"),
        (dict(dataset_or_sequences=[[1.5]]), "item 0"),
        (
            dict(
                dataset_or_sequences=tf.data.Dataset.from_tensor_slices(
                    tf.ragged.constant([[[1], [2]], [[3]]])
                )
            ),
            "dense tensors",
        ),
    ],
)
def test_padded_batches_errors(kwargs, match):
    call = dict(dataset_or_sequences=SEQUENCES, batch_size=2)
    call.update(kwargs)
    with pytest.raises(ValueError, match=match):
        padded_batches(**call)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(batch_sizes=[2, 2]), r"len\(bucket_boundaries\) \+ 1 = 3"),
        (dict(batch_sizes=[2, 2, 2, 2]), r"len\(bucket_boundaries\) \+ 1 = 3"),
        (dict(batch_sizes=[2, 0, 2]), "`batch_sizes`"),
        (dict(batch_sizes=5), "`batch_sizes`"),
        (dict(bucket_boundaries=[]), "at least one"),
        (dict(bucket_boundaries=[5, 5]), "strictly increasing"),
        (dict(bucket_boundaries=[0, 5]), "positive"),
        (dict(length_fn=3), "`length_fn`"),
        (dict(dataset=tf.data.Dataset.range(3)), "pass a `length_fn`"),
    ],
)
def test_bucket_by_length_errors(kwargs, match):
    call = dict(dataset=SEQUENCES, bucket_boundaries=[2, 4], batch_sizes=[2, 2, 2])
    call.update(kwargs)
    with pytest.raises(ValueError, match=match):
        bucket_by_length(**call)
