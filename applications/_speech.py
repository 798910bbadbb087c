"""Pieces the speech applications share: TensorBoard images and the CLI."""

from __future__ import annotations

import os

import keras
import numpy as np


def strip_images(rows, height=12):
    """Stacks [N, T] arrays in [0, 1] as grey strips: one image [N, height * R, T, 1].

    >>> strip_images([np.zeros((2, 5)), np.ones((2, 5))], height=2).shape
    (2, 4, 5, 1)
    """
    rows = [np.clip(np.asarray(r, "float32"), 0.0, 1.0) for r in rows]
    strips = [np.repeat(r[:, None, :], height, axis=1) for r in rows]
    return np.concatenate(strips, axis=1)[..., None]


def heatmap_images(probabilities):
    """[N, T, V] posteriors -> [N, V, T, 1] images (class 0 on top).

    >>> heatmap_images(np.ones((1, 3, 2))).shape
    (1, 2, 3, 1)
    """
    return np.transpose(np.asarray(probabilities, "float32"), (0, 2, 1))[..., None]


class PredictionImages(keras.callbacks.Callback):
    """Logs `images_fn(model) -> [N, H, W, 1]` to TensorBoard's Images tab each epoch."""

    def __init__(self, images_fn, log_dir, tag):
        super().__init__()
        self.images_fn = images_fn
        self.log_dir = log_dir
        self.tag = tag
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "audio"))
        images = np.asarray(self.images_fn(self.model), "float32")
        with self._writer.as_default():
            tf.summary.image(self.tag, images, step=epoch, max_outputs=len(images))
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def cli(argv, prog, description, sizes, data_help, load_app, describe, eval_examples, predict_extra=None):
    """`train|evaluate|predict` for the speech applications (`predict` takes wav files)."""
    import argparse

    from applications._common import add_train_arguments, show_errors, train_kwargs

    name = prog.rsplit(".", 1)[-1]
    parser = argparse.ArgumentParser(prog=f"python -m {prog}", description=description)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train on generated speech (or --data) and report the metrics")
    add_train_arguments(train, sizes, f"runs/{name}", f"{name}.keras", data_help)
    train.add_argument("--cache-dir", help="where generated clips are cached (default ~/.cache/keras_seq/speech)")
    train.set_defaults(eval_examples=eval_examples)
    evaluate = commands.add_parser("evaluate", help="score a saved model on held-out voices (or --data)")
    evaluate.add_argument("--model", default=f"{name}.keras")
    evaluate.add_argument("--examples", type=int, default=eval_examples)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--size", choices=sorted(sizes), default="default")
    evaluate.add_argument("--data", help=data_help)
    evaluate.add_argument("--cache-dir")
    predict = commands.add_parser("predict", help="run a saved model on wav files")
    predict.add_argument("files", nargs="+", help="wav files")
    predict.add_argument("--model", default=f"{name}.keras")
    for flag, options in (predict_extra or {}).items():
        predict.add_argument(flag, **options)
    args = parser.parse_args(argv)
    app = load_app()
    if args.command == "train":
        result = app.train(**train_kwargs(args), cache_dir=args.cache_dir)
        print(
            f"held-out voices ({result['eval_examples']} examples): {describe(result)} "
            f"(training {result['train_seconds']:.0f} s on {result['replicas']} replica(s))"
        )
        show_errors(result["examples"])
        print(f"model saved to {args.output}; TensorBoard: tensorboard --logdir {args.logdir}")
    elif args.command == "evaluate":
        result = app.evaluate(args.model, examples=args.examples, seed=args.seed, data=args.data, size=args.size, cache_dir=args.cache_dir)
        print(f"{result['eval_examples']} examples: {describe(result)}")
        show_errors(result["examples"])
    else:
        keys = [o.get("dest", f.lstrip("-").replace("-", "_")) for f, o in (predict_extra or {}).items()]
        extra = {key: getattr(args, key) for key in keys}
        for line in app.predict(args.model, args.files, **extra):
            print(line)
    return 0
