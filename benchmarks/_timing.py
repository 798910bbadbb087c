"""Small timing helpers shared by the benchmarks (interleaved A/B timing).

Nothing here imports TensorFlow: the callables passed in must block until
their work is done (TensorFlow's eager executor is synchronous on CPU by
default, so a `tf.function` call returns only when its outputs are ready).
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import time


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


class ForeignLoad:
    """Measures how many cores *other* processes kept busy during a block.

    Reads the machine-wide busy time from /proc/stat and subtracts this
    process's own CPU time; `cores` is the difference divided by the wall
    time (0.0 = nothing else ran; 1.0 = one core's worth of foreign work).
    Returns None where /proc/stat is unavailable.

    >>> with ForeignLoad() as load:
    ...     pass
    >>> load.cores is None or load.cores >= -1
    True
    """

    cores = None

    @staticmethod
    def _machine_busy():
        try:
            with open("/proc/stat") as f:
                fields = f.readline().split()[1:]
        except OSError:
            return None
        ticks = [int(v) for v in fields]
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
        busy = sum(ticks[:8]) - idle  # exclude guest columns (already in user)
        return busy / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own_cpu():
        t = os.times()
        return t.user + t.system

    def __enter__(self):
        self._busy0 = self._machine_busy()
        self._own0 = self._own_cpu()
        self._wall0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        busy1 = self._machine_busy()
        if busy1 is None or self._busy0 is None:
            return False
        wall = time.perf_counter() - self._wall0
        foreign = (busy1 - self._busy0) - (self._own_cpu() - self._own0)
        self.cores = max(foreign, 0.0) / max(wall, 1e-9)
        return False


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


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()
