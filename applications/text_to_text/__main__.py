"""`python -m applications.text_to_text train|evaluate|predict`."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from applications._common import cli  # noqa: E402
from applications.text_to_text.app import SIZES  # noqa: E402


def main(argv=None):
    def load_app():
        from applications.text_to_text import app

        return app

    return cli(
        argv,
        "applications.text_to_text",
        "One encoder-decoder for date normalisation, German-to-English numbers and QA, chosen by a text prefix.",
        SIZES,
        "(not supported: the tasks are generated)",
        load_app,
        lambda r: ", ".join(f"{task} exact match {100 * v:.1f}%" for task, v in r["exact_match"].items()),
        predict_help="prefixed inputs, e.g. 'translate german to english: sieben und siebzig'",
        eval_examples=300,
    )


if __name__ == "__main__":
    sys.exit(main())
