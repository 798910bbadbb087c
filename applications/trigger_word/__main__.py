"""`python -m applications.trigger_word train|evaluate|predict`."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from applications._speech import cli  # noqa: E402
from applications.trigger_word.data import TRIGGER  # noqa: E402

SIZES = ("fast", "default")


def main(argv=None):
    def load_app():
        from applications.trigger_word import app

        return app

    return cli(
        argv,
        "applications.trigger_word",
        f"Detect the spoken trigger word {TRIGGER!r} with Conv1D + GRUs + a per-frame sigmoid.",
        {size: None for size in SIZES},
        "a folder in the Coursera layout: activates/, negatives/, backgrounds/ of wav files",
        load_app,
        lambda r: (
            f"event F1 {r['f1']:.4f} (precision {r['precision']:.4f}, recall {r['recall']:.4f}, "
            f"{r['events']} triggers), frame accuracy {100 * r['frame_accuracy']:.2f}%"
        ),
        eval_examples=500,
        predict_extra={"--chime": {"dest": "chime_output", "help": "write the first file here with a chime after each detection"}},
    )


if __name__ == "__main__":
    sys.exit(main())
