import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def sinusoid_reference(length, depth, start=0):
    """The seed's PE(pos, 2i) = sin(pos/10000^(2i/d)), PE(pos, 2i+1) = cos(...)."""
    positions = np.arange(start, start + length, dtype="float64")[:, None]
    pair = np.arange(depth) // 2
    angles = positions / 10000.0 ** (2 * pair / depth)
    return np.where(np.arange(depth) % 2 == 0, np.sin(angles), np.cos(angles))


@pytest.fixture
def seed_pe():
    return sinusoid_reference
