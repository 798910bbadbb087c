"""`python -m applications.reformer_lm train|evaluate|predict`."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from applications._common import cli  # noqa: E402
from applications.reformer_lm.app import SIZES  # noqa: E402


def main(argv=None):
    def load_app():
        from applications.reformer_lm import app

        return app

    return cli(
        argv,
        "applications.reformer_lm",
        "Long-context Reformer LM: recall code words given thousands of words earlier.",
        SIZES,
        "filler text: 'generated' (default), 'english' (gensim's Lee corpus) or a text file",
        load_app,
        lambda r: (
            f"recall accuracy {100 * r['recall_accuracy']:.2f}% (chance {100 * r['chance']:.2f}%; "
            f"{r['num_hashes']} hash rounds), "
            f"perplexity {r['perplexity']:.2f}"
        ),
        predict_help="prompts to continue",
        eval_examples=32,
    )


if __name__ == "__main__":
    sys.exit(main())
