"""`python -m applications.summarization train|evaluate|predict` (see `--help`)."""

import sys

from applications.summarization import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
