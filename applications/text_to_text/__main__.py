"""`python -m applications.text_to_text train|evaluate|predict` (see `--help`)."""

import sys

from applications.text_to_text import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
