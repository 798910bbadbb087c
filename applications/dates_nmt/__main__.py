"""`python -m applications.dates_nmt train|evaluate|predict`."""

from __future__ import annotations

import argparse
import os
import sys


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m applications.dates_nmt",
        description="Translate human-readable dates ('3 May 1979') into ISO 8601 with attention.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train on embedded (or TSV) data and report exact match")
    train.add_argument("--size", choices=["fast", "default"], default="default")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--train-examples", type=int)
    train.add_argument("--eval-examples", type=int, default=2000)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--data", help="TSV of 'source<TAB>YYYY-MM-DD' lines instead of generated dates")
    train.add_argument("--logdir", default="runs/dates_nmt", help="TensorBoard log directory")
    train.add_argument("--output", default="dates_nmt.keras", help="where to save the model")
    train.add_argument(
        "--strategy",
        default="auto",
        choices=["auto", "default", "cpu", "mirrored", "multi_worker", "tpu"],
    )
    train.add_argument("--cpu-devices", type=int, help="split the CPU into N logical devices")
    evaluate = commands.add_parser("evaluate", help="exact match of a saved model")
    evaluate.add_argument("--model", default="dates_nmt.keras")
    evaluate.add_argument("--examples", type=int, default=2000)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--data", help="TSV to evaluate on instead of generated dates")
    predict = commands.add_parser("predict", help="translate dates given on the command line")
    predict.add_argument("texts", nargs="+")
    predict.add_argument("--model", default="dates_nmt.keras")
    predict.add_argument("--heatmap", help="save the first text's attention heatmap to this PNG")
    return parser


def _show_errors(result, limit=5):
    for source, prediction, target in result["examples"][:limit]:
        print(f"  wrong: {source!r} -> {prediction!r} (expected {target})")


def main(argv=None):
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from applications.dates_nmt import app

    if args.command == "train":
        result = app.train(
            size=args.size,
            epochs=args.epochs,
            batch_size=args.batch_size,
            train_examples=args.train_examples,
            seed=args.seed,
            data=args.data,
            log_dir=args.logdir,
            output=args.output,
            strategy=args.strategy,
            num_cpu_devices=args.cpu_devices,
            eval_examples=args.eval_examples,
        )
        print(
            f"exact match on {result['eval_examples']} held-out dates: "
            f"{100 * result['exact_match']:.2f}% "
            f"(training {result['train_seconds']:.0f} s on {result['replicas']} replica(s))"
        )
        _show_errors(result)
        print(f"model saved to {args.output}; TensorBoard: tensorboard --logdir {args.logdir}")
    elif args.command == "evaluate":
        result = app.evaluate(args.model, examples=args.examples, seed=args.seed, data=args.data)
        print(f"exact match on {result['eval_examples']} dates: {100 * result['exact_match']:.2f}%")
        _show_errors(result)
    else:
        for text, iso in zip(args.texts, app.predict(args.model, args.texts, heatmap=args.heatmap)):
            print(f"{text}\t{iso}")
        if args.heatmap:
            print(f"attention heatmap saved to {args.heatmap}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
