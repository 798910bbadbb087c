"""Reformer LSH attention: keras_seq vs reformer-pytorch (and full attention).

`keras_seq.layers.LSHSelfAttention` forward + backward against
reformer-pytorch's `LSHSelfAttention` and, where it fits, full attention
(`keras.layers.MultiHeadAttention`): B=1, D=256, 4 heads of 64, bucket 64,
4 hashes, non-causal, float32. One call = one training step: forward, then
the gradient of `sum(y)` with respect to the input and all weights; ours and
full attention in a `tf.function(jit_compile=True)`, reformer-pytorch in
eager PyTorch (its normal use).

Through the shared harness (`benchmarks/_harness.py`): every implementation
runs in its own long-lived worker process with the same thread settings and
the same environment; per length, the workers are timed in interleaved
rounds (one step each per round, order reversed every other round) after
`--warmup` untimed steps. Memory, the same measure for every side: each
implementation in a fresh worker (glibc's mmap threshold fixed for all, in
the memory run only), warmed up, then the peak RSS during one step minus the
RSS just before it; TensorFlow's allocator peak beside it.

`--part reversible` runs `benchmarks/reformer_reversible.py` instead.

    python benchmarks/reformer.py --lengths 2048 8192 --rounds 10
    python benchmarks/reformer.py --lengths 32768 --rounds 5 --impls keras_seq reformer_pytorch
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness  # noqa: E402

WIDTH, HEADS, HEAD_SIZE, BUCKET, HASHES = 256, 4, 64, 64, 4
IMPLEMENTATIONS = ("keras_seq", "reformer_pytorch", "full_attention")
TARGETS = {
    "keras_seq": "reformer:keras_step",
    "reformer_pytorch": "reformer:torch_step",
    "full_attention": "reformer:full_attention_step",
}


def keras_step(length, seed=0, full=False, jit=True, recompute=None):
    """A zero-argument training step of ours (or of full attention);
    `recompute` overrides `lsh_attention`'s choice (for experiments)."""
    import functools

    import keras
    import numpy as np
    import tensorflow as tf

    import keras_seq.layers.lsh_self_attention as lsh_layer
    from keras_seq.layers import LSHSelfAttention

    if recompute is not None:
        lsh_layer.lsh_attention = functools.partial(lsh_layer.lsh_attention, recompute=recompute)

    keras.utils.set_random_seed(seed)
    if full:
        layer = keras.layers.MultiHeadAttention(HEADS, HEAD_SIZE)

        def call(x):
            return layer(x, x)
    else:
        layer = LSHSelfAttention(HEADS, HEAD_SIZE, bucket_size=BUCKET, num_hashes=HASHES, seed=seed)

        def call(x):
            return layer(x)

    x = tf.constant(np.random.default_rng(seed).normal(size=(1, length, WIDTH)), "float32")
    call(x[:, :BUCKET])

    @tf.function(jit_compile=jit)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(call(x))
        return tape.gradient(loss, [x] + layer.trainable_variables)

    def run():
        grads = step(x)
        return float(tf.reduce_sum(grads[0]))

    return run


def full_attention_step(length, seed=0):
    return keras_step(length, seed, full=True)


def torch_step(length, seed=0):
    """A zero-argument training step of reformer-pytorch."""
    import torch
    from reformer_pytorch import LSHSelfAttention

    _harness.apply_thread_settings()
    torch.manual_seed(seed)
    layer = LSHSelfAttention(dim=WIDTH, heads=HEADS, dim_head=HEAD_SIZE, bucket_size=BUCKET,
                             n_hashes=HASHES, causal=False)
    x = torch.randn(1, length, WIDTH, requires_grad=True)

    def run():
        layer.zero_grad(set_to_none=True)
        x.grad = None
        layer(x).sum().backward()
        return float(x.grad.sum())

    return run


def bench_length(length, impls, rounds, warmup, memory, log=print):
    """Timing (interleaved workers) and memory of every implementation at one length."""
    workers = {}
    try:
        for name in impls:
            workers[name] = _harness.Worker(TARGETS[name], length=length).start()
        pairs = [("keras_seq", peer) for peer in impls if peer != "keras_seq" and "keras_seq" in impls]
        timing = _harness.interleave(workers, rounds, warmup=warmup, pairs=pairs, label=f"L={length} ")
    finally:
        for worker in workers.values():
            worker.stop()
    memories = {}
    if memory:
        memories = _harness.measure_memory({n: (TARGETS[n], {"length": length}) for n in impls}, calls=warmup + 1)
    return timing, memories


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("lsh", "reversible"), default="lsh")
    parser.add_argument("--lengths", type=int, nargs="+", default=[2048, 8192])
    parser.add_argument("--impls", nargs="+", choices=IMPLEMENTATIONS, default=["keras_seq", "reformer_pytorch"])
    parser.add_argument("--no-memory", action="store_true", help="skip the memory run")
    _harness.add_arguments(parser, rounds=10)
    args, rest = parser.parse_known_args(argv)
    if args.part == "reversible":
        return subprocess.call([sys.executable, os.path.join(_harness.HERE, "reformer_reversible.py"), *rest])
    _harness.configure_threads(args.threads)
    report = _harness.Report(
        "LSH attention fwd+bwd: keras_seq vs reformer-pytorch",
        _harness.versions("tensorflow", "keras", "torch", "reformer-pytorch"),
        args.json,
    )
    rows = []
    for length in args.lengths:
        timing, memories = bench_length(length, args.impls, args.rounds, args.warmup, not args.no_memory)
        report.table(f"L = {length}", timing.summary_rows(1.0, "s") + [""] + timing.ratio_rows() + ["", timing.load_line()],
                     extra={"timing": timing.to_json(), "memory": memories})
        rows.append((length, timing, memories))
    lines = ["| L | keras_seq s (range) | reformer-pytorch s (range) | time ratio (per-round range) | "
             "keras_seq MiB | reformer-pytorch MiB | memory ratio | keras_seq TF allocator MiB | load |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for length, timing, memories in rows:
        if "keras_seq" not in timing.names or "reformer_pytorch" not in timing.names:
            continue
        ours, peer = "keras_seq", "reformer_pytorch"
        per = timing.round_ratios(ours, peer)
        cells = [str(length)]
        for name in (ours, peer):
            lo, hi = timing.range(name)
            cells.append(f"{timing.median(name):.3f} ({lo:.3f}-{hi:.3f})")
        cells.append(f"**{timing.ratio(ours, peer):.2f}** ({min(per):.2f}-{max(per):.2f})")
        if memories:
            m_ours, m_peer = memories[ours]["rss_mib"], memories[peer]["rss_mib"]
            cells += [f"{m_ours:.0f}", f"{m_peer:.0f}", f"**{m_ours / m_peer:.2f}**",
                      f"{memories[ours]['tf_allocator_mib']:.0f}"]
        else:
            cells += ["-"] * 4
        lo, hi = timing.loads()
        cells.append(f"{lo:.2f}-{hi:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    report.table("summary (time: median step; memory: peak RSS over the first two steps in a fresh process, "
                 "above the RSS before them)", lines)
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
