import numpy as np
import pytest


def _numpy_perplexity(labels, logits, weights=None):
    """exp of the weighted mean token cross-entropy, in float64 NumPy."""
    logits = np.asarray(logits, "float64")
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    nll = -np.take_along_axis(log_probs, np.asarray(labels)[..., None], -1)[..., 0]
    weights = np.ones_like(nll) if weights is None else np.asarray(weights, "float64")
    return float(np.exp((nll * weights).sum() / weights.sum()))


@pytest.fixture
def numpy_perplexity():
    return _numpy_perplexity
