"""`python -m applications.summarization train|evaluate|predict`."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from applications._common import cli  # noqa: E402
from applications.summarization.app import SIZES  # noqa: E402


def main(argv=None):
    def load_app():
        from applications.summarization import app

        return app

    return cli(
        argv,
        "applications.summarization",
        "Summarise reports with a decoder-only Transformer LM whose loss covers only the summary.",
        SIZES,
        'JSON lines of {"article", "summary"} (or CNN/DailyMail "highlights")',
        load_app,
        lambda r: (
            f"ROUGE-1 {r['rouge1']:.4f}, ROUGE-2 {r['rouge2']:.4f}, ROUGE-L {r['rougeL']:.4f}, "
            f"exact match {100 * r['exact_match']:.2f}%"
        ),
        predict_help="articles",
        eval_examples=1000,
    )


if __name__ == "__main__":
    sys.exit(main())
