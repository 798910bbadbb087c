"""`python -m applications.speech_ctc train|evaluate|predict` (see `--help`)."""

import sys

from applications.speech_ctc import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
