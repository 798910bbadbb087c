"""T5-style multi-task data: ``(input_text, target_text)`` pairs named by a task prefix.

Every input starts with its task's prefix (`PREFIXES`), as in T5, so one
sequence-to-sequence model can be trained on the mixture and told which task
to do. All texts are lowercase tokens separated by single spaces, so a
word-level vocabulary works (about 520 words over the three tasks).

===============  ===========================================  ======================
task             input                                        target
===============  ===========================================  ======================
date_to_iso      ``"date to iso: oct 2 3 rd , 2 0 4 0"``      ``"2 0 4 0 - 1 0 -
                 (a date from `applications.dates_nmt.data`,  2 3"`` (the ISO date
                 lowercased, tokenized with `date_tokens`)    2040-10-23, tokenized)
translate_de_en  ``"translate german to english: neun         ``"nine thousand , nine
                 tausend neun hundert neun und neunzig"``     hundred and
                 (a cardinal 0..9999 in German from           ninety-nine"``
                 `applications.transformer_nmt.data`, its     (``num2words(value,
                 compound words split by                      lang="en")``, commas as
                 `split_german_number`)                       separate tokens)
answer           ``"answer: where was anna born ? context:    ``"lisbon"`` (the
                 anna was born in lisbon in 1987 . ben        answer span)
                 lives in oslo ."`` (`applications.qa.data`,
                 2 or 3 sentences)
===============  ===========================================  ======================

Tokenization choices:

* Dates are split into words (letter runs), single digits and single
  punctuation marks by `date_tokens`: ``"03/07/95"`` -> ``"0 3 / 0 7 / 9
  5"``, ``"7th"`` -> ``"7 th"``. Raw date words (``"23rd,"``, ``"19950307"``)
  would make tens of thousands of distinct "words"; this keeps the date
  vocabulary to about 100 tokens (month and weekday names and abbreviations,
  ordinal suffixes, digits, marks). The target is the ISO date tokenized the
  same way; ``"".join(target.split())`` (`iso_from_target`) gives back
  ``"yyyy-mm-dd"``.
* German writes numbers below a million as one compound word
  (``"neuntausendneunhundertneunundneunzig"``), one "word" per number; they are
  split into their 27 parts (`GERMAN_NUMBER_PARTS`: ``"neun tausend neun
  hundert neun und neunzig"``, ``"sech zehn"``, ``"ein und zwanzig"``). Only
  cardinals up to `MAX_NUMBER` (9,999) are used, to keep the task short.

Splits: with ``split="train"`` / ``"test"``, the translation task uses the
held-out number ranges of `applications.transformer_nmt.data` (test numbers
are 107, 135, ..., 998 and 7,000..7,999, never seen in training); the other
tasks draw from independent random streams, and `make_datasets` removes every
test example whose input is also a training input. ``split="all"`` (the
default of `generate_task`) draws from yet another stream without a held-out
rule.

Example:

>>> from applications.text_to_text.data import generate_task
>>> generate_task("translate_de_en", 2, seed=0)  # doctest: +NORMALIZE_WHITESPACE
[('translate german to english: fünf hundert neun und siebzig',
  'five hundred and seventy-nine'),
 ('translate german to english: acht und neunzig', 'ninety-eight')]
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Iterator

from applications import contract

TASKS = ("date_to_iso", "translate_de_en", "answer")
PREFIXES = {
    "date_to_iso": "date to iso:",
    "translate_de_en": "translate german to english:",
    "answer": "answer:",
}
SPLITS = ("train", "test", "all")
MAX_NUMBER = 9999
QA_SENTENCES = (2, 3)
# The longest input and target (in words, ``len(text.split())``) of each task,
# checked on generated data by tests/applications/test_text_to_text_data.py.
MAX_WORDS = {
    "date_to_iso": (15, 10),
    "translate_de_en": (11, 7),
    "answer": (36, 2),
}
GERMAN_NUMBER_PARTS = (
    "null", "eins", "ein", "zwei", "drei", "vier", "fünf", "sechs", "sech",
    "sieben", "sieb", "acht", "neun", "zehn", "elf", "zwölf", "zwanzig",
    "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig",
    "neunzig", "hundert", "tausend", "und",
)  # fmt: skip
# Longest first, for a greedy longest-prefix split.
_PARTS_LONGEST_FIRST = sorted(GERMAN_NUMBER_PARTS, key=len, reverse=True)
_DATE_TOKEN = re.compile(r"[^\W\d_]+|\d|\S")
_CHUNK = 1000


def date_tokens(text: str) -> str:
    """Lowercases a date and splits it into words, single digits and marks.

    Example:

    >>> from applications.text_to_text.data import date_tokens
    >>> date_tokens("Tue, Mar 7th, '95")
    "tue , mar 7 th , ' 9 5"
    >>> date_tokens("1995-03-07")
    '1 9 9 5 - 0 3 - 0 7'
    """
    return " ".join(_DATE_TOKEN.findall(text.lower()))


def iso_from_target(target: str) -> str:
    """The ``yyyy-mm-dd`` string of a ``date_to_iso`` target.

    Example:

    >>> from applications.text_to_text.data import iso_from_target
    >>> iso_from_target("1 9 9 5 - 0 3 - 0 7")
    '1995-03-07'
    """
    return "".join(target.split())


def split_german_number(text: str) -> str:
    """Splits German number words into `GERMAN_NUMBER_PARTS`.

    Raises:
        ValueError: If a word is not made of those parts.

    Example:

    >>> from applications.text_to_text.data import split_german_number
    >>> split_german_number("neuntausendneunhundertneunundneunzig")
    'neun tausend neun hundert neun und neunzig'
    >>> split_german_number("siebzehn"), split_german_number("einhunderteins")
    ('sieb zehn', 'ein hundert eins')
    """
    parts = []
    for word in text.lower().split():
        i = 0
        while i < len(word):
            part = next(
                (p for p in _PARTS_LONGEST_FIRST if word.startswith(p, i)), None
            )
            if part is None:
                raise ValueError(f"{word!r} is not a German number word below 10,000.")
            parts.append(part)
            i += len(part)
    return " ".join(parts)


def _sub_seed(task: str, split: str, seed: int, chunk: int) -> int:
    """An integer seed for one chunk of a task's stream (stable across runs)."""
    text = f"text_to_text/{task}/{split}/{seed}/{chunk}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _dates(split: str, seed: int) -> Iterator[tuple[str, str, dict]]:
    # Imported here: the dates_nmt package imports Keras.
    from applications.dates_nmt.data import generate_pairs as generate_date_pairs

    prefix = PREFIXES["date_to_iso"]
    chunk = 0
    while True:
        for source, iso in generate_date_pairs(
            _CHUNK, seed=_sub_seed("date_to_iso", split, seed, chunk)
        ):
            meta = {"source": source, "date": datetime.date.fromisoformat(iso)}
            yield f"{prefix} {date_tokens(source)}", date_tokens(iso), meta
        chunk += 1


def _numbers(split: str, seed: int) -> Iterator[tuple[str, str, dict]]:
    # Imported here, as the other generators: `predict` does not need them
    # (the transformer_nmt package imports its app, and Keras).
    from applications.transformer_nmt.data import (
        generate_examples as generate_nmt_examples,
    )

    prefix = PREFIXES["translate_de_en"]
    chunk = 0
    while True:
        for source, target, meta in generate_nmt_examples(
            _CHUNK,
            seed=_sub_seed("translate_de_en", split, seed, chunk),
            languages=("de",),
            kinds=("cardinal",),
            split=split,
        ):
            if meta["value"] <= MAX_NUMBER:
                source = f"{prefix} {split_german_number(source)}"
                yield source, target.replace(",", " ,"), meta
        chunk += 1


def _answers(split: str, seed: int) -> Iterator[tuple[str, str, dict]]:
    from applications.qa.data import generate_examples as generate_qa_examples

    prefix = PREFIXES["answer"]
    chunk = 0
    while True:
        for example in generate_qa_examples(
            _CHUNK, _sub_seed("answer", split, seed, chunk), *QA_SENTENCES
        ):
            source = f"{prefix} {example['question']} context: {example['context']}"
            yield source, example["answer_text"], example
        chunk += 1


_STREAMS = {"date_to_iso": _dates, "translate_de_en": _numbers, "answer": _answers}


def _check(task, n, seed, split) -> None:
    if task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS}; got {task!r}.")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"`n` must be a non-negative integer; got {n!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"`seed` must be an integer; got {seed!r}.")
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}; got {split!r}.")


def generate_task_examples(
    task: str, n: int, seed: int = 0, split: str = "all"
) -> list[tuple[str, str, dict]]:
    """Like `generate_task`, with the ``meta`` each pair was made from.

    ``meta`` is ``{"source", "date"}`` for ``date_to_iso`` (the dates_nmt
    source before lowercasing and tokenization, and the `datetime.date`),
    the transformer_nmt meta ``{"kind", "lang", "value", "style"}`` for
    ``translate_de_en`` and the QA example dict for ``answer``.

    Example:

    >>> from applications.text_to_text.data import generate_task_examples
    >>> source, target, meta = generate_task_examples("date_to_iso", 1, seed=0)[0]
    >>> source, target, meta["source"], meta["date"].isoformat()
    ("date to iso: may 1 3 ' 5 7", '1 9 5 7 - 0 5 - 1 3', "May 13 '57", '1957-05-13')
    """
    _check(task, n, seed, split)
    stream = _STREAMS[task](split, seed)
    return [next(stream) for _ in contract.progress(range(n), desc=f"generating {task}", unit="pair")]


def generate_task(
    task: str, n: int, seed: int = 0, split: str = "all"
) -> list[tuple[str, str]]:
    """Generates ``n`` ``(input, target)`` pairs of one task.

    The output is deterministic given the arguments, and the first ``k``
    pairs do not depend on ``n``.

    Args:
        task: One of `TASKS`.
        n: The number of pairs (>= 0).
        seed: The random seed (an integer).
        split: ``"train"``, ``"test"`` or ``"all"`` (see the module
            docstring).

    Returns:
        A list of ``(input, target)`` pairs; inputs start with
        ``PREFIXES[task] + " "``.

    Raises:
        ValueError: If an argument is invalid.

    Example:

    >>> from applications.text_to_text.data import generate_task
    >>> source, target = generate_task("answer", 1, seed=0)[0]
    >>> print(source)
    answer: how old is lena ? context: lena is 63 years old . ben is 77 years old . zoe is 30 years old .
    >>> target
    '63'
    """
    return [(s, t) for s, t, _ in generate_task_examples(task, n, seed, split)]


def make_datasets(
    n_per_task: int, seed: int = 0, n_test_per_task: int | None = None
) -> dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]]:
    """Returns ``{task: (train_pairs, test_pairs)}`` for every task in `TASKS`.

    Training pairs are ``generate_task(task, n_per_task, seed, "train")``;
    test pairs are drawn from the ``"test"`` split, skipping every input that
    is a training input, so no input is in both. (The test numbers of
    ``translate_de_en`` are held out, so they repeat in large test sets: there
    are 1,036 of them.)

    Args:
        n_per_task: Training pairs per task.
        seed: The random seed (an integer).
        n_test_per_task: Test pairs per task; by default ``n_per_task // 10``.

    Raises:
        ValueError: If an argument is invalid.

    Example:

    >>> from applications.text_to_text.data import make_datasets
    >>> datasets = make_datasets(50, seed=0)
    >>> {task: (len(train), len(test)) for task, (train, test) in datasets.items()}
    {'date_to_iso': (50, 5), 'translate_de_en': (50, 5), 'answer': (50, 5)}
    """
    if n_test_per_task is None:
        n_test_per_task = n_per_task // 10 if isinstance(n_per_task, int) else 0
    datasets = {}
    for task in TASKS:
        _check(task, n_per_task, seed, "train")
        _check(task, n_test_per_task, seed, "test")
        train = generate_task(task, n_per_task, seed, "train")
        seen = {source for source, _ in train}
        test = []
        stream = _STREAMS[task]("test", seed)
        while len(test) < n_test_per_task:
            source, target, _ = next(stream)
            if source not in seen:
                test.append((source, target))
        datasets[task] = (train, test)
    return datasets
