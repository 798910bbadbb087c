"""Word vectors end to end: train word2vec or GloVe on the embedded corpus
(or your own text), evaluate them on analogies and word-pair similarity,
query them, measure and remove gender bias, and export them to the
TensorBoard projector. See `applications.word_vectors.app`; the embedded
corpora are read by `applications.word_vectors.corpus`.

    python -m applications.word_vectors train --size default
    python -m applications.word_vectors predict king
    python -m applications.word_vectors predict man woman king
"""

from applications.contract import Application, Option, Size

METHODS = ("word2vec", "glove")

SIZES = {
    "fast": Size("what the test suite trains: the 60k-word Lee corpus, D=50, seconds; too little text for good vectors", corpus="lee", vector_size=50, epochs=3, glove_epochs=5, min_count=3),
    "default": Size("the 0.44M-word Wikipedia extract, D=100 (~4 s with the fused trainer): analogy 2.5%, WordSim rho 0.24", corpus="wikipedia", vector_size=100, epochs=5, glove_epochs=25, min_count=5),
}  # fmt: skip


def _debias(app, args):
    result = app.debias(args.model_path, method=args.method, output=args.output)
    yield f"gender direction from {len(result['pairs'])} pairs; cosine with it, before -> after:"
    for word in sorted(result["before"], key=lambda w: result["before"][w]):
        yield f"  {word:15s} {result['before'][word]:+.4f} -> {result['after'][word]:+.4f}"
    yield f"mean |cos|: {result['mean_abs_before']:.4f} -> {result['mean_abs_after']:.4f}"
    if args.output:
        yield f"debiased vectors saved to {args.output}"


def _project(app, args):
    config = app.project(args.model_path, args.logdir, args.limit)
    yield f"projector files written ({config}); run: tensorboard --logdir {args.logdir}"


APP = Application(
    __name__, SIZES, exports=("app", "corpus"), eval_examples=1, inputs_help="WORD for its neighbours, or A B C for the analogy A : B :: C : ?", data_help="a plain-text file or directory of text files (instead of the embedded corpus)", model_file="word_vectors.txt", model_flags=("--vectors", "--model"), train_options=("size", "data", "epochs", "seed", "output"), evaluate_options=(), aliases={"predict": ["query"]},
    options=[
        Option("--method", choices=METHODS, default="word2vec", help="the trainer"),
        Option("--cbow", action="store_true", help="CBOW instead of skip-gram (word2vec)"),
        Option("--vector-size", type=int, help="dimensions (default: the size's)"),
        Option("--analogies", metavar="PATH", commands=("evaluate",),
               help="analogy questions in questions-words format (default: the embedded Google set)"),
        Option("--pairs", metavar="PATH", commands=("evaluate",),
               help="word pairs in WordSim/SimLex format (default: the embedded WordSim-353)"),
        Option("--topn", type=int, default=10, commands=("predict",), help="answers to show"),
    ],
    commands=[
        ("debias", "occupation projections on the gender direction, before and after hard debiasing", [
            Option("--method", choices=("pca", "mean"), default="pca", commands=(), help="how the direction is found"),
            Option("--output", metavar="PATH", commands=(), help="save the debiased vectors here"),
        ], _debias),
        ("project", "write TensorBoard projector files", [
            Option("--logdir", metavar="DIR", default="runs/word_vectors_projector", commands=(),
                   help="where the projector files go"),
            Option("--limit", type=int, default=5000, commands=(), help="the most frequent words to export"),
        ], _project),
    ],
)  # fmt: skip
