"""`python -m applications.word_vectors train|evaluate|predict|debias|project` (see `--help`)."""

import sys

from applications.word_vectors import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
