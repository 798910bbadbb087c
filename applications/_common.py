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
    parser.add_argument("--eval-examples", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", help=data_help)
    parser.add_argument("--logdir", default=default_logdir, help="TensorBoard log directory")
    parser.add_argument("--output", default=default_output, help="where to save the model")
    parser.add_argument("--strategy", default="auto", choices=list(STRATEGIES))
    parser.add_argument("--cpu-devices", type=int, help="split the CPU into N logical devices")


def add_backup_arguments(parser):
    """`--backup-dir DIR --backup-every N`: see `backup_callback`."""
    parser.add_argument("--backup-dir", help="back training up here and resume from it after a crash")
    parser.add_argument("--backup-every", type=int, help="back up every N steps (default: every epoch)")


def add_decoding_arguments(parser):
    """`--beam-width` / `--length-penalty`: beam search instead of greedy."""
    parser.add_argument("--beam-width", type=int, help="decode with beam search of this width (default: greedy)")
    parser.add_argument(
        "--length-penalty", type=float, default=0.0, help="beam score = log P / T^alpha; this is alpha"
    )


def decoding_kwargs(args):
    """`generate(...)` decoding options from `add_decoding_arguments` options."""
    if getattr(args, "beam_width", None) is None:
        return {}
    return {"strategy": "beam", "beam_width": args.beam_width, "length_penalty": args.length_penalty}


def train_kwargs(args):
    """`train(...)` keyword arguments from parsed `add_train_arguments` options."""
    options = dict(
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
    if getattr(args, "backup_dir", None):  # the applications with `add_backup_arguments`
        options.update(backup_dir=args.backup_dir, backup_every=args.backup_every)
    return {k: v for k, v in options.items() if k != "eval_examples" or v is not None}


def choose(sizes, size):
    if size not in sizes:
        raise ValueError(f"`size` must be one of {sorted(sizes)}; received {size!r}.")
    return sizes[size]


def batched(inputs, targets, batch_size, seed=None, sample_weights=None):
    """A prefetched `tf.data.Dataset` of `(inputs, targets[, sample_weights])`;
    shuffled when seeded."""
    import tensorflow as tf

    elements = (inputs, targets) if sample_weights is None else (inputs, targets, sample_weights)
    dataset = tf.data.Dataset.from_tensor_slices(elements)
    if seed is not None:
        count = len(targets) if not isinstance(targets, dict) else len(next(iter(targets.values())))
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def distribution(strategy="auto", num_cpu_devices=None):
    """The `tf.distribute` strategy; call it before any TensorFlow work, since
    splitting the CPU into logical devices must precede device initialisation."""
    return get_strategy(strategy, num_cpu_devices=num_cpu_devices)


def backup_callback(backup_dir, every=None):
    """The fault-tolerance callback of `--backup-dir DIR --backup-every N`:
    atomic backups every `every` steps (every epoch when None), resumed
    mid-epoch when the same command runs again after a crash."""
    from keras_seq.callbacks import BackupAndRestore

    return BackupAndRestore(backup_dir, save_freq=every or "epoch", delete_checkpoint=True)


def fit(
    build_model,
    train_data,
    validation_data,
    epochs,
    strategy,
    log_dir=None,
    callbacks=(),
    verbose=1,
    steps_per_epoch=None,
    backup_dir=None,
    backup_every=None,
):
    """Builds the model under `strategy` (from `distribution`) and fits it.

    `callbacks` may hold callables `model -> Callback` for callbacks that
    need the model; `backup_dir`/`backup_every` add `backup_callback`.
    Returns `(model, history dict, seconds, replicas)`.
    """
    from keras_seq.distribute import shard_by_data

    with strategy.scope():
        model = build_model()
    resolved = []
    chief = strategy.extended.should_checkpoint  # only the chief writes (multi-worker)
    if log_dir and chief:
        resolved.append(keras.callbacks.TensorBoard(log_dir=log_dir))
    if backup_dir:
        resolved.append(backup_callback(backup_dir, backup_every))
    for callback in callbacks:
        resolved.append(callback if isinstance(callback, keras.callbacks.Callback) else callback(model))
    if hasattr(train_data, "element_spec"):
        train_data = shard_by_data(train_data)
        batches = int(train_data.cardinality())
        if backup_dir and steps_per_epoch is None and batches > 0:
            # One stream, reshuffled every epoch, whose position the backup
            # records: a resumed run sees the batches an uninterrupted one would.
            train_data, steps_per_epoch = train_data.repeat(), batches
    started = time.perf_counter()
    history = model.fit(
        train_data,
        validation_data=validation_data,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        callbacks=resolved,
        shuffle=False,  # datasets shuffle themselves, seeded
        verbose=verbose,
    )
    return model, history.history, time.perf_counter() - started, strategy.num_replicas_in_sync


def save(model, output):
    if output and model.distribute_strategy.extended.should_checkpoint:
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        model.save(output)


def show_errors(examples, limit=5):
    for source, prediction, target in examples[:limit]:
        print(f"  wrong: {source!r} -> {prediction!r} (expected {target!r})")


def cli(
    argv,
    prog,
    description,
    sizes,
    data_help,
    load_app,
    describe,
    predict_help="texts",
    eval_examples=2000,
    evaluate_data_help=None,
    decoding=False,
):
    """The `train|evaluate|predict` command line of an application.

    `load_app()` imports the application module lazily (it provides
    `train(**options)`, `evaluate(model_path, examples, seed, data)` and
    `predict(model_path, texts) -> lines`); `describe(result)` formats a
    train/evaluate result as one line. With `decoding=True` the three
    commands accept `--beam-width`/`--length-penalty` and pass
    `decoding={...}` to the application.
    """
    import argparse

    name = prog.rsplit(".", 1)[-1]
    parser = argparse.ArgumentParser(prog=f"python -m {prog}", description=description)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train on the embedded data (or --data) and report the metric")
    add_train_arguments(train, sizes, f"runs/{name}", f"{name}.keras", data_help)
    train.set_defaults(eval_examples=eval_examples)
    evaluate = commands.add_parser("evaluate", help="score a saved model on held-out data")
    evaluate.add_argument("--model", default=f"{name}.keras")
    evaluate.add_argument("--examples", type=int, default=eval_examples)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--data", help=evaluate_data_help or data_help)
    predict = commands.add_parser("predict", help=f"run a saved model on {predict_help}")
    predict.add_argument("texts", nargs="+", help=predict_help)
    predict.add_argument("--model", default=f"{name}.keras")
    if decoding:
        for command in (train, evaluate, predict):
            add_decoding_arguments(command)
    args = parser.parse_args(argv)
    app = load_app()
    extra = {"decoding": decoding_kwargs(args)} if decoding else {}
    if args.command == "train":
        result = app.train(**train_kwargs(args), **extra)
        print(
            f"held-out ({result['eval_examples']} examples): {describe(result)} "
            f"(training {result['train_seconds']:.0f} s on {result['replicas']} replica(s))"
        )
        show_errors(result["examples"])
        print(f"model saved to {args.output}; TensorBoard: tensorboard --logdir {args.logdir}")
    elif args.command == "evaluate":
        result = app.evaluate(args.model, examples=args.examples, seed=args.seed, data=args.data, **extra)
        print(f"{result['eval_examples']} examples: {describe(result)}")
        show_errors(result["examples"])
    else:
        for line in app.predict(args.model, args.texts, **extra):
            print(line)
    return 0
