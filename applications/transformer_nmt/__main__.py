"""`python -m applications.transformer_nmt train|evaluate|predict`."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from applications._common import cli  # noqa: E402
from applications.transformer_nmt.app import SIZES  # noqa: E402


def main(argv=None):
    def load_app():
        from applications.transformer_nmt import app

        return app

    return cli(
        argv,
        "applications.transformer_nmt",
        "Translate numbers and dates written out in German, French or Spanish into English.",
        SIZES,
        "parallel corpus TSV, source<TAB>target (swap the columns of a Tatoeba/ManyThings file first)",
        load_app,
        lambda r: f"BLEU {r['bleu']:.2f}, exact match {100 * r['exact_match']:.2f}%",
        predict_help="source sentences",
        decoding=True,
    )


if __name__ == "__main__":
    sys.exit(main())
