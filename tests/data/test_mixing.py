import numpy as np
import pytest
import tensorflow as tf

from keras_seq.data import mix_datasets, mixing_weights

SIZES = {"translate": 20_000, "summarize": 2_000, "qa": 200}
DRAWS = 20_000
ROOT10 = np.sqrt(10)  # sqrt(2000 / 200)


def endless(value):
    return tf.data.Dataset.from_tensors({"x": tf.constant(value)}).repeat()


def task_counts(dataset, draws=DRAWS):
    tasks = next(iter(dataset.take(draws).batch(draws)))["task"].numpy()
    assert len(tasks) == draws
    return {
        name.decode(): int(count)
        for name, count in zip(*np.unique(tasks, return_counts=True))
    }


def test_mixing_weights_formulas():
    total = sum(SIZES.values())
    proportional = mixing_weights(SIZES)
    assert list(proportional) == list(SIZES)
    for name, size in SIZES.items():
        assert proportional[name] == pytest.approx(size / total)
    # T5's examples-proportional mixing with limit K: min(e, K) / sum min(e, K).
    capped = mixing_weights(SIZES, limit=1_000)
    assert capped == pytest.approx(
        {"translate": 1000 / 2200, "summarize": 1000 / 2200, "qa": 200 / 2200}
    )
    assert mixing_weights(SIZES, "equal") == pytest.approx(
        {name: 1 / 3 for name in SIZES}
    )
    tempered = mixing_weights(SIZES, "temperature", temperature=3.0)
    roots = {name: size ** (1 / 3) for name, size in SIZES.items()}
    assert tempered == pytest.approx(
        {n: r / sum(roots.values()) for n, r in roots.items()}
    )
    # T = 1 is proportional; a large T approaches equal; the limit applies first.
    assert mixing_weights(SIZES, "temperature", temperature=1.0) == pytest.approx(
        proportional
    )
    assert mixing_weights(SIZES, "temperature", temperature=1e6) == pytest.approx(
        {name: 1 / 3 for name in SIZES}, abs=1e-4
    )
    assert mixing_weights(
        SIZES, "temperature", temperature=2.0, limit=2_000
    ) == pytest.approx(
        {
            "translate": ROOT10 / (2 * ROOT10 + 1),
            "summarize": ROOT10 / (2 * ROOT10 + 1),
            "qa": 1 / (2 * ROOT10 + 1),
        }
    )
    for weights in (proportional, capped, tempered):
        assert sum(weights.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "strategy, kwargs",
    [
        ("proportional", {}),
        ("proportional", dict(limit=1_000)),
        ("equal", {}),
        ("temperature", dict(temperature=2.0)),
    ],
)
def test_empirical_proportions_match_the_weights(strategy, kwargs):
    datasets = {name: endless(i) for i, name in enumerate(SIZES)}
    mixed = mix_datasets(
        datasets, strategy, sizes=SIZES, seed=0, with_task_name=True, **kwargs
    )
    weights = mixing_weights(SIZES, strategy, **kwargs)
    counts = task_counts(mixed)
    for name, weight in weights.items():
        share = counts.get(name, 0) / DRAWS
        sd = np.sqrt(weight * (1 - weight) / DRAWS)
        assert abs(share - weight) <= 3 * sd, (name, share, weight, 3 * sd)


def test_task_name_matches_the_source_dataset():
    datasets = {name: endless(i) for i, name in enumerate(SIZES)}
    mixed = mix_datasets(datasets, "equal", seed=1, with_task_name=True)
    batch = next(iter(mixed.take(300).batch(300)))
    names = list(SIZES)
    for value, task in zip(batch["x"].numpy(), batch["task"].numpy()):
        assert names[value] == task.decode()
    # Without task names, elements are unchanged.
    plain = mix_datasets(datasets, "equal", seed=1)
    assert set(plain.element_spec) == {"x"}


def test_non_dict_elements_are_wrapped():
    datasets = {
        "a": tf.data.Dataset.from_tensor_slices(([1, 2], [10, 20])),
        "b": tf.data.Dataset.from_tensor_slices(([3], [30])),
    }
    mixed = mix_datasets(datasets, seed=0, with_task_name=True)
    elements = list(mixed.as_numpy_iterator())
    # Sizes come from cardinality; finite datasets are used up exactly once.
    assert len(elements) == 3
    triples = sorted(
        (int(e["inputs"][0]), int(e["inputs"][1]), e["task"]) for e in elements
    )
    assert triples == [(1, 10, b"a"), (2, 20, b"a"), (3, 30, b"b")]


def test_seeded_determinism():
    datasets = {name: endless(i) for i, name in enumerate(SIZES)}

    def sequence(seed):
        mixed = mix_datasets(
            datasets, "temperature", sizes=SIZES, temperature=2.0, seed=seed
        )
        return next(iter(mixed.take(500).batch(500)))["x"].numpy().tolist()

    assert sequence(7) == sequence(7)
    assert sequence(7) != sequence(8)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((SIZES, "bogus"), {}, "`strategy`"),
        (({},), {}, "`sizes`"),
        (({"a": 0},), {}, "positive"),
        (({"a": -1.0},), {}, "positive"),
        (({"a": True},), {}, "positive"),
        (({1: 5},), {}, "keys"),
        ((SIZES, "temperature"), {}, "`temperature` > 0"),
        ((SIZES, "temperature"), dict(temperature=0.0), "`temperature` > 0"),
        ((SIZES, "proportional"), dict(temperature=2.0), "only used with"),
        ((SIZES, "equal"), dict(limit=10), "no effect"),
        ((SIZES,), dict(limit=0), "`limit`"),
    ],
)
def test_mixing_weights_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        mixing_weights(*args, **kwargs)


def test_mix_datasets_errors():
    finite = tf.data.Dataset.from_tensors({"x": 1})
    with pytest.raises(ValueError, match="infinite: pass `sizes`"):
        mix_datasets({"a": endless(0), "b": endless(1)})
    with pytest.raises(ValueError, match="unknown: pass `sizes`"):
        mix_datasets({"a": finite.filter(lambda e: True), "b": finite})
    with pytest.raises(ValueError, match="same task names"):
        mix_datasets({"a": finite, "b": finite}, sizes={"a": 1})
    with pytest.raises(ValueError, match="`datasets`"):
        mix_datasets({"a": [1, 2]})
    with pytest.raises(ValueError, match="`datasets`"):
        mix_datasets({})
    with pytest.raises(ValueError, match="already has a 'task' key"):
        mix_datasets(
            {"a": tf.data.Dataset.from_tensors({"task": 1})}, with_task_name=True
        )
    with pytest.raises(ValueError, match="share one element structure"):
        mix_datasets({"a": finite, "b": tf.data.Dataset.from_tensors({"y": 1.0})})
    with pytest.raises(ValueError, match="`seed`"):
        mix_datasets({"a": finite}, seed="x")
    with pytest.raises(ValueError, match="empty"):
        mix_datasets({"a": finite, "b": finite.take(0)})
