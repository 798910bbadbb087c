"""Date translation: human-readable dates in many formats -> ISO `YYYY-MM-DD`.

The flagship application: a Bi-LSTM encoder, additive attention and an LSTM
decoder (`keras_seq.models.AttentionSeq2Seq`) trained on dates generated
offline with babel's CLDR patterns. Run `python -m applications.dates_nmt --help`.
"""

from applications.dates_nmt.app import (
    SIZES,
    build_model,
    build_vocabularies,
    evaluate,
    exact_match,
    predict,
    train,
)
from applications.dates_nmt.data import generate_pairs, load_tsv, make_dataset, save_tsv

__all__ = [
    "SIZES",
    "build_model",
    "build_vocabularies",
    "evaluate",
    "exact_match",
    "generate_pairs",
    "load_tsv",
    "make_dataset",
    "predict",
    "save_tsv",
    "train",
]
