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

One training step = forward + gradient of `sum(y * c)` with respect to the
inputs and all weights, in a `tf.function` (graph mode, no XLA), B=1,
T=`--length`, D=256. A case whose peak memory, extrapolated from the
smaller depths, would not fit in the machine's available memory is skipped
(reported as such). Every (variant, depth) case runs in a fresh
subprocess. The step is traced first (`get_concrete_function`, nothing
runs), then the peak-RSS counter is reset; the "activation peak" is the
peak RSS while the steps run minus the RSS before them (runtime, weights,
inputs, traced graph; the first run's graph optimisation included); the
total peak RSS is reported too. "Allocator step peak": TensorFlow's CPU
allocator peak (`tf.config.experimental.get_memory_info`) during the steps
after the first run, minus its live bytes before them: tensors only, no
runtime or graph memory. Time is the median of `--steps` steps after the
first run (which also optimises the graph). After the first run the script
asks glibc to return free heap memory (`malloc_trim(0)`); "resident after
first run" is RSS then minus RSS before the first run (optimised graph,
executor kernels, and whatever freed memory the allocators keep; for the
reversible stack it grows with depth even at small T, i.e. with the
graph), and "later steps' RSS peak" is the peak RSS of the following
steps above that. RSS figures depend on how the allocators retain freed
memory; the allocator step peak counts tensors only. Before timing, the script checks once
(small T) that the reversible gradients equal the plain ones.

Usage:
    .venv/bin/python benchmarks/reformer_reversible.py                 # full
    .venv/bin/python benchmarks/reformer_reversible.py --length 1024 --depths 2 4
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

VARIANTS = ("plain", "remat", "reversible")


def _rss_mib():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mib():
    """Peak RSS since the last `_reset_peak()` (VmHWM), in MiB."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak():
    """Linux: writing 5 to clear_refs resets the peak-RSS counter."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def _trim_heap():
    """Returns freed heap memory to the OS (glibc `malloc_trim`), so RSS
    afterwards counts what is live, not what glibc keeps for reuse."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


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


def worker(variant, depth, length, width, hashes, steps):
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
    start = time.perf_counter()
    step = step.get_concrete_function(x, cotangent)  # trace without running
    trace_time = time.perf_counter() - start
    baseline = _rss_mib()
    _reset_peak()
    times = []
    allocator = None
    for i in range(steps + 1):  # the first run also optimises the graph
        if i == 1:
            first_peak = _peak_mib()
            _trim_heap()
            after_first = _rss_mib()
            _reset_peak()
            tf.config.experimental.reset_memory_stats("CPU:0")
            current = tf.config.experimental.get_memory_info("CPU:0")["current"]
        start = time.perf_counter()
        grads = step(x, cotangent)
        _ = grads[0].numpy()
        times.append(time.perf_counter() - start)
        del grads, _
    step_rss = None
    if steps:
        allocator = (tf.config.experimental.get_memory_info("CPU:0")["peak"] - current) / 2**20
        step_rss = _peak_mib() - after_first
        peak = max(first_peak, _peak_mib())
    else:
        peak = _peak_mib()
    return {
        "variant": variant, "depth": depth, "length": length,
        "baseline_mib": baseline, "peak_mib": peak, "activation_mib": peak - baseline,
        "allocator_step_peak_mib": allocator,
        "runtime_mib": (after_first - baseline) if steps else None,
        "step_rss_mib": step_rss,
        "step_s": statistics.median(times[1:]), "first_step_s": times[0],
        "trace_s": trace_time,
    }


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=8192)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--depths", type=int, nargs="+", default=[4, 12, 24])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--hashes", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--worker", nargs=2, metavar=("VARIANT", "DEPTH"))
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if args.worker:
        row = worker(args.worker[0], int(args.worker[1]), args.length, args.width,
                     args.hashes, args.steps)
        print("ROW " + json.dumps(row), flush=True)
        return
    worst = check_gradients(args.width, args.hashes)
    print(f"gradient check (T=256, depth 3): max |diff| / max |plain| = {worst:.2e}")
    if worst > 1e-4:
        print("reversible/remat gradients disagree with plain: not benchmarking")
        sys.exit(1)
    rows = []
    for depth in args.depths:
        for variant in args.variants:
            need = _estimate_mib(rows, variant, depth)
            free = _available_mib()
            if need is not None and need > free - 2048:
                row = {"variant": variant, "depth": depth,
                       "error": f"skipped: needs ~{need:.0f} MiB, {free:.0f} MiB available"}
                rows.append(row)
                print(json.dumps(row), flush=True)
                continue
            command = [
                sys.executable, os.path.abspath(__file__), "--worker", variant, str(depth),
                "--length", str(args.length), "--width", str(args.width),
                "--hashes", str(args.hashes), "--steps", str(args.steps),
            ]
            done = subprocess.run(command, capture_output=True, text=True)
            line = [x for x in done.stdout.splitlines() if x.startswith("ROW ")]
            if done.returncode or not line:
                row = {"variant": variant, "depth": depth, "error": done.stderr[-500:]}
            else:
                row = json.loads(line[0][4:])
            rows.append(row)
            print(json.dumps(row), flush=True)
    report(rows)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)


def _available_mib():
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return float("inf")


def _estimate_mib(rows, variant, depth):
    """Total peak RSS extrapolated linearly in depth from this variant's
    measured rows (the machine is shared: never start a case that would
    exhaust it)."""
    done = sorted((r["depth"], r["peak_mib"]) for r in rows
                  if r.get("variant") == variant and "error" not in r)
    if not done:
        return None
    if len(done) == 1:
        return done[0][1] * depth / done[0][0]
    (d0, m0), (d1, m1) = done[0], done[-1]
    return m1 + (m1 - m0) / (d1 - d0) * (depth - d1)


def report(rows):
    ok = {(r["variant"], r["depth"]): r for r in rows if "error" not in r}
    print("\n| depth | variant | activation peak MiB | allocator step peak MiB "
          "| later steps' RSS peak MiB | resident after first run MiB "
          "| total peak RSS MiB | step s |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (variant, depth), r in sorted(ok.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        alloc = r.get("allocator_step_peak_mib")
        alloc = "-" if alloc is None else f"{alloc:.0f}"
        runtime = r.get("runtime_mib")
        runtime = "-" if runtime is None else f"{runtime:.0f}"
        step_rss = r.get("step_rss_mib")
        step_rss = "-" if step_rss is None else f"{step_rss:.0f}"
        print(f"| {depth} | {variant} | {r['activation_mib']:.0f} | {alloc} | {step_rss} "
              f"| {runtime} | {r['peak_mib']:.0f} | {r['step_s']:.2f} |")
    depths = sorted({d for _, d in ok})
    slopes = {}
    for variant in VARIANTS:
        for key, label in (("activation_mib", "RSS"), ("allocator_step_peak_mib", "allocator"),
                           ("step_rss_mib", "step RSS"), ("runtime_mib", "runtime")):
            pts = [(d, ok[(variant, d)].get(key)) for d in depths if (variant, d) in ok]
            pts = [p for p in pts if p[1] is not None]
            if len(pts) >= 2:
                slope = (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0])
                slopes[(variant, label)] = slope
                print(f"{variant}: {label} memory slope {slope:.1f} MiB/block "
                      f"(depth {pts[0][0]} to {pts[-1][0]})")
    for label in ("RSS", "allocator", "step RSS"):
        if ("plain", label) in slopes and ("reversible", label) in slopes:
            print(f"reversible / plain {label} slope: "
                  f"{slopes[('reversible', label)] / slopes[('plain', label)]:.1%}")
    for d in depths:
        if ("plain", d) in ok and ("reversible", d) in ok:
            p, r = ok[("plain", d)], ok[("reversible", d)]
            print(f"depth {d}: reversible/plain activation peak "
                  f"{r['activation_mib'] / p['activation_mib']:.2f}, step time "
                  f"{r['step_s'] / p['step_s']:.2f}x")


if __name__ == "__main__":
    main()
