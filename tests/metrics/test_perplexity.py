"""`perplexity` against a NumPy reference."""

import keras
import numpy as np
import pytest

from keras_seq.metrics import perplexity


@pytest.fixture
def batch(rng):
    labels = rng.integers(0, 11, size=(3, 7))
    logits = rng.normal(scale=3.0, size=(3, 7, 11)).astype("float32")
    mask = rng.random((3, 7)) > 0.3
    return labels, logits, mask


def test_unmasked_matches_numpy(batch, numpy_perplexity):
    labels, logits, _ = batch
    assert float(perplexity(labels, logits)) == pytest.approx(
        numpy_perplexity(labels, logits), rel=1e-5
    )


def test_boolean_and_float_masks_match_numpy(batch, numpy_perplexity):
    labels, logits, mask = batch
    expected = numpy_perplexity(labels, logits, mask)
    assert float(perplexity(labels, logits, mask=mask)) == pytest.approx(
        expected, rel=1e-5
    )
    float_mask = mask.astype("float32")
    assert float(perplexity(labels, logits, mask=float_mask)) == pytest.approx(
        expected, rel=1e-5
    )


def test_row_mask_broadcasts_over_time(batch, numpy_perplexity):
    labels, logits, _ = batch
    rows = np.array([1.0, 0.0, 1.0])
    expected = numpy_perplexity(labels, logits, np.repeat(rows[:, None], 7, axis=1))
    assert float(perplexity(labels, logits, mask=rows)) == pytest.approx(
        expected, rel=1e-5
    )


def test_uniform_logits_give_vocabulary_size():
    logits = np.zeros((2, 5, 13), "float32")
    assert float(perplexity(np.ones((2, 5), "int32"), logits)) == pytest.approx(
        13.0, rel=1e-6
    )


def test_half_precision_logits_are_scored_in_float32(batch, numpy_perplexity):
    labels, logits, mask = batch
    result = perplexity(labels, keras.ops.cast(logits, "float16"), mask=mask)
    assert keras.backend.standardize_dtype(result.dtype) == "float32"
    expected = numpy_perplexity(labels, logits.astype("float16"), mask)
    assert float(result) == pytest.approx(expected, rel=1e-5)


def test_empty_mask_gives_zero(batch):
    labels, logits, mask = batch
    assert float(perplexity(labels, logits, mask=np.zeros_like(mask))) == 0.0


def test_wrong_rank_raises(batch):
    labels, logits, _ = batch
    with pytest.raises(ValueError, match="`logits` must have one more axis"):
        perplexity(labels, logits[..., 0])
