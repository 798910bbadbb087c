import json
import signal
import sys

import pytest

from keras_seq.testing import LocalCluster, free_ports, tf_config

PRINT_TASK = "import json, os; c = json.loads(os.environ['TF_CONFIG']); print(c['task']['index'], c['cluster']['worker'])"


def test_workers_get_their_tf_config_and_distinct_free_ports():
    with LocalCluster([sys.executable, "-c", PRINT_TASK], num_workers=3) as cluster:
        cluster.start()
        assert cluster.wait(timeout=60) == [0, 0, 0]
        lines = [cluster.log(i).split(" ", 1) for i in range(3)]
    assert [index for index, _ in lines] == ["0", "1", "2"]
    assert len(set(cluster.addresses)) == 3 and all(a.startswith("localhost:") for a in cluster.addresses)
    assert all(workers.strip() == str(cluster.addresses) for _, workers in lines)
    config = json.loads(tf_config(cluster.addresses, 2))
    assert config["task"] == {"type": "worker", "index": 2}
    assert len(set(free_ports(4))) == 4


def test_a_hung_worker_times_out_and_every_worker_is_killed_and_reaped():
    sleeper = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(600)"]
    with LocalCluster(sleeper) as cluster:
        cluster.start()
        with pytest.raises(TimeoutError, match="worker 0 still running after 1 s"):
            cluster.wait(timeout=1)
        assert [p.returncode for p in cluster.processes] == [-signal.SIGKILL] * 2  # reaped


def test_kill_and_restart_one_worker_keeps_each_run_log():
    with LocalCluster([sys.executable, "-c", "import time; print('run', flush=True); time.sleep(600)"]) as cluster:
        cluster.start()
        assert cluster.kill(1) == -signal.SIGKILL
        with pytest.raises(RuntimeError, match="worker 0 is still running"):
            cluster.start(0)
        cluster.start(1)
        assert cluster.starts == [1, 2]
    # Leaving the block killed and reaped both.
    assert all(p.poll() is not None for p in cluster.processes)
