"""Worker script of the multi-process tests in test_distribute.py and
callbacks/test_backup_and_restore.py: fits a small keras_seq TransformerLM
on a seeded token stream, deterministically, and saves the per-epoch losses
and final weights of this worker to `--out`/result-<worker>.npz.

Run it directly (`python tests/multi_worker_fit.py --out DIR ...`); the tests
launch it with `keras_seq.testing.LocalCluster` for two workers.
"""

import argparse
import json
import os
import time

import keras


def parse(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--strategy", default="default")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--steps-per-epoch", type=int, default=4)
    parser.add_argument("--global-batch", type=int, default=8)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--backup-dir")
    parser.add_argument("--save-freq", type=int, default=3)
    parser.add_argument("--pause-at-step", type=int, help="block after this global step ...")
    parser.add_argument("--pause-file", help="... the first time (creates this file), to be killed")
    parser.add_argument("--pause-worker", type=int, default=0, help="the worker that pauses")
    return parser.parse_args(argv)


def worker_index():
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    return config.get("task", {}).get("index", 0)


class PauseOnce(keras.callbacks.Callback):
    """After global step `step`, creates `path` and blocks (the test kills the
    process then); does nothing if `path` exists (the restarted run)."""

    def __init__(self, step, path):
        super().__init__()
        self.step, self.path = step, path

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        if step == self.step and not os.path.exists(self.path):
            with open(self.path, "w") as f:
                f.write(str(step))
            while True:
                time.sleep(1)


def main(argv=None):
    args = parse(argv)
    import numpy as np
    import tensorflow as tf

    from keras_seq.callbacks import BackupAndRestore
    from keras_seq.distribute import get_strategy, shard_by_data
    from keras_seq.models import TransformerLM

    if args.strategy == "tensorflow_multi_worker":  # TensorFlow's, without our fix
        keras.config.disable_traceback_filtering()  # show where Keras fails
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        strategy = get_strategy(args.strategy)
    keras.utils.set_random_seed(0)
    tf.config.experimental.enable_op_determinism()

    vocabulary, length = 24, 9
    # Learnable sequences: count up from a random token by a random stride of 1 or 2.
    rng = np.random.default_rng(0)
    starts, strides = rng.integers(0, vocabulary - 1, (96, 1)), rng.integers(1, 3, (96, 1))
    tokens = 1 + (starts + strides * np.arange(length)) % (vocabulary - 1)
    dataset = tf.data.Dataset.from_tensor_slices((tokens[:, :-1], tokens[:, 1:]))
    dataset = dataset.shuffle(len(tokens), seed=1, reshuffle_each_iteration=True)
    dataset = shard_by_data(dataset.batch(args.global_batch).repeat())

    with strategy.scope():
        model = TransformerLM(
            vocabulary, length - 1, num_layers=1, hidden_dim=16, num_heads=2,
            intermediate_dim=32, dropout=args.dropout,
        )
        model(tokens[:1, :-1])  # built here, so every strategy draws the same initial weights
        model.compile(
            keras.optimizers.Adam(1e-2),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
    callbacks = []
    if args.backup_dir:
        callbacks.append(BackupAndRestore(args.backup_dir, save_freq=args.save_freq))
    if args.pause_at_step and worker_index() == args.pause_worker:
        callbacks.append(PauseOnce(args.pause_at_step, args.pause_file))
    history = model.fit(
        dataset, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
        callbacks=callbacks, verbose=0,
    )
    os.makedirs(args.out, exist_ok=True)
    arrays = {f"weight_{i}": w for i, w in enumerate(model.get_weights())}
    np.savez(
        os.path.join(args.out, f"result-{worker_index()}.npz"),
        loss=np.asarray(history.history.get("loss", []), "float64"),
        epochs_run=len(history.history.get("loss", [])),
        replicas=strategy.num_replicas_in_sync,
        **arrays,
    )
    print("done", flush=True)


if __name__ == "__main__":
    main()
