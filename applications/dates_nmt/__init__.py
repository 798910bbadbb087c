"""Date translation with attention: human-readable dates in many formats
('3 May 1979') -> ISO `YYYY-MM-DD`.

The flagship application: a Bi-LSTM encoder, additive attention and an LSTM
decoder (`keras_seq.models.AttentionSeq2Seq`) trained on dates generated
offline with babel's CLDR patterns. Run `python -m applications.dates_nmt --help`.

    python -m applications.dates_nmt train --size default
    python -m applications.dates_nmt predict "3 May 1979" "tuesday march 7 1995"
"""

import datetime

from applications.contract import Application, Option, Size

#: The sizes (the one place to tune them).
SIZES = {
    "fast": Size("what the test suite trains: ~15 s of training on 2 cores, ~98% exact match", train_examples=6_000, epochs=4, batch_size=64, embedding_dim=16, encoder_units=32, decoder_units=64, attention_units=32, learning_rate=5e-3),
    "default": Size("what `make demo` trains and RESULTS.md reports: the course's size (Bi-LSTM of 32 units per direction, a 64-unit decoder) at Adam 5e-3, 99% held-out within about one epoch (benchmarks/time_to_accuracy.py), 3 epochs for a margin", train_examples=50_000, epochs=3, batch_size=128, embedding_dim=32, encoder_units=32, decoder_units=64, attention_units=32, learning_rate=5e-3),
}  # fmt: skip


def calendar_note(text, iso):
    """A note when the translation is not a real calendar date.

    >>> calendar_note("30 feb 2001", "2001-02-30")
    'not a valid calendar date'
    >>> calendar_note("3 May 1979", "1979-05-03") is None
    True
    """
    try:
        datetime.date.fromisoformat(iso)
    except ValueError:
        return "not a valid calendar date"
    return None


APP = Application(
    __name__, SIZES, eval_examples=2000, inputs_help="dates to translate, e.g. '3 May 1979'", data_help="a TSV of 'source<TAB>YYYY-MM-DD' lines (instead of generated dates)", decoding=True, echo_inputs=True, annotate=calendar_note,
    options=[Option("--heatmap", commands=("predict",), help="save the first input's attention heatmap to this PNG")],
)
