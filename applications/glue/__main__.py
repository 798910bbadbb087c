"""`python -m applications.glue train|evaluate|predict` (see `--help`)."""

import sys

from applications.glue import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
