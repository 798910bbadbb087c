"""`python -m applications.jazz train|evaluate|predict` (see `--help`).

`predict` takes progressions (`"blues:F"`, `"ii-V-I:Bb"` or chord symbols
such as `"Dm7 G7 Cmaj7 Cmaj7"`) and writes one MIDI file per progression
beside the model.
"""

import sys

from applications.jazz import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
