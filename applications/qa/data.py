"""Generated passages and questions for extractive question answering (SQuAD style).

Every example is a dict::

    {"context": str, "question": str, "answer_text": str,
     "answer_start": int,       # character offset of the answer in context
     "answer_start_word": int,  # index into context.split()
     "answer_end_word": int}    # inclusive

A passage has 3 to 6 sentences (`generate_examples`' ``min_sentences`` and
``max_sentences``), each stating one fact about one of two or three people;
texts are lowercase words separated by single spaces, punctuation as separate
tokens (``" ."``, ``" ,"``, ``" ?"``), so a word-level vocabulary works (about
360 words). Facts (the answer-bearing parts in brackets):

==========  ==================================================  ==========
fact        sentence (one of the variants)                      entities
==========  ==================================================  ==========
born        ``"anna was born in [lisbon] in [1987] ."``          city, year
lives       ``"today anna lives in [oslo] ."``                   city
job         ``"anna works as a [bus driver] ."`` (answer        job
            without the article)
count       ``"anna wrote [twelve] books ."``, ``"anna speaks    number
            [three] languages ."`` (two to twenty, in words)
moved       ``"in [march 2004] , anna moved to [paris] ."``      date, city,
                                                                year
age         ``"anna is [42] years old ."``                       age
==========  ==================================================  ==========

Question types (`QUESTION_TYPES`, drawn uniformly): ``birthplace`` ("where
was anna born ?"), ``birth_year`` ("in which year was anna born ?"),
``residence`` ("where does anna live ?"), ``job`` ("what does anna do for a
living ?"), ``count`` ("how many books did anna write ?"), ``move_date``
("when did anna move to paris ?" -> "march 2004"), ``move_city`` ("where did
anna move to ?") and ``age`` ("how old is anna ?").

The questions need the right sentence: every passage holds at least one other
entity of the asked type (another city, year, number, job, date or age) in
another sentence, often about the same person ("where was anna born ?" next to
"anna lives in oslo", "how many books did anna write ?" next to "anna painted
seven portraits") or the same fact about another person. The fact a question
asks about is unique in its passage, and all entities of one type in a
passage are different, so the answer text occurs exactly once in the context.
Facts are consistent: nobody moves before the age of 16 (ages count from
``REFERENCE_YEAR`` = 2024), and a person's age and birth year are never both
given.

`load_squad` reads SQuAD v1.1 JSON files into the same dicts and `save_squad`
writes them.

Example:

>>> from applications.qa.data import generate_examples
>>> example = generate_examples(1, seed=0)[0]
>>> print(example["context"])
lena moved to hamburg in april 1989 . karl moved to athens in august 2003 . karl owns eight cats . today karl lives in glasgow . lena is a teacher . lena lives in delhi .
>>> print(example["question"], "->", example["answer_text"])
where does lena live ? -> delhi
>>> words = example["context"].split()
>>> words[example["answer_start_word"] : example["answer_end_word"] + 1]
['delhi']
"""

from __future__ import annotations

import bisect
import json
import os
import random
import re
from collections.abc import Iterable, Iterator

from applications import contract
from applications._words import CITIES, MONTHS, NAMES

MIN_SENTENCES, MAX_SENTENCES = 2, 8
# The longest possible context, question and answer in words
# (``len(text.split())``) with ``max_sentences=6``, counted from the templates
# (three 9-word "in march 2004 , anna moved to paris ." and three 8-word "anna
# was born in lisbon in 1987 ."); checked on generated data by
# tests/applications/test_qa_data.py.
MAX_CONTEXT_WORDS = 51
MAX_QUESTION_WORDS = 8
MAX_ANSWER_WORDS = 2

JOBS = (
    "teacher", "doctor", "nurse", "lawyer", "pilot", "chef", "baker",
    "farmer", "painter", "writer", "engineer", "dentist", "architect",
    "singer", "journalist", "plumber", "bus driver", "police officer",
    "gardener", "librarian",
)  # fmt: skip
NUMBER_WORDS = (
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
    "seventeen", "eighteen", "nineteen", "twenty",
)  # fmt: skip
# Counted things: (noun, sentence, question).
COUNTS = (
    ("books", "{p} wrote {n} books .", "how many books did {p} write ?"),
    ("albums", "{p} recorded {n} albums .", "how many albums did {p} record ?"),
    ("portraits", "{p} painted {n} portraits .", "how many portraits did {p} paint ?"),
    (
        "countries",
        "{p} has visited {n} countries .",
        "how many countries has {p} visited ?",
    ),
    ("marathons", "{p} ran {n} marathons .", "how many marathons did {p} run ?"),
    ("medals", "{p} won {n} medals .", "how many medals did {p} win ?"),
    ("trees", "{p} planted {n} trees .", "how many trees did {p} plant ?"),
    ("children", "{p} has {n} children .", "how many children does {p} have ?"),
    ("cats", "{p} owns {n} cats .", "how many cats does {p} own ?"),
    ("languages", "{p} speaks {n} languages .", "how many languages does {p} speak ?"),
)
_COUNT_BY_NOUN = {noun: (sentence, question) for noun, sentence, question in COUNTS}

BORN_YEARS = (1940, 2004)
MOVE_YEARS = (1960, 2023)
AGES = (18, 95)
_MIN_MOVE_AGE = 16
REFERENCE_YEAR = 2024  # "now", for ages

# Question type -> (fact, answer entity type, question templates).
QUESTIONS = {
    "birthplace": (
        "born",
        "city",
        ("where was {p} born ?", "in which city was {p} born ?"),
    ),
    "birth_year": (
        "born",
        "year",
        ("in which year was {p} born ?", "when was {p} born ?"),
    ),
    "residence": (
        "lives",
        "city",
        ("where does {p} live ?", "in which city does {p} live ?"),
    ),
    "job": (
        "job",
        "job",
        ("what is the job of {p} ?", "what does {p} do for a living ?"),
    ),
    "count": ("count", "number", ()),
    "move_date": ("moved", "date", ("when did {p} move to {city} ?",)),
    "move_city": (
        "moved",
        "city",
        ("where did {p} move to ?", "where did {p} move in {date} ?"),
    ),
    "age": ("age", "age", ("how old is {p} ?",)),
}
QUESTION_TYPES = tuple(QUESTIONS)
FACTS = ("born", "lives", "job", "count", "moved", "age")
# The facts that mention an entity of each type.
_FACTS_WITH = {
    "city": ("born", "lives", "moved"),
    "year": ("born", "moved"),
    "number": ("count",),
    "job": ("job",),
    "date": ("moved",),
    "age": ("age",),
}


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


class _Passage:
    """Facts about people, with every entity of a type different."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.facts: list[dict] = []
        self.keys: set[tuple] = set()
        self.used: dict[str, set] = {"city": set(), "year": set(), "number": set(),
                                     "job": set(), "age": set()}  # fmt: skip

    def _fresh(self, kind: str, values) -> object | None:
        choices = [v for v in values if v not in self.used[kind]]
        if not choices:
            return None
        value = self.rng.choice(choices)
        self.used[kind].add(value)
        return value

    def _of(self, person: str, fact: str) -> dict | None:
        return next(
            (f for f in self.facts if f["person"] == person and f["fact"] == fact),
            None,
        )

    def add(self, person: str, fact: str) -> dict | None:
        """Adds a random ``fact`` about ``person``; None if it is not allowed."""
        rng = self.rng
        key = (person, fact)
        if fact == "count":
            noun = rng.choice(COUNTS)[0]
            key = (person, fact, noun)
        if key in self.keys:
            return None
        if (
            fact in ("born", "age")
            and (person, "born" if fact == "age" else "age") in self.keys
        ):
            return None
        record = {"person": person, "fact": fact, "variant": rng.random()}
        moved = self._of(person, "moved")
        if fact == "born":
            last = BORN_YEARS[1]
            if moved is not None:
                last = min(last, moved["year"] - _MIN_MOVE_AGE)
            record["year"] = self._fresh("year", range(BORN_YEARS[0], last + 1))
            record["city"] = self._fresh("city", CITIES)
        elif fact == "moved":
            first = MOVE_YEARS[0]
            born, age = self._of(person, "born"), self._of(person, "age")
            if born is not None:
                first = max(first, born["year"] + _MIN_MOVE_AGE)
            if age is not None:
                first = max(first, REFERENCE_YEAR - age["age"] + _MIN_MOVE_AGE)
            record["year"] = self._fresh("year", range(first, MOVE_YEARS[1] + 1))
            record["month"] = rng.choice(MONTHS)
            record["city"] = self._fresh("city", CITIES)
        elif fact == "lives":
            record["city"] = self._fresh("city", CITIES)
        elif fact == "job":
            record["job"] = self._fresh("job", JOBS)
        elif fact == "count":
            record["noun"] = key[2]
            record["number"] = self._fresh("number", NUMBER_WORDS)
        else:
            youngest = AGES[0]
            if moved is not None:
                youngest = max(youngest, REFERENCE_YEAR - moved["year"] + _MIN_MOVE_AGE)
            record["age"] = self._fresh("age", range(youngest, AGES[1] + 1))
        if any(value is None for value in record.values()):
            return None  # out of fresh values (never happens with <= 8 facts)
        self.keys.add(key)
        self.facts.append(record)
        return record


def _sentence(fact: dict) -> str:
    p, variant = fact["person"], fact["variant"]
    kind = fact["fact"]
    if kind == "born":
        if variant < 0.5:
            return f"{p} was born in {fact['city']} in {fact['year']} ."
        return f"{p} was born in {fact['year']} in {fact['city']} ."
    if kind == "lives":
        return (
            f"{p} lives in {fact['city']} ."
            if variant < 0.5
            else f"today {p} lives in {fact['city']} ."
        )
    if kind == "job":
        verb = "works as" if variant < 0.5 else "is"
        return f"{p} {verb} {_a(fact['job'])} ."
    if kind == "count":
        return _COUNT_BY_NOUN[fact["noun"]][0].format(p=p, n=fact["number"])
    if kind == "moved":
        date = f"{fact['month']} {fact['year']}"
        if variant < 0.5:
            return f"in {date} , {p} moved to {fact['city']} ."
        return f"{p} moved to {fact['city']} in {date} ."
    return f"{p} is {fact['age']} years old ."


def _question(rng: random.Random, question_type: str, fact: dict) -> tuple[str, str]:
    """``(question, answer_text)`` asking ``fact`` for ``question_type``."""
    p = fact["person"]
    if question_type == "count":
        return _COUNT_BY_NOUN[fact["noun"]][1].format(p=p), fact["number"]
    _, entity, templates = QUESTIONS[question_type]
    date = f"{fact['month']} {fact['year']}" if fact["fact"] == "moved" else None
    question = rng.choice(templates).format(p=p, city=fact.get("city"), date=date)
    answer = {
        "city": fact.get("city"),
        "year": str(fact.get("year")),
        "job": fact.get("job"),
        "date": date,
        "age": str(fact.get("age")),
    }[entity]
    return question, answer


def _find(words: list[str], span: list[str], start: int, stop: int) -> int:
    for i in range(start, stop - len(span) + 1):
        if words[i : i + len(span)] == span:
            return i
    raise AssertionError(f"{span} not in {words[start:stop]}")  # never happens


def _example(rng: random.Random, min_sentences: int, max_sentences: int) -> dict:
    while True:
        n_sentences = rng.randint(min_sentences, max_sentences)
        people = rng.sample(NAMES, rng.randint(2, min(3, n_sentences)))
        question_type = rng.choice(QUESTION_TYPES)
        fact, entity, _ = QUESTIONS[question_type]
        passage = _Passage(rng)
        asked = passage.add(people[0], fact)
        # At least one other entity of the asked type, in another sentence.
        distractor = None
        for _ in range(20):
            distractor = passage.add(
                rng.choice(people), rng.choice(_FACTS_WITH[entity])
            )
            if distractor is not None:
                break
        if asked is None or distractor is None:
            continue
        for _ in range(20 * n_sentences):
            if len(passage.facts) == n_sentences:
                break
            passage.add(rng.choice(people), rng.choice(FACTS))
        if len(passage.facts) < n_sentences:
            continue
        rng.shuffle(passage.facts)
        question, answer = _question(rng, question_type, asked)
        words, start = [], None
        for fact_record in passage.facts:
            sentence = _sentence(fact_record).split()
            if fact_record is asked:
                start = _find(sentence, answer.split(), 0, len(sentence)) + len(words)
            words.extend(sentence)
        end = start + len(answer.split()) - 1
        context = " ".join(words)
        return {
            "context": context,
            "question": question,
            "answer_text": answer,
            "answer_start": len(" ".join(words[:start])) + (1 if start else 0),
            "answer_start_word": start,
            "answer_end_word": end,
        }


# --------------------------------------------------------------------------
# Generation.


def _check_options(seed, min_sentences, max_sentences) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"`seed` must be an integer; got {seed!r}.")
    for name, value in (
        ("min_sentences", min_sentences),
        ("max_sentences", max_sentences),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"`{name}` must be an integer; got {value!r}.")
    if not MIN_SENTENCES <= min_sentences <= max_sentences <= MAX_SENTENCES:
        raise ValueError(
            f"Expected {MIN_SENTENCES} <= min_sentences <= max_sentences <= "
            f"{MAX_SENTENCES}; got {min_sentences} and {max_sentences}."
        )


def _stream(name: str, min_sentences: int, max_sentences: int) -> Iterator[dict]:
    # A string seed is hashed with SHA-512: stable across runs and processes.
    rng = random.Random(name)
    while True:
        yield _example(rng, min_sentences, max_sentences)


def generate_examples(
    n: int, seed: int = 0, min_sentences: int = 3, max_sentences: int = 6
) -> list[dict]:
    """Generates ``n`` random extractive QA examples.

    See the module docstring for the passages and questions. The output is
    deterministic given the arguments, and the first ``k`` examples do not
    depend on ``n``.

    Args:
        n: The number of examples (>= 0).
        seed: The random seed (an integer).
        min_sentences: The fewest sentences in a passage (>= 2).
        max_sentences: The most sentences in a passage (<= 8); passages have
            at most ``MAX_CONTEXT_WORDS`` words when it is 6.

    Returns:
        A list of dicts with ``context``, ``question``, ``answer_text``,
        ``answer_start`` (a character offset into ``context``),
        ``answer_start_word`` and ``answer_end_word`` (inclusive indices into
        ``context.split()``).

    Raises:
        ValueError: If an argument is invalid.

    Example:

    >>> from applications.qa.data import generate_examples
    >>> e = generate_examples(1, seed=4, min_sentences=2, max_sentences=2)[0]
    >>> e["context"], e["question"], e["answer_text"], e["answer_start"]
    ('tina is 94 years old . iris is 76 years old .', 'how old is tina ?', '94', 8)
    >>> e["context"][e["answer_start"] :].startswith(e["answer_text"])
    True
    """
    contract.check_count("n", n, allow_none=False, minimum=0)
    _check_options(seed, min_sentences, max_sentences)
    stream = _stream(f"qa/{seed}", min_sentences, max_sentences)
    return [next(stream) for _ in contract.progress(range(n), desc="generating passages", unit="passage")]


def make_dataset(
    n_train: int,
    n_test: int,
    seed: int = 0,
    min_sentences: int = 3,
    max_sentences: int = 6,
) -> tuple[list[dict], list[dict]]:
    """Returns ``(train_examples, test_examples)`` with no context in both.

    The training examples are ``generate_examples(n_train, seed, ...)``; the
    test examples come from an independent random stream (another seed),
    skipping every example whose context is in the training set (or already
    in the test set).

    Raises:
        ValueError: If an argument is invalid.

    Example:

    >>> from applications.qa.data import make_dataset
    >>> train, test = make_dataset(100, 20, seed=1)
    >>> len(train), len(test), not {e["context"] for e in train} & {e["context"] for e in test}
    (100, 20, True)
    """
    contract.check_count("n_train", n_train, allow_none=False, minimum=0)
    contract.check_count("n_test", n_test, allow_none=False, minimum=0)
    train = generate_examples(n_train, seed, min_sentences, max_sentences)
    seen = {example["context"] for example in train}
    test = []
    stream = _stream(f"qa/test/{seed}", min_sentences, max_sentences)
    while len(test) < n_test:
        example = next(stream)
        if example["context"] not in seen:
            seen.add(example["context"])
            test.append(example)
    return train, test


# --------------------------------------------------------------------------
# SQuAD files.


def char_to_word_span(context: str, start: int, length: int) -> tuple[int, int]:
    """The inclusive word span of ``context.split()`` overlapping a character span.

    Example:

    >>> from applications.qa.data import char_to_word_span
    >>> char_to_word_span("anna was born in  lisbon .", 18, 6)
    (4, 4)
    >>> char_to_word_span("born in (lisbon, portugal)", 9, 16)
    (2, 3)
    """
    spans = [match.span() for match in re.finditer(r"\S+", context)]
    ends = [end for _, end in spans]
    first = bisect.bisect_right(ends, start)
    last = bisect.bisect_left([s for s, _ in spans], start + length) - 1
    if not 0 <= first <= last < len(spans):
        raise ValueError(
            f"The character span [{start}, {start + length}) covers no word of the context."
        )
    return first, last


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise ValueError(f"{where}: {message}")


def load_squad(path: str | os.PathLike) -> list[dict]:
    """Reads a SQuAD v1.1 JSON file into the dicts of `generate_examples`.

    The file is ``{"data": [{"paragraphs": [{"context": ..., "qas":
    [{"question": ..., "answers": [{"text": ..., "answer_start": ...}]}]}]}]}``
    (other keys, such as ``"title"``, ``"id"`` and ``"version"``, are
    ignored). Each question becomes one example with its *first* answer (the
    dev set lists several). Contexts, questions and answers are kept as they
    are; the word indices are those of the words of ``context.split()`` that
    the answer's characters overlap (a SQuAD answer may start or end inside a
    word, e.g. ``"1990"`` in ``"(1990)"``).

    Raises:
        ValueError: If the file is not valid JSON or not in that format, a
            question has no answer (SQuAD v2.0 unanswerable questions are not
            supported), or an answer's ``text`` is not found at its
            ``answer_start`` in the context (the message names the file and
            where in it).

    Example:

    >>> import json, os, tempfile
    >>> from applications.qa.data import load_squad
    >>> path = os.path.join(tempfile.mkdtemp(), "squad.json")
    >>> qa = {"id": "q1", "question": "Where?", "answers": [{"text": "Lisbon", "answer_start": 13}]}
    >>> with open(path, "w") as f:
    ...     json.dump({"version": "1.1", "data": [{"title": "t", "paragraphs": [
    ...         {"context": "Anna went to Lisbon.", "qas": [qa]}]}]}, f)
    >>> load_squad(path)  # doctest: +NORMALIZE_WHITESPACE
    [{'context': 'Anna went to Lisbon.', 'question': 'Where?', 'answer_text': 'Lisbon',
      'answer_start': 13, 'answer_start_word': 3, 'answer_end_word': 3}]
    """
    name = os.fspath(path)
    try:
        with open(path, encoding="utf-8-sig") as handle:
            root = json.load(handle)
    except json.JSONDecodeError as error:
        raise ValueError(f"{name}: not valid JSON ({error}).") from None
    _require(
        isinstance(root, dict) and isinstance(root.get("data"), list),
        name,
        "expected a JSON object with a 'data' list (SQuAD v1.1 format).",
    )
    examples = []
    for i, article in enumerate(root["data"]):
        where = f"{name}: data[{i}]"
        _require(
            isinstance(article, dict) and isinstance(article.get("paragraphs"), list),
            where,
            "expected an object with a 'paragraphs' list.",
        )
        for j, paragraph in enumerate(article["paragraphs"]):
            where = f"{name}: data[{i}].paragraphs[{j}]"
            _require(
                isinstance(paragraph, dict)
                and isinstance(paragraph.get("context"), str)
                and paragraph["context"].strip()
                and isinstance(paragraph.get("qas"), list),
                where,
                "expected an object with a non-empty 'context' string and a 'qas' list.",
            )
            context = paragraph["context"]
            for k, qa in enumerate(paragraph["qas"]):
                where = f"{name}: data[{i}].paragraphs[{j}].qas[{k}]"
                _require(
                    isinstance(qa, dict)
                    and isinstance(qa.get("question"), str)
                    and isinstance(qa.get("answers"), list),
                    where,
                    "expected an object with a 'question' string and an 'answers' list.",
                )
                _require(
                    bool(qa["answers"]),
                    where,
                    "the question has no answer (SQuAD v2.0 unanswerable questions "
                    "are not supported).",
                )
                answer = qa["answers"][0]
                _require(
                    isinstance(answer, dict)
                    and isinstance(answer.get("text"), str)
                    and answer["text"].strip()
                    and isinstance(answer.get("answer_start"), int)
                    and not isinstance(answer["answer_start"], bool),
                    where,
                    "the first answer must have a non-empty 'text' string and an "
                    "integer 'answer_start'.",
                )
                text, start = answer["text"], answer["answer_start"]
                _require(
                    0 <= start and context[start : start + len(text)] == text,
                    where,
                    f"the answer {text!r} is not at character {start} of the context.",
                )
                first, last = char_to_word_span(context, start, len(text))
                examples.append(
                    {
                        "context": context,
                        "question": qa["question"],
                        "answer_text": text,
                        "answer_start": start,
                        "answer_start_word": first,
                        "answer_end_word": last,
                    }
                )
    return examples


_KEYS = (
    "context",
    "question",
    "answer_text",
    "answer_start",
    "answer_start_word",
    "answer_end_word",
)


def save_squad(
    path: str | os.PathLike, examples: Iterable[dict], title: str = "generated"
) -> None:
    """Writes examples as a SQuAD v1.1 JSON file, read back unchanged by `load_squad`.

    Consecutive examples with the same context share one paragraph; question
    ids are ``"0"``, ``"1"``, ...

    Raises:
        ValueError: If an example lacks a key, or its answer is not at
            ``answer_start`` in the context, or its word indices disagree
            with ``answer_start``.

    Example:

    >>> import os, tempfile
    >>> from applications.qa.data import generate_examples, load_squad, save_squad
    >>> path = os.path.join(tempfile.mkdtemp(), "qa.json")
    >>> examples = generate_examples(3, seed=0)
    >>> save_squad(path, examples)
    >>> load_squad(path) == examples
    True
    """
    paragraphs = []
    for index, example in enumerate(examples):
        where = f"`examples` item {index}"
        _require(
            isinstance(example, dict) and all(key in example for key in _KEYS),
            where,
            f"expected a dict with the keys {_KEYS}.",
        )
        context, text = example["context"], example["answer_text"]
        start = example["answer_start"]
        _require(
            isinstance(context, str)
            and isinstance(example["question"], str)
            and isinstance(text, str)
            and text.strip()
            and isinstance(start, int)
            and 0 <= start
            and context[start : start + len(text)] == text,
            where,
            f"the answer {text!r} is not at character {start!r} of the context.",
        )
        span = char_to_word_span(context, start, len(text))
        _require(
            span == (example["answer_start_word"], example["answer_end_word"]),
            where,
            f"the word span {example['answer_start_word'], example['answer_end_word']} "
            f"does not match answer_start (words {span}).",
        )
        qa = {
            "id": str(index),
            "question": example["question"],
            "answers": [{"text": text, "answer_start": start}],
        }
        if paragraphs and paragraphs[-1]["context"] == context:
            paragraphs[-1]["qas"].append(qa)
        else:
            paragraphs.append({"context": context, "qas": [qa]})
    root = {"version": "1.1", "data": [{"title": title, "paragraphs": paragraphs}]}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(root, handle, ensure_ascii=False)
