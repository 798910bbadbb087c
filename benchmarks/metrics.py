"""Corpus BLEU: keras_seq's streaming `Bleu` metric vs `sacrebleu.corpus_bleu`.

The corpus is 10,000 generated segment pairs (word salad from a fixed
vocabulary with partial overlap, 5-40 words each). Ours accumulates the
sufficient statistics batch by batch (`update_state` on batches of 1,000,
then `result()`), as it does during `model.fit`; sacrebleu scores the whole
corpus at once. The script asserts the scores agree.

Caches cold for both: `sacrebleu.corpus_bleu` builds a fresh tokenizer per
call, whose line cache starts empty, so before every timed call of ours the
harness clears our cached tokenizer (`keras_seq.metrics.bleu._tokenizer`)
and sacrebleu's class-level line cache; a call of ours therefore tokenizes
every line, as sacrebleu's does. Through the shared harness: interleaved
rounds in one process, one warm-up call each.

    python benchmarks/metrics.py [--segments N] [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness  # noqa: E402


def corpus(n, seed=0):
    import numpy as np

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
    _harness.add_arguments(parser, rounds=15)
    args = parser.parse_args(argv)
    _harness.configure_threads(args.threads)
    import sacrebleu
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    import keras_seq.metrics.bleu as bleu_module
    from keras_seq.metrics import Bleu, corpus_bleu

    hypotheses, references = corpus(args.segments)

    def cold_caches():
        bleu_module._tokenizer.cache_clear()  # ours: a fresh tokenizer, like sacrebleu's per call
        Tokenizer13a.__call__.cache_clear()  # sacrebleu's line cache is per class

    def ours():
        cold_caches()
        metric = Bleu()
        for start in range(0, len(hypotheses), args.batch):
            metric.update_state(references[start : start + args.batch], hypotheses[start : start + args.batch])
        return float(metric.result())

    def peer():
        cold_caches()
        return sacrebleu.corpus_bleu(hypotheses, [references]).score

    report = _harness.Report("Corpus BLEU: streaming keras_seq Bleu vs sacrebleu.corpus_bleu",
                             _harness.versions("sacrebleu", "tensorflow", "keras"), args.json)
    expected = peer()
    got = ours()
    assert abs(got - expected) < 1e-4 * max(1.0, expected), (got, expected)
    assert corpus_bleu(hypotheses, [references]).score == expected
    report.note(f"{args.segments} segments (batches of {args.batch} for ours); score {expected:.4f} both")
    names = {"keras_seq Bleu (streaming)": ours, "sacrebleu corpus_bleu": peer}
    timing = _harness.interleave(names, args.rounds, warmup=args.warmup, pairs=[tuple(names)])
    report.table("corpus BLEU", timing.summary_rows() + [""] + timing.ratio_rows() + ["", timing.load_line()],
                 extra=timing.to_json())
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
