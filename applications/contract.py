"""The application contract: what an application in `applications/` is made
of, and everything the applications share.

Adding an application is writing a package `applications/<name>/`:

* ``data.py`` — a seeded generator of the embedded default data
  (`make_dataset(...)`, long loops wrapped in `progress`) and loaders of the
  standard public formats (`load_<format>(path)`, reading with `data_lines`)
  that raise a `ValueError` naming the file and the line of bad input.
* ``app.py`` — the model (custom Keras classes decorated with
  `serializable`), `build_model`, and what the command line calls:

  - ``train(size="default", *, data=None, eval_examples=N, **options)``:
    ``run = Training(SIZES, size, **options)`` first (sizes, seed,
    strategy), then ``run.examples(data, load_x, generate, eval_examples)``,
    ``run.datasets(inputs, targets)``, ``run.fit(build, train, ...)``,
    ``run.save(model)`` and ``return run.result(model, held_out_count, **metrics)``;
  - ``evaluate(model_path, examples, seed, data)`` -> metrics and
    `eval_examples`;
  - ``predict(model_path, inputs)`` -> one output (or line) per input;
  - ``load = loader("<name>", ModelClass)`` (or a `load` that also reads
    the files saved beside the model);
  - ``describe(result) -> str``: the metric line the command line prints.
* ``__init__.py`` — the docstring (its first paragraph is the `--help`
  description), ``SIZES`` (`Size`s with a one-line purpose each: `fast` is
  what the test suite trains, `default` what RESULTS.md reports) and ``APP =
  Application(__name__, SIZES, eval_examples=..., inputs_help=...,
  data_help=...)``: the command line's texts and extra `Option`s (the hook
  for application-specific options, passed to the functions above by name).
* ``__main__.py`` — ``def main(argv=None): return APP.main(argv)``.

What every application gets from here:

* **The command line** (`Application.main`): `train`, `evaluate` and
  `predict` with the same options everywhere (`--size`, `--epochs`,
  `--batch-size` per replica, `--strategy`, `--backup-dir`/`--backup-every`,
  ...), help on every option, `--help` without starting TensorFlow, routine
  errors (a missing file, a non-positive count, an unknown size, an empty
  input, a malformed data file, a missing optional package) as one line with
  exit code 2, `--verbose` for tracebacks and TensorFlow's start-up log, and
  a final summary of where the model and the logs went.
* **Reloading**: `Application` makes the public names of ``app.py`` and
  ``data.py`` attributes of the package and imports ``app.py`` at once, so
  ``import applications.<name>`` registers every class its saved model needs
  (`keras.saving.load_model(path)` works in ``safe_mode=True``). Only
  ``python -m applications.<name>`` defers that import until a command runs
  (that is what keeps `--help` free of TensorFlow).
* **Training** (`Training`): the size, seeding, the `tf.distribute` strategy
  (global batch = per-replica batch x replicas), held-out splits of loaded
  data, tf.data datasets, TensorBoard, a `checkpoint.keras` of the last
  epoch, `backup_callback`, timing, saving (only on the chief) and the result.
* **Helpers**: `schedule` (warm-up + cosine learning rate),
  `compile_classifier`, `transformer_options`, `load_model`/`loader`,
  `check_count`/`check_inputs`/`check_arguments`/`check_pairs`, `progress`
  and `stage` (progress on long work), `cache_option`.

Nothing here imports TensorFlow, Keras or NumPy at import time.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import os
import re
import sys
import time

#: The Keras registration package of every application class
#: (`"applications>Translator"`, `"applications>FrameLengths"`, ...).
PACKAGE = "applications"
#: The `--strategy` choices: `keras_seq.distribute.STRATEGIES`, listed here so
#: that `--help` needs no import of keras_seq (a test keeps the two equal).
STRATEGIES = ("auto", "default", "cpu", "mirrored", "multi_worker", "tpu")
#: The common `train` options (keyword arguments of `Training`).
TRAIN_OPTIONS = (
    "size", "data", "eval_examples", "epochs", "batch_size", "train_examples", "seed",
    "log_dir", "output", "strategy", "num_cpu_devices", "backup_dir", "backup_every",
)  # fmt: skip
EVALUATE_OPTIONS = ("examples", "seed", "data")
INSTALL_EXTRAS = 'pip install -e ".[audio,music,nlp,video]"'


class UsageError(ValueError):
    """A routine mistake in how an application was called (reported in one
    line, after `prog`: the command that was called)."""

    def __init__(self, message, prog=None):
        super().__init__(message)
        self.prog = prog


# -- sizes -------------------------------------------------------------------------


class Size:
    """A named model/training size: a one-line `purpose` and its values.

    >>> fast = Size("what the tests train", epochs=4, batch_size=64)
    >>> fast.epochs, fast.get("units", 8), fast.replace(epochs=2).epochs
    (4, 8, 2)
    """

    def __init__(self, purpose, **values):
        if not isinstance(purpose, str) or not purpose.strip() or "\n" in purpose:
            raise ValueError(f"`purpose` must be a one-line description; received {purpose!r}.")
        object.__setattr__(self, "purpose", purpose)
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name):
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        raise AttributeError(f"this size has no {name!r}; it has {sorted(values)}")

    def __setattr__(self, name, value):
        raise AttributeError("a Size is frozen; use `replace(...)`")

    def get(self, name, default=None):
        return self._values.get(name, default)

    def pick(self, *names):
        """The named values as a dict (keyword arguments of a model).

        >>> Size("x", units=8, epochs=2).pick("units")
        {'units': 8}
        """
        return {name: self._values[name] for name in names}

    def replace(self, **changes):
        return Size(self.purpose, **{**self._values, **changes})

    def as_dict(self):
        return dict(self._values)

    def __eq__(self, other):
        return isinstance(other, Size) and (self.purpose, self._values) == (other.purpose, other._values)

    def __hash__(self):
        return hash(self.purpose)

    def __repr__(self):
        values = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"Size({self.purpose!r}, {values})"


def choose(sizes, size):
    """`sizes[size]`, or a `ValueError` naming the sizes there are.

    >>> choose({"fast": 1}, "huge")
    Traceback (most recent call last):
    ...
    ValueError: `size` must be one of ['fast']; received 'huge'.
    """
    if not isinstance(size, str) or size not in sizes:
        raise ValueError(f"`size` must be one of {sorted(sizes)}; received {size!r}.")
    return sizes[size]


def check_count(name, value, allow_none=True, minimum=1):
    """An integer >= `minimum` (1 or 0; or None when allowed), else a `ValueError`.

    >>> check_count("epochs", 3)
    3
    >>> check_count("examples", 0)
    Traceback (most recent call last):
    ...
    ValueError: `examples` must be a positive integer or None; received 0.
    >>> check_count("n", -1, allow_none=False, minimum=0)
    Traceback (most recent call last):
    ...
    ValueError: `n` must be a non-negative integer; received -1.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        if type(value).__module__ == "numpy" and int(value) == value and value >= minimum:
            return int(value)
        expected = ("a positive integer" if minimum else "a non-negative integer") + (" or None" if allow_none else "")
        raise ValueError(f"`{name}` must be {expected}; received {value!r}.")
    return value


def check_arguments(errors=(), positive=None, rates=None):
    """Raises one `ValueError` listing `errors`, every `positive` value that
    is not a positive integer and every `rates` value outside [0, 1) (the
    argument checks of the applications' Keras models).

    >>> check_arguments(["`cell` must be 'gru'."], positive={"units": 0}, rates={"dropout": 1.0})
    Traceback (most recent call last):
    ...
    ValueError: `cell` must be 'gru'. `units` must be a positive integer; received 0. `dropout` must be in [0, 1); received 1.0.
    """
    errors = list(errors)
    for name, value in (positive or {}).items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            errors.append(f"`{name}` must be a positive integer; received {value!r}.")
    for name, value in (rates or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            errors.append(f"`{name}` must be in [0, 1); received {value!r}.")
    if errors:
        raise ValueError(" ".join(errors))


def data_lines(path, encoding="utf-8-sig"):
    r"""`(line number, line)` of a text data file, without line ends, blank
    lines and `#` comment lines (a byte-order mark is ignored).

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "pairs.tsv")
    >>> _ = open(path, "w").write("# a comment\n\na\tb\n")
    >>> list(data_lines(path))
    [(3, 'a\tb')]
    """
    with open(path, encoding=encoding) as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if line.strip() and not line.lstrip().startswith("#"):
                yield number, line


def check_pairs(pairs, what="(source, target)"):
    """`pairs` as a list of 2-tuples, else a `ValueError` naming the first
    item that is not a pair (the check of the applications' data writers).

    >>> check_pairs([("a", "b"), ["c", "d"]])
    [('a', 'b'), ('c', 'd')]
    >>> check_pairs([("a", "b", "c")])
    Traceback (most recent call last):
    ...
    ValueError: `pairs` must hold (source, target) pairs; item 0 is ('a', 'b', 'c').
    """
    result = []
    for index, pair in enumerate(pairs):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValueError(f"`pairs` must hold {what} pairs; item {index} is {pair!r}.")
        result.append(tuple(pair))
    return result


def check_inputs(inputs, name="inputs", allow_empty=False):
    """A non-empty list of strings (each non-blank unless `allow_empty`),
    else a `ValueError`.

    >>> check_inputs(("3 May 1979",))
    ['3 May 1979']
    >>> check_inputs(["ok", " "], "texts")
    Traceback (most recent call last):
    ...
    ValueError: `texts` must be non-empty strings; item 1 is ' '.
    """
    if isinstance(inputs, str):
        raise ValueError(f"`{name}` must be a list of strings; received the string {inputs!r}.")
    inputs = list(inputs)
    if not inputs:
        raise ValueError(f"`{name}` must hold at least one item.")
    for index, item in enumerate(inputs):
        if not isinstance(item, str) or (not allow_empty and not item.strip()):
            raise ValueError(f"`{name}` must be {'' if allow_empty else 'non-empty '}strings; item {index} is {item!r}.")
    return inputs


# -- progress ----------------------------------------------------------------------


def progress(iterable=None, *, total=None, desc=None, unit="it"):
    """`iterable` with a tqdm progress bar on stderr (shown only when stderr
    is a terminal, so logs and tests stay clean).

    >>> sum(progress(range(4), desc="counting"))
    6
    """
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=None, leave=False, dynamic_ncols=True)


@contextlib.contextmanager
def stage(message):
    """Says on a terminal's stderr that a long step without a loop to count
    (learning a WordPiece vocabulary, ...) runs, and how long it took.

    >>> with stage("thinking"):
    ...     pass
    """
    shown = sys.stderr.isatty()
    if shown:
        print(f"{message} ...", end="", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        yield
    finally:
        if shown:
            print(f" {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


# -- models: registration, schedules, loading ------------------------------------------


def serializable(cls):
    """Registers a Keras class under the applications' package name.

    ``@serializable`` on every custom layer or model an application saves,
    so that `keras.saving.load_model` finds it in ``safe_mode``."""
    import keras

    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)


def schedule(peak, decay_steps, warmup_steps=0, alpha=0.0):
    """Learning rate: linear warm-up from 0 to `peak` over `warmup_steps`,
    then cosine decay to `alpha * peak` over `decay_steps`
    (`keras.optimizers.schedules.CosineDecay`).

    >>> rate = schedule(1e-3, 100, warmup_steps=10)
    >>> [round(float(rate(s)), 6) for s in (0, 5, 10, 110)]
    [0.0, 0.0005, 0.001, 0.0]
    """
    import keras

    decay_steps = max(1, int(decay_steps))
    if warmup_steps:
        return keras.optimizers.schedules.CosineDecay(
            0.0, decay_steps, alpha=alpha, warmup_target=peak, warmup_steps=int(warmup_steps)
        )
    return keras.optimizers.schedules.CosineDecay(peak, decay_steps, alpha=alpha)


def compile_classifier(model, learning_rate, *, ignore_class=None, weighted=False, clipnorm=None,
                       global_clipnorm=None, accuracy=True):
    """Compiles `model` (logits over classes or tokens) with Adam at
    `learning_rate` (a float or a `schedule`), sparse categorical
    cross-entropy from logits (`ignore_class`: padding left out of the loss)
    and accuracy (as a weighted metric when the data carry sample weights).
    Returns the model."""
    import keras

    optimizer = keras.optimizers.Adam(learning_rate, clipnorm=clipnorm, global_clipnorm=global_clipnorm)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=ignore_class)
    metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")] if accuracy else []
    model.compile(optimizer=optimizer, loss=loss, **{"weighted_metrics" if weighted else "metrics": metrics})
    return model


def transformer_options(size, layers=("num_layers",)):
    """The applications' Transformer shape from a size: `size.hidden_dim`
    wide, 4 heads, a feed-forward 4 x wider, dropout 0.1, and
    `size.num_layers` layers under each name in `layers`.

    >>> transformer_options(Size("x", hidden_dim=64, num_layers=2))
    {'num_layers': 2, 'hidden_dim': 64, 'num_heads': 4, 'intermediate_dim': 256, 'dropout': 0.1}
    """
    options = {name: size.num_layers for name in layers}
    options.update(hidden_dim=size.hidden_dim, num_heads=4, intermediate_dim=4 * size.hidden_dim, dropout=0.1)
    return options


def steps_per_epoch(examples, batch_size):
    """Optimizer steps of one epoch over `examples` (the last batch may be short).

    >>> steps_per_epoch(10, 4)
    3
    """
    return max(1, -(-int(examples) // int(batch_size)))


def check_exists(path, what="`model_path`"):
    """`path` if it exists, else a `ValueError` saying so."""
    if path is None or not os.path.exists(os.fspath(path)):
        raise ValueError(f"{what} {os.fspath(path) if path is not None else None!r} does not exist.")
    return path


def load_model(path, app, expected=None, check=None):
    """Loads a saved application model (``safe_mode=True``, not compiled: the
    applications load models to run them).

    Args:
        path: the `.keras` file.
        app: the application's name, for messages.
        expected: the class (or classes) the model must be an instance of.
        check: or a predicate the model must pass.

    Raises:
        ValueError: the file is missing, is not a Keras file, or holds
            another kind of model.
    """
    import zipfile

    import keras

    check_exists(path)
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except (zipfile.BadZipFile, OSError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{os.fspath(path)} could not be loaded as a {app} model: {_one_line(error)}") from error
    kind = expected if isinstance(expected, tuple) else (expected,) if expected else ()
    if (kind and not isinstance(model, kind)) or (check is not None and not check(model)):
        what = f" (a {kind[0].__name__})" if kind else ""
        raise ValueError(f"{os.fspath(path)} is not a {app} model{what}.")
    return model


def vocabulary(value):
    """A `keras_seq.text.Vocabulary`, rebuilt from its config when a saved
    model's `from_config` hands one over (anything else is returned as is,
    for the model's own checks)."""
    from keras_seq.text import Vocabulary

    return Vocabulary.from_config(value) if isinstance(value, dict) else value


def loader(app, expected=None, check=None):
    """`load(path)` of an application whose saved file is its model alone
    (see `load_model`)."""

    def load(path):
        return load_model(path, app, expected, check)

    load.__doc__ = f"Loads a saved {app} model (`keras.saving.load_model` in safe mode, checked)."
    return load


def backup_callback(backup_dir, every=None):
    """The fault-tolerance callback of `--backup-dir DIR --backup-every N`:
    `keras_seq.callbacks.BackupAndRestore` (Keras's, with atomic backups and
    mid-epoch resumption), saving every `every` steps (every epoch when None)
    and resuming from the backup when the same command runs again."""
    from keras_seq.callbacks import BackupAndRestore

    return BackupAndRestore(backup_dir, save_freq=every or "epoch", delete_checkpoint=True)


@functools.cache
def _latest_model_class():
    import keras

    class LatestModel(keras.callbacks.Callback):
        """Saves the model to `path` after every epoch, atomically: written
        to a temporary `.keras` file beside it and renamed over `path`
        (`os.replace`), so a crash while saving leaves the previous epoch's
        checkpoint intact instead of a truncated one."""

        def __init__(self, path):
            super().__init__()
            self.path = os.fspath(path)

        def on_epoch_end(self, epoch, logs=None):
            folder = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(folder, exist_ok=True)
            staging = os.path.join(folder, f".{os.path.basename(self.path)}.{os.getpid()}.partial.keras")
            try:
                self.model.save(staging)
                os.replace(staging, self.path)
            finally:
                if os.path.exists(staging):
                    os.remove(staging)

    return LatestModel


def LatestModel(path):  # noqa: N802 (a class, built lazily so `--help` needs no Keras)
    """`LatestModel(path)`: the callback that keeps `path` = the model as of
    the last finished epoch, replaced atomically (see `_latest_model_class`)."""
    return _latest_model_class()(path)


def batched(inputs, targets, batch_size, seed=None, sample_weights=None):
    """A prefetched `tf.data.Dataset` of `(inputs, targets[, sample_weights])`
    in batches of `batch_size` (the global batch); shuffled when seeded."""
    import tensorflow as tf

    elements = (inputs, targets) if sample_weights is None else (inputs, targets, sample_weights)
    dataset = tf.data.Dataset.from_tensor_slices(elements)
    if seed is not None:
        count = len(targets) if not isinstance(targets, dict) else len(next(iter(targets.values())))
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def held_out_split(items, eval_examples, seed):
    """`(train, test)` of a loaded data set: a seeded 10% (at most
    `eval_examples`, at least one item) held out."""
    import numpy as np

    if len(items) < 2:
        raise ValueError(f"the data must hold at least 2 examples to hold some out; it holds {len(items)}.")
    order = np.random.default_rng(seed).permutation(len(items))
    held = max(1, min(eval_examples, len(items) // 10))
    return [items[i] for i in order[held:]], [items[i] for i in order[:held]]


# -- training ------------------------------------------------------------------------


class Training:
    """One training run: the chosen size and the common options, resolved and
    checked at once, the strategy, and what was trained and saved.

    Create it first thing in `train` (before any TensorFlow work: splitting
    the CPU into logical devices must precede device initialisation).

    Args:
        sizes, size: the application's `SIZES` and the chosen name.
        epochs, batch_size, train_examples: override the size's values;
            `batch_size` is per replica (the global batch is `batch_size`
            times the strategy's replicas).
        seed: seeds Python, NumPy and TensorFlow (`keras.utils.set_random_seed`).
        log_dir: TensorBoard logs and `checkpoint.keras` (the model as of
            the last finished epoch), or None.
        output: where `save` writes the model, or None.
        strategy, num_cpu_devices: see `keras_seq.distribute.get_strategy`.
        backup_dir, backup_every: `backup_callback` (resume after a crash).
        verbose: Keras's `fit` verbosity.
    """

    def __init__(
        self,
        sizes,
        size="default",
        *,
        epochs=None,
        batch_size=None,
        train_examples=None,
        seed=0,
        log_dir=None,
        output=None,
        strategy="auto",
        num_cpu_devices=None,
        backup_dir=None,
        backup_every=None,
        verbose=1,
    ):
        errors = []
        for name, value in (
            ("epochs", epochs), ("batch_size", batch_size), ("train_examples", train_examples),
            ("num_cpu_devices", num_cpu_devices), ("backup_every", backup_every),
        ):  # fmt: skip
            try:
                check_count(name, value)
            except ValueError as error:
                errors.append(str(error))
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            errors.append(f"`seed` must be a non-negative integer; received {seed!r}.")
        if backup_every is not None and not backup_dir:
            errors.append("`backup_every` needs `backup_dir`.")
        if strategy not in STRATEGIES:
            errors.append(f"`strategy` must be one of {STRATEGIES}; received {strategy!r}.")
        try:
            self.size = choose(sizes, size)
        except ValueError as error:
            errors.append(str(error))
        if errors:
            raise ValueError(" ".join(errors))
        import keras

        from keras_seq.distribute import get_strategy

        self.size_name = size
        self.strategy = get_strategy(strategy, num_cpu_devices=num_cpu_devices)
        keras.utils.set_random_seed(seed)
        self.seed = seed
        self.replicas = self.strategy.num_replicas_in_sync
        # Only the chief writes logs, checkpoints and the model (multi-worker).
        self.chief = bool(getattr(self.strategy.extended, "should_checkpoint", True))
        self.epochs = epochs or self.size.get("epochs")
        self.per_replica_batch_size = batch_size or self.size.get("batch_size")
        self.batch_size = self.per_replica_batch_size * self.replicas if self.per_replica_batch_size else None
        self.train_examples = train_examples or self.size.get("train_examples")
        self.log_dir, self.output = log_dir, output
        self.backup_dir, self.backup_every = backup_dir, backup_every
        self.verbose = verbose
        self.train_seconds = 0.0
        self.history = {}
        self.saved = []

    def examples(self, data, load, generate, eval_examples):
        """`(train, held_out)` examples: `load(data)` with a seeded 10% (at
        most `eval_examples`) held out, or `generate()` without `data`."""
        return held_out_split(load(data), eval_examples, self.seed) if data else generate()

    def datasets(self, inputs, targets, sample_weights=None, validate_one_in=20):
        """`(train, validation, steps)`: the first 1/`validate_one_in` of
        the examples (at least one) as the validation dataset, the rest as
        the training dataset, shuffled with the run's seed, both in batches
        of the global batch (`batched`); `steps` is the optimizer steps of
        all epochs (for a learning-rate `schedule`)."""
        count = len(targets) if not isinstance(targets, dict) else len(next(iter(targets.values())))
        held = max(1, count // validate_one_in)

        def part(start, stop, seed=None):
            cut = lambda x: None if x is None else {k: v[start:stop] for k, v in x.items()} if isinstance(x, dict) else x[start:stop]  # noqa: E731
            return batched(cut(inputs), cut(targets), self.batch_size, seed, cut(sample_weights))

        steps = self.epochs * steps_per_epoch(count - held, self.batch_size)
        return part(held, count, self.seed), part(0, held), steps

    def callbacks(self, stage=None):
        """TensorBoard + last-epoch checkpoint (with `log_dir`) and the backup
        (with `backup_dir`); `stage` names a subfolder for multi-stage training."""
        import keras

        result = []
        log_dir = self.log_dir and (os.path.join(self.log_dir, stage) if stage else self.log_dir)
        if log_dir and self.chief:
            result.append(keras.callbacks.TensorBoard(log_dir=log_dir))
            result.append(LatestModel(os.path.join(log_dir, "checkpoint.keras")))
        if self.backup_dir:
            result.append(backup_callback(os.path.join(self.backup_dir, stage or ""), self.backup_every))
        return result

    def fit(self, model, x, y=None, *, epochs=None, callbacks=(), stage=None, **fit_options):
        """Builds `model` (a model, or a function returning one) under the
        strategy and fits it with `callbacks()` plus `callbacks` (callbacks,
        or functions `model -> callback`). Returns `(model, history dict)`."""
        import keras

        if not isinstance(model, keras.Model):
            with self.strategy.scope():
                model = model()
        resolved = self.callbacks(stage)
        for callback in callbacks:
            resolved.append(callback if isinstance(callback, keras.callbacks.Callback) else callback(model))
        if hasattr(x, "element_spec"):
            from keras_seq.distribute import shard_by_data

            fit_options.setdefault("shuffle", False)  # datasets shuffle themselves, seeded
            x = shard_by_data(x)  # multi-worker: every worker its share of each global batch
            batches = int(x.cardinality())
            if self.backup_dir and fit_options.get("steps_per_epoch") is None and batches > 0:
                # One stream, reshuffled every epoch, whose position the backup
                # records: a resumed run sees the batches an uninterrupted one would.
                x, fit_options["steps_per_epoch"] = x.repeat(), batches
        started = time.perf_counter()
        history = model.fit(
            x, y, epochs=epochs or self.epochs, callbacks=resolved, verbose=self.verbose, **fit_options
        ).history
        self.train_seconds += time.perf_counter() - started
        for key, values in history.items():
            self.history.setdefault(key, []).extend(values)
        return model, history

    def save(self, model, path=None):
        """Saves `model` to `path` (default: `output`); returns the path or None."""
        path = path or self.output
        if not path or not self.chief:
            return None
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        model.save(path)
        self.saved.append(os.fspath(path))
        return path

    def wrote(self, path):
        """Records a file saved beside the model (vocabulary, language model, ...)."""
        self.saved.append(os.fspath(path))

    def result(self, model, eval_examples, **values):
        """The dict `train` returns: `values` plus `model`, `history`,
        `train_seconds`, `replicas`, `eval_examples`, `saved`, `log_dir`."""
        values.setdefault("examples", [])
        return dict(
            values, model=model, history=values.get("history", self.history), train_seconds=self.train_seconds,
            replicas=self.replicas, eval_examples=eval_examples, saved=list(self.saved), log_dir=self.log_dir,
        )  # fmt: skip


# -- the command line -------------------------------------------------------------------


class Option:
    """An application-specific command-line option: `add_argument`'s
    arguments (`help` required) and the commands that take it. Its `dest`
    is passed to the application function under that name.

    >>> Option("--heatmap", commands=("predict",), help="save the attention here").dest
    'heatmap'
    """

    def __init__(self, *flags, commands=("train",), **kwargs):
        if not kwargs.get("help"):
            raise ValueError(f"option {flags} needs a `help` text.")
        if kwargs["help"] is not argparse.SUPPRESS:
            kwargs["help"] = kwargs["help"].replace("%", "%%")
        self.flags, self.commands, self.kwargs = flags, tuple(commands), kwargs

    @property
    def dest(self):
        return self.kwargs.get("dest") or self.flags[0].lstrip("-").replace("-", "_")


def cache_option(what, folder, commands=("train", "evaluate")):
    """`--cache-dir DIR`: where an application caches `what` (default: the
    `folder` of keras_seq's cache, `$KERAS_SEQ_CACHE` or `~/.cache/keras_seq`)."""
    return Option(
        "--cache-dir", metavar="DIR", commands=commands,
        help=f"where {what} are cached (default: $KERAS_SEQ_CACHE/{folder}, else ~/.cache/keras_seq/{folder})",
    )  # fmt: skip


class _Help(argparse.HelpFormatter):
    """Appends "(default: X)" to an option's help when X says something."""

    def _get_help_string(self, action):
        text = action.help or ""
        quiet = action.default is None or action.default is False or action.default is argparse.SUPPRESS
        if action.option_strings and not quiet and "(default" not in text:
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """An `ArgumentParser` whose errors are `UsageError`s (one line, exit 2)."""

    def error(self, message):
        raise UsageError(message, self.prog)


def _count(text):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; received {text!r}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer; received {text!r}")
    return value


def _one_line(error, limit=400):
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


# What TensorFlow's native libraries print at import, whatever TF_CPP_MIN_LOG_LEVEL says
# (twice: two libraries initialise absl); `--verbose` shows it.
_START_UP_NOISE = re.compile(
    r"All log messages before absl::InitializeLog|oneDNN custom operations|cudart_stub|"
    r"cpu_feature_guard|To enable the following instructions|rebuild TensorFlow with the appropriate|"
    r"Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered|"
    r"TF-TRT Warning|absl::InitializeLog\(\) is called"
)


@contextlib.contextmanager
def _quiet_start_up():
    """Captures what native code writes to file descriptor 2 while TensorFlow
    starts, and passes on every line but the start-up notices."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    import tempfile

    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode("utf-8", "replace").splitlines():
                if line.strip() and not _START_UP_NOISE.search(line):
                    print(line, file=sys.stderr)


_MISSING = object()


def _summary(docstring):
    r"""The first paragraph of a docstring, on one line, without "See ..." pointers.

    >>> _summary("Tags entities.\n  See `x`.\n\nMore.")
    'Tags entities.'
    """
    paragraph = " ".join((docstring or "").strip().split("\n\n")[0].split())
    return re.split(r"\s+See `", paragraph)[0].strip()


def _running_as_main():
    # Python's docs on `-m`: "while the module file is being located, the first
    # element [of sys.argv] will be set to "-m"". The package is imported while
    # it is located, so this holds only for `python -m applications.<name>`.
    return sys.argv[:1] == ["-m"]


class Application:
    """The command line (and package exports) of one application.

    Args:
        package: the application package's `__name__`.
        sizes: the `SIZES` dict of `Size`s.
        eval_examples: the default held-out count.
        inputs_help: what `predict` takes.
        data_help: what `--data` reads.
        description: for `--help` (default: the first paragraph of the
            package's docstring, without "See ..." pointers).
        evaluate_data_help: what `evaluate --data` reads, when it differs.
        options: extra `Option`s (the hook for application-specific options).
        decoding: `--beam-width`/`--length-penalty` on every command, passed
            as `decoding={...}`.
        inputs: ``"texts"`` or ``"files"`` (checked to exist).
        empty_inputs: whether `predict ""` is meaningful (e.g. a free sample).
        echo_inputs: print ``input<TAB>output`` (else the outputs as lines).
        annotate: ``(input, output) -> note or None``, appended to a line.
        special_data: `--data` values that are names, not paths.
        model_file: the default saved-model path.
        model_flags: the flags naming the saved model (default `--model`).
        output_file: the default `train --output` (default `model_file`).
        train_options, evaluate_options: the common options these commands take.
        commands: extra `(name, help, options, run)` commands on a saved model
            (they take the model flag and `options`); `run(app_module, args)`
            returns the lines to print.
        aliases: extra names of the standard commands (`{"predict": ["query"]}`).
        exports: the submodules whose public names the package exports
            lazily (`app` is imported at once, so that importing the package
            registers its Keras classes, unless it runs with `python -m`).
    """

    def __init__(
        self,
        package,
        sizes,
        *,
        eval_examples,
        inputs_help,
        data_help,
        description=None,
        evaluate_data_help=None,
        options=(),
        decoding=False,
        inputs="texts",
        empty_inputs=False,
        echo_inputs=False,
        annotate=None,
        special_data=(),
        model_file=None,
        model_flags=("--model",),
        output_file=None,
        train_options=TRAIN_OPTIONS,
        evaluate_options=EVALUATE_OPTIONS,
        commands=(),
        aliases=None,
        exports=("app", "data"),
    ):
        if inputs not in ("texts", "files"):
            raise ValueError(f'`inputs` must be "texts" or "files"; received {inputs!r}.')
        self.package = package
        self.name = package.rsplit(".", 1)[-1]
        self.prog = f"python -m {package}"
        self.description = description or _summary(sys.modules[package].__doc__)
        self.sizes = sizes
        self.data_help = data_help.replace("%", "%%")
        self.evaluate_data_help = (evaluate_data_help or f"score on this instead of generated data: {data_help}").replace("%", "%%")
        self.inputs_help = inputs_help.replace("%", "%%")
        self.eval_examples = eval_examples
        self.options = list(options)
        self.decoding = decoding
        self.inputs = inputs
        self.empty_inputs = empty_inputs
        self.echo_inputs = echo_inputs
        self.annotate = annotate
        self.special_data = tuple(special_data)
        self.model_file = model_file or f"{self.name}.keras"
        self.model_flags = tuple(model_flags)
        self.output_file = output_file or self.model_file
        self.train_options = tuple(train_options)
        self.evaluate_options = tuple(evaluate_options)
        self.commands = list(commands)
        self.aliases = dict(aliases or {})
        self._export(exports)

    # -- package exports -----------------------------------------------------------

    def _export(self, modules):
        """Makes the public names of the package's submodules `modules`
        attributes of the package (and the package's `APP`), imported on
        first use, and imports `app` now unless the package is run with
        `python -m` (see the module docstring)."""
        package = sys.modules[self.package]
        package.APP = self

        def __getattr__(name):
            if name in modules:
                return importlib.import_module(f"{self.package}.{name}")
            if not name.startswith("_"):
                for module in modules:
                    found = getattr(importlib.import_module(f"{self.package}.{module}"), name, _MISSING)
                    if found is not _MISSING:
                        return found
            raise AttributeError(f"module {self.package!r} has no attribute {name!r}")

        package.__getattr__ = __getattr__
        if not _running_as_main():
            importlib.import_module(f"{self.package}.app")

    # -- parser ---------------------------------------------------------------------

    def _size_help(self):
        return "; ".join(f"{name}: {size.purpose}" for name, size in self.sizes.items()).replace("%", "%%")

    def parser(self):
        formatter = _Help
        parser = _Parser(prog=self.prog, description=self.description, formatter_class=formatter)
        parser.add_argument("--verbose", action="store_true", help="show tracebacks and TensorFlow's start-up log")
        commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
        made = {}
        for name, helptext in (
            ("train", "train on the embedded data (or --data), report held-out metrics, save the model"),
            ("evaluate", "score a saved model on held-out data"),
            ("predict", f"run a saved model on {self.inputs_help}"),
        ):
            made[name] = commands.add_parser(
                name, help=helptext, description=helptext, formatter_class=formatter,
                aliases=self.aliases.get(name, []),
            )  # fmt: skip
        self._train_arguments(made["train"])
        self._evaluate_arguments(made["evaluate"])
        self._predict_arguments(made["predict"])
        for name, helptext, options, _ in self.commands:
            made[name] = commands.add_parser(name, help=helptext, description=helptext, formatter_class=formatter)
            self._model_argument(made[name])
            for option in options:
                made[name].add_argument(*option.flags, **option.kwargs)
        for option in self.options:
            for command in option.commands:
                made[command].add_argument(*option.flags, **option.kwargs)
        for command in made.values():
            command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                                 help="show tracebacks and TensorFlow's start-up log")
            if self.decoding and command.prog.split()[-1] in ("train", "evaluate", "predict"):
                command.add_argument("--beam-width", type=_count, metavar="N", help="decode with beam search of this width (default: greedy)")
                command.add_argument("--length-penalty", type=float, metavar="ALPHA", default=0.0, help="beam score = log P / T^alpha; this is alpha")
        return parser

    def _train_arguments(self, parser):
        common = {
            "size": (("--size",), dict(choices=list(self.sizes), default="default", help=f"model and data size ({self._size_help()})")),
            "data": (("--data",), dict(metavar="PATH", help=self.data_help)),
            "eval_examples": (("--eval-examples",), dict(type=_count, metavar="N", default=self.eval_examples, help="held-out examples to score")),
            "epochs": (("--epochs",), dict(type=_count, metavar="N", help="epochs (default: the size's)")),
            "batch_size": (("--batch-size",), dict(type=_count, metavar="N", help="batch size per replica (default: the size's); the global batch is this times the replicas")),
            "train_examples": (("--train-examples",), dict(type=_count, metavar="N", help="training examples (default: the size's)")),
            "seed": (("--seed",), dict(type=_seed, default=0, help="seed of the data and of training")),
            "log_dir": (("--logdir",), dict(dest="log_dir", metavar="DIR", default=f"runs/{self.name}", help="TensorBoard logs and checkpoint.keras (the last epoch's model)")),
            "output": (("--output",), dict(metavar="PATH", default=self.output_file, help="where to save the trained model")),
            "strategy": (("--strategy",), dict(choices=STRATEGIES, default="auto", help="tf.distribute strategy (keras_seq.distribute.get_strategy)")),
            "num_cpu_devices": (("--cpu-devices",), dict(dest="num_cpu_devices", metavar="N", type=_count, help="split the CPU into N logical devices (with --strategy mirrored)")),
            "backup_dir": (("--backup-dir",), dict(metavar="DIR", help="back training up here and resume from it after a crash (keras.callbacks.BackupAndRestore)")),
            "backup_every": (("--backup-every",), dict(type=_count, metavar="N", help="back up every N steps (default: every epoch); needs --backup-dir")),
        }  # fmt: skip
        for name in self.train_options:
            flags, kwargs = common[name]
            parser.add_argument(*flags, **kwargs)

    def _model_argument(self, parser):
        parser.add_argument(*self.model_flags, dest="model_path", metavar="PATH", default=self.model_file,
                            help="the saved model")

    def _evaluate_arguments(self, parser):
        self._model_argument(parser)
        common = {
            "examples": (("--examples",), dict(type=_count, metavar="N", default=self.eval_examples, help="held-out examples to score")),
            "seed": (("--seed",), dict(type=_seed, default=0, help="seed of the generated held-out data")),
            "data": (("--data",), dict(metavar="PATH", help=self.evaluate_data_help)),
        }  # fmt: skip
        for name in self.evaluate_options:
            flags, kwargs = common[name]
            parser.add_argument(*flags, **kwargs)

    def _predict_arguments(self, parser):
        parser.add_argument("inputs", nargs="+", metavar="INPUT", help=self.inputs_help)
        self._model_argument(parser)

    # -- running ---------------------------------------------------------------------

    def main(self, argv=None):
        """Runs the command line; returns the exit code (2 for routine errors)."""
        argv = sys.argv[1:] if argv is None else list(argv)
        verbose = "--verbose" in argv
        try:
            args = self.parser().parse_args(argv)
            self._check(args)
            if not verbose:
                os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # C++ notices; errors still raise
            return self._run(args, verbose) or 0
        except SystemExit as exit:  # --help
            return exit.code if isinstance(exit.code, int) else 0
        except KeyboardInterrupt:
            print(f"{self.prog}: interrupted", file=sys.stderr)
            return 130
        except (ValueError, OSError, ImportError) as error:
            if verbose:
                raise
            message = _one_line(error)
            if isinstance(error, ImportError):
                message += f" (the applications' optional packages: {INSTALL_EXTRAS})"
            elif not isinstance(error, UsageError):
                message += " (--verbose shows the traceback)"
            print(f"{getattr(error, 'prog', None) or self.prog}: error: {message}", file=sys.stderr)
            return 2

    def _check(self, args):
        """Checks what can be checked before TensorFlow starts."""
        prog = f"{self.prog} {args.command}"
        inputs = getattr(args, "inputs", None)
        if inputs is not None:
            if not self.empty_inputs and any(not text.strip() for text in inputs):
                raise UsageError(f"every INPUT must be non-empty; received {inputs!r}.", prog)
            if self.inputs == "files":
                for path in inputs:
                    if not os.path.isfile(path):
                        raise UsageError(f"input file {path!r} does not exist.", prog)
        data = getattr(args, "data", None)
        if data is not None and data not in self.special_data and not os.path.exists(data):
            names = f" (and is not one of {list(self.special_data)})" if self.special_data else ""
            raise UsageError(f"--data {data!r} does not exist{names}.", prog)
        model_path = getattr(args, "model_path", None)
        if model_path is not None and not os.path.exists(model_path):
            raise UsageError(
                f"{self.model_flags[0]} {model_path!r} does not exist; train one first "
                f"({self.prog} train --output {model_path}).",
                prog,
            )
        if getattr(args, "backup_every", None) is not None and not getattr(args, "backup_dir", None):
            raise UsageError("--backup-every needs --backup-dir.", prog)

    def _app(self, verbose):
        if verbose or "tensorflow" in sys.modules:
            return importlib.import_module(f"{self.package}.app")
        with _quiet_start_up():
            import tensorflow  # noqa: F401  (started here, where its notices are filtered)
        return importlib.import_module(f"{self.package}.app")

    def _keywords(self, args, command, common):
        keywords = {name: getattr(args, name) for name in common if hasattr(args, name)}
        for option in self.options:
            if command in option.commands:
                keywords[option.dest] = getattr(args, option.dest)
        if self.decoding and getattr(args, "beam_width", None) is not None:
            keywords["decoding"] = {"strategy": "beam", "beam_width": args.beam_width, "length_penalty": args.length_penalty}
        return keywords

    def _run(self, args, verbose):
        command = {alias: name for name, names in self.aliases.items() for alias in names}.get(args.command, args.command)
        app = self._app(verbose)
        for name, _, _, run in self.commands:
            if command == name:
                for line in run(app, args):
                    print(line)
                return 0
        if command == "train":
            result = app.train(**self._keywords(args, "train", self.train_options))
            self._report(app, result, training=True)
            self._summary(result)
        elif command == "evaluate":
            result = app.evaluate(args.model_path, **self._keywords(args, "evaluate", self.evaluate_options))
            self._report(app, result, training=False)
        else:
            outputs = app.predict(args.model_path, args.inputs, **self._keywords(args, "predict", ()))
            for text, output in zip(args.inputs, outputs) if self.echo_inputs else ((None, o) for o in outputs):
                line = f"{text}\t{output}" if self.echo_inputs else str(output)
                note = self.annotate(text, output) if self.annotate else None
                print(f"{line}\t({note})" if note else line)
        return 0

    def _report(self, app, result, training):
        line = app.describe(result)
        if "eval_examples" in result:
            count = result["eval_examples"]
            line = f"held-out ({count} examples): {line}" if training else f"{count} examples: {line}"
        if training and result.get("train_seconds") is not None:
            line += f" (training {result['train_seconds']:.0f} s on {result.get('replicas', 1)} replica(s))"
        print(line)
        for source, prediction, target in result.get("examples", [])[:5]:
            print(f"  wrong: {source!r} -> {prediction!r} (expected {target!r})")

    def _summary(self, result):
        saved = result.get("saved") or []
        if saved:
            print(f"saved: {', '.join(saved)} (reload: applications.{self.name}.load({saved[0]!r}))")
        else:
            print("nothing saved (no --output)")
        log_dir = result.get("log_dir")
        if log_dir:
            print(f"logs: {log_dir} (tensorboard --logdir {log_dir}; the last epoch's model is checkpoint.keras there)")
