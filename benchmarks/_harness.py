"""The one harness every benchmark in `benchmarks/` uses: fair by construction.

What it guarantees, whatever the benchmark:

- **Interleaved rounds in one run.** Every round times each candidate once
  (one *call*, which may repeat the work `inner` times), the order reversed
  every other round (A B, B A, ...), so drifting machine load and "who ran
  second" effects hit all candidates alike. Ratios are also computed *per
  round* (ours / peer in the same round) and their range printed.
- **Warm-up excluded.** `warmup` untimed calls per candidate before round 1
  (compilation, tracing, first-touch allocation).
- **Same thread settings.** `configure_threads` fixes the intra-op and
  inter-op thread counts of TensorFlow, PyTorch and OpenMP/BLAS to the same
  numbers for every candidate, before any of them is imported, in this
  process and in every worker process.
- **Same environment.** Workers inherit this process's environment unchanged;
  the harness adds nothing, to either side.
- **Load recorded.** The 1-minute load average before and after every round,
  and the CPU time other processes used during it ("foreign cores").
- **Medians and ranges.** Per candidate: median call time, min-max over
  rounds; per pair: ratio of medians and min-max of the per-round ratios.
- **One memory measure for both sides** (`measure_memory`): each candidate in
  a fresh worker process with the same environment; the peak resident set
  (VmHWM) over its first calls minus the resident set just before them
  (one-time costs such as compilation included). TensorFlow's allocator
  peak of a steady-state call is reported beside it where TensorFlow runs.

Caches, and work the peer does inside its timed call, are the benchmark's to
make equal; each script says how it does (e.g. BLEU clears our tokenizer cache
before every call, since sacrebleu builds a fresh tokenizer per call).

Candidates are either in-process zero-argument callables, or `Worker`s: a
function `module:function(**kwargs) -> callable` run in a long-lived
subprocess (for peers that must not share a process, e.g. PyTorch beside
TensorFlow; and for memory), driven round by round from this process.

Run a benchmark under `/work/bin/heavy --both` with a load average < 2 for
figures that go into BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# This checkout's keras_seq, not whichever one is installed in the venv.
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# -- threads ------------------------------------------------------------------


def configure_threads(threads=None, interop=None):
    """Fixes thread counts for every framework; call before importing any.

    Sets the environment (inherited by workers) and, for frameworks already
    imported, their runtime settings. Returns `(threads, interop)`.
    """
    threads = int(threads or os.environ.get("BENCH_THREADS") or usable_cores())
    interop = int(interop or os.environ.get("BENCH_INTEROP") or threads)
    os.environ["BENCH_THREADS"] = str(threads)
    os.environ["BENCH_INTEROP"] = str(interop)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = str(interop)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    apply_thread_settings()
    return threads, interop


def apply_thread_settings():
    """Applies BENCH_THREADS/BENCH_INTEROP to TensorFlow and PyTorch if imported."""
    threads = int(os.environ.get("BENCH_THREADS", "0")) or None
    interop = int(os.environ.get("BENCH_INTEROP", "0")) or None
    if threads is None:
        return
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(interop)
        except RuntimeError:  # already initialised: the env vars applied
            pass
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(interop)
        except RuntimeError:
            pass


def thread_report():
    """What each imported framework actually uses, for the header."""
    parts = [f"BENCH_THREADS={os.environ.get('BENCH_THREADS')}",
             f"BENCH_INTEROP={os.environ.get('BENCH_INTEROP')}"]
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        parts.append(
            "tf intra/inter="
            f"{tf.config.threading.get_intra_op_parallelism_threads()}/"
            f"{tf.config.threading.get_inter_op_parallelism_threads()} (0 = env)"
        )
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        parts.append(f"torch intra/inter={torch.get_num_threads()}/{torch.get_num_interop_threads()}")
    return ", ".join(parts)


# -- machine --------------------------------------------------------------------


def usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average():
    return os.getloadavg()[0]


def _machine_busy_seconds():
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return None
    ticks = [int(v) for v in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds(worker_pids=()):
    t = os.times()
    total = t.user + t.system + t.children_user + t.children_system
    for pid in worker_pids:  # live workers' CPU (not yet in children_*)
        total += process_cpu_seconds(pid)
    return total


def process_cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class ForeignLoad:
    """Cores that *other* processes kept busy during a block (None without /proc)."""

    def __init__(self, worker_pids=()):
        self.worker_pids = tuple(worker_pids)
        self.cores = None

    def __enter__(self):
        self._busy = _machine_busy_seconds()
        self._own = _own_cpu_seconds(self.worker_pids)
        self._wall = time.perf_counter()
        return self

    def __exit__(self, *exc):
        busy = _machine_busy_seconds()
        if busy is None or self._busy is None:
            return False
        wall = max(time.perf_counter() - self._wall, 1e-9)
        own = _own_cpu_seconds(self.worker_pids) - self._own
        self.cores = max(busy - self._busy - own, 0.0) / wall
        return False


# -- memory (Linux /proc) -----------------------------------------------------------


def _status_mib(field, pid="self"):
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def rss_mib(pid="self"):
    return _status_mib("VmRSS", pid)


def reset_peak_rss():
    """Resets this process's VmHWM; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def trim_heap():
    """Returns glibc's free heap to the OS, so RSS counts live memory."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _tf_allocator():
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return None
    try:
        return tf.config.experimental.get_memory_info("CPU:0")
    except (ValueError, RuntimeError):
        return None


def call_memory(fn, calls=1):
    """Memory of `calls` calls of `fn` above what is live before them.

    Returns `{"rss_mib": peak RSS during the calls - RSS before them,
    "tf_allocator_mib": TensorFlow's CPU allocator peak during the last call
    - its live bytes before it (None without TensorFlow), "rss_before_mib",
    "seconds": [per call]}`. Peak RSS is a high-water mark, so it counts
    what the calls needed whether or not an allocator keeps freed memory
    afterwards; in a fresh process with `calls=2` it includes one-time costs
    (compilation, first-touch allocation) and one steady-state call.
    """
    trim_heap()
    tf = sys.modules.get("tensorflow")
    if not reset_peak_rss():
        raise RuntimeError("cannot reset the peak RSS counter (/proc/self/clear_refs)")
    before = rss_mib()
    seconds, allocator = [], None
    for index in range(calls):
        if index == calls - 1 and _tf_allocator() is not None:
            tf.config.experimental.reset_memory_stats("CPU:0")
            allocator = _tf_allocator()
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    peak = _status_mib("VmHWM")
    result = {"rss_mib": peak - before, "rss_before_mib": before, "tf_allocator_mib": None, "seconds": seconds}
    if allocator is not None:
        result["tf_allocator_mib"] = (_tf_allocator()["peak"] - allocator["current"]) / 2**20
    return result


# -- workers ---------------------------------------------------------------------------


class Worker:
    """A candidate that runs in its own long-lived subprocess.

    `target` is ``"module:function"`` (importable with `benchmarks/` and the
    repository root on the path); the worker calls `function(**kwargs)` once
    to get a zero-argument callable, then times or measures calls of it on
    request. Its environment is this process's (thread settings included),
    plus `env` (the benchmarks pass none).
    """

    def __init__(self, target, env=None, **kwargs):
        self.target = target
        self.kwargs = kwargs
        self.env = dict(env or {})
        self.proc = None

    def start(self):
        env = dict(os.environ, **self.env)
        env["PYTHONPATH"] = os.pathsep.join([HERE, ROOT, env.get("PYTHONPATH", "")])
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", self.target, json.dumps(self.kwargs)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        )
        self._read()  # "ready" after setup
        return self

    def _read(self):
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"worker {self.target} died (exit {self.proc.wait()})")
            if line.startswith("@@"):
                reply = json.loads(line[2:])
                if "error" in reply:
                    raise RuntimeError(f"worker {self.target}: {reply['error']}")
                return reply

    def request(self, command, **fields):
        self.proc.stdin.write(json.dumps({"command": command, **fields}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def __call__(self):
        return self.request("time")["seconds"]

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.request("exit")
            except (RuntimeError, BrokenPipeError):
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None


def _worker_main(target, kwargs):
    """The worker side of `Worker` (stdout carries `@@{json}` replies)."""
    import importlib

    apply_thread_settings()
    out = sys.stdout
    sys.stdout = sys.stderr  # library prints must not corrupt the protocol

    def reply(**fields):
        out.write("@@" + json.dumps(fields) + "\n")
        out.flush()

    try:
        module, function = target.split(":")
        fn = getattr(importlib.import_module(module), function)(**json.loads(kwargs))
        apply_thread_settings()
    except BaseException as error:  # reported to the parent
        reply(error=f"setup failed: {type(error).__name__}: {error}")
        return
    reply(ready=True, threads=thread_report())
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["command"] == "exit":
                reply(bye=True)
                return
            if request["command"] == "time":
                start = time.perf_counter()
                result = fn()
                seconds = time.perf_counter() - start
                reply(seconds=seconds, result=_jsonable(result))
            elif request["command"] == "memory":
                reply(**call_memory(fn, request.get("calls", 1)), peak_process_mib=_status_mib("VmHWM"))
            elif request["command"] == "threads":
                reply(threads=thread_report())
        except BaseException as error:  # reported to the parent
            reply(error=f"{type(error).__name__}: {error}")
            return


def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except TypeError:
        return None


# -- timing -----------------------------------------------------------------------------


def _call(candidate, inner):
    """Seconds per repetition of one call of `candidate`."""
    if isinstance(candidate, Worker):
        return sum(candidate() for _ in range(inner)) / inner
    start = time.perf_counter()
    for _ in range(inner):
        candidate()
    return (time.perf_counter() - start) / inner


def interleave(candidates, rounds, warmup=1, inner=1, pairs=(), log=print, label="", before_round=None,
               after_call=None):
    """Times `candidates` ({name: callable or Worker}) in `rounds` interleaved rounds.

    Args:
        candidates: dict name -> zero-argument callable, or a started `Worker`.
        rounds: number of timed rounds (each times every candidate once).
        warmup: untimed calls per candidate before round 1.
        inner: repetitions per timed call (its time is divided by `inner`),
            for work too short to time alone; a dict name -> int is allowed.
        pairs: [(ours, peer)] names whose per-round ratios are reported.
        log: where each round's line goes (None: silent).
        label: printed in front of each round's line.
        before_round: optional callable(round_index) run untimed before each
            round (e.g. to reseed).
        after_call: optional callable(name, round_index) run untimed after
            each timed call (e.g. to score what the call produced).

    Returns a `Timing`.
    """
    names = list(candidates)
    inner = inner if isinstance(inner, dict) else {name: inner for name in names}
    for _ in range(warmup):
        for name in names:
            _call(candidates[name], 1)
    pids = [c.proc.pid for c in candidates.values() if isinstance(c, Worker)]
    timing = Timing(names, pairs)
    for index in range(rounds):
        if before_round is not None:
            before_round(index)
        order = names if index % 2 == 0 else names[::-1]
        load_before = load_average()
        seconds = {}
        with ForeignLoad(pids) as foreign:
            for name in order:
                seconds[name] = _call(candidates[name], inner[name])
                if after_call is not None:
                    after_call(name, index)
        timing.add_round(seconds, load_before, load_average(), foreign.cores, order)
        if log:
            log(f"{label}round {index + 1}/{rounds}: " + timing.round_line(index))
    return timing


class Timing:
    """Per-round seconds of every candidate, with the round's loads."""

    def __init__(self, names, pairs=()):
        self.names = list(names)
        self.pairs = list(pairs)
        self.rounds = []  # dicts: seconds, load_before, load_after, foreign, order

    def add_round(self, seconds, load_before, load_after, foreign, order):
        self.rounds.append({"seconds": dict(seconds), "load_before": load_before,
                            "load_after": load_after, "foreign_cores": foreign, "order": list(order)})

    def samples(self, name):
        return [r["seconds"][name] for r in self.rounds]

    def median(self, name):
        return statistics.median(self.samples(name))

    def range(self, name):
        values = self.samples(name)
        return min(values), max(values)

    def ratio(self, ours, peer):
        return self.median(ours) / self.median(peer)

    def round_ratios(self, ours, peer):
        return [r["seconds"][ours] / r["seconds"][peer] for r in self.rounds]

    def loads(self):
        values = [r["load_before"] for r in self.rounds] + [r["load_after"] for r in self.rounds]
        return min(values), max(values)

    def foreign(self):
        values = [r["foreign_cores"] for r in self.rounds if r["foreign_cores"] is not None]
        return (min(values), statistics.median(values), max(values)) if values else None

    def round_line(self, index):
        r = self.rounds[index]
        parts = [f"{name} {format_seconds(r['seconds'][name])}" for name in self.names]
        parts += [f"{ours}/{peer} {r['seconds'][ours] / r['seconds'][peer]:.3f}" for ours, peer in self.pairs]
        foreign = r["foreign_cores"]
        parts.append(f"load {r['load_before']:.2f}->{r['load_after']:.2f}")
        parts.append(f"foreign {foreign:.2f} cores" if foreign is not None else "foreign n/a")
        return "; ".join(parts)

    def summary_rows(self, scale=1e3, unit="ms"):
        """Markdown rows: candidate | median | min-max over rounds."""
        rows = [f"| candidate | median {unit} | min-max {unit} (per round) | rounds |", "| --- | ---: | ---: | ---: |"]
        for name in self.names:
            lo, hi = self.range(name)
            rows.append(f"| {name} | {self.median(name) * scale:.4g} | {lo * scale:.4g}-{hi * scale:.4g} | {len(self.rounds)} |")
        return rows

    def ratio_rows(self):
        rows = ["| ours / peer | ratio of medians | per-round ratios min-median-max |", "| --- | ---: | ---: |"]
        for ours, peer in self.pairs:
            per = self.round_ratios(ours, peer)
            rows.append(f"| {ours} / {peer} | **{self.ratio(ours, peer):.3f}** | "
                        f"{min(per):.3f}-{statistics.median(per):.3f}-{max(per):.3f} |")
        return rows

    def comparison_cells(self, ours="ours", peer="peer"):
        """Markdown cells `ours ms (range) | peer ms (range) | **ratio** (per-round range)`."""
        (o_lo, o_hi), (p_lo, p_hi) = self.range(ours), self.range(peer)
        per = self.round_ratios(ours, peer)
        return (
            f"{self.median(ours) * 1e3:.1f} ({o_lo * 1e3:.1f}-{o_hi * 1e3:.1f}) | "
            f"{self.median(peer) * 1e3:.1f} ({p_lo * 1e3:.1f}-{p_hi * 1e3:.1f}) | "
            f"**{self.ratio(ours, peer):.3f}** ({min(per):.3f}-{max(per):.3f})"
        )

    def load_cell(self):
        lo, hi = self.loads()
        return f"{lo:.2f}-{hi:.2f}"

    def load_line(self):
        lo, hi = self.loads()
        foreign = self.foreign()
        text = f"load average (1 min) over the rounds: {lo:.2f}-{hi:.2f}"
        if foreign:
            text += f"; other processes' CPU during the rounds: {foreign[0]:.2f}-{foreign[2]:.2f} cores (median {foreign[1]:.2f})"
        return text

    def to_json(self):
        return {"names": self.names, "pairs": self.pairs, "rounds": self.rounds}


def format_seconds(seconds):
    if seconds >= 1:
        return f"{seconds:.3f} s"
    return f"{seconds * 1e3:.2f} ms"


# -- memory --------------------------------------------------------------------------------


def measure_memory(targets, calls=2, log=print):
    """One memory measure for every side: `{name: call_memory result}`.

    `targets` is {name: (target, kwargs)} as for `Worker`. Each candidate
    runs in a fresh worker with the same environment as the timing run, one
    candidate at a time; right after setup (model built, inputs ready) the
    peak RSS over its first `calls` calls is taken above the RSS before them
    (`call_memory`): what a user's process needs to run that many steps,
    one-time costs such as XLA compilation included.
    """
    results = {}
    for name, (target, kwargs) in targets.items():
        worker = Worker(target, **kwargs).start()
        try:
            results[name] = worker.request("memory", calls=calls)
        finally:
            worker.stop()
        if log:
            r = results[name]
            alloc = r.get("tf_allocator_mib")
            log(f"memory {name}: {r['rss_mib']:.1f} MiB peak RSS over {calls} calls above the "
                f"{r['rss_before_mib']:.0f} MiB before"
                + (f"; TF allocator peak of the last call {alloc:.1f} MiB" if alloc is not None else ""))
    return results


# -- report ----------------------------------------------------------------------------------


class Report:
    """Prints a benchmark's header (command, machine, versions, threads, load)
    and collects its tables; `--json` writes everything."""

    def __init__(self, title, versions=(), json_path=None):
        self.title = title
        self.json_path = json_path
        self.data = {"title": title, "command": command_line(), "started": _now(),
                     "load_at_start": os.getloadavg(), "tables": []}
        print(f"# {title}")
        print(f"command: {self.data['command']}")
        print(f"started {self.data['started']}; load average at start {_loads()}; "
              f"{usable_cores()} cores, {cpu_model()}; Python {platform.python_version()}")
        print("versions: " + ", ".join(f"{n} {v}" for n, v in versions))
        print("threads: " + thread_report())

    def table(self, name, lines, extra=None):
        print()
        print(f"## {name}")
        for line in lines:
            print(line)
        self.data["tables"].append({"name": name, "lines": list(lines), "extra": extra})

    def note(self, text):
        print(text)
        self.data.setdefault("notes", []).append(text)

    def finish(self):
        self.data["finished"] = _now()
        self.data["load_at_end"] = os.getloadavg()
        print()
        print(f"finished {self.data['finished']}; load average at end {_loads()}")
        if self.json_path:
            with open(self.json_path, "w") as handle:
                json.dump(self.data, handle, indent=1, default=str)


def _now():
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def _loads():
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def command_line():
    script = os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)
    return " ".join(["python", shlex.quote(script)] + [shlex.quote(a) for a in sys.argv[1:]])


def versions(*modules):
    """[(name, version)] of the importable modules among `modules`."""
    import importlib.metadata

    found = []
    for name in modules:
        try:
            found.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def add_arguments(parser, rounds, warmup=1):
    """The options every benchmark shares."""
    parser.add_argument("--rounds", type=int, default=rounds, help=f"interleaved timed rounds (default {rounds})")
    parser.add_argument("--warmup", type=int, default=warmup, help="untimed calls per candidate first")
    parser.add_argument("--threads", type=int, help="intra-op threads for every framework (default: all cores)")
    parser.add_argument("--json", help="also write the results to this file")
    return parser


if __name__ == "__main__" and len(sys.argv) >= 4 and sys.argv[1] == "--worker":
    sys.path[:0] = [HERE, ROOT]
    _worker_main(sys.argv[2], sys.argv[3])
