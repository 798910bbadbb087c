"""An application trained across two worker processes, and killed and resumed."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from keras_seq.callbacks import latest_backup
from keras_seq.testing import LocalCluster

ROOT = Path(__file__).resolve().parents[2]
ENV = {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
# ~15 steps of 64 dates per epoch.
TRAIN = [
    sys.executable, "-m", "applications.dates_nmt", "train", "--size", "fast",
    "--train-examples", "1000", "--eval-examples", "50", "--logdir", "",
]  # fmt: skip


def run(command, timeout=600):
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, **ENV}, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def weights(path):
    from applications.dates_nmt import app

    return app.load(str(path)).get_weights()


@pytest.mark.long
def test_dates_nmt_killed_mid_epoch_and_rerun_ends_like_an_uninterrupted_run(tmp_path):
    options = ["--epochs", "3", "--backup-every", "4"]
    run(TRAIN + options + ["--backup-dir", str(tmp_path / "reference-backup"), "--output", str(tmp_path / "reference.keras")])
    command = TRAIN + options + ["--backup-dir", str(tmp_path / "backup"), "--output", str(tmp_path / "resumed.keras")]
    with open(tmp_path / "killed.log", "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **ENV}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while True:  # SIGKILL as soon as the backup of step 20 (epoch 2 of 3) is there
            found = latest_backup(str(tmp_path / "backup"))
            if found and found[1]["global_step"] >= 20:
                break
            assert process.poll() is None, (tmp_path / "killed.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "no backup of step 20"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not (tmp_path / "resumed.keras").exists()
    out = run(command)  # the same command again
    resumed = re.search(r"resuming from .* \(epoch (\d+), after step (\d+); (\d+) steps done\)", out)
    assert resumed, out
    epoch, step, done = map(int, resumed.groups())
    assert epoch >= 2 and step > 0 and done >= 20  # mid-epoch, after the kill point
    for a, b in zip(weights(tmp_path / "resumed.keras"), weights(tmp_path / "reference.keras"), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not (tmp_path / "backup").exists()  # removed once training completed


@pytest.mark.long
def test_dates_nmt_on_two_workers_trains_like_one_process_with_the_global_batch(tmp_path):
    options = ["--epochs", "2", "--output"]
    two = TRAIN + ["--strategy", "multi_worker", "--batch-size", "32"] + options + [str(tmp_path / "two.keras")]
    with LocalCluster(two, env=ENV, cwd=str(ROOT)) as cluster:
        cluster.start()
        assert cluster.wait(timeout=600) == [0, 0], cluster.describe()
        logs = [cluster.log(i) for i in range(2)]
    one = run(TRAIN + ["--strategy", "cpu", "--batch-size", "64"] + options + [str(tmp_path / "one.keras")])

    def exact_match_and_replicas(text):
        return re.search(r"([\d.]+)% \(training \d+ s on (\d+) replica", text).groups()

    # The same held-out exact match from both workers and the single process.
    score, replicas = exact_match_and_replicas(one)
    assert replicas == "1"
    assert [exact_match_and_replicas(log) for log in logs] == [(score, "2"), (score, "2")]
    for a, b in zip(weights(tmp_path / "two.keras"), weights(tmp_path / "one.keras"), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)
