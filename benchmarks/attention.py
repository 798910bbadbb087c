"""Benchmark: keras_seq attention layers against their Keras / keras-hub peers.

Compares, side by side in one process and on identical weights,

- `keras_seq.layers.MultiHeadAttention` vs `keras.layers.MultiHeadAttention`
- `keras_seq.layers.TransformerEncoderBlock` vs
  `keras_hub.layers.TransformerEncoder`

for self-attention (query = value = x) in two modes, each compiled in a
`tf.function` with `jit_compile=False` ("graph") and `jit_compile=True`
("xla"):

- `train`: forward + backward, `training=True`, dropout 0.0: the gradient of
  `sum(y * c)` (fixed random cotangent `c`) with respect to the input and
  all trainable weights, under `tf.GradientTape`.
- `infer`: forward only, `training=False`, dropout 0.1 (Keras's own MHA takes
  its unfused path whenever `dropout > 0`, even at inference).

Before a row is timed, the peer's weights are randomised (biases and
LayerNorm parameters too) and copied into ours; the float32 outputs of both
compiled functions must agree, and so must the outputs and (for `train`)
every gradient of both layers rebuilt in float64 with the same weights (in
float32, ReLU's kink turns 1e-6 forward rounding into O(1) gradient
differences at pre-activations within rounding of zero, in either
implementation). The script exits with status 1 if any row disagrees.
Timing interleaves ours and the peer (AB BA AB ...) in one process with the
same TensorFlow thread settings, after a warm-up that compiles both (warm-up
calls are not timed), and reports the median and min per call, the ratio of
medians ours/peer (< 1 means ours is faster), the range (min-median-max) of
the per-round ratios (ours/peer within the same round), and the 1-minute
load average before and after each row.

Usage:
    .venv/bin/python benchmarks/attention.py            # full run, minutes
    .venv/bin/python benchmarks/attention.py --quick    # smoke run, seconds
    .venv/bin/python benchmarks/attention.py --rows 'mha.*infer' --repeats 20
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import _timing  # noqa: E402  (benchmarks/ is on sys.path when run as a script)
import keras  # noqa: E402
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_seq.layers import MultiHeadAttention, TransformerEncoderBlock  # noqa: E402

FULL_SHAPES = ((8, 512, 256, 8), (32, 128, 256, 4))  # (B, T, D, H)
QUICK_SHAPES = ((2, 64, 64, 4), (4, 32, 64, 2))
# Agreement tolerance: max |ours - peer| <= ATOL + RTOL * max |peer|, per tensor.
RTOL, ATOL = 1e-4, 1e-5
FLOOR = 1e-2  # see max_disagreement


# -- layers -------------------------------------------------------------------


def build_pair(kind, shape, dropout, dtype="float32", weights_from=None):
    """Returns (ours, peer, call, pairs) built on `shape`: the peer's weights
    randomised (or copied from `weights_from`'s peer) and copied to ours."""
    b, t, d, h = shape
    x = tf.zeros((b, t, d), dtype)
    if kind == "mha":
        ours = MultiHeadAttention(num_heads=h, key_dim=d // h, dropout=dropout, dtype=dtype)
        peer = keras.layers.MultiHeadAttention(
            num_heads=h, key_dim=d // h, dropout=dropout, dtype=dtype
        )

        def call(layer, inputs, training):
            return layer(inputs, inputs, training=training)

    elif kind == "encoder":
        # Note the different argument names/order; keywords keep them straight.
        ours = TransformerEncoderBlock(
            num_heads=h, intermediate_dim=4 * d, dropout=dropout, norm_first=False, dtype=dtype
        )
        peer = keras_hub.layers.TransformerEncoder(
            intermediate_dim=4 * d, num_heads=h, dropout=dropout, normalize_first=False,
            dtype=dtype,
        )

        def call(layer, inputs, training):
            return layer(inputs, training=training)

    else:
        raise ValueError(kind)
    call(ours, x, False)
    call(peer, x, False)
    if weights_from is None:
        randomize(peer, seed=1234)
    else:
        for mine, theirs in zip(peer.weights, weights_from.weights):
            mine.assign(ops_cast(theirs.value, dtype))
    pairs = matched_variables(ours, peer)
    for mine, theirs in pairs:
        mine.assign(theirs.value)
    return ours, peer, call, pairs


def ops_cast(value, dtype):
    return tf.cast(value, dtype)


def randomize(layer, seed):
    """Gives every weight a non-trivial value (default biases are zeros)."""
    rng = np.random.default_rng(seed)
    for v in layer.weights:
        shape = tuple(v.shape)
        if v.path.endswith("kernel"):
            fan_in = shape[0]
            value = rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)
        elif v.path.endswith("gamma"):
            value = 1.0 + 0.1 * rng.normal(size=shape)
        else:  # biases, beta
            value = 0.1 * rng.normal(size=shape)
        v.assign(value.astype(v.dtype))


def matched_variables(ours, peer):
    """[(our_var, peer_var)] matched by path minus the top-level layer name."""

    def key(v):
        return v.path.split("/", 1)[1]

    theirs = {key(v): v for v in peer.weights}
    mine = {key(v): v for v in ours.weights}
    if set(mine) != set(theirs):
        raise SystemExit(
            "weight layouts differ:\n  ours only: "
            f"{sorted(set(mine) - set(theirs))}\n  peer only: "
            f"{sorted(set(theirs) - set(mine))}"
        )
    pairs = []
    for name in sorted(mine):
        if tuple(mine[name].shape) != tuple(theirs[name].shape):
            raise SystemExit(f"shape mismatch for {name}")
        pairs.append((mine[name], theirs[name]))
    return pairs


# -- compiled steps -----------------------------------------------------------


def make_step(layer, call, variables, mode, jit):
    if mode == "train":

        @tf.function(jit_compile=jit, reduce_retracing=True)
        def step(x, cotangent):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = call(layer, x, True)
                loss = tf.reduce_sum(y * cotangent)
            # Keras variables wrap `tf.Variable`s, which the tape watches.
            grads = tape.gradient(loss, [x] + list(variables))
            # The loss itself is not returned: it is a function of `y` (which
            # is compared), and a sum of 1e6 terms with cancellation whose
            # float32 round-off depends on the reduction order.
            return [y] + grads

    else:

        @tf.function(jit_compile=jit, reduce_retracing=True)
        def step(x, cotangent):
            del cotangent
            return [call(layer, x, False)]

    return step


def float64_disagreement(row, x, cotangent, peer32):
    """`max_disagreement` of ours and the peer rebuilt in float64 (same
    weights), on the row's mode, in graph mode."""
    kind, shape, mode = row["kind"], row["shape"], row["mode"]
    ours, peer, call, pairs = build_pair(kind, shape, row["dropout"], "float64", peer32)
    ours_vars = [m for m, _ in pairs if m.trainable]
    peer_vars = [p for m, p in pairs if m.trainable]
    x64, c64 = tf.cast(x, "float64"), tf.cast(cotangent, "float64")
    a = make_step(ours, call, ours_vars, mode, False)(x64, c64)
    b = make_step(peer, call, peer_vars, mode, False)(x64, c64)
    return max_disagreement([t.numpy() for t in a], [t.numpy() for t in b], rtol=1e-8, atol=1e-10)


def max_disagreement(ours, peer, rtol=RTOL, atol=ATOL):
    """Worst max|a - b| / tol over the tensors (<= 1 means they agree).

    tol = ATOL + RTOL * max(max|b|, FLOOR * G), G the largest magnitude over
    all compared tensors. The floor matters for gradients that are zero in
    exact arithmetic (the key bias: softmax is shift-invariant, so its
    gradient is pure float32 round-off, ~1e-7 * G, and differs by 100%
    between two correct implementations).
    """
    names = ["y", "dx"] if len(ours) > 1 else ["y"]
    ours = [np.asarray(a, np.float64) for a in ours]
    peer = [np.asarray(b, np.float64) for b in peer]
    if any(a.shape != b.shape for a, b in zip(ours, peer)) or len(ours) != len(peer):
        return float("inf"), "shapes"
    if not all(np.all(np.isfinite(a)) and np.all(np.isfinite(b)) for a, b in zip(ours, peer)):
        return float("inf"), "non-finite"
    scale = max(float(np.max(np.abs(b))) for b in peer)
    worst, worst_name = 0.0, names[0]
    for i, (a, b) in enumerate(zip(ours, peer)):
        tol = atol + rtol * max(float(np.max(np.abs(b))), FLOOR * scale)
        score = float(np.max(np.abs(a - b))) / tol
        if score > worst:
            worst = score
            worst_name = names[i] if i < len(names) else f"dW[{i - len(names)}]"
    return worst, worst_name


# -- rows ---------------------------------------------------------------------


def all_rows(shapes):
    rows = []
    for kind in ("mha", "encoder"):
        for shape in shapes:
            for mode in ("train", "infer"):
                for jit in (False, True):
                    b, t, d, h = shape
                    rows.append(
                        {
                            "id": f"{kind}.{b}x{t}x{d}h{h}.{mode}.{'xla' if jit else 'graph'}",
                            "kind": kind,
                            "shape": shape,
                            "mode": mode,
                            "jit": jit,
                            "dropout": 0.0 if mode == "train" else 0.1,
                        }
                    )
    return rows


def run_row(row, min_repeats, target_seconds, max_load=0.25, retries=2, wait=60.0):
    kind, shape, mode, jit = row["kind"], row["shape"], row["mode"], row["jit"]
    ours, peer, call, pairs = build_pair(kind, shape, row["dropout"])
    our_vars = [m for m, _ in pairs if m.trainable]
    peer_vars = [p for m, p in pairs if m.trainable]
    ours_step = make_step(ours, call, our_vars, mode, jit)
    peer_step = make_step(peer, call, peer_vars, mode, jit)

    rng = np.random.default_rng(0)
    b, t, d, _ = shape
    x = tf.constant(rng.normal(size=(b, t, d)).astype("float32"))
    cotangent = tf.constant(rng.normal(size=(b, t, d)).astype("float32"))

    start = time.perf_counter()
    out_ours = ours_step(x, cotangent)
    out_peer = peer_step(x, cotangent)
    compile_s = time.perf_counter() - start
    # Same function: the float32 outputs agree, and the outputs and every
    # gradient agree in float64 (with float32 gradients, ReLU's kink turns
    # 1e-6 forward rounding into O(1) differences on the few pre-activations
    # within rounding of zero, in either implementation).
    y_disagreement, _ = max_disagreement([out_ours[0].numpy()], [out_peer[0].numpy()])
    del out_ours, out_peer
    disagreement, where = float64_disagreement(row, x, cotangent, peer)
    if y_disagreement > disagreement:
        disagreement, where = y_disagreement, "y (float32)"
    for _ in range(2):  # warm-up after tracing/compilation
        ours_step(x, cotangent)
        peer_step(x, cotangent)

    # Other processes on a small machine distort timings; measure how many
    # cores they used while we timed, and re-time (keeping the quietest
    # attempt) when it was more than `max_load`.
    best = None
    load_before = os.getloadavg()[0]
    for attempt in range(retries + 1):
        if wait > 0:
            _timing.wait_for_quiet(max_load, wait)
        with _timing.ForeignLoad() as load:
            samples = _timing.interleaved(
                {
                    "ours": lambda: ours_step(x, cotangent),
                    "peer": lambda: peer_step(x, cotangent),
                },
                min_repeats=min_repeats,
                target_seconds=target_seconds,
            )
        foreign = load.cores if load.cores is not None else 0.0
        if best is None or foreign < best[0]:
            best = (foreign, samples, attempt + 1)
        if foreign <= max_load:
            break
    foreign, samples, attempts = best
    result = dict(row)
    result["foreign_load"] = foreign
    result["attempts"] = attempts
    result["ours"] = _timing.summarize(samples["ours"])
    result["peer"] = _timing.summarize(samples["peer"])
    result["ratio"] = result["ours"]["median_ms"] / result["peer"]["median_ms"]
    # Round i timed ours[i] and peer[i] back to back (AB or BA).
    per_round = sorted(a / b for a, b in zip(samples["ours"], samples["peer"]))
    result["round_ratios"] = (per_round[0], statistics.median(per_round), per_round[-1])
    result["load"] = (load_before, os.getloadavg()[0])
    result["min_ratio"] = result["ours"]["min_ms"] / result["peer"]["min_ms"]
    result["disagreement"] = disagreement
    result["worst_tensor"] = where
    result["agree"] = bool(disagreement <= 1.0)
    result["compile_s"] = compile_s
    return result


def peer_name(kind):
    return "keras MHA" if kind == "mha" else "keras_hub TransformerEncoder"


def markdown_table(results):
    lines = [
        "| layer (ours vs peer) | B×T×D, H | mode | dropout | jit | rounds | ours median ms (min) | peer median ms (min) | **ours/peer** | per-round ratio min-median-max | agree (err/tol) | bg cores | load avg before→after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        b, t, d, h = r["shape"]
        mode = "fwd+bwd, training=True" if r["mode"] == "train" else "fwd, training=False"
        lines.append(
            f"| {r['kind']} vs {peer_name(r['kind'])} | {b}×{t}×{d}, {h} | {mode} | "
            f"{r['dropout']:.1f} | {'XLA' if r['jit'] else 'graph'} | {r['ours']['n']} | "
            f"{r['ours']['median_ms']:.2f} ({r['ours']['min_ms']:.2f}) | "
            f"{r['peer']['median_ms']:.2f} ({r['peer']['min_ms']:.2f}) | "
            f"**{r['ratio']:.2f}** | {r['round_ratios'][0]:.2f}-{r['round_ratios'][1]:.2f}-"
            f"{r['round_ratios'][2]:.2f} | "
            f"{'yes' if r['agree'] else 'NO'} ({r['disagreement']:.2g}) | {r['foreign_load']:.2f} | "
            f"{r['load'][0]:.2f}→{r['load'][1]:.2f} |"
        )
    return "\n".join(lines)


def environment():
    return {
        "python": sys.version.split()[0],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_hub": keras_hub.__version__,
        "backend": keras.backend.backend(),
        "cores": _timing.usable_cores(),
        "cpu": _timing.cpu_model(),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads() or "default",
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads() or "default",
        "load_average": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small shapes, few reps (smoke run)")
    parser.add_argument("--repeats", type=int, default=None, help="minimum timed calls per layer per row (default 5; 3 with --quick)")
    parser.add_argument("--seconds", type=float, default=None, help="timing budget per row, both layers together (default 2.5; 0.2 with --quick)")
    parser.add_argument("--rows", default=None, help="regex; only rows whose id matches (ids look like 'mha.8x512x256h8.train.xla')")
    parser.add_argument("--max-load", type=float, default=0.25, help="re-time a row when other processes used more than this many cores meanwhile (default 0.25)")
    parser.add_argument("--retries", type=int, default=2, help="re-timings allowed per row under load (default 2; the quietest attempt is kept)")
    parser.add_argument("--wait", type=float, default=None, help="before each timing attempt, wait up to this many seconds for other processes to go quiet (default 60, 0 with --quick)")
    parser.add_argument("--list", action="store_true", help="print the row ids and exit")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    if keras.backend.backend() != "tensorflow":
        raise SystemExit("this benchmark needs KERAS_BACKEND=tensorflow")
    if not tf.config.experimental.get_synchronous_execution():
        raise SystemExit("timing assumes synchronous eager execution")
    min_repeats = args.repeats or (3 if args.quick else 5)
    if args.wait is None:
        args.wait = 0.0 if args.quick else 60.0
    seconds = args.seconds if args.seconds is not None else (0.2 if args.quick else 2.5)
    rows = all_rows(QUICK_SHAPES if args.quick else FULL_SHAPES)
    if args.rows:
        rows = [r for r in rows if re.search(args.rows, r["id"])]
    if args.list:
        print("\n".join(r["id"] for r in rows))
        return 0
    if not rows:
        raise SystemExit("no row matches --rows")

    env = environment()
    print("environment: " + ", ".join(f"{k}={v}" for k, v in env.items()), flush=True)
    results = []
    for row in rows:
        r = run_row(row, min_repeats, seconds, args.max_load, args.retries, args.wait)
        results.append(r)
        print(
            f"{r['id']:<38} ours {r['ours']['median_ms']:9.2f} ms  peer "
            f"{r['peer']['median_ms']:9.2f} ms  ratio {r['ratio']:.2f}  "
            f"n={r['ours']['n']}  rounds {r['round_ratios'][0]:.2f}-{r['round_ratios'][2]:.2f}  "
            f"err/tol={r['disagreement']:.2g} ({r['worst_tensor']})  "
            f"load {r['load'][0]:.2f}->{r['load'][1]:.2f}  "
            f"bg={r['foreign_load']:.2f} cores (try {r['attempts']})"
            + ("" if r["agree"] else "  DISAGREE"),
            flush=True,
        )
    print()
    print(
        f"tensorflow {env['tensorflow']}, keras {env['keras']}, keras-hub "
        f"{env['keras_hub']}; {env['cores']} cores, {env['cpu']}"
    )
    print(
        "ratio = median(ours) / median(peer), < 1 means ours is faster; per-round = "
        "ours/peer within each interleaved round; agreement (err/tol <= 1): float32 "
        f"outputs within {ATOL:g} + {RTOL:g}*max|peer|, and float64 outputs and every "
        "gradient within 1e-10 + 1e-8*max|peer| (see max_disagreement); bg cores = "
        "cores used by other processes while timing"
    )
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print()
    print(markdown_table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "results": results}, f, indent=1, default=str)
    bad = [r["id"] for r in results if not r["agree"]]
    if bad:
        print(f"\nOUTPUTS DISAGREE in: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
