import os
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.callbacks import BackupAndRestore, latest_backup
from keras_seq.models import TransformerLM
from keras_seq.testing import LocalCluster

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "multi_worker_fit.py"


class Interrupt(keras.callbacks.Callback):
    """Raises once the optimizer has taken `step` steps in all: the process
    'dies' there (nothing after the exception runs in `fit`)."""

    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) == self.step:
            raise KeyboardInterrupt("simulated crash")


def fit_lm(backup_dir=None, interrupt_at=None, stream=True, callback_class=BackupAndRestore, **options):
    """Fits an unbuilt TransformerLM with dropout (its seed generators are
    state too) for 3 epochs of 4 steps. `stream=True`: one shuffled,
    repeated stream with `steps_per_epoch`; otherwise one pass over an
    unshuffled dataset per epoch. Returns `(weights, history)`, or `None`
    when interrupted."""
    keras.utils.set_random_seed(0)
    tokens = np.random.default_rng(0).integers(1, 24, size=(32, 9))
    dataset = tf.data.Dataset.from_tensor_slices((tokens[:, :-1], tokens[:, 1:]))
    if stream:
        dataset = dataset.shuffle(32, seed=1, reshuffle_each_iteration=True).batch(8).repeat()
    else:
        dataset = dataset.batch(8)
    model = TransformerLM(24, 8, num_layers=1, hidden_dim=16, num_heads=2, intermediate_dim=32, dropout=0.2)
    model.compile(
        keras.optimizers.Adam(1e-2),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    callbacks = []
    if backup_dir:
        callbacks.append(callback_class(backup_dir, verbose=False, **options))
    if interrupt_at:
        callbacks.append(Interrupt(interrupt_at))
    try:
        history = model.fit(
            dataset, epochs=3, steps_per_epoch=4 if stream else None, callbacks=callbacks, verbose=0
        )
    except KeyboardInterrupt:
        return None
    return [w.numpy() for w in model.weights], history.history


def assert_same_weights(actual, expected, atol=1e-6):
    assert len(actual) == len(expected)
    for a, b in zip(actual, expected):
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)


@pytest.fixture(scope="module")
def uninterrupted():
    return {stream: fit_lm(stream=stream) for stream in (True, False)}


@pytest.mark.parametrize("stream", [True, False], ids=["repeated-stream", "epoch-passes"])
def test_interrupted_twice_mid_epoch_resumes_to_the_uninterrupted_weights(tmp_path, uninterrupted, stream):
    backup = str(tmp_path / "backup")
    # Killed after step 5 of 12 (epoch 2, step 1); backups every 3 steps.
    assert fit_lm(backup, interrupt_at=5, save_freq=3, stream=stream) is None
    path, state = latest_backup(backup)
    assert os.path.basename(path) == "checkpoint-0000000003-000000"
    assert (state["epoch"], state["step"], state["global_step"]) == (0, 3, 3)
    # The resumed run is killed again after step 7: the last backup is at
    # global step 6, epoch 1 (0-based), step 2.
    assert fit_lm(backup, interrupt_at=7, save_freq=3, stream=stream) is None
    _, state = latest_backup(backup)
    assert (state["epoch"], state["step"], state["global_step"]) == (1, 2, 6)
    weights, history = fit_lm(backup, save_freq=3, stream=stream)
    reference_weights, reference_history = uninterrupted[stream]
    assert_same_weights(weights, reference_weights)
    # Epochs 2 and 3 ran; the interrupted epoch's loss includes its first two
    # steps (the running metric totals were restored).
    np.testing.assert_allclose(history["loss"], reference_history["loss"][1:], rtol=1e-6)
    np.testing.assert_allclose(history["accuracy"], reference_history["accuracy"][1:], rtol=1e-6)
    assert not os.path.exists(backup)  # delete_checkpoint=True once training completes


def test_epoch_backups_and_a_completed_run(tmp_path, uninterrupted):
    backup = str(tmp_path / "backup")
    assert fit_lm(backup, interrupt_at=6, delete_checkpoint=False) is None  # epoch 2, step 2
    _, state = latest_backup(backup)
    # The epoch-1 boundary backup: position 4 in the repeated stream.
    assert (state["epoch"], state["step"], state["global_step"], state["iterator_batches"]) == (1, 0, 4, 4)
    weights, history = fit_lm(backup, delete_checkpoint=False)
    assert_same_weights(weights, uninterrupted[True][0])
    assert len(history["loss"]) == 2
    path, state = latest_backup(backup)
    assert (state["epoch"], state["step"], state["global_step"]) == (3, 0, 12)
    assert os.listdir(backup) == [os.path.basename(path)]  # older backups removed
    # Training is complete: fitting again with the same epochs does nothing.
    weights, history = fit_lm(backup, delete_checkpoint=False)
    assert_same_weights(weights, uninterrupted[True][0], atol=0)
    assert history == {}


class CrashingWhileWriting(BackupAndRestore):
    """Dies (raises) half-way through writing its second backup: the weights
    file is written, the training state not yet."""

    writes = 0

    def _write(self, model, directory, meta):
        type(self).writes += 1
        if type(self).writes == 2:
            model.save_weights(os.path.join(directory, "model.weights.h5"))
            with open(os.path.join(directory, "state.npz"), "wb") as f:
                f.write(b"PK\x03\x04 torn")
            raise KeyboardInterrupt("killed while writing a backup")
        super()._write(model, directory, meta)


def test_a_crash_while_writing_leaves_the_previous_backup_as_latest(tmp_path, uninterrupted):
    backup = str(tmp_path / "backup")
    assert fit_lm(backup, save_freq=3, callback_class=CrashingWhileWriting) is None
    # The half-written backup of step 6 is a staging directory, never a backup.
    assert sorted(os.listdir(backup)) == [".checkpoint-0000000006-000001.tmp", "checkpoint-0000000003-000000"]
    path, state = latest_backup(backup)
    assert state["global_step"] == 3
    weights, _ = fit_lm(backup, save_freq=3, delete_checkpoint=False)
    assert_same_weights(weights, uninterrupted[True][0])
    assert not any(name.startswith(".") for name in os.listdir(backup))  # staging cleaned up


def test_an_unreadable_newest_backup_falls_back_to_the_previous(tmp_path, uninterrupted):
    backup = str(tmp_path / "backup")
    assert fit_lm(backup, interrupt_at=7, save_freq=3, double_checkpoint=True) is None
    newest, older = sorted(os.listdir(backup), reverse=True)
    assert (newest, older) == ("checkpoint-0000000006-000001", "checkpoint-0000000003-000000")
    weights_file = os.path.join(backup, newest, "model.weights.h5")
    with open(weights_file, "r+b") as f:  # torn by a disk fault after the rename
        f.truncate(os.path.getsize(weights_file) // 2)
    with pytest.warns(UserWarning, match="skipped unreadable backups"):
        path, state = latest_backup(backup)
    assert os.path.basename(path) == older
    with pytest.warns(UserWarning, match="skipped unreadable backups"):
        weights, _ = fit_lm(backup, save_freq=3, double_checkpoint=True)
    assert_same_weights(weights, uninterrupted[True][0])


def test_resumes_when_another_callback_rebuilds_the_train_function(tmp_path):
    # GradualUnfreezing rebuilds the train function when a stage begins
    # (`make_train_function(force=True)`), after this callback wrapped it.
    from keras_seq.callbacks import GradualUnfreezing

    def fit(backup, interrupt_at=None):
        keras.utils.set_random_seed(0)
        body, head = keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)
        model = keras.Sequential([keras.Input((4,)), body, head])
        model.compile(keras.optimizers.Adam(1e-2), "mse")
        x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
        callbacks = [BackupAndRestore(backup, save_freq=3, verbose=False), GradualUnfreezing([head, body])]
        if interrupt_at:
            callbacks.append(Interrupt(interrupt_at))
        try:
            model.fit(x, x[:, :1] ** 2, batch_size=8, epochs=3, shuffle=False, callbacks=callbacks, verbose=0)
        except KeyboardInterrupt:
            return None
        return [w.numpy() for w in model.weights]

    reference = fit(str(tmp_path / "reference"))
    assert fit(str(tmp_path / "backup"), interrupt_at=7) is None  # epoch 2 (both groups thawed), step 3
    assert latest_backup(str(tmp_path / "backup"))[1]["global_step"] == 6
    assert_same_weights(fit(str(tmp_path / "backup")), reference)


def test_a_backup_rotated_away_while_read_is_not_an_error(tmp_path, uninterrupted, monkeypatch):
    """A reader polling the directory of a running trainer: the backup it
    listed is renamed away (a newer one replaced it) before it is read. That
    is not an unreadable backup: the directory is listed again."""
    from keras_seq.callbacks import _backup_files

    backup = str(tmp_path / "backup")
    assert fit_lm(backup, interrupt_at=7, save_freq=3, double_checkpoint=True) is None
    newest, older = sorted(os.listdir(backup), reverse=True)
    read = _backup_files.read_checked
    rotated = []

    def rotate_then_read(path):
        if not rotated:  # the trainer replaces both backups by a newer one meanwhile
            rotated.append(path)
            os.rename(os.path.join(backup, newest), os.path.join(backup, "checkpoint-0000000009-000001"))
            os.rename(os.path.join(backup, older), os.path.join(backup, ".doomed"))
        return read(path)

    monkeypatch.setattr(_backup_files, "read_checked", rotate_then_read)
    path, state = latest_backup(backup)
    assert rotated == [os.path.join(backup, newest)]
    assert os.path.basename(path) == "checkpoint-0000000009-000001" and state["global_step"] == 6


def test_no_readable_backup_is_an_error(tmp_path):
    backup = tmp_path / "backup"
    (backup / "checkpoint-0000000003-000000").mkdir(parents=True)
    (backup / "checkpoint-0000000003-000000" / "training_state.json").write_text("{not json")
    with pytest.raises(ValueError, match="no backup in .* can be read.*Delete the directory"):
        fit_lm(str(backup), save_freq=3)


def test_a_different_model_is_refused(tmp_path):
    backup = str(tmp_path / "backup")
    fit_lm(backup, interrupt_at=4, save_freq=3)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="could not be loaded"):  # Keras's own check
        model.fit(np.zeros((4, 3)), np.zeros((4, 2)), callbacks=[BackupAndRestore(backup)], verbose=0)


def test_is_a_keras_backup_and_restore_and_validates_arguments(tmp_path):
    assert isinstance(BackupAndRestore(str(tmp_path)), keras.callbacks.BackupAndRestore)
    with pytest.raises(ValueError, match="`save_freq` must be 'epoch' or a positive integer"):
        BackupAndRestore(str(tmp_path), save_freq=0)
    with pytest.raises(ValueError, match="`save_freq` must be 'epoch' or a positive integer"):
        BackupAndRestore(str(tmp_path), save_freq=True)
    with pytest.raises(ValueError, match="`backup_dir` must be a non-empty directory path"):
        BackupAndRestore("")
    with pytest.raises(ValueError, match="local or network-mounted directory"):
        BackupAndRestore("gs://bucket/backup")


# --- separate processes, killed with SIGKILL ---------------------------------


def script(*args):
    return [sys.executable, str(SCRIPT), *map(str, args)]


def run(command, timeout=300):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def load(path):
    with np.load(path) as result:
        return {key: result[key] for key in result.files}


def weights_of(result):
    return [result[f"weight_{i}"] for i in range(sum(k.startswith("weight_") for k in result))]


def wait_for(path, cluster_or_process, timeout=180):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        processes = getattr(cluster_or_process, "processes", [cluster_or_process])
        if any(p is not None and p.poll() is not None for p in processes):
            raise AssertionError(f"a worker exited before pausing\n{describe(cluster_or_process)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {path} after {timeout} s\n{describe(cluster_or_process)}")
        time.sleep(0.05)


def describe(cluster_or_process):
    if isinstance(cluster_or_process, LocalCluster):
        return cluster_or_process.describe()
    return ""


@pytest.mark.long
def test_sigkill_mid_epoch_then_the_same_command_ends_with_the_uninterrupted_weights(tmp_path):
    common = ["--epochs", 3, "--dropout", 0.1, "--save-freq", 3]
    run(script("--out", tmp_path / "reference", *common))
    command = script(
        "--out", tmp_path / "resumed", *common, "--backup-dir", tmp_path / "backup",
        "--pause-at-step", 7, "--pause-file", tmp_path / "paused",
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    log = open(tmp_path / "first.log", "wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(tmp_path / "paused", process)
        # Killed at global step 7 = epoch 2, step 3 of 4; the last backup is step 6.
        process.kill()
        assert process.wait(timeout=30) == -9
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    _, state = latest_backup(str(tmp_path / "backup"))
    assert (state["epoch"], state["step"], state["global_step"]) == (1, 2, 6)
    out = run(command)  # the same command again
    assert "resuming from" in out.stdout and "epoch 2, after step 2" in out.stdout
    resumed, reference = load(tmp_path / "resumed" / "result-0.npz"), load(tmp_path / "reference" / "result-0.npz")
    assert resumed["epochs_run"] == 2
    for a, b in zip(weights_of(resumed), weights_of(reference)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(resumed["loss"], reference["loss"][1:], rtol=1e-6)


@pytest.mark.long
def test_two_workers_one_killed_and_the_cluster_restarted_completes_from_the_backup(tmp_path):
    run(script("--out", tmp_path / "reference", "--epochs", 3, "--strategy", "cpu"))
    command = script(
        "--out", tmp_path / "resumed", "--epochs", 3, "--strategy", "multi_worker",
        "--backup-dir", tmp_path / "backup", "--save-freq", 3,
        "--pause-at-step", 7, "--pause-file", tmp_path / "paused", "--pause-worker", 1,
    )  # fmt: skip
    env = {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    with LocalCluster(command, num_workers=2, env=env, log_dir=str(tmp_path / "logs")) as cluster:
        cluster.start()
        wait_for(tmp_path / "paused", cluster)
        assert cluster.kill(1) == -9  # worker 1 is lost after step 7
        # Worker 0's next collective fails ("Socket closed"): it exits with an error...
        assert cluster.wait(timeout=120, indices=[0]) == [1]
        # ... and the cluster manager restarts both with the same command.
        cluster.start()
        assert cluster.wait(timeout=240) == [0, 0], cluster.describe()
        for worker in (0, 1):
            assert "resuming from" in cluster.log(worker), cluster.describe()
            assert "epoch 2, after step 2" in cluster.log(worker)
    reference = load(tmp_path / "reference" / "result-0.npz")
    for worker in (0, 1):
        resumed = load(tmp_path / "resumed" / f"result-{worker}.npz")
        assert resumed["replicas"] == 2 and resumed["epochs_run"] == 2
        for a, b in zip(weights_of(resumed), weights_of(reference)):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)
        np.testing.assert_allclose(resumed["loss"], reference["loss"][1:], rtol=1e-5)
