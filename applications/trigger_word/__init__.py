"""Trigger-word detection: the spoken word "activate" in clips of noise and
other words, with Conv1D + GRUs + a per-frame sigmoid on a log-mel front end
(the Coursera recipe), on speech synthesised by espeak-ng voices
(`applications.trigger_word.data`); event precision/recall/F1 on held-out
voices.

    python -m applications.trigger_word train --size default
    python -m applications.trigger_word predict clip.wav --chime chimed.wav
"""

from applications.contract import Application, Option, Size, cache_option

SIZES = {
    "fast": Size("what the test suite trains (~1 min on 2 cores plus synthesis): 4 s clips, finds most triggers", train_examples=600, epochs=6, batch_size=32, filters=64, units=48, clip_seconds=4.0, learning_rate=3e-3),
    "default": Size("for real use and RESULTS.md (~20 min on 2 cores): 5 s clips, event F1 0.99 on held-out voices", train_examples=3000, epochs=10, batch_size=32, filters=96, units=64, clip_seconds=5.0, learning_rate=2e-3),
}  # fmt: skip

# `evaluate --size`: the size the model was trained with, which sets the clip length.
EVALUATE_SIZE = Option("--size", choices=list(SIZES), default="default", commands=("evaluate",),
                       help="the size the model was trained with (its clip length)")
CHIME = Option("--chime", dest="chime_output", metavar="PATH", commands=("predict",),
               help="write the first file here with a chime after each detection")
APP = Application(
    __name__, SIZES, eval_examples=500, inputs="files", inputs_help="wav files",
    data_help="a folder in the Coursera layout: activates/, negatives/, backgrounds/ of wav files",
    options=[cache_option("synthesised clips", "speech"), EVALUATE_SIZE, CHIME],
)  # fmt: skip
