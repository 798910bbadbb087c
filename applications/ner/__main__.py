"""`python -m applications.ner train|evaluate|predict`."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from applications._common import cli  # noqa: E402
from applications.ner.app import SIZES  # noqa: E402


def describe(result):
    parts = []
    for name, s in result["splits"].items():
        line = f"{name}: F1 {s['f1']:.4f} (P {s['precision']:.4f}, R {s['recall']:.4f})"
        baseline = result.get("baselines", {}).get(name)
        if baseline is not None:
            line += f" [memorisation baseline F1 {baseline['f1']:.4f}]"
        parts.append(line)
    return "; ".join(parts)


def main(argv=None):
    def load_app():
        from applications.ner import app

        return app

    return cli(
        argv,
        "applications.ner",
        "Tag persons, organisations and locations (BIO) with a BiLSTM over words, shapes and characters.",
        SIZES,
        "a CoNLL file ('token TAG' or CoNLL-2003 'token POS chunk TAG' lines) or the GMB ner_dataset.csv",
        load_app,
        describe,
        predict_help="sentences",
        eval_examples=1000,
    )


if __name__ == "__main__":
    sys.exit(main())
