import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from keras_seq._multi_worker import KERAS_CODE_ADAPTED, keras_code_hashes
from keras_seq.distribute import get_strategy, shard_by_data
from keras_seq.testing import LocalCluster


def test_named_strategies():
    assert isinstance(get_strategy("cpu"), tf.distribute.OneDeviceStrategy)
    assert get_strategy("default") is tf.distribute.get_strategy()
    # No TPU, no TF_CONFIG cluster, no GPUs here: auto falls back to the default.
    assert get_strategy("auto").num_replicas_in_sync == 1


def test_errors():
    with pytest.raises(ValueError, match="`name` must be one of"):
        get_strategy("gpu-please")
    with pytest.raises(ValueError, match="`num_cpu_devices` must be a positive integer"):
        get_strategy("mirrored", num_cpu_devices=0)


def test_mirrored_over_logical_cpus_in_a_fresh_process():
    code = (
        "from keras_seq.distribute import get_strategy\n"
        "s = get_strategy('mirrored', num_cpu_devices=2)\n"
        "print(type(s).__name__, s.num_replicas_in_sync)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["MirroredStrategy", "2"]


def test_malformed_tf_config_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{cluster: ")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        get_strategy("multi_worker")
    monkeypatch.setenv("TF_CONFIG", "[1, 2]")
    with pytest.raises(ValueError, match="TF_CONFIG must be a JSON object"):
        get_strategy("auto")


def test_shard_by_data_sets_the_data_policy():
    dataset = shard_by_data(tf.data.Dataset.range(8).batch(4))
    policy = dataset.options().experimental_distribute.auto_shard_policy
    assert policy == tf.data.experimental.AutoShardPolicy.DATA
    assert [b.tolist() for b in dataset.as_numpy_iterator()] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_the_keras_code_the_multi_worker_fix_adapts_is_unchanged():
    """Fails when a Keras release changes the trainer code whose calls to
    `Strategy.reduce` keras_seq._multi_worker accommodates. Then: run the
    two-worker tests below with TensorFlow's own strategy
    (test_tensorflows_own_strategy_cannot_fit_on_two_workers); if Keras now
    trains, delete keras_seq/_multi_worker.py, else update the hashes."""
    assert keras_code_hashes() == KERAS_CODE_ADAPTED


def test_multi_worker_strategy_reduce_in_a_fresh_process():
    # One local worker (no TF_CONFIG): the reductions Keras's trainer asks of
    # the strategy, next to the ones TensorFlow already supports.
    code = """
import numpy as np, tensorflow as tf
from keras_seq.distribute import get_strategy, MultiWorkerMirroredStrategy
s = get_strategy("multi_worker")
assert type(s) is MultiWorkerMirroredStrategy
assert isinstance(s, tf.distribute.MultiWorkerMirroredStrategy)
batch = s.run(lambda: ({"a": tf.constant([[1.0, 2.0]])}, tf.constant([3, 4])))
reduced = s.reduce("MEAN", batch, axis=None)
assert reduced[0]["a"].numpy().tolist() == [[1.0, 2.0]] and reduced[1].numpy().tolist() == [3, 4]
loss = s.run(lambda: tf.constant(2.5))
assert s.reduce("MEAN", loss, axis=0).numpy() == 2.5
assert s.reduce("SUM", loss, axis=None).numpy() == 2.5
vector = s.run(lambda: tf.constant([1.0, 2.0, 6.0]))
assert s.reduce("SUM", vector, axis=0).numpy() == 9.0
assert s.reduce("MEAN", vector, axis=0).numpy() == 3.0
print("ok")
"""
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0 and out.stdout.split()[-1] == "ok", out.stderr


ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "multi_worker_fit.py"
ENV = {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}


def _results(directory, workers):
    results = []
    for worker in range(workers):
        with np.load(directory / f"result-{worker}.npz") as result:
            results.append({key: result[key] for key in result.files})
    return results


def _weights(result):
    return [result[f"weight_{i}"] for i in range(sum(k.startswith("weight_") for k in result))]


@pytest.mark.long
def test_two_workers_fit_a_transformer_lm_like_one_process(tmp_path):
    """Two worker processes (global batch 8 = 4 per replica x 2, auto-sharded
    by data) train the TransformerLM to the losses and weights of one process
    with the whole batch."""
    common = [sys.executable, str(SCRIPT), "--epochs", "2", "--global-batch", "8"]
    with LocalCluster(common + ["--strategy", "multi_worker", "--out", str(tmp_path / "two")], env=ENV) as cluster:
        cluster.start()
        assert cluster.wait(timeout=300) == [0, 0], cluster.describe()
    one = subprocess.run(
        common + ["--strategy", "cpu", "--out", str(tmp_path / "one")],
        env={**os.environ, **ENV}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert one.returncode == 0, one.stderr
    (single,) = _results(tmp_path / "one", 1)
    workers = _results(tmp_path / "two", 2)
    assert [w["replicas"] for w in workers] == [2, 2] and single["replicas"] == 1
    for result in workers:
        assert result["loss"].shape == (2,)
        np.testing.assert_allclose(result["loss"], single["loss"], rtol=1e-5)
        for a, b in zip(_weights(result), _weights(single)):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)
    # The loss fell, so the comparison is of real training.
    assert single["loss"][1] < single["loss"][0]


@pytest.mark.long
def test_tensorflows_own_strategy_cannot_fit_on_two_workers(tmp_path):
    """keras-team/keras#20585, which keras_seq._multi_worker works around.
    When this fails, Keras fits under TensorFlow's strategy: drop the fix."""
    command = [sys.executable, str(SCRIPT), "--strategy", "tensorflow_multi_worker", "--out", str(tmp_path)]
    with LocalCluster(command, env=ENV) as cluster:
        cluster.start()
        codes = cluster.wait(timeout=300)
        logs = [cluster.log(i) for i in range(2)]
    assert codes == [1, 1]
    for log in logs:
        assert "Attempt to convert a value (PerReplica" in log and "_maybe_symbolic_build" in log
