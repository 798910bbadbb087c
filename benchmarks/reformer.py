"""Benchmarks for the Reformer pieces: LSH attention and reversible stacks.

Parts (`--part`):

- `lsh`: `keras_seq.layers.LSHSelfAttention` forward + backward against
  reformer-pytorch's `LSHSelfAttention` and against full attention
  (`keras.layers.MultiHeadAttention`), at L = 2048, 8192, 32768, 65536 with
  B=1, D=256, 4 heads of 64, bucket 64, 4 hashes, non-causal.
- `reversible`: reversible vs plain residual stack vs `keras.remat`; lives in
  `benchmarks/reformer_reversible.py` and is run from here as a subprocess.
- `all`: both.

LSH method. One step = forward + gradient of `sum(y)` with respect to the
input and all weights: ours and full attention in a `tf.function` with
`jit_compile=True` (XLA), reformer-pytorch in eager PyTorch (CPU, float32).
Every (implementation, length) case runs in a fresh subprocess: one warm-up
step (which compiles), then `--steps` timed steps; time is their median.
Memory, "step peak": the working memory of a training step above what is
live before it (framework, weights, inputs and compiled code excluded). For
PyTorch it is the peak RSS during the timed steps minus the RSS just before
them (peak counter reset through `/proc/self/clear_refs`; glibc's mmap
threshold is fixed at 128 KiB so freed buffers leave RSS). TensorFlow keeps
freed buffers mapped, so for the Keras cases it is the TF CPU allocator's
peak (`tf.config.experimental.get_memory_info`, which counts XLA's buffers)
minus its live bytes before the steps. Also recorded: "first-step RSS
growth" (peak RSS during the warm-up step minus RSS before it, which for the
Keras cases includes XLA compilation: a conservative upper bound) and the
absolute process peak RSS. A watchdog
kills a case whose RSS exceeds `--memory-cap-mib` (the machine is shared)
and reports it as out of memory.

Usage (the `bench` extra provides torch and reformer-pytorch):
    nice -n 5 .venv/bin/python benchmarks/reformer.py --part lsh
    .venv/bin/python benchmarks/reformer.py --part lsh --lengths 2048 --steps 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = os.path.dirname(os.path.abspath(__file__))
LSH_LENGTHS = (2048, 8192, 32768, 65536)
LSH_IMPLEMENTATIONS = ("keras_seq", "reformer_pytorch", "full_attention")
WIDTH, HEADS, HEAD_SIZE, BUCKET, HASHES = 256, 4, 64, 64, 4


# -- memory helpers (Linux /proc) --------------------------------------------


def _status_mib(field, pid="self"):
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _reset_peak_rss():
    """Resets VmHWM (peak RSS) of this process; False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


# -- one case, run inside a fresh subprocess ---------------------------------


def _keras_step(kind, length, seed=0):
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_seq.layers import LSHSelfAttention

    keras.utils.set_random_seed(seed)
    if kind == "keras_seq":
        layer = LSHSelfAttention(
            HEADS, HEAD_SIZE, bucket_size=BUCKET, num_hashes=HASHES, seed=seed
        )

        def call(x):
            return layer(x)

    else:
        layer = keras.layers.MultiHeadAttention(HEADS, HEAD_SIZE)

        def call(x):
            return layer(x, x)

    x = tf.constant(np.random.default_rng(seed).normal(size=(1, length, WIDTH)), "float32")
    call(x[:, :BUCKET])

    @tf.function(jit_compile=True)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(call(x))
        return tape.gradient(loss, [x] + layer.trainable_variables)

    def run():
        grads = step(x)
        return float(tf.reduce_sum(grads[0]))

    return run


def _torch_step(length, seed=0):
    import torch
    from reformer_pytorch import LSHSelfAttention

    torch.manual_seed(seed)
    layer = LSHSelfAttention(
        dim=WIDTH,
        heads=HEADS,
        dim_head=HEAD_SIZE,
        bucket_size=BUCKET,
        n_hashes=HASHES,
        causal=False,
    )
    x = torch.randn(1, length, WIDTH, requires_grad=True)

    def run():
        layer.zero_grad(set_to_none=True)
        x.grad = None
        layer(x).sum().backward()
        return float(x.grad.sum())

    return run


def run_case(kind, length, steps):
    """Runs one case in this process and returns its measurements."""
    run = _torch_step(length) if kind == "reformer_pytorch" else _keras_step(kind, length)
    uses_tf = kind != "reformer_pytorch"
    reset = _reset_peak_rss()
    before = _status_mib("VmRSS")
    start = time.perf_counter()
    run()  # warm-up: XLA compilation for the Keras cases
    warmup = time.perf_counter() - start
    first_step_growth = (_status_mib("VmHWM") - before) if reset else None
    reset = _reset_peak_rss()
    base = _status_mib("VmRSS")
    if uses_tf:
        import tensorflow as tf

        tf.config.experimental.reset_memory_stats("CPU:0")
        current = tf.config.experimental.get_memory_info("CPU:0")["current"]
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    peak = _status_mib("VmHWM")
    if uses_tf:
        # TF keeps freed buffers mapped, so RSS cannot show a step's working
        # set; its allocator's own peak counter can (XLA buffers included).
        allocator_peak = tf.config.experimental.get_memory_info("CPU:0")["peak"]
        step_peak = (allocator_peak - current) / 2**20
        step_peak_source = "tf allocator peak"
    else:
        step_peak = (peak - base) if reset else None
        step_peak_source = "peak RSS"
    return {
        "impl": kind,
        "length": length,
        "status": "ok",
        "times": times,
        "median_s": statistics.median(times),
        "warmup_s": warmup,
        "step_peak_mib": step_peak,
        "step_peak_source": step_peak_source,
        "first_step_rss_growth_mib": first_step_growth,
        "process_peak_mib": peak,
        "load": os.getloadavg()[0],
    }


def spawn_case(kind, length, steps, memory_cap_mib, timeout):
    """Runs `run_case` in a fresh subprocess under an RSS watchdog."""
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--case",
        kind,
        str(length),
        "--steps",
        str(steps),
    ]
    # A fixed glibc mmap threshold returns freed large buffers to the OS, so
    # peak RSS above the pre-step RSS is PyTorch's working set.
    env = dict(
        os.environ, PYTHONPATH=os.path.dirname(HERE), MALLOC_MMAP_THRESHOLD_="131072"
    )
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    start, max_rss = time.monotonic(), 0.0
    status = None
    while proc.poll() is None:
        rss = _status_mib("VmRSS", proc.pid)
        if rss == rss:
            max_rss = max(max_rss, rss)
        if rss > memory_cap_mib:
            proc.kill()
            status = f"out of memory (RSS > {memory_cap_mib} MiB cap, killed)"
            break
        if time.monotonic() - start > timeout:
            proc.kill()
            status = f"timeout (> {timeout} s)"
            break
        time.sleep(0.05)
    stdout, stderr = proc.communicate()
    if status is None:
        for line in stdout.splitlines()[::-1]:
            if line.startswith("{"):
                return json.loads(line)
        tail = stderr.strip().splitlines()[-1:] or ["no output"]
        status = f"failed: {tail[0][:120]}"
    return {"impl": kind, "length": length, "status": status, "max_rss_mib": max_rss}


# -- reporting ------------------------------------------------------------------


def _cell(result):
    if result["status"] != "ok":
        return result["status"], "-"
    memory = result["step_peak_mib"]
    memory = f"{memory:.0f}" if memory is not None else "n/a"
    growth = result.get("first_step_rss_growth_mib")
    if growth is not None:
        memory += f" ({growth:.0f})"
    return f"{result['median_s']:.2f}", memory


def lsh_table(results):
    by_key = {(r["impl"], r["length"]): r for r in results}
    lengths = sorted({r["length"] for r in results})
    lines = [
        "| L | keras_seq s | keras_seq MiB | reformer-pytorch s | reformer-pytorch MiB "
        "| full attention s | full attention MiB | time ratio | memory ratio |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for length in lengths:
        cells = []
        for kind in LSH_IMPLEMENTATIONS:
            result = by_key.get((kind, length))
            cells.extend(_cell(result) if result else ("-", "-"))
        ours, peer = by_key.get(("keras_seq", length)), by_key.get(
            ("reformer_pytorch", length)
        )
        ratios = ["-", "-"]
        if ours and peer and ours["status"] == peer["status"] == "ok":
            ratios[0] = f"{ours['median_s'] / peer['median_s']:.2f}x"
            if ours["step_peak_mib"] and peer["step_peak_mib"]:
                ratios[1] = f"{ours['step_peak_mib'] / peer['step_peak_mib']:.2f}x"
        lines.append("| " + " | ".join([str(length)] + cells + ratios) + " |")
    ours = {r["length"]: r for r in results if r["impl"] == "keras_seq" and r["status"] == "ok"}
    if 8192 in ours and 32768 in ours:
        scaling = ours[32768]["median_s"] / ours[8192]["median_s"]
        lines.append("")
        lines.append(f"keras_seq t(32k)/t(8k) = {scaling:.2f} (goal <= 4.5)")
    return "\n".join(lines)


def bench_lsh(lengths=LSH_LENGTHS, implementations=LSH_IMPLEMENTATIONS, steps=3,
              memory_cap_mib=8192, timeout=1800, log=print):
    """LSH attention forward+backward vs reformer-pytorch and full attention."""
    results = []
    for length in lengths:
        for kind in implementations:
            result = spawn_case(kind, length, steps, memory_cap_mib, timeout)
            log(json.dumps(result))
            results.append(result)
    return results


def bench_reversible(argv=()):
    """Runs `benchmarks/reformer_reversible.py` (reversible vs plain vs remat)."""
    script = os.path.join(HERE, "reformer_reversible.py")
    if not os.path.exists(script):
        print("benchmarks/reformer_reversible.py not found; skipping --part reversible")
        return None
    return subprocess.call([sys.executable, script, *argv])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("lsh", "reversible", "all"), default="all")
    parser.add_argument("--lengths", type=int, nargs="+", default=list(LSH_LENGTHS))
    parser.add_argument(
        "--impls", nargs="+", choices=LSH_IMPLEMENTATIONS, default=list(LSH_IMPLEMENTATIONS)
    )
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--memory-cap-mib", type=float, default=8192)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", help="also write the LSH results to this file")
    parser.add_argument("--case", nargs=2, metavar=("IMPL", "LENGTH"), help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case[0], int(args.case[1]), args.steps)))
        return
    if args.part in ("lsh", "all"):
        results = bench_lsh(
            args.lengths, args.impls, args.steps, args.memory_cap_mib, args.timeout
        )
        if args.json:
            with open(args.json, "w") as handle:
                json.dump(results, handle, indent=1)
        print()
        print(lsh_table(results))
    if args.part in ("reversible", "all"):
        bench_reversible(rest)


if __name__ == "__main__":
    main()
