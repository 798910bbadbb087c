"""Regulatory DNA (DeepBind / DanQ style): which transcription factors bind a
sequence, and a motif grammar (order and spacing of two motifs) that a
bag-of-motifs CNN cannot learn but a CNN + BiLSTM can.

Sequences are generated offline around real JASPAR motifs (read from the
database in the `pyjaspar` wheel), planted as sampled sites into background
of varied GC content, with dinucleotide-shuffled negatives
(`applications.dna.data`); models are scored by AUROC/AUPRC
(`applications.dna.scoring`) and read back as motifs: first-layer filters
as PWMs matched against JASPAR with TOMTOM, sequence logos, saliency
(`applications.dna.interpret`). Real data: FASTA with labels, or BED intervals
of a genome FASTA.

    python -m applications.dna train --task grammar --size fast
    python -m applications.dna train --task multilabel
    python -m applications.dna motifs --logos logos/
    python -m applications.dna explain ACGT... --output saliency.png
"""

from applications.contract import Application, Option, Size

TASKS = ("multilabel", "grammar")
ARCHITECTURES = ("danq", "cnn", "transformer")

SIZES = {
    "fast": Size("what the test suite trains (~30 s per task on 2 cores, both models): grammar AUROC 0.998 vs the CNN baseline's 0.59; multilabel 0.98, TOMTOM finds 5/5 factors", length=150, train_examples=4_000, epochs=10, batch_size=64, filters=32, kernel_size=15, pool_size=4, units=32, hidden_units=32, dropout=0.1, learning_rate=3e-3),
    "default": Size("for real use and RESULTS.md (~3 min per task on 2 cores, both models): grammar AUROC 0.9999 vs the CNN baseline's 0.59; multilabel 0.997, TOMTOM finds 5/5", length=200, train_examples=20_000, epochs=10, batch_size=64, filters=64, kernel_size=15, pool_size=4, units=48, hidden_units=64, dropout=0.2, learning_rate=2e-3),
}  # fmt: skip

_LABELS = Option(
    "--labels",
    metavar="PATH",
    commands=("train", "evaluate"),
    help="a side file of labels ('id<TAB>0/1...' lines, optional header of label names) for a FASTA or BED --data",
)
_GENOME = Option(
    "--genome",
    metavar="FASTA",
    commands=("train", "evaluate"),
    help="the genome FASTA the intervals of a BED --data are read from (pyfaidx)",
)


def _explain(app, args):
    result = app.explain(
        args.model_path,
        args.sequence,
        args.output,
        label=args.label,
        method=args.method,
    )
    start, end = result["window"]
    yield f"{result['label']}: probability {result['probability']:.4f}"
    yield f"most important {end - start}-base window: {start}-{end} {result['window_sequence']}"
    yield f"saliency logo: {args.output}"


def _motifs(app, args):
    report = app.motifs(
        args.model_path,
        data=args.data,
        labels=args.labels,
        genome=args.genome,
        examples=args.examples,
        seed=args.seed,
        logos=args.logos,
    )
    yield f"{len(report['filters'])} filters with a PWM; matches with q < {report['q_threshold']}:"
    for f, info in sorted(report["filters"].items()):
        matches = (
            ", ".join(
                f"{name} {matrix_id} (q={q:.1e})"
                for matrix_id, name, q in info["matches"]
            )
            or "-"
        )
        yield f"  filter {f:3d} {info['consensus']:22s} {info['sites']:6d} sites  {matches}"
    for matrix_id, hit in report["planted"].items():
        state = "recovered" if hit["recovered"] else "not recovered"
        yield f"planted {hit['name']} ({matrix_id}): {state} by filter {hit['filter']} (q={hit['q']:.1e}, rank {hit['rank']})"
    for path in report["logos"]:
        yield f"logo: {path}"


APP = Application(
    __name__, SIZES, eval_examples=2000, inputs_help="DNA sequences or FASTA files", data_help="a FASTA file (labels in the headers, '>id 1' or '>id 0,1,0', or in --labels) or a BED file of intervals of --genome (each a positive, with a dinucleotide shuffle of it as a negative)",
    options=[
        Option("--task", choices=TASKS, default="multilabel", help="which factors bind (multi-label), or the order/spacing grammar"),
        Option("--architecture", choices=ARCHITECTURES, default="danq", help="conv + BiLSTM (DanQ), conv + global max pool (the bag-of-motifs baseline) or conv + Transformer encoder"),
        Option("--no-baseline", dest="baseline", action="store_false", help="do not also train and report the CNN baseline (default: it is trained beside the model)"),
        Option("--rc", dest="reverse_complement", choices=("augment", "average", "none"), default="augment", help="reverse complements: augment training batches, average both strands' logits, or neither"),
        Option("--no-motifs", dest="motifs", action="store_const", const=False, help="skip filters -> PWMs -> TOMTOM after training"),
        _LABELS, _GENOME,
        Option("--task", dest="task", choices=TASKS, commands=("evaluate",), help="the generated task to score on (default: the model's)"),
    ],
    commands=[
        ("explain", "a saliency logo of one sequence (gradient x input, or in-silico mutagenesis)", [
            Option("sequence", metavar="SEQUENCE", commands=(), help="a DNA sequence or a FASTA file (its first record)"),
            Option("--output", metavar="PNG", default="saliency.png", commands=(), help="where the logo goes"),
            Option("--label", commands=(), help="the output to explain (default: the first)"),
            Option("--method", choices=("saliency", "mutagenesis"), default="saliency", commands=(), help="gradient x input, or in-silico mutagenesis"),
        ], _explain),
        ("motifs", "first-layer filters -> PWMs -> TOMTOM against JASPAR, with sequence logos", [
            Option("--data", metavar="PATH", commands=(), help="sequences to scan (default: generated test sequences of the model's task)"),
            Option("--labels", metavar="PATH", commands=(), help="labels of --data (only positives are scanned)"),
            Option("--genome", metavar="FASTA", commands=(), help="the genome of a BED --data"),
            Option("--examples", type=int, default=2000, commands=(), help="generated sequences to scan"),
            Option("--seed", type=int, default=0, commands=(), help="seed of the generated sequences"),
            Option("--logos", metavar="DIR", default="dna_logos", commands=(), help="where the logos go (PNG)"),
        ], _motifs),
    ],
)  # fmt: skip
