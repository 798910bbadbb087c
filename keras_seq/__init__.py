"""keras_seq: the sequence-models toolkit for Keras 3."""

__version__ = "0.1.0"

from keras_seq import layers, ops  # noqa: E402

__all__ = ["layers", "ops", "__version__"]
