"""`python -m applications.bert_pretraining train|evaluate|predict` (see `--help`)."""

import sys

from applications.bert_pretraining import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
