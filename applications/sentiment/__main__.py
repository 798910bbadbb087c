"""`python -m applications.sentiment train|evaluate|predict`."""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m applications.sentiment",
                                     description="Averaged word vectors vs a 2-layer LSTM for sentence classes.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train both models and report accuracy per test split")
    train.add_argument("--size", choices=["fast", "default"], default="default")
    train.add_argument("--data", help="CSV/TSV text,label file or IMDB folder (neg/, pos/)")
    train.add_argument("--vectors", help="pretrained vectors (GloVe .txt, word2vec .vec/.bin); default: "
                                         "word2vec trained on the embedded Wikipedia extract")
    train.add_argument("--fine-tune", action="store_true", help="train the embeddings too")
    train.add_argument("--epochs", type=int)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--eval-examples", type=int, default=1000)
    train.add_argument("--output", default="sentiment.keras", help="saved as NAME_average.keras / NAME_lstm.keras")
    train.add_argument("--logdir", default="runs/sentiment")
    evaluate = commands.add_parser("evaluate", help="accuracy of a saved model on the embedded splits")
    evaluate.add_argument("--model", default="sentiment_lstm.keras")
    evaluate.add_argument("--examples", type=int, default=1000)
    predict = commands.add_parser("predict", help="classify sentences")
    predict.add_argument("texts", nargs="+")
    predict.add_argument("--model", default="sentiment_lstm.keras")
    args = parser.parse_args(argv)

    from applications.sentiment import app

    if args.command == "train":
        result = app.train(size=args.size, data=args.data, vectors=args.vectors, epochs=args.epochs,
                           trainable=args.fine_tune, seed=args.seed, eval_examples=args.eval_examples,
                           output=args.output, log_dir=args.logdir)
        for kind, splits in result["accuracy"].items():
            text = ", ".join(f"{split} {100 * acc:.1f}%" for split, acc in splits.items())
            print(f"{kind}: {text} (training {result['train_seconds'][kind]:.0f} s)")
    elif args.command == "evaluate":
        for split, acc in app.evaluate(args.model, args.examples).items():
            print(f"{split}: {100 * acc:.1f}%")
    else:
        for text, label in zip(args.texts, app.predict(args.model, args.texts)):
            print(f"{label}\t{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
