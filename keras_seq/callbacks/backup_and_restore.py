"""Fault-tolerant training: atomic backups, resumed mid-epoch after a kill."""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import keras
import numpy as np

from keras_seq.callbacks._backup_files import (
    FORMAT_VERSION,
    META_FILE,
    STATE_FILE,
    WEIGHTS_FILE,
    checkpoint_names,
    fsync_dir,
    fsync_file,
    newest_readable,
    remove_atomically,
)


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras's `BackupAndRestore` with atomic checkpoints and exact resume.

    Backs up the whole training state to `backup_dir` every `save_freq`
    steps (or at every epoch boundary) and, when `fit` starts again after
    the process died, restores it and continues where the backup was taken:
    same epoch, same step within the epoch, same data position.

    What it adds to `keras.callbacks.BackupAndRestore`:

    - **Atomic checkpoints.** Each backup is written into a temporary
      directory, every file is `fsync`ed, and the directory is renamed to
      `checkpoint-<global step>-<epoch>` (a rename is atomic on POSIX file
      systems); only then are older backups removed (renamed away first).
      A process killed while writing leaves at most a temporary directory,
      which is ignored, so the newest complete backup is always the one
      restored. Restoring also checks each backup's files can be read in
      full and falls back to an older one if not.
    - **The whole state.** Model weights and optimizer variables (Keras's
      `model.save_weights`), plus the state of every
      `keras.random.SeedGenerator` in the model (dropout masks continue the
      same random stream) and the running metric totals of the interrupted
      epoch (its logged loss is the uninterrupted run's).
    - **Mid-epoch resume.** Keras restarts an interrupted epoch from its
      first batch, re-training the batches seen before the backup. Here the
      steps already trained are skipped: their batches are drawn from the
      input and discarded, so training continues with the next batch.
    - **Multi-worker.** Under `MultiWorkerMirroredStrategy` every worker
      takes part in each backup (reading synchronised variables is a
      collective operation); the chief writes to `backup_dir`, the others
      to a private temporary directory they delete. All workers restore
      from `backup_dir`, which must be shared storage (e.g. NFS).

    A resumed run ends with the same weights as an uninterrupted one when the
    computation is deterministic (`keras.utils.set_random_seed`,
    `tf.config.experimental.enable_op_determinism()`) and the input yields
    the same batches after a restart as before it: either a dataset iterated
    once per epoch in an order that does not depend on the epochs before
    (no reshuffling between epochs), or — the way to shuffle every epoch —
    one stream of batches for the whole of training (`dataset.repeat()` with
    `fit(..., steps_per_epoch=...)`), whose position is backed up.

    Args:
        backup_dir: str, a local (or network-mounted) directory used only by
            this callback.
        save_freq: `"epoch"` (back up at each epoch boundary) or an int `N`
            (back up after every `N` training steps, counted over the whole
            run). Defaults to `"epoch"`.
        double_checkpoint: bool, keep the previous backup too, as a
            fall-back. Defaults to `False`.
        delete_checkpoint: bool, delete `backup_dir` when training
            completes; otherwise a final backup is written there, and a
            `fit` run with the same `epochs` does nothing. Defaults to
            `True`.
        verbose: bool, print a line when training resumes from a backup.
            Defaults to `True`.

    Raises:
        ValueError: empty or remote `backup_dir`, or a `save_freq` that is
            neither `"epoch"` nor a positive integer; at the start of `fit`,
            a `backup_dir` holding backups none of which can be read.

    Example:
    >>> import os, tempfile, keras, numpy as np
    >>> from keras_seq.callbacks import BackupAndRestore
    >>> backup = os.path.join(tempfile.mkdtemp(), "backup")
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> callback = BackupAndRestore(backup, save_freq=2, delete_checkpoint=False)
    >>> _ = model.fit(np.ones((8, 3)), np.ones((8, 1)), batch_size=2, epochs=2,
    ...               callbacks=[callback], verbose=0)
    >>> sorted(os.listdir(backup))
    ['checkpoint-0000000008-000002']
    """

    def __init__(
        self,
        backup_dir,
        save_freq="epoch",
        double_checkpoint=False,
        delete_checkpoint=True,
        verbose=True,
    ):
        if isinstance(save_freq, bool) or not (
            save_freq == "epoch" or (isinstance(save_freq, int) and save_freq >= 1)
        ):
            raise ValueError(
                "`save_freq` must be 'epoch' or a positive integer (steps); "
                f"received {save_freq!r}."
            )
        if not backup_dir:
            raise ValueError("`backup_dir` must be a non-empty directory path.")
        if "://" in str(backup_dir):
            raise ValueError(
                "`backup_dir` must be a local or network-mounted directory (atomic "
                f"renames); received the URL {backup_dir!r}."
            )
        super().__init__(
            str(backup_dir),
            save_freq=save_freq,
            double_checkpoint=double_checkpoint,
            delete_checkpoint=delete_checkpoint,
        )
        self.verbose = verbose
        self.restored_from = None
        self._reset_run_state()

    def _reset_run_state(self):
        self._epoch = 0
        self._global_step = 0
        self._iterator = None
        self._drawn = 0  # batches drawn from `self._iterator`
        self._preroll = 0
        self._skip_steps = 0
        self._resume_epoch = None
        self._metric_state = None
        self._boundary_save = False
        self._saved_step = 0  # global step of the last backup
        self._saved_key = None  # (global step, epoch) of the last backup
        self._skipped_call = False

    # --- fit hooks -------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._reset_run_state()
        self.restored_from = None
        model = self.model
        if keras.backend.backend() != "tensorflow":
            raise ValueError(
                "keras_seq.callbacks.BackupAndRestore needs the TensorFlow backend; "
                f"Keras runs on {keras.backend.backend()!r}."
            )
        _unwrap(model)
        self._is_chief = bool(model.distribute_strategy.extended.should_checkpoint)
        found = newest_readable(self.backup_dir)
        if found is not None:
            path, meta = found
            self.restored_from = path
            self._epoch = meta["epoch"]
            self._global_step = meta["global_step"]
            self._resume_epoch = meta["epoch"]
            self._skip_steps = meta["step"]
            self._saved_step = meta["global_step"]
            self._saved_key = (meta["global_step"], meta["epoch"])
            self._preroll = meta["iterator_batches"] - meta["step"]
            model._initial_epoch = meta["epoch"]  # how Keras's own callback resumes
            self._load(model, path, meta)
            if self.verbose:
                print(
                    f"BackupAndRestore: resuming from {path} (epoch {meta['epoch'] + 1}, "
                    f"after step {meta['step']}; {meta['global_step']} steps done)",
                    flush=True,
                )
        self._wrap_train_function()

    def _wrap_train_function(self):
        # Keras's `fit` looks `model.train_function` up before every step, so
        # wrapping it lets this callback skip the steps already trained and
        # count the batches drawn from the data iterator it is given.
        model = self.model
        original = model.train_function
        if getattr(original, "_keras_seq_callback", None) is self:
            return

        def train_function(iterator):
            return self._train_step(original, iterator)

        train_function._keras_seq_original = original
        train_function._keras_seq_callback = self
        model.train_function = train_function

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        # Another callback may have rebuilt the train function
        # (`make_train_function(force=True)`, e.g. GradualUnfreezing).
        self._wrap_train_function()

    def on_train_batch_end(self, batch, logs=None):
        if self._skipped_call or self.save_freq == "epoch":
            return
        if self._global_step - self._saved_step >= self.save_freq:
            self._save(epoch=self._epoch, step=batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        self._epoch = epoch + 1
        # Written at the next epoch's first step, when it is known whether
        # Keras continues the same data iterator (a repeated stream) or starts
        # a new one: the backup records the position in it.
        self._boundary_save = self.save_freq == "epoch"

    def on_train_end(self, logs=None):
        model = self.model
        _unwrap(model)
        model._initial_epoch = None
        if self.delete_checkpoint:
            if self._is_chief and os.path.exists(self.backup_dir):
                shutil.rmtree(self.backup_dir)
        elif self._saved_key != (self._global_step, self._epoch):
            self._save(epoch=self._epoch, step=0)

    # --- the wrapped train function -------------------------------------

    def _train_step(self, original, iterator):
        model = self.model
        if iterator is not self._iterator:
            self._iterator = iterator
            self._drawn = 0
        if self._boundary_save:
            self._boundary_save = False
            self._save(epoch=self._epoch, step=0)
        if self._preroll:
            _discard(iterator, self._preroll)
            self._drawn += self._preroll
            self._preroll = 0
        if self._metric_state is not None and self._epoch == self._resume_epoch:
            _assign(model.metrics_variables, self._metric_state, "metric")
            self._metric_state = None
        per_call = model.steps_per_execution
        self._skipped_call = self._skip_steps > 0
        if self._skipped_call:  # trained before the backup was taken
            _discard(iterator, per_call)
            self._drawn += per_call
            self._skip_steps -= per_call
            return model.get_metrics_result()
        logs = original(iterator)
        self._drawn += per_call
        self._global_step += per_call
        return logs

    # --- saving and loading ---------------------------------------------

    def _save(self, epoch, step):
        model = self.model
        meta = {
            "format": FORMAT_VERSION,
            "epoch": int(epoch),
            "step": int(step),
            "global_step": int(self._global_step),
            # Batches drawn from the data iterator in use. At an epoch
            # boundary the backup is written at the next epoch's first step,
            # once `_train_step` knows whether Keras continues the iterator
            # (a repeated stream) or started a new one (0 drawn).
            "iterator_batches": int(self._drawn),
            "seed_states": len(_seed_states(model)),
            "metric_variables": len(model.metrics_variables),
            # To build a model that is not built yet (Keras builds it in the
            # first step) before restoring into it.
            "input_spec": _spec_to_json(getattr(self._iterator, "element_spec", None)),
        }
        name = f"checkpoint-{meta['global_step']:010d}-{meta['epoch']:06d}"
        parent = self.backup_dir if self._is_chief else tempfile.mkdtemp(prefix="keras_seq_backup_")
        os.makedirs(parent, exist_ok=True)
        staging = os.path.join(parent, f".{name}.tmp")
        if os.path.exists(staging):  # left by a process killed while writing
            shutil.rmtree(staging)
        os.makedirs(staging)
        self._write(model, staging, meta)
        fsync_dir(staging)
        final = os.path.join(parent, name)
        if os.path.exists(final):  # this very state is already backed up
            shutil.rmtree(staging)
        else:
            os.rename(staging, final)
            fsync_dir(parent)
        if self._is_chief:
            keep = 2 if self.double_checkpoint else 1
            for old in checkpoint_names(parent)[keep:]:
                remove_atomically(os.path.join(parent, old))
            for entry in os.listdir(parent):  # left by processes killed mid-write
                if entry.startswith((".checkpoint-", ".deleting-")):
                    shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
        else:
            shutil.rmtree(parent, ignore_errors=True)
        self._saved_step = self._global_step
        self._saved_key = (self._global_step, int(epoch))

    def _write(self, model, directory, meta):
        """Writes the three files of a backup into `directory` (then fsyncs them)."""
        weights = os.path.join(directory, WEIGHTS_FILE)
        model.save_weights(weights)
        arrays = {f"seed_{i}": np.asarray(v) for i, v in enumerate(_seed_states(model))}
        arrays.update({f"metric_{i}": np.asarray(v) for i, v in enumerate(model.metrics_variables)})
        state = os.path.join(directory, STATE_FILE)
        with open(state, "wb") as f:
            np.savez(f, **arrays)
        with open(os.path.join(directory, META_FILE), "w") as f:
            json.dump(meta, f, indent=1)
        for filename in (WEIGHTS_FILE, STATE_FILE, META_FILE):
            fsync_file(os.path.join(directory, filename))

    def _load(self, model, path, meta):
        strategy = model.distribute_strategy
        if not model.built or _unbuilt_metrics(model):
            spec = _spec_from_json(meta.get("input_spec"))
            if spec is None:
                raise ValueError(
                    "BackupAndRestore: build the model (call it on a batch) before `fit`, "
                    f"so that the backup in {path!r} can be loaded into it."
                )
            _build_from_spec(model, spec)
        if model.optimizer is not None and not model.optimizer.built:
            with strategy.scope():
                model.optimizer.build(model.trainable_variables)
        model.load_weights(os.path.join(path, WEIGHTS_FILE))
        with np.load(os.path.join(path, STATE_FILE)) as arrays:
            seeds = [arrays[f"seed_{i}"] for i in range(meta["seed_states"])]
            metrics = [arrays[f"metric_{i}"] for i in range(meta["metric_variables"])]
        _assign(_seed_states(model), seeds, "random seed")
        if meta["step"] > 0:
            self._metric_state = metrics


def latest_backup(backup_dir):
    """The newest complete, readable backup in `backup_dir` as
    `(path, training_state)`, or `None`.

    `training_state` holds `epoch` (0-based, the epoch to continue), `step`
    (steps of that epoch already trained) and `global_step`.

    >>> latest_backup("/nonexistent") is None
    True
    """
    return newest_readable(backup_dir)


# --- helpers --------------------------------------------------------------


def _unwrap(model):
    function = getattr(model, "train_function", None)
    original = getattr(function, "_keras_seq_original", None)
    if original is not None:
        model.train_function = original


def _seed_states(model):
    # `model.variables` is the weights plus every SeedGenerator's state.
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def _unbuilt_metrics(model):
    return not all(getattr(m, "built", True) for m in model.metrics)


def _assign(variables, values, what):
    if len(variables) != len(values) or any(
        tuple(v.shape) != tuple(a.shape) for v, a in zip(variables, values)
    ):
        raise ValueError(
            f"BackupAndRestore: the backup's {what} state does not match this model "
            f"({len(values)} arrays for {len(variables)} variables); was the model changed?"
        )
    for variable, value in zip(variables, values):
        variable.assign(value)


def _build_from_spec(model, element_spec):
    """Builds an unbuilt model, its loss and its metrics on zeros shaped like
    one batch, then resets the metrics (a no-op for the training state)."""
    import tensorflow as tf

    batch = tf.nest.map_structure(
        lambda spec: tf.zeros([1 if d is None else d for d in spec.shape], spec.dtype), element_spec
    )
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(batch)
    y_pred = model(x, training=False)
    model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
    model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
    model.reset_metrics()


def _spec_to_json(spec):
    """A JSON-able copy of a batch's `element_spec` (dense tensors only), or `None`."""
    import tensorflow as tf

    leaves = tf.nest.flatten(spec) if spec is not None else [None]
    if not all(isinstance(leaf, tf.TensorSpec) for leaf in leaves):
        return None
    return tf.nest.map_structure(
        lambda leaf: {"tensor_shape": leaf.shape.as_list(), "dtype": leaf.dtype.name}, spec
    )


def _spec_from_json(value):
    import tensorflow as tf

    if value is None:
        return None
    if isinstance(value, dict) and set(value) == {"tensor_shape", "dtype"}:
        return tf.TensorSpec(value["tensor_shape"], value["dtype"])
    if isinstance(value, dict):
        return {key: _spec_from_json(item) for key, item in value.items()}
    return tuple(_spec_from_json(item) for item in value)


def _discard(iterator, count):
    for _ in range(count):
        _next(iterator)


def _next(iterator):
    global _draw
    if _draw is None:
        import tensorflow as tf

        @tf.function
        def draw(iterator):
            iterator.get_next()
            return tf.constant(0)

        _draw = draw
    _draw(iterator)


_draw = None
