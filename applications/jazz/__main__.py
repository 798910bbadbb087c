"""`python -m applications.jazz train|evaluate|predict`.

`predict` takes progressions (`"blues:F"`, `"ii-V-I:Bb"` or chord symbols
such as `"Dm7 G7 Cmaj7 Cmaj7"`) and writes one MIDI file per progression
beside the model.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from applications._common import cli  # noqa: E402
from applications.jazz.app import SIZES  # noqa: E402


def _describe(r):
    baseline = "" if r["baseline"] is None else f" (majority baseline {100 * r['baseline']:.2f}%)"
    return (
        f"next-token accuracy {100 * r['accuracy']:.2f}%{baseline}, "
        f"chord/scale tones in improvised solos {100 * r['harmonic_share']:.1f}%"
    )


def main(argv=None):
    def load_app():
        from applications.jazz import app

        return app

    return cli(
        argv,
        "applications.jazz",
        "Improvise jazz lines over chord progressions with an LSTM over chord-relative note tokens.",
        SIZES,
        '"bach" (music21\'s chorales) or a MIDI/MusicXML file or directory',
        load_app,
        _describe,
        predict_help='progressions: "blues:F", "ii-V-I:Bb" or "Dm7 G7 Cmaj7 Cmaj7"',
        eval_examples=100,
    )


if __name__ == "__main__":
    sys.exit(main())
