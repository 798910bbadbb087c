"""`python -m applications.qa train|evaluate|predict` (see `--help`).

Examples::

    python -m applications.qa train --task babi1 --model memn2n
    python -m applications.qa train --task babi1 --model lstm --output qa_lstm.keras
    python -m applications.qa train --task squad --output qa_squad.keras
    python -m applications.qa evaluate --model qa.keras --data qa1_single-supporting-fact_test.txt
    python -m applications.qa predict "Mary went to the garden. John moved to the office. | Where is Mary?"
"""

import sys

from applications.qa import APP


def main(argv=None):
    return APP.main(argv)


if __name__ == "__main__":
    sys.exit(main())
