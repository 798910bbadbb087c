"""Speech recognition with CTC on synthetic spoken commands.

Spoken command sentences (digits, devices, timers) synthesised by espeak-ng
voices (`applications.speech_ctc.data`), recognised by Conv + BiGRU trained
with `keras_seq.layers.CTCLoss`, decoded greedily and by prefix beam search
fused with a word n-gram LM; CER/WER on held-out voices.

    python -m applications.speech_ctc train --size default
    python -m applications.speech_ctc predict command.wav
"""

from applications.contract import Application, Option, Size, cache_option

SIZES = {
    "fast": Size("what the test suite trains (~1 min on 2 cores plus synthesis): transcribes, with many character errors", train_examples=500, epochs=8, batch_size=16, filters=48, units=64, recurrent_layers=1, learning_rate=3e-3),
    "default": Size("for real use and RESULTS.md (~25 min on 2 cores): beam+LM CER 1.4%, WER 2.7% on held-out voices", train_examples=2000, epochs=12, batch_size=32, filters=96, units=96, recurrent_layers=2, learning_rate=2e-3),
}  # fmt: skip

APP = Application(
    __name__, SIZES, eval_examples=400, inputs_help="wav files", data_help="an LJSpeech-style folder (metadata.csv + wavs/) or a folder of wavs with transcripts.tsv", inputs="files",
    options=[
        cache_option("synthesised clips", "speech"),
        Option("--greedy", action="store_true", commands=("predict",), help="greedy decoding instead of beam search + LM"),
    ],
)  # fmt: skip
