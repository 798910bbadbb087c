"""`model.generate` speed: the compiled graph loop vs the XLA-compiled loop.

Decodes a small `keras_seq.models.TransformerLM` (2 layers, D=128, V=1000)
from a one-token prompt for a fixed number of new tokens (the end id is never
produced, so every variant does identical work) with greedy and beam search,
and prints the median wall time per call and tokens/s of each variant, timed
in interleaved rounds. Variants: `graph` (the model's default on CPU: a
`tf.function` without XLA) and `xla` (`model.jit_compile = True`). It checks
that both return the same tokens. With `--variants graph` it runs on any
keras_seq whose `generate` has these options (for before/after comparisons).

    .venv/bin/python benchmarks/generate.py [--quick] [--variants graph,xla]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _timing import cpu_model, interleaved, summarize, usable_cores  # noqa: E402

from keras_seq.models import TransformerLM  # noqa: E402

STRATEGIES = {"greedy": {}, "beam": {"strategy": "beam", "beam_width": 5}}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--variants", default="graph,xla")
    parser.add_argument("--seconds", type=float, default=15.0, help="target timing per strategy")
    parser.add_argument("--label", default="", help="a name for this keras_seq (printed with the rows)")
    args = parser.parse_args(argv)
    if args.quick:
        args.new_tokens, args.seconds = 16, 3.0
    variants = args.variants.split(",")
    total = args.new_tokens + 1
    models = {}
    for name in variants:
        keras.utils.set_random_seed(0)
        lm = TransformerLM(1000, total, num_layers=2, hidden_dim=128, num_heads=4, intermediate_dim=512,
                           dropout=0.0, end_id=-1)  # fmt: skip
        lm.jit_compile = name == "xla"
        models[name] = lm
    prompt = np.full((args.batch, 1), 5, "int32")
    weights = None
    for lm in models.values():
        lm(prompt)
        weights = weights or lm.get_weights()
        lm.set_weights(weights)
    print(f"# model.generate, TransformerLM (2 layers, D=128, V=1000); B={args.batch}, "
          f"new tokens={args.new_tokens}; tf {tf.__version__}, keras {keras.__version__}; "
          f"{usable_cores()} cores, {cpu_model()}; load {os.getloadavg()[0]:.2f}")  # fmt: skip
    print("| keras_seq | strategy | variant | median ms | tokens/s | runs |")
    print("| --- | --- | --- | --- | --- | --- |")
    for strategy, options in STRATEGIES.items():
        outputs = {name: lm.generate(prompt, total, **options) for name, lm in models.items()}  # compiles
        first = next(iter(outputs.values()))
        for name, tokens in outputs.items():
            np.testing.assert_array_equal(tokens, first, err_msg=name)
        calls = {name: (lambda lm=lm, options=options: lm.generate(prompt, total, **options)) for name, lm in models.items()}
        samples = interleaved(calls, min_repeats=5, target_seconds=args.seconds)
        for name, seconds in samples.items():
            s = summarize(seconds)
            rate = args.batch * args.new_tokens / s["median_ms"] * 1e3
            print(f"| {args.label} | {strategy} | {name} | {s['median_ms']:.1f} | {rate:.0f} | {s['n']} |")
            print("json " + json.dumps({"label": args.label, "strategy": strategy, "variant": name,
                                        "median_ms": s["median_ms"], "runs": s["n"]}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
