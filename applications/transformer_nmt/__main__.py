"""`python -m applications.transformer_nmt train|evaluate|predict` (see `--help`)."""

import sys

from applications.transformer_nmt import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
