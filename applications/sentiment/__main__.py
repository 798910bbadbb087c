"""`python -m applications.sentiment train|evaluate|predict` (see `--help`).

`train` saves two models, NAME_average.keras and NAME_lstm.keras (NAME from
`--output`, default sentiment.keras); `evaluate` and `predict` take one.
"""

import sys

from applications.sentiment import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
