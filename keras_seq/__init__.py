"""keras_seq: the sequence-models toolkit for Keras 3."""

__version__ = "0.1.0"

from keras_seq import (  # noqa: E402
    audio,
    callbacks,
    data,
    decoding,
    distribute,
    embeddings,
    layers,
    losses,
    metrics,
    models,
    numpy_rnn,
    ops,
    text,
)

__all__ = [
    "audio",
    "callbacks",
    "data",
    "decoding",
    "distribute",
    "embeddings",
    "layers",
    "losses",
    "metrics",
    "models",
    "numpy_rnn",
    "ops",
    "text",
    "__version__",
]
