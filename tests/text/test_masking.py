import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.text import mlm_mask

VOCAB = 1000
MASK = 4
SPECIAL = (1, 2, 3)  # [UNK], [CLS], [SEP]; 0 (padding) and MASK are implicit
ALL_SPECIAL = {0, 1, 2, 3, MASK}
ARGS = dict(vocabulary_size=VOCAB, mask_id=MASK, special_ids=SPECIAL)


def make_corpus(num_rows=1600, width=128, seed=0):
    """[CLS] tokens [SEP] rows of random length, zero-padded (~118k candidates)."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((num_rows, width), dtype=np.int32)
    for row, length in enumerate(rng.integers(20, width + 1, size=num_rows)):
        ids[row, 0] = 2
        ids[row, 1 : length - 1] = rng.integers(5, VOCAB, size=length - 2)
        ids[row, length - 1] = 3
    return ids


@pytest.fixture(scope="module")
def corpus():
    return make_corpus()


def within_3_sd(count, total, p):
    sd = np.sqrt(p * (1 - p) / total)
    return abs(count / total - p) <= 3 * sd, (count / total, p, 3 * sd)


def check_statistics(ids, inputs, labels, weights):
    ids, inputs, labels, weights = map(np.asarray, (ids, inputs, labels, weights))
    candidate = ~np.isin(ids, list(ALL_SPECIAL))
    selected = weights == 1.0
    assert candidate.sum() >= 100_000

    # Specials and padding are never selected, never corrupted.
    assert not np.any(selected & ~candidate)
    np.testing.assert_array_equal(inputs[~selected], ids[~selected])

    # Labels/weights agree: original id where selected, 0 elsewhere.
    assert weights.dtype == np.float32
    assert set(np.unique(weights)) <= {0.0, 1.0}
    np.testing.assert_array_equal(labels[selected], ids[selected])
    assert np.all(labels[~selected] == 0)

    # 15% of candidates: exactly max(1, round(0.15 n)) per row, so the share is
    # (well) within 3 binomial standard deviations.
    num_candidates = candidate.sum(axis=1)
    expected = np.where(
        num_candidates > 0, np.maximum(np.round(0.15 * num_candidates), 1), 0
    )
    np.testing.assert_array_equal(selected.sum(axis=1), expected)
    ok, detail = within_3_sd(selected.sum(), candidate.sum(), 0.15)
    assert ok, detail

    # 80/10/10 among the selected.
    chosen, original = inputs[selected], ids[selected]
    masked = chosen == MASK
    randomized = (chosen != MASK) & (chosen != original)
    kept = chosen == original
    total = selected.sum()
    for count, p in ((masked.sum(), 0.8), (randomized.sum(), 0.1), (kept.sum(), 0.1)):
        # A random draw equal to the original (p = 1/995) counts as kept.
        ok, detail = within_3_sd(count, total, p)
        assert ok, detail
    # Random replacements are non-special ids in range.
    replaced = chosen[randomized]
    assert replaced.min() >= 0 and replaced.max() < VOCAB
    assert not np.isin(replaced, list(ALL_SPECIAL)).any()
    # They are spread over the vocabulary, not a few ids.
    assert len(np.unique(replaced)) > 0.7 * min(len(replaced), VOCAB - 5)


def test_numpy_statistics(corpus):
    inputs, labels, weights = mlm_mask(corpus, **ARGS, seed=3)
    assert isinstance(inputs, np.ndarray) and inputs.dtype == corpus.dtype
    assert inputs.shape == labels.shape == weights.shape == corpus.shape
    check_statistics(corpus, inputs, labels, weights)


def collect(dataset):
    parts = list(dataset.as_numpy_iterator())
    return [np.stack([part[i] for part in parts]) for i in range(3)]


def test_tf_data_map_statistics(corpus):
    dataset = tf.data.Dataset.from_tensor_slices(corpus).map(
        lambda ids: mlm_mask(ids, **ARGS, seed=11)
    )
    inputs, labels, weights = collect(dataset)
    assert inputs.dtype == np.int32 and weights.dtype == np.float32
    check_statistics(corpus, inputs, labels, weights)


def test_tf_batched_map_and_seed_generator_statistics(corpus):
    generator = keras.random.SeedGenerator(5)
    dataset = (
        tf.data.Dataset.from_tensor_slices(corpus)
        .batch(100)
        .map(lambda ids: mlm_mask(ids, **ARGS, seed=generator))
    )
    parts = list(dataset.as_numpy_iterator())
    inputs, labels, weights = (np.concatenate([p[i] for p in parts]) for i in range(3))
    check_statistics(corpus, inputs, labels, weights)


def test_variable_length_examples_in_tf_data():
    rows = [[2, 7, 8, 9, 10, 11, 12, 3], [2, 20, 3], [2, 30, 31, 32, 3]]
    dataset = tf.data.Dataset.from_generator(
        lambda: iter(rows), output_signature=tf.TensorSpec([None], tf.int64)
    ).map(lambda ids: mlm_mask(ids, **ARGS, seed=1))
    for row, (inputs, labels, weights) in zip(rows, dataset.as_numpy_iterator()):
        assert inputs.shape == labels.shape == (len(row),)
        # 6, 1 and 3 candidates: round(0.9) = 1, then max(1, round(0.15)) and
        # max(1, round(0.45)) = 1: a sequence with candidates gets at least one.
        assert weights.sum() == 1
        assert labels[weights == 1] == np.asarray(row)[weights == 1]
        assert weights[0] == weights[-1] == 0


def test_numpy_and_tensor_paths_select_the_same_number_per_row(corpus):
    rows = corpus[:50]
    _, _, numpy_weights = mlm_mask(rows, **ARGS, seed=0)
    _, _, tensor_weights = mlm_mask(tf.constant(rows), **ARGS, seed=0)
    np.testing.assert_array_equal(
        numpy_weights.sum(axis=1), tensor_weights.numpy().sum(axis=1)
    )


def test_loss_counts_only_selected_positions(corpus):
    ids = corpus[:8, :40]
    _, labels, weights = mlm_mask(ids, **ARGS, seed=0)
    rng = np.random.default_rng(0)
    logits = rng.normal(size=ids.shape + (VOCAB,)).astype("float32")
    changed = logits.copy()
    changed[weights == 0] = rng.normal(size=changed[weights == 0].shape)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    first = float(loss(labels, logits, sample_weight=weights))
    second = float(loss(labels, changed, sample_weight=weights))
    assert first > 0
    np.testing.assert_allclose(first, second, rtol=1e-6)


def test_numpy_determinism(corpus):
    rows = corpus[:20]
    first = mlm_mask(rows, **ARGS, seed=42)
    second = mlm_mask(rows, **ARGS, seed=42)
    other = mlm_mask(rows, **ARGS, seed=43)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[2], other[2])
    # A Generator is used (and advanced) in place.
    rng = np.random.default_rng(42)
    np.testing.assert_array_equal(mlm_mask(rows, **ARGS, seed=rng)[0], first[0])
    assert not np.array_equal(mlm_mask(rows, **ARGS, seed=rng)[2], first[2])


def test_tensor_determinism(corpus):
    def run(seed):
        dataset = tf.data.Dataset.from_tensor_slices(corpus[:30]).map(
            lambda ids: mlm_mask(ids, **ARGS, seed=seed)
        )
        return collect(dataset)

    first, second = run(7), run(7)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[2], run(8)[2])
    # An int seed folds in the ids: two different rows get different masks.
    same_rows = np.tile(corpus[:1], (2, 1))
    other_rows = np.stack([corpus[0], corpus[0][::-1]])
    weights = mlm_mask(tf.constant(same_rows[0]), **ARGS, seed=7)[2].numpy()
    np.testing.assert_array_equal(
        weights, mlm_mask(tf.constant(same_rows[1]), **ARGS, seed=7)[2].numpy()
    )
    reversed_weights = mlm_mask(tf.constant(other_rows[1]), **ARGS, seed=7)[2]
    assert not np.array_equal(weights[::-1], reversed_weights.numpy())
    # A SeedGenerator gives a reproducible stream of different masks.
    streams = []
    for _ in range(2):
        generator = keras.random.SeedGenerator(3)
        streams.append(
            [mlm_mask(tf.constant(corpus[0]), **ARGS, seed=generator)[2] for _ in "ab"]
        )
    np.testing.assert_array_equal(streams[0][0], streams[1][0])
    np.testing.assert_array_equal(streams[0][1], streams[1][1])
    assert not np.array_equal(streams[0][0], streams[0][1])
    # An explicit stateless seed tensor.
    seed = tf.constant([1, 2], tf.int64)
    np.testing.assert_array_equal(
        mlm_mask(tf.constant(corpus[:4]), **ARGS, seed=seed)[0],
        mlm_mask(tf.constant(corpus[:4]), **ARGS, seed=seed)[0],
    )


def test_unseeded_tensor_path_gives_fresh_masks(corpus):
    # The same row 50 times: every call draws a new mask. (Across two passes
    # over one dataset, TensorFlow replays its random ops when a global seed is
    # set, e.g. by keras.utils.set_random_seed, so compare within one pass.)
    rows = np.repeat(corpus[:1], 50, axis=0)
    dataset = tf.data.Dataset.from_tensor_slices(rows).map(lambda ids: mlm_mask(ids, **ARGS))
    weights = collect(dataset)[2]
    assert len({w.tobytes() for w in weights}) > 1
    np.testing.assert_array_equal(weights.sum(axis=1), np.full(50, weights[0].sum()))


def test_edge_cases():
    # An all-padding row selects nothing; rank 1 works.
    inputs, labels, weights = mlm_mask(np.zeros((2, 5), np.int64), **ARGS, seed=0)
    assert weights.sum() == 0 and inputs.sum() == 0 and labels.sum() == 0
    ids = np.array([2, 10, 11, 12, 13, 3, 0])
    inputs, labels, weights = mlm_mask(
        ids, **ARGS, rate=1.0, mask_fraction=1.0, random_fraction=0.0, seed=0
    )
    np.testing.assert_array_equal(weights, [0, 1, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(inputs, [2, MASK, MASK, MASK, MASK, 3, 0])
    # Nothing replaced: all selected are kept.
    inputs, _, weights = mlm_mask(
        ids, **ARGS, rate=1.0, mask_fraction=0.0, random_fraction=0.0, seed=0
    )
    np.testing.assert_array_equal(inputs, ids)
    assert weights.sum() == 4
    # A nested list is accepted; a single candidate is always selected.
    assert mlm_mask([[2, 9, 3]], **ARGS, seed=0)[2].tolist() == [[0.0, 1.0, 0.0]]
    # Tensor path keeps the dtype and the rank.
    inputs, labels, weights = mlm_mask(tf.constant(ids, tf.int32), **ARGS, seed=0)
    assert inputs.dtype == tf.int32 and labels.dtype == tf.int32
    assert inputs.shape == (7,) and weights.dtype == tf.float32


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(rate=0.0), "`rate`"),
        (dict(rate=1.5), "`rate`"),
        (dict(rate=True), "`rate`"),
        (dict(mask_fraction=-0.1), "`mask_fraction`"),
        (dict(random_fraction=1.2), "`random_fraction`"),
        (dict(mask_fraction=0.8, random_fraction=0.3), "must be <= 1"),
        (dict(mask_id=0), "`mask_id`"),
        (dict(mask_id=VOCAB), "`mask_id`"),
        (dict(vocabulary_size=1, mask_id=1), "`vocabulary_size`"),
        (dict(special_ids=(VOCAB,)), "`special_ids`"),
        (dict(special_ids="abc"), "`special_ids`"),
        (dict(seed="x"), "`seed`"),
        (dict(seed=-1), "`seed`"),
        (dict(vocabulary_size=5, special_ids=(1, 2, 3)), "`random_fraction`"),
    ],
)
def test_argument_errors(kwargs, match):
    call = dict(ARGS, **kwargs)
    with pytest.raises(ValueError, match=match):
        mlm_mask(np.array([[2, 9, 3]]), **call)


@pytest.mark.parametrize(
    "token_ids, match",
    [
        (np.zeros((2, 2, 2), np.int32), "rank 1"),
        (np.int32(5), "rank 1"),
        (np.array([[1.0, 2.0]]), "integers"),
        (np.array([[2, VOCAB]]), r"\[0, vocabulary_size"),
        (tf.zeros((2, 2, 2), tf.int32), "rank 1"),
        (tf.constant([[1.0]]), "integers"),
        (tf.ragged.constant([[1, 2], [3]]), "dense"),
        ("abc", "NumPy array"),
    ],
)
def test_token_id_errors(token_ids, match):
    with pytest.raises(ValueError, match=match):
        mlm_mask(token_ids, **ARGS)


def test_tensor_seed_errors():
    with pytest.raises(ValueError, match="shape \\[2\\]"):
        mlm_mask(tf.constant([[2, 9, 3]]), **ARGS, seed=tf.constant([1, 2, 3]))
    with pytest.raises(ValueError, match="`seed`"):
        mlm_mask(tf.constant([[2, 9, 3]]), **ARGS, seed=1.5)
    with pytest.raises(ValueError, match="`seed`"):
        mlm_mask(np.array([[2, 9, 3]]), **ARGS, seed=keras.random.SeedGenerator(1))
