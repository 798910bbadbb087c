"""Word2Vec: keras_seq's trainers (fused CPU op, batched TensorFlow) vs gensim (workers=1, 2).

Same corpus and settings for all: the embedded Wikipedia extract from
gensim's test data (~440k words), skip-gram (or CBOW with `--cbow`),
vector_size 100, window 5, negative 5, min_count 5, sample 1e-3, 5 epochs,
alpha 0.025 -> 1e-4. Words/s = raw corpus words x epochs / training seconds
(vocabulary building excluded for both; one untimed warm-up fit on 200
paragraphs first, so TensorFlow's start-up and the step's tracing, cached
across fits, and the fused kernel's one-time compilation are not charged to the first
round). Ours runs with each trainer of `--trainers` (default: fused, the default on a CPU,
and batched, the TensorFlow-ops trainer for GPUs/TPUs/tf.distribute). The runs are
interleaved in rounds (ours with 1 and 2 workers, gensim with 1 and 2, then reversed) and
medians are reported, with the CPU load from other processes measured during each run. Quality is measured
on every run: Google analogy accuracy (questions-words.txt, 3CosAdd, as
gensim's `evaluate_word_analogies`) and Spearman rho on WordSim-353 and
SimLex-999.

    .venv/bin/python benchmarks/word2vec.py [--rounds 3] [--epochs 5] [--cbow] [--trainers fused batched]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _timing import ForeignLoad, cpu_model, usable_cores  # noqa: E402

from keras_seq.embeddings import Word2Vec, WordVectors, data_path, embedded_corpus  # noqa: E402


def quality(vectors):
    return {
        "analogy": vectors.evaluate_analogies()["accuracy"],
        "wordsim": vectors.evaluate_word_pairs()["spearman"],
        "simlex": vectors.evaluate_word_pairs(data_path("simlex999"))["spearman"],
    }


def run_ours(corpus, settings, seed, workers, trainer):
    model = Word2Vec(**settings, seed=seed, verbose=0, workers=workers, trainer=trainer)
    with ForeignLoad() as load:
        vectors = model.fit(corpus)
    assert model.trainer_used == trainer
    return model.words_per_second, quality(vectors), load.cores


def run_gensim(corpus, settings, seed, workers):
    from gensim.models import Word2Vec as GensimWord2Vec

    options = dict(settings)
    sg = options.pop("sg")
    epochs = options.pop("epochs")
    model = GensimWord2Vec(sg=int(sg), workers=workers, seed=seed, **options)
    model.build_vocab(corpus)
    raw = sum(len(s) for s in corpus)
    with ForeignLoad() as load:
        started = time.perf_counter()
        model.train(corpus, total_examples=len(corpus), epochs=epochs)
        seconds = time.perf_counter() - started
    vectors = WordVectors(model.wv.index_to_key, model.wv.vectors)
    return raw * epochs / seconds, quality(vectors), load.cores


def main(argv=None):
    import gensim

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--cbow", action="store_true")
    parser.add_argument("--corpus", default="wikipedia", choices=["wikipedia", "lee"])
    parser.add_argument("--trainers", nargs="+", default=["fused", "batched"], choices=["fused", "batched"])
    args = parser.parse_args(argv)
    corpus = embedded_corpus(args.corpus)
    settings = dict(vector_size=100, window=5, negative=5, sg=not args.cbow, min_count=5, sample=1e-3,
                    epochs=args.epochs, alpha=0.025, min_alpha=1e-4)
    print(f"corpus: {args.corpus} ({sum(map(len, corpus)):,} words, {len(corpus):,} paragraphs); "
          f"settings: {settings}; gensim {gensim.__version__}; {cpu_model()}, {usable_cores()} cores")
    candidates = {}
    for trainer in args.trainers:
        for workers in (1, 2):
            candidates[f"keras_seq {trainer} workers={workers}"] = (
                lambda seed, trainer=trainer, workers=workers: run_ours(corpus, settings, seed, workers, trainer))
    for workers in (1, 2):
        candidates[f"gensim workers={workers}"] = lambda seed, workers=workers: run_gensim(corpus, settings, seed, workers)
    # Warm-up (TensorFlow's one-time start-up, the step's tracing, the kernel's build) outside the timed runs.
    for trainer in args.trainers:
        Word2Vec(**{**settings, "epochs": 1}, verbose=0, trainer=trainer).fit(corpus[:200])
    print(f"load average at start: {os.getloadavg()}")
    results = {name: [] for name in candidates}
    names = list(candidates)
    for round_number in range(args.rounds):
        for name in names if round_number % 2 == 0 else names[::-1]:
            speed, scores, load = candidates[name](round_number + 1)
            results[name].append((speed, scores, load))
            print(f"  round {round_number + 1} {name}: {speed:,.0f} words/s, analogy {scores['analogy']:.4f}, "
                  f"WordSim rho {scores['wordsim']:.4f}, SimLex rho {scores['simlex']:.4f}, "
                  f"foreign load {load if load is None else round(load, 2)} cores", flush=True)
    print(f"load average at end: {os.getloadavg()}")
    reference = {k: statistics.median(r[0] for r in results[k]) for k in names}
    print()
    print("| implementation | median words/s | this / gensim (same workers) | analogy acc. | WordSim-353 rho | "
          "SimLex-999 rho | foreign load (cores) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in names:
        ratio = reference[name] / reference["gensim " + name.split()[-1]]
        runs = results[name]

        def median(key, runs=runs):
            return statistics.median(r[1][key] for r in runs)

        loads = [r[2] for r in runs if r[2] is not None]
        print(f"| {name} | {reference[name]:,.0f} | {ratio:.2f} | {median('analogy'):.4f} | "
              f"{median('wordsim'):.4f} | {median('simlex'):.4f} | "
              f"{statistics.median(loads) if loads else float('nan'):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
