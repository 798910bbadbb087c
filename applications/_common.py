"""Scaffolding the applications share: CLI arguments, tf.data input, training."""

from __future__ import annotations

import os
import time

import keras

from keras_seq.distribute import STRATEGIES, get_strategy


def add_train_arguments(parser, sizes, default_logdir, default_output, data_help):
    """The `train` options every application accepts."""
    parser.add_argument("--size", choices=sorted(sizes), default="default")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--train-examples", type=int)
    parser.add_argument("--eval-examples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", help=data_help)
    parser.add_argument("--logdir", default=default_logdir, help="TensorBoard log directory")
    parser.add_argument("--output", default=default_output, help="where to save the model")
    parser.add_argument("--strategy", default="auto", choices=list(STRATEGIES))
    parser.add_argument("--cpu-devices", type=int, help="split the CPU into N logical devices")


def train_kwargs(args):
    """`train(...)` keyword arguments from parsed `add_train_arguments` options."""
    return dict(
        size=args.size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        train_examples=args.train_examples,
        seed=args.seed,
        data=args.data,
        log_dir=args.logdir,
        output=args.output,
        strategy=args.strategy,
        num_cpu_devices=args.cpu_devices,
        eval_examples=args.eval_examples,
    )


def choose(sizes, size):
    if size not in sizes:
        raise ValueError(f"`size` must be one of {sorted(sizes)}; received {size!r}.")
    return sizes[size]


def batched(inputs, targets, batch_size, seed=None):
    """A prefetched `tf.data.Dataset` of `(inputs, targets)`; shuffled when seeded."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if seed is not None:
        count = len(targets) if not isinstance(targets, dict) else len(next(iter(targets.values())))
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def distribution(strategy="auto", num_cpu_devices=None):
    """The `tf.distribute` strategy; call it before any TensorFlow work, since
    splitting the CPU into logical devices must precede device initialisation."""
    return get_strategy(strategy, num_cpu_devices=num_cpu_devices)


def fit(build_model, train_data, validation_data, epochs, strategy, log_dir=None, callbacks=(), verbose=1):
    """Builds the model under `strategy` (from `distribution`) and fits it.

    `callbacks` may hold callables `model -> Callback` for callbacks that
    need the model. Returns `(model, history dict, seconds, replicas)`.
    """
    with strategy.scope():
        model = build_model()
    resolved = []
    if log_dir:
        resolved.append(keras.callbacks.TensorBoard(log_dir=log_dir))
    for callback in callbacks:
        resolved.append(callback if isinstance(callback, keras.callbacks.Callback) else callback(model))
    started = time.perf_counter()
    history = model.fit(
        train_data,
        validation_data=validation_data,
        epochs=epochs,
        callbacks=resolved,
        shuffle=False,  # datasets shuffle themselves, seeded
        verbose=verbose,
    )
    return model, history.history, time.perf_counter() - started, strategy.num_replicas_in_sync


def save(model, output):
    if output:
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        model.save(output)


def show_errors(examples, limit=5):
    for source, prediction, target in examples[:limit]:
        print(f"  wrong: {source!r} -> {prediction!r} (expected {target!r})")
