"""Start-up cost of `python -m applications.<app> predict ...` beyond importing
TensorFlow itself (issue 20: the goal is <= 1.5 s).

For every application a small saved model of its fast size is built first
(`tests/applications/tiny_models.py`, the models the reload test uses), then
each round runs, in fresh processes and in alternating order,

    python -c "import tensorflow"                       (the baseline)
    python -c "import keras"                            (what every app needs at least)
    python -m applications.<app> predict <input> --model <saved model>

and records the wall times. The overhead is the predict time minus the
baseline time of the same round (and, as a second column, minus the time to
import Keras, which is not ours to make faster); medians and ranges over the
rounds are printed with the load average before and after, as a Markdown
table.

    python benchmarks/startup.py                 # every application, 3 rounds
    python benchmarks/startup.py --rounds 5 --only dates_nmt --only ner
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "applications"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

GOAL_SECONDS = 1.5


def load_average():
    with open("/proc/loadavg") as handle:
        return float(handle.read().split()[0])


def timed(argv, cwd):
    env = {**os.environ, "PYTHONPATH": ROOT}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return seconds


def main(argv=None):
    import tiny_models

    apps = [name for name in tiny_models.BUILDERS if name != "qa_span"]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per application")
    parser.add_argument("--only", choices=apps, action="append", help="measure only these applications")
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="startup_")
    print(f"load average at start: {load_average():.2f}")
    print("| application | import tensorflow s | import keras s | predict s | overhead over tensorflow s (range) | "
          "overhead over keras s | load before-after | goal <= 1.5 s |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in args.only or apps:
        directory = os.path.join(work, name)
        os.makedirs(directory)
        tiny = tiny_models.build(name, directory)
        predict = ["-m", f"applications.{tiny_models.package(name)}", "predict", *tiny.predict_inputs, "--model",
                   tiny.path]  # fmt: skip
        commands = {"tensorflow": ["-c", "import tensorflow"], "keras": ["-c", "import keras"], "predict": predict}
        timed(predict, directory)  # warm the file cache
        times, loads = {kind: [] for kind in commands}, [load_average()]
        for round_ in range(args.rounds):
            order = list(commands) if round_ % 2 == 0 else list(commands)[::-1]
            for kind in order:
                times[kind].append(timed(commands[kind], directory))
        loads.append(load_average())
        over_tf = [p - i for p, i in zip(times["predict"], times["tensorflow"])]
        over_keras = [p - i for p, i in zip(times["predict"], times["keras"])]
        median = statistics.median(over_tf)
        print(
            f"| {name} | {statistics.median(times['tensorflow']):.2f} | {statistics.median(times['keras']):.2f} | "
            f"{statistics.median(times['predict']):.2f} | {median:.2f} ({min(over_tf):.2f} to {max(over_tf):.2f}) | "
            f"{statistics.median(over_keras):.2f} | {loads[0]:.2f}-{loads[1]:.2f} | "
            f"{'met' if median <= GOAL_SECONDS else 'not met'} |",
            flush=True,
        )
    print(f"load average at end: {load_average():.2f}")


if __name__ == "__main__":
    main()
