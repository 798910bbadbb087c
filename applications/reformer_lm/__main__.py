"""`python -m applications.reformer_lm train|evaluate|predict` (see `--help`)."""

import sys

from applications.reformer_lm import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
