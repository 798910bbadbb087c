"""`python -m applications.char_lm train|evaluate|predict`."""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from applications._common import add_train_arguments, train_kwargs  # noqa: E402
from applications.char_lm.app import SIZES  # noqa: E402
from applications.char_lm.data import SOURCES  # noqa: E402

DATA_HELP = "a UTF-8 text file: one item per line (--mode lines) or running text (--mode raw)"


def describe(result):
    b = result["baselines"]
    return (
        f"{result['nats_per_char']:.4f} nats/char (perplexity {result['perplexity']:.3f}; "
        f"unigram {b['unigram']:.3f}, bigram {b['bigram']:.3f}), "
        f"{100 * result['novelty']:.1f}% of {len(result['samples'])} samples novel"
    )


def add_data_arguments(parser):
    parser.add_argument("--source", choices=SOURCES, default="names", help="embedded data when --data is not given")
    parser.add_argument("--mode", choices=("lines", "raw"), default="lines", help="how --data is read")


def add_sampling_arguments(parser):
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, help="nucleus sampling: keep the smallest set reaching this mass")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m applications.char_lm",
        description="Character-level GRU/LSTM language model over names; samples new ones.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train on census names (or --source/--data), report nats/char")
    add_train_arguments(train, SIZES, "runs/char_lm", "char_lm.keras", DATA_HELP)
    add_data_arguments(train)
    train.set_defaults(eval_examples=1000)
    evaluate = commands.add_parser("evaluate", help="held-out nats/char and sample novelty of a saved model")
    evaluate.add_argument("--model", default="char_lm.keras")
    evaluate.add_argument("--samples", type=int, default=1000)
    evaluate.add_argument("--seed", type=int, default=0, help="the seed the model was trained with (same split)")
    evaluate.add_argument("--data", help=DATA_HELP)
    add_data_arguments(evaluate)
    add_sampling_arguments(evaluate)
    predict = commands.add_parser("predict", help="sample completions of prefixes ('' for a free sample)")
    predict.add_argument("prefixes", nargs="+")
    predict.add_argument("--model", default="char_lm.keras")
    predict.add_argument("--num-samples", type=int, default=1, help="samples per prefix")
    predict.add_argument("--top-k", type=int)
    predict.add_argument("--seed", type=int)
    add_sampling_arguments(predict)
    args = parser.parse_args(argv)

    from applications.char_lm import app

    if args.command == "train":
        result = app.train(**train_kwargs(args), source=args.source, mode=args.mode)
        print(
            f"held-out ({result['eval_examples']} items): {describe(result)} "
            f"(training {result['train_seconds']:.0f} s on {result['replicas']} replica(s))"
        )
        print("samples:", ", ".join(result["samples"][:20]))
        print(f"model saved to {args.output}; TensorBoard: tensorboard --logdir {args.logdir}")
    elif args.command == "evaluate":
        result = app.evaluate(
            args.model, samples=args.samples, seed=args.seed, data=args.data, source=args.source,
            mode=args.mode, top_p=args.top_p, temperature=args.temperature,
        )  # fmt: skip
        print(f"{result['eval_examples']} held-out items: {describe(result)}")
        print("samples:", ", ".join(result["samples"][:20]))
    else:
        lines = app.predict(
            args.model, args.prefixes, num_samples=args.num_samples, temperature=args.temperature,
            top_p=args.top_p, top_k=args.top_k, seed=args.seed,
        )  # fmt: skip
        for line in lines:
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
