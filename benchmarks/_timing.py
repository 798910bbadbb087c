"""Small timing helpers shared by the benchmarks (interleaved A/B timing).

Nothing here imports TensorFlow: the callables passed in must block until
their work is done (TensorFlow's eager executor is synchronous on CPU by
default, so a `tf.function` call returns only when its outputs are ready).
"""

from __future__ import annotations

import math
import statistics
import time

# The machine probes live in `_harness`, the benchmarks' shared module;
# re-exported here for the scripts that time with this module.
from _harness import ForeignLoad, cpu_model, usable_cores

__all__ = [
    "ForeignLoad",
    "cpu_model",
    "interleaved",
    "summarize",
    "usable_cores",
    "wait_for_quiet",
]


def interleaved(candidates, min_repeats=5, target_seconds=2.5, max_repeats=10_000):
    """Times several zero-argument callables in interleaved rounds.

    Each round calls every candidate once; the order is reversed on every
    other round (A B, B A, A B, ...) so drifting machine load and "who ran
    second" effects hit all candidates alike. The number of rounds is the
    larger of `min_repeats` and what fits in `target_seconds` (estimated from
    one untimed-for-statistics probe round), capped at `max_repeats`.

    Args:
        candidates: dict name -> callable. Call them once beforehand to
            compile/warm up; this function does not.
        min_repeats: minimum number of timed calls per candidate.
        target_seconds: approximate total timing budget for all candidates.
        max_repeats: upper bound on calls per candidate.

    Returns:
        dict name -> list of per-call wall times in seconds.
    """
    names = list(candidates)
    probe = 0.0
    for name in names:  # one more warm call each, also sizes the run
        start = time.perf_counter()
        candidates[name]()
        probe += time.perf_counter() - start
    rounds = max(min_repeats, math.ceil(target_seconds / max(probe, 1e-9)))
    rounds = min(rounds, max_repeats)
    samples = {name: [] for name in names}
    for i in range(rounds):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            fn = candidates[name]
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return samples


def wait_for_quiet(max_load, timeout, window=1.0):
    """Sleeps in `window`-second steps until other processes use at most
    `max_load` cores (or `timeout` seconds pass); returns the last reading."""
    deadline = time.perf_counter() + timeout
    while True:
        with ForeignLoad() as load:
            time.sleep(window)
        if load.cores is None or load.cores <= max_load:
            return load.cores
        if time.perf_counter() >= deadline:
            return load.cores


def summarize(seconds):
    """Median, min and interquartile range of a list of seconds, in ms."""
    ms = sorted(s * 1e3 for s in seconds)
    if len(ms) >= 4:
        q1, _, q3 = statistics.quantiles(ms, n=4)
    else:
        q1, q3 = ms[0], ms[-1]
    return {
        "n": len(ms),
        "median_ms": statistics.median(ms),
        "min_ms": ms[0],
        "iqr_ms": q3 - q1,
    }
