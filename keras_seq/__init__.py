"""keras_seq: the sequence-models toolkit for Keras 3."""

__version__ = "0.1.0"

from keras_seq import callbacks, data, decoding, distribute, layers, models, ops, text  # noqa: E402

__all__ = ["callbacks", "data", "decoding", "distribute", "layers", "models", "ops", "text", "__version__"]
