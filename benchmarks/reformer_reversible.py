"""Benchmark: reversible residual stack vs plain residual stack vs `keras.remat`.

Each block is a Reformer block on two streams: `y1 = x1 + f(x2)`,
`y2 = x2 + g(y1)` with `f` = LayerNorm + `LSHSelfAttention` (causal, 4 heads
of 64, bucket 64, `--hashes` rounds) and `g` = LayerNorm +
`ChunkedFeedForward` (4 * D hidden, 8 chunks). The same blocks are run

- `reversible`: `keras_seq.layers.ReversibleSequence` (recomputes every
  block's inputs from its outputs in the backward pass);
- `plain`: the blocks called one after another (ordinary autodiff keeps
  every activation);
- `remat`: every block wrapped in `keras.remat` (TensorFlow's
  `recompute_grad`: keeps each block's inputs, recomputes its insides).

One call = one training step: forward + gradient of `sum(y * c)` with
respect to the inputs and all weights, in a `tf.function` (graph mode, no
XLA), B=1, T=`--length`, D=256 per stream.

Through the shared harness (`benchmarks/_harness.py`), per depth: every
variant in its own long-lived worker process (same threads, same
environment), timed in interleaved rounds after `--warmup` untimed steps;
then memory, the same measure for every variant: a fresh worker each, the
peak RSS over its first two steps (graph optimisation included) above the
RSS before them, and TensorFlow's allocator peak during the second step
above its live bytes before it (tensors only). Before timing, the script
checks once (T=256, depth 3) that the reversible and remat gradients equal
the plain ones.

    python benchmarks/reformer_reversible.py --depths 4 12 --rounds 3
    python benchmarks/reformer_reversible.py --length 1024 --depths 2 4 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness  # noqa: E402

VARIANTS = ("plain", "remat", "reversible")


def _build(depth, width, hashes, seed=0):
    import keras

    from keras_seq.layers import ReversibleBlock
    from keras_seq.models.reformer import ReformerAttention, ReformerFeedForward

    keras.utils.set_random_seed(seed)
    blocks = []
    for i in range(depth):
        f = ReformerAttention(
            num_heads=4, key_dim=width // 4, bucket_size=64, num_hashes=hashes,
            causal=True, seed=seed + i, name=f"attention_{i}",
        )
        g = ReformerFeedForward(4 * width, num_chunks=8, name=f"feed_forward_{i}")
        blocks.append(ReversibleBlock(f, g, name=f"block_{i}"))
    return blocks


def _step_fn(variant, blocks, weights):
    import keras
    import tensorflow as tf

    from keras_seq.layers import ReversibleSequence

    if variant == "reversible":
        stack = ReversibleSequence(blocks)

        def forward(x):
            return stack(x, training=True)
    elif variant == "plain":

        def forward(x):
            for block in blocks:
                x = block(x, training=True)
            return x
    else:
        # tf.custom_gradient takes no keyword arguments in graphs.
        wrapped = [keras.remat(lambda x, b=block: b(x, training=True)) for block in blocks]

        def forward(x):
            for block in wrapped:
                x = block(x)
            return x

    def step(x, cotangent):  # weights closed over: tf.function args become tensors
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = forward(x)
            loss = tf.reduce_sum(y * cotangent)
        return tape.gradient(loss, [x] + weights)

    return forward, tf.function(step)


def make_step(variant, depth, length=8192, width=256, hashes=2):
    """A zero-argument training step of `variant` at `depth` (for the harness)."""
    import numpy as np
    import tensorflow as tf

    blocks = _build(depth, width, hashes)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(1, length, 2 * width)).astype("float32"))
    cotangent = tf.constant(rng.normal(size=(1, length, 2 * width)).astype("float32"))
    for block in blocks:
        block.build(tuple(x.shape))
    weights = [w for b in blocks for w in b.trainable_weights]
    _, step = _step_fn(variant, blocks, weights)
    step = step.get_concrete_function(x, cotangent)  # traced now, optimised on the first call

    def run():
        grads = step(x, cotangent)
        return float(grads[0].numpy().sum())

    return run


def check_gradients(width, hashes):
    """Reversible gradients == plain gradients (same weights, T=256)."""
    import numpy as np
    import tensorflow as tf

    blocks = _build(3, width, hashes)
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(size=(1, 256, 2 * width)).astype("float32"))
    c = tf.constant(rng.normal(size=(1, 256, 2 * width)).astype("float32"))
    for block in blocks:
        block.build(tuple(x.shape))
    weights = [w for b in blocks for w in b.trainable_weights]
    results = {v: _step_fn(v, blocks, weights)[1](x, c) for v in VARIANTS}
    worst = 0.0
    for variant in ("remat", "reversible"):
        for a, b in zip(results[variant], results["plain"]):
            a, b = a.numpy(), b.numpy()
            worst = max(worst, float(np.max(np.abs(a - b)) / (np.max(np.abs(b)) + 1e-12)))
    return worst


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=8192)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--depths", type=int, nargs="+", default=[4, 12])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--hashes", type=int, default=2)
    parser.add_argument("--no-memory", action="store_true")
    _harness.add_arguments(parser, rounds=3)
    args = parser.parse_args(argv)
    _harness.configure_threads(args.threads)
    report = _harness.Report(
        f"Reversible vs plain vs remat Reformer stacks, T={args.length}, D={args.width} per stream, "
        f"{args.hashes} hashes", _harness.versions("tensorflow", "keras"), args.json)
    worst = check_gradients(args.width, args.hashes)
    report.note(f"gradient check (T=256, depth 3): max |diff| / max |plain| = {worst:.2e}")
    if worst > 1e-4:
        report.note("reversible/remat gradients disagree with plain: not benchmarking")
        return 1
    options = dict(length=args.length, width=args.width, hashes=args.hashes)
    summary = ["| depth | variant | step s median (range) | vs plain (per-round range) | peak RSS over the first 2 "
               "steps MiB | TF allocator peak of a step MiB | load |", "| ---: | --- | ---: | ---: | ---: | ---: | --- |"]
    for depth in args.depths:
        workers = {}
        try:
            for variant in args.variants:
                workers[variant] = _harness.Worker("reformer_reversible:make_step", variant=variant, depth=depth,
                                                   **options).start()
            pairs = [(v, "plain") for v in args.variants if v != "plain" and "plain" in args.variants]
            timing = _harness.interleave(workers, args.rounds, warmup=args.warmup, pairs=pairs,
                                         label=f"depth {depth}: ")
        finally:
            for worker in workers.values():
                worker.stop()
        memory = {}
        if not args.no_memory:
            memory = _harness.measure_memory(
                {v: ("reformer_reversible:make_step", dict(variant=v, depth=depth, **options)) for v in args.variants})
        lo_load, hi_load = timing.loads()
        for variant in args.variants:
            lo, hi = timing.range(variant)
            versus = "1.00"
            if variant != "plain" and "plain" in args.variants:
                per = timing.round_ratios(variant, "plain")
                versus = f"**{timing.ratio(variant, 'plain'):.2f}** ({min(per):.2f}-{max(per):.2f})"
            m = memory.get(variant, {})
            summary.append(f"| {depth} | {variant} | {timing.median(variant):.2f} ({lo:.2f}-{hi:.2f}) | {versus} | "
                           f"{m.get('rss_mib', float('nan')):,.0f} | {m.get('tf_allocator_mib') or float('nan'):,.0f} | "
                           f"{lo_load:.2f}-{hi_load:.2f} |")
        report.table(f"depth {depth}", timing.summary_rows(1.0, "s") + [""] + timing.ratio_rows()
                     + ["", timing.load_line()], extra={"timing": timing.to_json(), "memory": memory})
    report.table("summary", summary)
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
