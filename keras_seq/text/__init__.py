"""Text utilities: vocabularies, teacher forcing, BERT-style pre-training data.

The WordPiece helpers (`train_wordpiece`, `wordpiece_tokenizer`) need keras-hub
and tensorflow-text, which take about a second to import; they are loaded on
first use, so `import keras_seq.text` does not pay for them.
`WordPieceTokenizer` gives keras-hub's WordPiece ids without importing
keras-hub (and, called eagerly, without tensorflow-text); it is imported with
the package, so `keras.saving.load_model` finds it after `import keras_seq`.

Example:

>>> from keras_seq.text import Vocabulary, shift_right
>>> vocab = Vocabulary.build(["abc"])
>>> ids = vocab.encode(["abc"], add_eos=True)
>>> shift_right(ids, vocab.sos_id).tolist()
[[2, 4, 5, 6]]
"""

import importlib

from keras_seq.text.masking import mlm_mask
from keras_seq.text.sentence_pairs import nsp_pairs
from keras_seq.text.teacher_forcing import shift_right
from keras_seq.text.tokenizer import WordPieceTokenizer
from keras_seq.text.vocabulary import Vocabulary

_LAZY = {
    "train_wordpiece": "keras_seq.text.wordpiece",
    "wordpiece_tokenizer": "keras_seq.text.wordpiece",
}

__all__ = [
    "Vocabulary",
    "WordPieceTokenizer",
    "mlm_mask",
    "nsp_pairs",
    "shift_right",
    "train_wordpiece",
    "wordpiece_tokenizer",
]


def __getattr__(name):
    # PEP 562: import keras-hub only when a WordPiece helper is first used.
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
