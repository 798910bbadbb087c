"""`python -m applications.bert_pretraining train|evaluate|predict`."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from applications._common import cli  # noqa: E402
from applications.bert_pretraining.app import SIZES  # noqa: E402


def _describe(result):
    parts = []
    if "mlm_accuracy_before" in result:
        parts.append(
            f"MLM accuracy on held-out documents {100 * result['mlm_accuracy_before']:.1f}% before, "
            f"{100 * result['mlm_accuracy_after']:.1f}% after pretraining; "
            f"NSP accuracy {100 * result['nsp_accuracy_after']:.1f}%;"
        )
    parts.append(f"span-QA exact match {100 * result['qa_exact_match']:.2f}%")
    return " ".join(parts)


def main(argv=None):
    def load_app():
        from applications.bert_pretraining import app

        return app

    return cli(
        argv,
        "applications.bert_pretraining",
        "Pretrain a small BERT (masked LM + next sentence) from scratch, then fine-tune it for span QA.",
        SIZES,
        "pretraining text in BERT's format: one sentence per line, blank lines between documents",
        load_app,
        _describe,
        predict_help="'question | context' strings",
        eval_examples=1000,
        evaluate_data_help="SQuAD v1.1 JSON to evaluate on instead of generated passages",
    )


if __name__ == "__main__":
    sys.exit(main())
