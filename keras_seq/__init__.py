"""keras_seq: the sequence-models toolkit for Keras 3.

`import keras_seq` imports the subpackages that define Keras-serializable
classes (layers, losses, metrics, models, audio), so that
`keras.saving.load_model` finds every registered `keras_seq>...` class after a
plain `import keras_seq`; Keras itself is imported with them, and so are the
ops, decoding and text modules they use. The others (data, embeddings,
callbacks, distribute, numpy_rnn, and WordPiece's keras-hub/tensorflow-text)
load on first use (PEP 562), e.g. `keras_seq.data` or
`from keras_seq import embeddings`.
"""

import importlib

__version__ = "0.1.0"

_SUBPACKAGES = (
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
)

# Imported now: they register the classes a saved model may name.
_SERIALIZABLE = ("audio", "layers", "losses", "metrics", "models")

__all__ = [*_SUBPACKAGES, "__version__"]


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBPACKAGES))


for _name in _SERIALIZABLE:
    importlib.import_module(f"{__name__}.{_name}")
del _name
