"""Image captioning with a CNN encoder and an attention (or Transformer)
decoder over procedurally drawn scenes.

A CNN encodes a 64x64 image of one or two coloured shapes into a grid of
features; an LSTM decoder with additive (Bahdanau) attention over the grid, or
a Transformer decoder, writes the caption ("a small blue square to the left of
a large red circle"). See `applications.captioning.data`.

    python -m applications.captioning train --size default
    python -m applications.captioning predict scene.png --beam-width 3
"""

from applications.contract import Application, Option, Size

DECODERS = ("attention", "transformer")

SIZES = {
    "fast": Size("what the test suite trains (~1 min on 2 cores): BLEU-4 ~79, 37% of captions exact", train_examples=3_000, epochs=6, batch_size=64, units=96, learning_rate=3e-3),
    "default": Size("for real use and RESULTS.md (~2 min on a quiet 2-core machine): BLEU-4 98, 89% of captions exact", train_examples=10_000, epochs=10, batch_size=64, units=160, learning_rate=2e-3),
}  # fmt: skip

APP = Application(
    __name__, SIZES, eval_examples=1000, inputs_help="image files", data_help="a COCO captions JSON (images beside it or in images/) or a Flickr8k token file (images beside it)", inputs="files", decoding=True, echo_inputs=True,
    options=[
        Option("--decoder", choices=DECODERS, default="attention", help="LSTM + attention, or Transformer blocks"),
        Option("--backbone", default="small_cnn",
               help="the image encoder: small_cnn or a keras.applications model name (built without downloads)"),
        Option("--backbone-weights", metavar="PATH", help="a local weights file for the backbone"),
    ],
)  # fmt: skip
