"""Word2Vec: keras_seq's trainers vs gensim, at 1 and 2 workers.

Same corpus and settings for all: the Wikipedia extract shipped in gensim's
test data (~440k words), skip-gram (or CBOW with `--cbow`), vector_size 100,
window 5, negative 5, min_count 5, sample 1e-3, 5 epochs, alpha 0.025 ->
1e-4. One timed call = one whole fit from the tokenised corpus to vectors,
for both: ours `Word2Vec(...).fit(corpus)` (vocabulary, word -> id
conversion, subsampling, training), gensim `Word2Vec(corpus, ...)`
(`build_vocab` + `train`, which looks words up inside). Words/s = raw corpus
words x epochs / that time. Quality is scored after every fit, untimed:
Google analogy accuracy (3CosAdd, as gensim's `evaluate_word_analogies`),
Spearman rho on WordSim-353 and SimLex-999.

Through the shared harness (`benchmarks/_harness.py`): all candidates in one
process, interleaved in `--rounds` rounds (order reversed every other round),
round r seeds every fit with r; one untimed warm-up fit each first
(TensorFlow's start-up, the kernel's build and load).

    python benchmarks/word2vec.py --rounds 10 [--cbow] [--trainers fused batched]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness  # noqa: E402


def quality(vectors):
    from keras_seq.embeddings import data_path

    return {
        "analogy": vectors.evaluate_analogies()["accuracy"],
        "wordsim": vectors.evaluate_word_pairs()["spearman"],
        "simlex": vectors.evaluate_word_pairs(data_path("simlex999"))["spearman"],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--cbow", action="store_true")
    parser.add_argument("--corpus", default="wikipedia", choices=["wikipedia", "lee"])
    parser.add_argument("--trainers", nargs="+", default=["fused"], choices=["fused", "batched"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    _harness.add_arguments(parser, rounds=10)
    args = parser.parse_args(argv)
    _harness.configure_threads(args.threads)
    from gensim.models import Word2Vec as GensimWord2Vec

    from keras_seq.embeddings import Word2Vec, WordVectors, embedded_corpus

    _harness.apply_thread_settings()
    corpus = embedded_corpus(args.corpus)
    raw_words = sum(map(len, corpus))
    settings = dict(vector_size=100, window=5, negative=5, sg=not args.cbow, min_count=5, sample=1e-3,
                    epochs=args.epochs, alpha=0.025, min_alpha=1e-4)
    report = _harness.Report(
        f"Word2Vec {'CBOW' if args.cbow else 'skip-gram'}: keras_seq vs gensim",
        _harness.versions("tensorflow", "gensim", "numpy"), args.json,
    )
    report.note(f"corpus: {args.corpus} ({raw_words:,} words, {len(corpus):,} paragraphs); settings: {settings}")
    seed = {"value": 1}
    produced = {}
    candidates, pairs = {}, []
    for workers in args.workers:
        for trainer in args.trainers:
            name = f"keras_seq {trainer} workers={workers}"

            def ours(name=name, trainer=trainer, workers=workers):
                model = Word2Vec(**settings, seed=seed["value"], verbose=0, workers=workers, trainer=trainer)
                produced[name] = model.fit(corpus)
                assert model.trainer_used == trainer

            candidates[name] = ours
            pairs.append((name, f"gensim workers={workers}"))
        gname = f"gensim workers={workers}"

        def peer(gname=gname, workers=workers):
            options = dict(settings)
            sg = options.pop("sg")
            model = GensimWord2Vec(corpus, sg=int(sg), workers=workers, seed=seed["value"], **options)
            produced[gname] = model.wv

        candidates[gname] = peer
    scores = {name: [] for name in candidates}

    def score(name, index):
        vectors = produced.pop(name)
        if not isinstance(vectors, WordVectors):
            vectors = WordVectors(vectors.index_to_key, vectors.vectors)
        scores[name].append(quality(vectors))

    def reseed(index):
        seed["value"] = index + 1

    # Warm-up: TensorFlow's start-up, the kernel's build/load (a small fit each).
    for trainer in args.trainers:
        Word2Vec(**{**settings, "epochs": 1}, verbose=0, trainer=trainer).fit(corpus[:200])
    GensimWord2Vec(corpus[:200], **{k: v for k, v in settings.items() if k != "sg"}, workers=1)
    timing = _harness.interleave(candidates, args.rounds, warmup=0, pairs=pairs, before_round=reseed,
                                 after_call=score)
    lines = ["| implementation | median words/s | words/s min-max (rounds) | this / gensim, same workers "
             "(per-round min-max) | analogy acc. mean (min-max) | WordSim-353 rho mean | SimLex-999 rho mean |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    words = raw_words * args.epochs
    peers = dict(pairs)
    for name in candidates:
        lo, hi = timing.range(name)
        if name in peers:
            per = [1 / r for r in timing.round_ratios(name, peers[name])]
            ratio = f"**{timing.median(peers[name]) / timing.median(name):.2f}** ({min(per):.2f}-{max(per):.2f})"
        else:
            ratio = "1.00"
        q = scores[name]
        analogy = [s["analogy"] for s in q]
        lines.append(
            f"| {name} | {words / timing.median(name):,.0f} | {words / hi:,.0f}-{words / lo:,.0f} | {ratio} | "
            f"{statistics.mean(analogy):.4f} ({min(analogy):.4f}-{max(analogy):.4f}) | "
            f"{statistics.mean(s['wordsim'] for s in q):.4f} | {statistics.mean(s['simlex'] for s in q):.4f} |"
        )
    report.table(f"{'CBOW' if args.cbow else 'skip-gram'}, {args.rounds} rounds (speed ratio: ours' words/s / gensim's)",
                 lines + ["", timing.load_line()], extra={"timing": timing.to_json(), "quality": scores})
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
