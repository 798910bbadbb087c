"""`python -m applications.dna train|evaluate|predict` (see `--help`)."""

import sys

from applications.dna import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
