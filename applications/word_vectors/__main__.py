"""`python -m applications.word_vectors train|evaluate|query|debias|project`."""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m applications.word_vectors",
                                     description="Train, evaluate, query, debias and project word vectors.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="word2vec or GloVe on the embedded Wikipedia extract (or --data)")
    train.add_argument("--method", choices=["word2vec", "glove"], default="word2vec")
    train.add_argument("--cbow", action="store_true", help="CBOW instead of skip-gram")
    train.add_argument("--size", choices=["fast", "default"], default="default")
    train.add_argument("--data", help="a plain-text file or directory of text files")
    train.add_argument("--epochs", type=int)
    train.add_argument("--vector-size", type=int)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--output", default="word_vectors.txt", help=".txt GloVe text, .vec word2vec text, .bin binary")
    evaluate = commands.add_parser("evaluate", help="analogy accuracy and word-pair correlation")
    evaluate.add_argument("--vectors", default="word_vectors.txt")
    evaluate.add_argument("--analogies", help="questions-words format (default: embedded)")
    evaluate.add_argument("--pairs", help="WordSim/SimLex format (default: embedded WordSim-353)")
    query = commands.add_parser("query", help="WORD -> neighbours; A B C -> A : B :: C : ?")
    query.add_argument("words", nargs="+")
    query.add_argument("--vectors", default="word_vectors.txt")
    query.add_argument("--topn", type=int, default=10)
    debias = commands.add_parser("debias", help="occupation projections on the gender direction, before/after")
    debias.add_argument("--vectors", default="word_vectors.txt")
    debias.add_argument("--method", choices=["pca", "mean"], default="pca")
    debias.add_argument("--output", help="save the debiased vectors here")
    project = commands.add_parser("project", help="write TensorBoard projector files")
    project.add_argument("--vectors", default="word_vectors.txt")
    project.add_argument("--logdir", default="runs/word_vectors_projector")
    project.add_argument("--limit", type=int, default=5000)
    args = parser.parse_args(argv)

    from applications.word_vectors import app

    if args.command == "train":
        result = app.train(method=args.method, size=args.size, data=args.data, output=args.output, epochs=args.epochs,
                           vector_size=args.vector_size, seed=args.seed, sg=not args.cbow)
        speed = f", {result['words_per_second']:,.0f} words/s" if result["words_per_second"] else ""
        speed += f", {result['trainer']} trainer" if result["trainer"] else ""
        print(f"{len(result['vectors'])} words x {result['vectors'].vector_size} "
              f"({result['seconds']:.1f} s{speed}); {app.describe(result['evaluation'])}")
        print(f"vectors saved to {args.output}")
    elif args.command == "evaluate":
        print(app.describe(app.evaluate(args.vectors, args.analogies, args.pairs)))
    elif args.command == "query":
        for word, score in app.query(args.vectors, args.words, args.topn):
            print(f"{word}\t{score:.4f}")
    elif args.command == "debias":
        result = app.debias(args.vectors, method=args.method, output=args.output)
        print(f"gender direction from {len(result['pairs'])} pairs; cosine with it, before -> after:")
        for word in sorted(result["before"], key=lambda w: result["before"][w]):
            print(f"  {word:15s} {result['before'][word]:+.4f} -> {result['after'][word]:+.4f}")
        print(f"mean |cos|: {result['mean_abs_before']:.4f} -> {result['mean_abs_after']:.4f}")
    else:
        config = app.project(args.vectors, args.logdir, args.limit)
        print(f"projector files written ({config}); run: tensorboard --logdir {args.logdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
