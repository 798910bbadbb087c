"""`python -m applications.speech_ctc train|evaluate|predict`."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from applications._speech import cli  # noqa: E402

SIZES = ("fast", "default")


def describe(result):
    line = f"greedy CER {100 * result['greedy_cer']:.2f}%, WER {100 * result['greedy_wer']:.2f}%"
    if "beam_cer" in result:
        line += (
            f"; beam+LM CER {100 * result['beam_cer']:.2f}%, WER {100 * result['beam_wer']:.2f}% "
            f"(lm_weight {result['lm_weight']}, word_bonus {result['word_bonus']})"
        )
    return line


def main(argv=None):
    def load_app():
        from applications.speech_ctc import app

        return app

    return cli(
        argv,
        "applications.speech_ctc",
        "Recognise spoken command sentences with Conv + BiGRU + CTC, greedy and LM-fused beam decoding.",
        {size: None for size in SIZES},
        "an LJSpeech-style folder (metadata.csv + wavs/) or a folder of wavs with transcripts.tsv",
        load_app,
        describe,
        eval_examples=400,
        predict_extra={"--greedy": {"action": "store_true", "help": "greedy decoding instead of beam search + LM"}},
    )


if __name__ == "__main__":
    sys.exit(main())
