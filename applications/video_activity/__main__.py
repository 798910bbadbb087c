"""`python -m applications.video_activity train|evaluate|predict` (see `--help`)."""

import sys

from applications.video_activity import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
