"""`python -m applications.trigger_word train|evaluate|predict` (see `--help`)."""

import sys

from applications.trigger_word import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
