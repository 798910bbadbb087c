"""Jazz improvisation with an LSTM over chord-relative note tokens (deepjazz).

Solos generated over ii-V-I and 12-bar blues progressions (or Bach chorales
from music21's corpus, or MIDI/MusicXML files) become tokens of role, interval
above the chord root, octave and duration; an LSTM learns them and improvises
new lines over a chord progression, written out as MIDI. See
`applications.jazz.data`.

    python -m applications.jazz train --size default
    python -m applications.jazz predict "blues:F" "Dm7 G7 Cmaj7 Cmaj7"
"""

from applications.contract import Application, Option, Size

SIZES = {
    "fast": Size("what the test suite trains (~10 s on 2 cores): well above the majority baseline, lines mostly inside", train_examples=400, epochs=6, batch_size=32, units=128, num_layers=1, learning_rate=5e-3),
    "default": Size("for real use and RESULTS.md (~4 min on 2 cores): 43% next-token accuracy (10.8x the baseline), 98% chord/scale tones", train_examples=2_000, epochs=10, batch_size=64, units=256, num_layers=1, learning_rate=4e-3),
}  # fmt: skip

APP = Application(
    __name__, SIZES, eval_examples=100, inputs_help='progressions: "blues:F", "ii-V-I:Bb" or chord symbols "Dm7 G7 Cmaj7 Cmaj7"; one MIDI file each, beside the model', data_help="\"bach\" (music21's chorales) or a MIDI/MusicXML file or directory", special_data=("bach",),
    options=[Option("--seed", type=int, default=0, commands=("predict",), help="sampling seed")],
)  # fmt: skip
