"""`python -m applications.captioning train|evaluate|predict`.

Besides the common options, `train` accepts `--decoder attention|transformer`,
`--backbone NAME` (`small_cnn` or a `keras.applications` model) and
`--backbone-weights FILE` (a local weights file; nothing is downloaded).
"""

import argparse
import functools
import os
import sys
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from applications._common import cli  # noqa: E402
from applications.captioning.app import DECODERS, SIZES  # noqa: E402


def main(argv=None):
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--decoder", choices=DECODERS, default="attention")
    extra.add_argument("--backbone", default="small_cnn")
    extra.add_argument("--backbone-weights")
    options, rest = extra.parse_known_args(sys.argv[1:] if argv is None else argv)

    def load_app():
        from applications.captioning import app

        train = functools.partial(
            app.train, decoder=options.decoder, backbone=options.backbone,
            backbone_weights=options.backbone_weights,
        )
        return types.SimpleNamespace(train=train, evaluate=app.evaluate, predict=app.predict)

    return cli(
        rest,
        "applications.captioning",
        "Caption images with a CNN encoder and an attention (or Transformer) decoder.",
        SIZES,
        "a COCO captions JSON (images beside it or in images/) or a Flickr8k token file (images beside it)",
        load_app,
        lambda r: f"BLEU-4 {r['bleu']:.2f}, exact caption {100 * r['exact']:.2f}%",
        predict_help="image files",
        eval_examples=1000,
        decoding=True,
    )


if __name__ == "__main__":
    sys.exit(main())
