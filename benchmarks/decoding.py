"""Beam search: keras_seq.decoding.beam_search vs keras_hub.samplers.BeamSampler.

Both decode the same small `keras_seq.models.TransformerLM` with the same
key/value cache, inside a `tf.function`, from a one-token prompt for a fixed
number of new tokens (no end token, so both do identical work), and the
script checks that with one beam both return the same tokens as greedy
search. Prints tokens/s for each and the time ratio ours/peer. Through the
shared harness (`benchmarks/_harness.py`): one process, both compiled and
warmed up, then interleaved rounds (each round decodes once with each,
order reversed every other round).

    python benchmarks/decoding.py [--quick] [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness  # noqa: E402

_harness.configure_threads()
import keras  # noqa: E402
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_seq.decoding import beam_search, greedy_search  # noqa: E402
from keras_seq.models import TransformerLM  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--beams", type=int, default=5)
    parser.add_argument("--new-tokens", type=int, default=64)
    _harness.add_arguments(parser, rounds=20)
    args = parser.parse_args(argv)
    _harness.configure_threads(args.threads)
    if args.quick:
        args.new_tokens = 16
    keras.utils.set_random_seed(0)
    total = args.new_tokens + 1
    lm = TransformerLM(1000, total, num_layers=2, hidden_dim=128, num_heads=4, intermediate_dim=512, dropout=0.0)
    prompt = np.full((args.batch, 1), 5, "int32")
    lm(prompt)

    def ours(width):
        def run(p):
            state = {"cache": lm.empty_cache(tf.shape(p)[0], total)}
            tokens, _ = beam_search(lm.step_fn, p, total, beam_width=width, state=state)
            return tokens[:, 0]

        return tf.function(run)

    def peer(width):
        sampler = keras_hub.samplers.BeamSampler(num_beams=width)

        def next_fn(tokens, cache, index):
            logits, cache = lm.call_with_cache(tokens[:, index - 1 : index], cache, index - 1)
            return logits[:, 0], None, cache

        def run(p):
            padded = tf.pad(p, [[0, 0], [0, total - 1]])
            cache = lm.empty_cache(tf.shape(p)[0], total)
            return sampler(next_fn, padded, cache=cache, index=1)

        return tf.function(run)

    greedy = tf.function(
        lambda p: greedy_search(lm.step_fn, p, total, state={"cache": lm.empty_cache(tf.shape(p)[0], total)})
    )(prompt)
    np.testing.assert_array_equal(ours(1)(prompt).numpy(), greedy.numpy())
    np.testing.assert_array_equal(peer(1)(prompt).numpy(), greedy.numpy())
    report = _harness.Report(
        f"Beam search: keras_seq beam_search vs keras_hub BeamSampler (TransformerLM 2 layers, D=128, V=1000; "
        f"B={args.batch}, beams={args.beams}, new tokens={args.new_tokens})",
        _harness.versions("tensorflow", "keras", "keras-hub"), args.json,
    )
    compiled = {"keras_seq beam_search": ours(args.beams), "keras-hub BeamSampler": peer(args.beams)}
    candidates = {k: (lambda f=f: f(prompt)) for k, f in compiled.items()}
    timing = _harness.interleave(candidates, args.rounds, warmup=args.warmup, pairs=[tuple(candidates)])
    tokens = args.batch * args.new_tokens
    lines = timing.summary_rows() + [""] + timing.ratio_rows()
    lines += ["", "tokens/s (median): " + ", ".join(f"{k} {tokens / timing.median(k):,.0f}" for k in candidates),
              "", timing.load_line()]
    report.table("beam search", lines, extra=timing.to_json())
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
