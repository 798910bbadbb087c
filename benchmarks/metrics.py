"""Corpus BLEU: keras_seq's streaming `Bleu` metric vs `sacrebleu.corpus_bleu`.

The corpus is 10,000 generated segment pairs (word salad from a fixed
vocabulary with partial overlap, 5-40 words each). Ours accumulates the
sufficient statistics batch by batch (`update_state` on batches of 1,000,
then `result()`), as it does during `model.fit`; sacrebleu scores the whole
corpus at once. The script asserts the scores agree and prints the time
ratio ours/peer (median of interleaved runs).

    .venv/bin/python benchmarks/metrics.py [--segments N]
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import sacrebleu  # noqa: E402
from _timing import cpu_model, interleaved, summarize, usable_cores  # noqa: E402

from keras_seq.metrics import Bleu, corpus_bleu  # noqa: E402


def corpus(n, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(2000)] + ["the", "a", ",", ".", "of"]
    hypotheses, references = [], []
    for _ in range(n):
        reference = list(rng.choice(words, size=rng.integers(5, 41)))
        hypothesis = [w if rng.random() < 0.7 else str(rng.choice(words)) for w in reference]
        if rng.random() < 0.3:
            hypothesis = hypothesis[: max(1, len(hypothesis) - rng.integers(0, 5))]
        hypotheses.append(" ".join(hypothesis))
        references.append(" ".join(reference))
    return hypotheses, references


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args(argv)
    hypotheses, references = corpus(args.segments)

    def ours():
        metric = Bleu()
        for start in range(0, len(hypotheses), args.batch):
            metric.update_state(references[start : start + args.batch], hypotheses[start : start + args.batch])
        return float(metric.result())

    def peer():
        return sacrebleu.corpus_bleu(hypotheses, [references]).score

    expected = peer()
    assert abs(ours() - expected) < 1e-4 * max(1.0, expected), (ours(), expected)
    assert corpus_bleu(hypotheses, [references]).score == expected
    samples = interleaved({"ours (streaming Bleu)": ours, "sacrebleu": peer}, min_repeats=5, target_seconds=20)
    stats = {k: summarize(v) for k, v in samples.items()}
    print(f"# corpus BLEU on {args.segments} segments (batches of {args.batch} for ours); "
          f"score {expected:.4f} both; sacrebleu {sacrebleu.__version__}; {usable_cores()} cores, {cpu_model()}")
    print("| implementation | median ms | min ms | runs |")
    print("| --- | --- | --- | --- |")
    for name, s in stats.items():
        print(f"| {name} | {s['median_ms']:.1f} | {s['min_ms']:.1f} | {s['n']} |")
    ratio = stats["ours (streaming Bleu)"]["median_ms"] / stats["sacrebleu"]["median_ms"]
    print(f"time ratio ours/peer: {ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
