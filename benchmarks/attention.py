"""Benchmark: keras_seq attention layers against their Keras / keras-hub peers.

Compares, in one process and on identical weights,

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

Timing goes through the shared harness (`benchmarks/_harness.py`): both
layers in this process with the same TensorFlow thread settings, compiled
and warmed up (`--warmup` untimed calls each), then `--rounds` interleaved
rounds (ours, peer; peer, ours; ...), each timing one call of `inner`
repetitions per layer (`inner` chosen once per row so that a call takes
about `--call-seconds`, the same for both layers). Reported per row: the
median time per repetition and its range over the rounds, the ratio of
medians ours/peer (< 1: ours is faster), the range of the per-round ratios,
and the 1-minute load average around the rounds.

Usage:
    .venv/bin/python benchmarks/attention.py                 # full run, minutes
    .venv/bin/python benchmarks/attention.py --quick         # smoke run, seconds
    .venv/bin/python benchmarks/attention.py --rows 'mha.*graph' --rounds 20
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness  # noqa: E402

_harness.configure_threads()  # before TensorFlow is imported (--threads re-applies)

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


def prepare_row(row):
    """Builds both compiled steps of `row` and checks that they agree.

    Returns `(candidates {"ours", "peer"}, disagreement, worst tensor)`.
    """
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

    out_ours = ours_step(x, cotangent)
    out_peer = peer_step(x, cotangent)
    # Same function: the float32 outputs agree, and the outputs and every
    # gradient agree in float64 (with float32 gradients, ReLU's kink turns
    # 1e-6 forward rounding into O(1) differences on the few pre-activations
    # within rounding of zero, in either implementation).
    y_disagreement, _ = max_disagreement([out_ours[0].numpy()], [out_peer[0].numpy()])
    del out_ours, out_peer
    disagreement, where = float64_disagreement(row, x, cotangent, peer)
    if y_disagreement > disagreement:
        disagreement, where = y_disagreement, "y (float32)"

    def run(step):
        def call_once():
            # The outputs are materialised when the call returns (synchronous
            # execution); nothing is copied to NumPy.
            step(x, cotangent)

        return call_once

    return {"ours": run(ours_step), "peer": run(peer_step)}, disagreement, where


def inner_repetitions(candidates, call_seconds):
    """Repetitions per timed call so that the slower layer's call takes about
    `call_seconds` (the same count for both; measured after the warm-up)."""
    slowest = 0.0
    for fn in candidates.values():
        start = time.perf_counter()
        fn()
        slowest = max(slowest, time.perf_counter() - start)
    return max(1, round(call_seconds / max(slowest, 1e-6)))


def run_row(row, rounds, warmup, call_seconds, log=print):
    candidates, disagreement, where = prepare_row(row)
    for _ in range(warmup):
        for fn in candidates.values():
            fn()
    inner = inner_repetitions(candidates, call_seconds)
    timing = _harness.interleave(
        candidates, rounds, warmup=0, inner=inner, pairs=[("ours", "peer")], log=None,
        label=f"{row['id']} ",
    )
    per_round = timing.round_ratios("ours", "peer")
    result = dict(row)
    result.update(
        inner=inner,
        rounds=rounds,
        timing=timing.to_json(),
        ours_ms=timing.median("ours") * 1e3,
        peer_ms=timing.median("peer") * 1e3,
        ours_range_ms=tuple(v * 1e3 for v in timing.range("ours")),
        peer_range_ms=tuple(v * 1e3 for v in timing.range("peer")),
        ratio=timing.ratio("ours", "peer"),
        round_ratios=(min(per_round), statistics.median(per_round), max(per_round)),
        loads=timing.loads(),
        foreign=timing.foreign(),
        disagreement=disagreement,
        worst_tensor=where,
        agree=bool(disagreement <= 1.0),
    )
    return result


def peer_name(kind):
    return "keras MHA" if kind == "mha" else "keras_hub TransformerEncoder"


def goal(row):
    """The issue's goal for the row: MHA <= 0.8 (graph) / 0.9 (XLA); encoder <= 0.9."""
    if row["kind"] == "mha":
        return 0.9 if row["jit"] else 0.8
    return 0.9


def markdown_table(results):
    lines = [
        "| layer (ours vs peer) | B×T×D, H | mode (dropout) | compile | rounds × reps | "
        "ours median ms (range) | peer median ms (range) | **ours/peer** | per-round ratios "
        "min-median-max | goal | agree err/tol | load avg | other procs' cores |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        b, t, d, h = r["shape"]
        mode = "fwd+bwd" if r["mode"] == "train" else "fwd, infer"
        met = "met" if r["ratio"] <= goal(r) else "**not met**"
        foreign = r["foreign"]
        lines.append(
            f"| {r['kind']} vs {peer_name(r['kind'])} | {b}×{t}×{d}, {h} | {mode} "
            f"({r['dropout']:.1f}) | {'XLA' if r['jit'] else 'graph'} | "
            f"{r['rounds']} × {r['inner']} | "
            f"{r['ours_ms']:.2f} ({r['ours_range_ms'][0]:.2f}-{r['ours_range_ms'][1]:.2f}) | "
            f"{r['peer_ms']:.2f} ({r['peer_range_ms'][0]:.2f}-{r['peer_range_ms'][1]:.2f}) | "
            f"**{r['ratio']:.2f}** | {r['round_ratios'][0]:.2f}-{r['round_ratios'][1]:.2f}-"
            f"{r['round_ratios'][2]:.2f} | ≤ {goal(r):.1f}: {met} | "
            f"{'yes' if r['agree'] else 'NO'} ({r['disagreement']:.2g}) | "
            f"{r['loads'][0]:.2f}-{r['loads'][1]:.2f} | "
            + (f"{foreign[0]:.2f}-{foreign[2]:.2f}" if foreign else "n/a")
            + " |"
        )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _harness.add_arguments(parser, rounds=30, warmup=2)
    parser.add_argument("--quick", action="store_true", help="small shapes, few rounds (smoke run)")
    parser.add_argument("--call-seconds", type=float, default=0.2,
                        help="target duration of one timed call (repetitions are added to reach it)")
    parser.add_argument("--rows", default=None,
                        help="regex; only rows whose id matches (ids look like 'mha.8x512x256h8.train.xla')")
    parser.add_argument("--list", action="store_true", help="print the row ids and exit")
    args = parser.parse_args(argv)
    _harness.configure_threads(args.threads)

    if keras.backend.backend() != "tensorflow":
        raise SystemExit("this benchmark needs KERAS_BACKEND=tensorflow")
    if not tf.config.experimental.get_synchronous_execution():
        raise SystemExit("timing assumes synchronous eager execution")
    rows = all_rows(QUICK_SHAPES if args.quick else FULL_SHAPES)
    if args.rows:
        rows = [r for r in rows if re.search(args.rows, r["id"])]
    if args.list:
        print("\n".join(r["id"] for r in rows))
        return 0
    if not rows:
        raise SystemExit("no row matches --rows")
    rounds = min(args.rounds, 3) if args.quick else args.rounds
    call_seconds = 0.01 if args.quick else args.call_seconds

    report = _harness.Report(
        "Attention layers: keras_seq vs keras.layers.MultiHeadAttention / keras_hub TransformerEncoder",
        _harness.versions("tensorflow", "keras", "keras-hub"), args.json,
    )
    results = []
    for row in rows:
        r = run_row(row, rounds, args.warmup, call_seconds)
        results.append(r)
        print(
            f"{r['id']:<34} ours {r['ours_ms']:8.2f} ms  peer {r['peer_ms']:8.2f} ms  "
            f"ratio {r['ratio']:.3f} (rounds {r['round_ratios'][0]:.2f}-{r['round_ratios'][2]:.2f})  "
            f"{r['rounds']}x{r['inner']}  err/tol={r['disagreement']:.2g} ({r['worst_tensor']})  "
            f"load {r['loads'][0]:.2f}-{r['loads'][1]:.2f}"
            + ("" if r["agree"] else "  DISAGREE"),
            flush=True,
        )
    loads = [v for r in results for v in r["loads"]]
    report.table(
        "results (ratio = median(ours) / median(peer); < 1: ours is faster)",
        markdown_table(results) + [
            "",
            f"load average (1 min) over all rounds: {min(loads):.2f}-{max(loads):.2f}",
            "agreement (err/tol <= 1): float32 outputs within "
            f"{ATOL:g} + {RTOL:g}*max|peer|, float64 outputs and every gradient within "
            "1e-10 + 1e-8*max|peer| (see max_disagreement)",
        ],
        extra={"results": results},
    )
    report.finish()
    bad = [r["id"] for r in results if not r["agree"]]
    if bad:
        print(f"\nOUTPUTS DISAGREE in: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
