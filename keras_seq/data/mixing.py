"""Multi-task data mixing: how often each task's examples are drawn.

The strategies follow Raffel et al. (T5, 2020, section 3.5.2): with task sizes
``e_m`` (number of examples),

* ``"proportional"`` (examples-proportional mixing): ``r_m ∝ e_m``, or
  ``r_m ∝ min(e_m, K)`` with a `limit` ``K``, so that huge tasks do not drown
  the others;
* ``"equal"`` (equal mixing, i.e. the same share for each task):
  ``r_m = 1 / M``;
* ``"temperature"`` (temperature-scaled mixing): ``r_m ∝ min(e_m, K)^(1/T)``;
  ``T = 1`` is proportional mixing and a large ``T`` tends to equal mixing.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import tensorflow as tf

from keras_seq._validation import check_bools

_STRATEGIES = ("proportional", "equal", "temperature")
TASK_KEY = "task"


def mixing_weights(
    sizes: Mapping[str, float],
    strategy: str = "proportional",
    temperature: float | None = None,
    limit: float | None = None,
) -> dict[str, float]:
    """Returns the sampling rate of each task under a mixing strategy.

    See the module docstring for the formulas.

    Args:
        sizes: Task name -> size (number of examples, > 0).
        strategy: ``"proportional"``, ``"equal"`` or ``"temperature"``.
            Defaults to `"proportional"`.
        temperature: The temperature ``T > 0``; required by, and only allowed
            with, ``"temperature"``. Defaults to `None`.
        limit: The size limit ``K > 0`` (sizes above it count as ``K``); only
            with ``"proportional"`` and ``"temperature"``. Defaults to `None`.

    Returns:
        Task name -> rate, in the order of `sizes`, summing to 1.

    Raises:
        ValueError: If an argument is invalid.

    Example:

    >>> from keras_seq.data import mixing_weights
    >>> sizes = {"translate": 900, "summarize": 100}
    >>> mixing_weights(sizes)
    {'translate': 0.9, 'summarize': 0.1}
    >>> mixing_weights(sizes, limit=300)
    {'translate': 0.75, 'summarize': 0.25}
    >>> mixing_weights(sizes, "equal")
    {'translate': 0.5, 'summarize': 0.5}
    >>> mixing_weights(sizes, "temperature", temperature=2.0)
    {'translate': 0.75, 'summarize': 0.25}
    """
    _check_names(sizes, "sizes")
    for name, size in sizes.items():
        if not _is_real(size) or not math.isfinite(size) or size <= 0:
            raise ValueError(
                f"`sizes` must map task names to positive sizes; {name!r} has {size!r}."
            )
    if strategy not in _STRATEGIES:
        raise ValueError(
            f"`strategy` must be one of {list(_STRATEGIES)}; got {strategy!r}."
        )
    if strategy == "temperature":
        if not _is_real(temperature) or not temperature > 0:
            raise ValueError(
                'strategy="temperature" needs a `temperature` > 0; got '
                f"{temperature!r}."
            )
    elif temperature is not None:
        raise ValueError(
            f'`temperature` is only used with strategy="temperature"; got '
            f"temperature={temperature!r} with strategy={strategy!r}."
        )
    if limit is not None:
        if strategy == "equal":
            raise ValueError(
                '`limit` has no effect with strategy="equal"; leave it None.'
            )
        if not _is_real(limit) or not limit > 0:
            raise ValueError(f"`limit` must be None or a number > 0; got {limit!r}.")

    if strategy == "equal":
        return {name: 1.0 / len(sizes) for name in sizes}
    capped = {
        name: float(size if limit is None else min(size, limit))
        for name, size in sizes.items()
    }
    if strategy == "temperature":
        # Rates are normalised before the power, as in T5; the result is the
        # same and the intermediate values stay small.
        total = sum(capped.values())
        capped = {
            name: (size / total) ** (1.0 / temperature) for name, size in capped.items()
        }
    total = sum(capped.values())
    return {name: value / total for name, value in capped.items()}


def mix_datasets(
    datasets: Mapping[str, tf.data.Dataset],
    strategy: str = "proportional",
    sizes: Mapping[str, float] | None = None,
    temperature: float | None = None,
    seed: int | None = None,
    limit: float | None = None,
    with_task_name: bool = False,
    stop_on_empty_dataset: bool = False,
) -> tf.data.Dataset:
    """Interleaves several tasks' datasets at random with `mixing_weights`.

    Each draw picks task ``m`` with probability ``r_m`` (via
    `tf.data.Dataset.sample_from_datasets`) and yields its next example. The
    rates hold while every dataset still has examples: to keep them for a
    whole training run, as T5 does, pass repeated datasets (``.repeat()``)
    with explicit `sizes`. With finite datasets, exhausted tasks drop out and
    the remaining rates are renormalised (or the mixture stops, with
    ``stop_on_empty_dataset=True``).

    All datasets must have the same element structure and dtypes. With
    ``with_task_name=True`` every example carries its task name as a string:
    dict elements get a ``"task"`` key, any other element ``x`` becomes
    ``{"inputs": x, "task": name}``.

    Args:
        datasets: Task name -> `tf.data.Dataset`.
        strategy: ``"proportional"``, ``"equal"`` or ``"temperature"``.
            Defaults to `"proportional"`.
        sizes: Task name -> number of examples, for the proportional and
            temperature strategies. Defaults to `None`: each dataset's
            `cardinality()` (which must then be finite and known).
        temperature: As in `mixing_weights`. Defaults to `None`.
        seed: The sampling seed; the same seed gives the same task sequence.
            Defaults to `None`.
        limit: As in `mixing_weights`. Defaults to `None`.
        with_task_name: Whether to add the task name to each example.
            Defaults to `False`.
        stop_on_empty_dataset: Whether the mixture ends when any dataset is
            exhausted. Defaults to `False`.

    Returns:
        The mixed `tf.data.Dataset`.

    Raises:
        ValueError: If an argument is invalid, sizes cannot be inferred, or a
            dict element already has a ``"task"`` key.

    Example:

    >>> import tensorflow as tf
    >>> from keras_seq.data import mix_datasets
    >>> datasets = {
    ...     "big": tf.data.Dataset.from_tensors({"x": 1}).repeat(),
    ...     "small": tf.data.Dataset.from_tensors({"x": 2}).repeat(),
    ... }
    >>> mixed = mix_datasets(datasets, "temperature", sizes={"big": 900,
    ...                      "small": 100}, temperature=2.0, seed=0,
    ...                      with_task_name=True)
    >>> tasks = [e["task"] for e in mixed.take(1000).as_numpy_iterator()]
    >>> abs(tasks.count(b"small") / 1000 - 0.25) < 0.05  # its rate is 0.25
    True
    """
    _check_names(datasets, "datasets")
    for name, dataset in datasets.items():
        if not isinstance(dataset, tf.data.Dataset):
            raise ValueError(
                f"`datasets` must map task names to tf.data.Dataset objects; "
                f"{name!r} is {type(dataset).__name__}."
            )
    check_bools(
        {"with_task_name": with_task_name, "stop_on_empty_dataset": stop_on_empty_dataset}
    )
    if seed is not None and (
        not isinstance(seed, numbers.Integral) or isinstance(seed, bool)
    ):
        raise ValueError(f"`seed` must be None or an int; got {seed!r}.")
    if sizes is None:
        sizes = {name: 1 for name in datasets} if strategy == "equal" else None
        if sizes is None:
            sizes = {name: _cardinality(name, ds) for name, ds in datasets.items()}
    elif not isinstance(sizes, Mapping) or set(sizes) != set(datasets):
        given = sorted(sizes) if isinstance(sizes, Mapping) else sizes
        raise ValueError(
            f"`sizes` must have the same task names as `datasets` "
            f"{sorted(datasets)}; got {given!r}."
        )
    weights = mixing_weights(
        {name: sizes[name] for name in datasets},
        strategy=strategy,
        temperature=temperature,
        limit=limit,
    )
    members = [
        _with_task(name, dataset) if with_task_name else dataset
        for name, dataset in datasets.items()
    ]
    try:
        return tf.data.Dataset.sample_from_datasets(
            members,
            weights=[weights[name] for name in datasets],
            seed=seed,
            stop_on_empty_dataset=stop_on_empty_dataset,
        )
    except (TypeError, ValueError) as error:
        specs = {name: ds.element_spec for name, ds in datasets.items()}
        raise ValueError(
            "`datasets` must share one element structure and dtypes; got "
            f"{specs} ({error})."
        ) from error


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_names(mapping, name: str) -> None:
    if not isinstance(mapping, Mapping) or not mapping:
        raise ValueError(
            f"`{name}` must be a non-empty dict keyed by task name; got {mapping!r}."
        )
    for key in mapping:
        if not isinstance(key, str) or not key:
            raise ValueError(
                f"`{name}` keys must be non-empty task-name strings; got {key!r}."
            )


def _cardinality(name: str, dataset: tf.data.Dataset) -> int:
    cardinality = int(dataset.cardinality())
    if cardinality < 0:
        kind = "infinite" if cardinality == tf.data.INFINITE_CARDINALITY else "unknown"
        raise ValueError(
            f"The size of dataset {name!r} is {kind}: pass `sizes` (the number "
            "of examples of each task)."
        )
    if cardinality == 0:
        raise ValueError(f"Dataset {name!r} is empty.")
    return cardinality


def _with_task(name: str, dataset: tf.data.Dataset) -> tf.data.Dataset:
    if isinstance(dataset.element_spec, Mapping):
        if TASK_KEY in dataset.element_spec:
            raise ValueError(
                f"Dataset {name!r} already has a {TASK_KEY!r} key; rename it or "
                "pass with_task_name=False."
            )
        return dataset.map(lambda element: {**element, TASK_KEY: tf.constant(name)})

    def wrap(*element):
        inputs = element[0] if len(element) == 1 else element
        return {"inputs": inputs, TASK_KEY: tf.constant(name)}

    return dataset.map(wrap)
