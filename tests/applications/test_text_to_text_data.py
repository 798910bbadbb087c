import calendar
import datetime
import re

import pytest
from num2words import num2words

from applications.text_to_text.data import (
    GERMAN_NUMBER_PARTS,
    MAX_NUMBER,
    MAX_WORDS,
    PREFIXES,
    TASKS,
    date_tokens,
    generate_task,
    generate_task_examples,
    iso_from_target,
    make_datasets,
    split_german_number,
)

MONTHS = [name.lower() for name in calendar.month_name[1:]]  # the stdlib, English
WEEKDAYS = [name.lower() for name in calendar.day_name]


def held_out(n):
    """transformer_nmt's held-out rule below 10,000, written independently."""
    return (100 <= n < 1000 and n % 100 in (7, 35, 62, 98)) or 7000 <= n < 8000


def body(task, source):
    prefix = PREFIXES[task] + " "
    assert source.startswith(prefix), source
    return source[len(prefix) :]


@pytest.fixture(scope="module")
def examples():
    return {task: generate_task_examples(task, 3000, seed=8) for task in TASKS}


def test_prefixes_and_format(examples):
    vocabulary = set()
    for task, task_examples in examples.items():
        longest = [0, 0]
        for source, target, _ in task_examples:
            body(task, source)
            for text in (source, target):
                assert text == " ".join(text.split()) and text == text.lower()
                vocabulary.update(text.split())
            longest[0] = max(longest[0], len(source.split()))
            longest[1] = max(longest[1], len(target.split()))
        assert longest[0] <= MAX_WORDS[task][0] and longest[1] <= MAX_WORDS[task][1]
        assert longest[0] >= MAX_WORDS[task][0] - 2, (task, longest)
    assert len(vocabulary) < 2000
    assert set(PREFIXES) == set(TASKS)


def test_date_targets(examples):
    for source, target, meta in examples["date_to_iso"]:
        iso = iso_from_target(target)
        date = datetime.datetime.strptime(iso, "%Y-%m-%d").date()
        assert date == meta["date"] and target == " ".join(iso)
        tokens = body("date_to_iso", source).split()
        # Tokens: letter runs, single digits, single marks.
        assert all(re.fullmatch(r"[a-z]+|[0-9]|[^a-z0-9\s]", t) for t in tokens)
        assert "".join(tokens) == "".join(meta["source"].lower().split())
        # The input names this date: weekday and month names, day and year digits.
        for token in tokens:
            if token.isalpha() and len(token) >= 3 and token not in ("the",):
                weekdays = [i for i, w in enumerate(WEEKDAYS) if w.startswith(token)]
                months = [i + 1 for i, m in enumerate(MONTHS) if m.startswith(token)]
                if token == "sept":
                    months = [9]
                assert weekdays or months, token
                if weekdays:
                    assert weekdays == [date.weekday()]
                else:
                    assert months == [date.month]
        digits = "".join(t for t in tokens if t.isdigit())
        assert f"{date.year % 100:02d}" in digits and str(date.day) in digits


def test_number_targets(examples):
    parts = set(GERMAN_NUMBER_PARTS)
    for source, target, meta in examples["translate_de_en"]:
        value = meta["value"]
        assert meta["kind"] == "cardinal" and meta["lang"] == "de"
        assert 0 <= value <= MAX_NUMBER
        assert target == num2words(value, lang="en").replace(",", " ,")
        words = body("translate_de_en", source).split()
        assert set(words) <= parts
        assert "".join(words) == num2words(value, lang="de").lower()


def test_answer_targets(examples):
    for source, target, meta in examples["answer"]:
        match = re.fullmatch(r"answer: (.+ \?) context: (.+ \.)", source)
        question, context = match[1], match[2]
        assert (question, context, target) == (
            meta["question"],
            meta["context"],
            meta["answer_text"],
        )
        words = context.split()
        span = words[meta["answer_start_word"] : meta["answer_end_word"] + 1]
        assert " ".join(span) == target
        assert f" {context} ".count(f" {target} ") == 1
        assert words.count(".") in (2, 3)


def test_split_german_number_covers_every_number():
    for n in range(MAX_NUMBER + 1):
        word = num2words(n, lang="de").lower()
        split = split_german_number(word)
        assert "".join(split.split()) == word
        assert set(split.split()) <= set(GERMAN_NUMBER_PARTS)
    assert split_german_number("sechzehn siebzig") == "sech zehn siebzig"
    with pytest.raises(ValueError, match="'million' is not a German number"):
        split_german_number("zwei million")


def test_date_tokens():
    assert date_tokens("Wednesday, the 27th of September 1995") == (
        "wednesday , the 2 7 th of september 1 9 9 5"
    )
    assert date_tokens("19950307") == "1 9 9 5 0 3 0 7"
    assert date_tokens("07.03.95") == "0 7 . 0 3 . 9 5"
    assert iso_from_target(date_tokens("1995-03-07")) == "1995-03-07"


def test_determinism_seeds_and_splits():
    for task in TASKS:
        pairs = generate_task(task, 30, seed=3)
        assert pairs == generate_task(task, 30, seed=3)
        assert generate_task(task, 7, seed=3) == pairs[:7]
        assert generate_task(task, 30, seed=4) != pairs
        assert generate_task(task, 30, seed=3, split="train") != pairs
        assert generate_task(task, 0) == []


def test_number_splits_use_held_out_values():
    train = generate_task_examples("translate_de_en", 500, seed=1, split="train")
    test = generate_task_examples("translate_de_en", 200, seed=1, split="test")
    assert not any(held_out(m["value"]) for _, _, m in train)
    assert all(held_out(m["value"]) for _, _, m in test)


def test_make_datasets():
    datasets = make_datasets(300, seed=2, n_test_per_task=50)
    assert tuple(datasets) == TASKS
    for task, (train, test) in datasets.items():
        assert len(train) == 300 and len(test) == 50
        assert train == generate_task(task, 300, seed=2, split="train")
        assert not {s for s, _ in train} & {s for s, _ in test}
        assert all(s.startswith(PREFIXES[task] + " ") for s, _ in train + test)
    assert make_datasets(300, seed=2, n_test_per_task=50) == datasets
    assert {t: len(d[1]) for t, d in make_datasets(20).items()} == dict.fromkeys(
        TASKS, 2
    )


@pytest.mark.parametrize(
    "args, kwargs",
    [
        (("poetry", 2), {}),
        (("answer", -1), {}),
        (("answer", 2.0), {}),
        (("answer", 2), {"seed": "1"}),
        (("answer", 2), {"split": "dev"}),
    ],
)
def test_invalid_arguments(args, kwargs):
    with pytest.raises(ValueError):
        generate_task(*args, **kwargs)


def test_make_datasets_invalid():
    with pytest.raises(ValueError):
        make_datasets(-1)
    with pytest.raises(ValueError):
        make_datasets(10, n_test_per_task=-1)
