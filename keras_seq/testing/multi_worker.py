"""A multi-worker TensorFlow cluster of local processes, for tests and trials."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time


def free_ports(count):
    """`count` distinct TCP ports that were free on localhost a moment ago
    (bound to port 0 together, then released).

    >>> ports = free_ports(2)
    >>> len(set(ports)) == 2 and all(1024 <= p < 65536 for p in ports)
    True
    """
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("localhost", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(workers, index):
    """The `TF_CONFIG` JSON of worker `index` in a cluster of `workers`
    (`"host:port"` strings); worker 0 is the chief.

    >>> tf_config(["host1:2222", "host2:2222"], 1)
    '{"cluster": {"worker": ["host1:2222", "host2:2222"]}, "task": {"type": "worker", "index": 1}}'
    """
    return json.dumps({"cluster": {"worker": list(workers)}, "task": {"type": "worker", "index": index}})


class LocalCluster:
    """Runs `command` as `num_workers` processes on localhost, each with the
    `TF_CONFIG` of one `MultiWorkerMirroredStrategy` worker.

    Workers can be started, killed and restarted one by one (to rehearse
    preemption); each start writes its output to its own log file in
    `log_dir`. Leaving the `with` block (or `close()`) kills and reaps every
    worker still running, so a failing test leaves no processes behind.

    Args:
        command: list of str, the worker's command line.
        num_workers: int. Defaults to `2`.
        env: optional dict of extra environment variables.
        cwd: optional working directory.
        log_dir: optional directory for the logs (a new temporary one).

    Example:
    >>> import sys
    >>> code = "import json, os; print(json.loads(os.environ['TF_CONFIG'])['task']['index'])"
    >>> with LocalCluster([sys.executable, "-c", code]) as cluster:
    ...     cluster.start()
    ...     cluster.wait(timeout=60)
    ...     [cluster.log(i).strip() for i in range(2)]
    [0, 0]
    ['0', '1']
    """

    def __init__(self, command, num_workers=2, env=None, cwd=None, log_dir=None):
        self.command = list(command)
        self.num_workers = num_workers
        self.addresses = [f"localhost:{port}" for port in free_ports(num_workers)]
        self.env = dict(env or {})
        self.cwd = cwd
        self.log_dir = log_dir or tempfile.mkdtemp(prefix="keras_seq_cluster_")
        os.makedirs(self.log_dir, exist_ok=True)
        self.processes = [None] * num_workers
        self.starts = [0] * num_workers

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _log_path(self, index, start):
        return os.path.join(self.log_dir, f"worker-{index}.run-{start}.log")

    def start(self, index=None):
        """Starts worker `index` (all workers when `None`)."""
        for i in range(self.num_workers) if index is None else [index]:
            if self.processes[i] is not None and self.processes[i].poll() is None:
                raise RuntimeError(f"worker {i} is still running")
            self.starts[i] += 1
            env = {**os.environ, **self.env, "TF_CONFIG": tf_config(self.addresses, i)}
            with open(self._log_path(i, self.starts[i]), "wb") as log:
                self.processes[i] = subprocess.Popen(
                    self.command, env=env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT
                )

    def log(self, index, start=None):
        """The output of worker `index`'s latest start (or of start number `start`)."""
        with open(self._log_path(index, start or self.starts[index]), errors="replace") as f:
            return f.read()

    def kill(self, index, sig=signal.SIGKILL, timeout=30):
        """Sends `sig` to worker `index` and waits for it to exit; its return code."""
        process = self.processes[index]
        if process.poll() is None:
            process.send_signal(sig)
        return process.wait(timeout=timeout)

    def wait(self, timeout, indices=None):
        """Waits for the workers (all by default) to exit; their return codes.

        Raises:
            TimeoutError: a worker is still running after `timeout` seconds;
                every worker is killed first, and the message ends with the
                tail of each log.
        """
        indices = range(self.num_workers) if indices is None else indices
        deadline = time.monotonic() + timeout
        codes = []
        for i in indices:
            try:
                codes.append(self.processes[i].wait(timeout=max(0.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                self.close()
                raise TimeoutError(
                    f"worker {i} still running after {timeout} s\n" + self.describe()
                ) from None
        return codes

    def describe(self, lines=30):
        """The last `lines` lines of each worker's latest log."""
        parts = []
        for i in range(self.num_workers):
            if self.starts[i]:
                tail = "\n".join(self.log(i).splitlines()[-lines:])
                parts.append(f"--- worker {i} (start {self.starts[i]}) ---\n{tail}")
        return "\n".join(parts)

    def close(self):
        """Kills (SIGKILL) and reaps every worker still running."""
        for process in self.processes:
            if process is not None and process.poll() is None:
                process.kill()
        for process in self.processes:
            if process is not None:
                process.wait()

