"""`python -m applications.ner train|evaluate|predict` (see `--help`)."""

import sys

from applications.ner import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
