"""`python -m applications.qa train|evaluate|predict`.

Examples::

    python -m applications.qa train --task babi1 --model memn2n
    python -m applications.qa train --task babi1 --model lstm --output qa_lstm.keras
    python -m applications.qa train --task squad --output qa_squad.keras
    python -m applications.qa evaluate --model qa.keras --data qa1_single-supporting-fact_test.txt
    python -m applications.qa predict "Mary went to the garden. John moved to the office. | Where is Mary?"
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from applications._common import add_train_arguments, show_errors, train_kwargs  # noqa: E402
from applications.qa.app import BABI_MODELS, SIZES, TASKS  # noqa: E402


def describe(result):
    if result["task"] == "squad":
        return f"span exact match {100 * result['exact_match']:.2f}%, F1 {100 * result['f1']:.2f}%"
    text = f"{result['task']} accuracy {100 * result['accuracy']:.2f}%"
    if "majority_baseline" in result:
        text += f" ({result['kind']}; majority-answer baseline {100 * result['majority_baseline']:.2f}%)"
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m applications.qa",
        description="Question answering: bAbI tasks 1/2/6 with a memory network or an LSTM, "
        "and extractive span QA (SQuAD v1.1 format) with a BERT encoder.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train on generated data (or --data) and report the metric")
    add_train_arguments(
        train, SIZES, "runs/qa", "qa.keras",
        "a bAbI task file (babi tasks) or a SQuAD v1.1 JSON file (squad)",
    )
    train.add_argument("--task", choices=TASKS, default="babi1")
    train.add_argument("--model", choices=BABI_MODELS, default="memn2n", help="bAbI model (ignored for squad)")
    train.add_argument("--test-data", help="a bAbI test file to score on (default: 10%% of --data)")
    train.set_defaults(eval_examples=1000)
    evaluate = commands.add_parser("evaluate", help="score a saved model on held-out data")
    evaluate.add_argument("--model", default="qa.keras")
    evaluate.add_argument("--examples", type=int, default=1000)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--data", help="a bAbI task file or SQuAD v1.1 JSON, matching the model's task")
    predict = commands.add_parser("predict", help="answer 'story | question' (bAbI) or 'question | context' (squad)")
    predict.add_argument("texts", nargs="+")
    predict.add_argument("--model", default="qa.keras")
    args = parser.parse_args(argv)

    from applications.qa import app

    if args.command == "train":
        result = app.train(task=args.task, model=args.model, test_data=args.test_data, **train_kwargs(args))
        print(
            f"held-out ({result['eval_examples']} questions): {describe(result)} "
            f"(training {result['train_seconds']:.0f} s on {result['train_questions']} questions, "
            f"{result['replicas']} replica(s))"
        )
        show_errors(result["examples"])
        print(f"model saved to {args.output}; TensorBoard: tensorboard --logdir {args.logdir}")
    elif args.command == "evaluate":
        result = app.evaluate(args.model, examples=args.examples, seed=args.seed, data=args.data)
        print(f"{result['eval_examples']} questions: {describe(result)}")
        show_errors(result["examples"])
    else:
        for line in app.predict(args.model, args.texts):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
