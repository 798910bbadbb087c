"""`python -m applications.char_lm train|evaluate|predict` (see `--help`)."""

import sys

from applications.char_lm import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
