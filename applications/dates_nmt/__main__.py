"""`python -m applications.dates_nmt train|evaluate|predict`."""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from applications._common import (
    add_backup_arguments,
    add_decoding_arguments,
    add_train_arguments,
    decoding_kwargs,
    show_errors,
    train_kwargs,
)
from applications.dates_nmt.app import SIZES


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m applications.dates_nmt",
        description="Translate human-readable dates ('3 May 1979') into ISO 8601 with attention.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train on embedded (or TSV) data and report exact match")
    add_train_arguments(
        train,
        SIZES,
        "runs/dates_nmt",
        "dates_nmt.keras",
        "TSV of 'source<TAB>YYYY-MM-DD' lines instead of generated dates",
    )
    add_backup_arguments(train)
    evaluate = commands.add_parser("evaluate", help="exact match of a saved model")
    evaluate.add_argument("--model", default="dates_nmt.keras")
    evaluate.add_argument("--examples", type=int, default=2000)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--data", help="TSV to evaluate on instead of generated dates")
    predict = commands.add_parser("predict", help="translate dates given on the command line")
    predict.add_argument("texts", nargs="+")
    predict.add_argument("--model", default="dates_nmt.keras")
    predict.add_argument("--heatmap", help="save the first text's attention heatmap to this PNG")
    for command in (train, evaluate, predict):
        add_decoding_arguments(command)
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    from applications.dates_nmt import app

    if args.command == "train":
        result = app.train(**train_kwargs(args), decoding=decoding_kwargs(args))
        print(
            f"exact match on {result['eval_examples']} held-out dates: "
            f"{100 * result['exact_match']:.2f}% "
            f"(training {result['train_seconds']:.0f} s on {result['replicas']} replica(s))"
        )
        show_errors(result["examples"])
        print(f"model saved to {args.output}; TensorBoard: tensorboard --logdir {args.logdir}")
    elif args.command == "evaluate":
        result = app.evaluate(
            args.model, examples=args.examples, seed=args.seed, data=args.data, decoding=decoding_kwargs(args)
        )
        print(f"exact match on {result['eval_examples']} dates: {100 * result['exact_match']:.2f}%")
        show_errors(result["examples"])
    else:
        for text, iso in zip(args.texts, app.predict(args.model, args.texts, heatmap=args.heatmap, decoding=decoding_kwargs(args))):
            print(f"{text}\t{iso}")
        if args.heatmap:
            print(f"attention heatmap saved to {args.heatmap}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
