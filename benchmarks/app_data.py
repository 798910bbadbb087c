"""How fast the applications generate their embedded data.

These figures used to be wall-clock assertions in the data tests (tests
prove behaviour; speed lives here). Each generator runs `--rounds` times
(fresh process state is not needed: the generators are pure Python and
deterministic), and the median and range are printed next to the budget the
old test asserted, with the load average before and after.

    python benchmarks/app_data.py            # all generators, 3 rounds
    python benchmarks/app_data.py --rounds 5 --only dates_nmt
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _dates():
    from applications.dates_nmt.data import generate_pairs

    generate_pairs(60_000, seed=123)


def _transformer_nmt():
    from applications.transformer_nmt.data import generate_pairs

    generate_pairs(50_000, seed=0, split="train")


def _qa():
    from applications.qa.data import generate_examples

    generate_examples(5000, seed=9)


def _summarization():
    from applications.summarization.data import generate_pairs

    generate_pairs(5000, seed=1)


def _text_to_text():
    from applications.text_to_text.data import TASKS, generate_task

    for task in TASKS:
        generate_task(task, 2000, seed=5)


#: name -> (what is generated, function, the budget in seconds the old test asserted)
CASES = {
    "dates_nmt": ("60,000 date pairs", _dates, 10.0),
    "transformer_nmt": ("50,000 training pairs", _transformer_nmt, 30.0),
    "qa": ("5,000 SQuAD-style passages", _qa, 5.0),
    "summarization": ("5,000 reports", _summarization, 5.0),
    "text_to_text": ("3 tasks x 2,000 pairs", _text_to_text, 10.0),
}


def load_average():
    with open("/proc/loadavg") as handle:
        return handle.read().split()[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per generator")
    parser.add_argument("--only", choices=list(CASES), action="append", help="run only these generators")
    args = parser.parse_args(argv)
    print(f"load average at start: {load_average()}")
    print("| generator | work | median s | range s | old test budget s | within |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in args.only or list(CASES):
        work, function, budget = CASES[name]
        function()  # warm: imports, babel/num2words caches
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            function()
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        print(
            f"| {name} | {work} | {median:.2f} | {min(times):.2f}-{max(times):.2f} | {budget:.0f} | "
            f"{'yes' if median < budget else 'no'} |"
        )
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    main()
