r"""bAbI-style stories for tasks 1, 2 and 6, in the exact bAbI text format.

The bAbI tasks (Weston et al., 2015, "Towards AI-Complete Question
Answering") are short stories of numbered lines. Numbering restarts at 1 with
every new story; a question line holds the question, a tab, the answer, a tab
and the ids of the supporting facts::

    1 Mary moved to the bathroom.
    2 John went to the hallway.
    3 Where is Mary? \tbathroom\t1

This module generates such stories offline (`generate_stories`), writes them
(`format_babi`, `save_babi`) and reads real bAbI files
(`load_babi`, e.g. ``qa1_single-supporting-fact_train.txt`` of
``tasks_1-20_v1-2``):

=====  =======================  ===============================================
task   name                     question (supporting facts)
=====  =======================  ===============================================
1      single-supporting-fact   "Where is Mary?" (her last move)
2      two-supporting-facts     "Where is the milk?" (who took or dropped it,
                                and where that person was then or is now)
6      yes-no-questions         "Is John in the office?" -> yes/no (his last
                                move)
=====  =======================  ===============================================

People, places, objects and verbs are bAbI's: Mary, John, Daniel and Sandra;
bathroom, hallway, garden, office, bedroom and kitchen; football, apple and
milk. A story of task 1 or 6 has five blocks of two facts and a question (15
lines, as in the real files); a task-2 story has five questions with two to
five facts before each.

Every question is asked from one of the lines written, so an example is
``{"story": [fact sentences so far], "story_ids": [their line ids],
"question", "answer", "supporting": [line ids]}``: the form `load_babi`
returns for real and generated files alike.

Example:

>>> from applications.qa.babi import format_babi, generate_stories
>>> format_babi(generate_stories(1, 1, seed=0)).splitlines()[2].split("\t")
['3 Where is Sandra? ', 'garden', '2']
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterable

from applications.contract import progress

PEOPLE = ("Mary", "John", "Daniel", "Sandra")
LOCATIONS = ("bathroom", "hallway", "garden", "office", "bedroom", "kitchen")
OBJECTS = ("football", "apple", "milk")
MOVES = ("moved to", "went to", "travelled to", "journeyed to", "went back to")
TAKES = ("got", "picked up", "grabbed", "took")
DROPS = ("dropped", "discarded", "put down", "left")
TASKS = {1: "single-supporting-fact", 2: "two-supporting-facts", 6: "yes-no-questions"}
QUESTIONS_PER_STORY = 5


def _check_task(task) -> int:
    if isinstance(task, bool) or task not in TASKS:
        raise ValueError(f"`task` must be one of {sorted(TASKS)}; got {task!r}.")
    return task


class _World:
    """Where everyone is and who holds what, with the line that says so."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.lines: list[tuple] = []  # ("fact", text) or ("question", text, answer, ids)
        self.where: dict[str, tuple[str, int]] = {}  # person -> (location, line id)
        self.history: dict[str, list[tuple[str, int]]] = {}  # person -> moves
        self.objects: dict[str, tuple] = {}  # object -> ("held", person, id) | ("at", place, ids)

    def _fact(self, text: str) -> int:
        self.lines.append(("fact", text))
        return len(self.lines)

    def move(self, person: str | None = None) -> None:
        rng = self.rng
        person = person or rng.choice(PEOPLE)
        current = self.where.get(person, (None, 0))[0]
        place = rng.choice([p for p in LOCATIONS if p != current])
        line = self._fact(f"{person} {rng.choice(MOVES)} the {place}.")
        self.where[person] = (place, line)
        self.history.setdefault(person, []).append((place, line))

    def take(self) -> bool:
        rng = self.rng
        # An object nobody has mentioned yet can be anywhere; a dropped one
        # is taken only by someone in the room where it lies.
        options = [
            (thing, person)
            for thing in OBJECTS
            for person in PEOPLE
            if person in self.where
            and (
                thing not in self.objects
                or (self.objects[thing][0] == "at" and self.objects[thing][1] == self.where[person][0])
            )
        ]
        if not options:
            return False
        thing, person = rng.choice(options)
        line = self._fact(f"{person} {rng.choice(TAKES)} the {thing} there.")
        self.objects[thing] = ("held", person, line)
        return True

    def drop(self) -> bool:
        rng = self.rng
        held = [o for o in OBJECTS if self.objects.get(o, ("at",))[0] == "held"]
        if not held:
            return False
        thing = rng.choice(held)
        _, person, _ = self.objects[thing]
        verb = rng.choice(DROPS)
        line = self._fact(f"{person} {verb} the {thing}{' there' if verb == 'left' else ''}.")
        place, moved = self.where[person]
        self.objects[thing] = ("at", place, (moved, line))
        return True

    def ask(self, question: str, answer: str, ids: Iterable[int]) -> None:
        self.lines.append(("question", question, answer, tuple(sorted(ids))))


def _story_1_or_6(rng: random.Random, task: int) -> list[tuple]:
    world = _World(rng)
    for _ in range(QUESTIONS_PER_STORY):
        world.move()
        world.move()
        person = rng.choice(sorted(world.where))
        place, line = world.where[person]
        if task == 1:
            world.ask(f"Where is {person}?", place, [line])
        else:
            asked = place if rng.random() < 0.5 else rng.choice([p for p in LOCATIONS if p != place])
            world.ask(f"Is {person} in the {asked}?", "yes" if asked == place else "no", [line])
    return world.lines


def _story_2(rng: random.Random) -> list[tuple]:
    world = _World(rng)
    for person in rng.sample(PEOPLE, 2):
        world.move(person)
    asked = 0
    while asked < QUESTIONS_PER_STORY:
        for _ in range(rng.randint(2, 5)):
            r = rng.random()
            if r < 0.3:
                world.take() or world.move()
            elif r < 0.45:
                world.drop() or world.move()
            else:
                world.move()
        answerable = []
        for thing, state in world.objects.items():
            if state[0] == "held":
                place, moved = world.where[state[1]]
                answerable.append((thing, place, (state[2], moved)))
            else:
                answerable.append((thing, state[1], state[2]))
        if answerable:
            thing, place, ids = rng.choice(answerable)
            world.ask(f"Where is the {thing}?", place, ids)
            asked += 1
    return world.lines


def generate_stories(task: int, n: int, seed: int = 0) -> list[list[tuple]]:
    """Generates ``n`` stories of bAbI task `task` (1, 2 or 6).

    A story is a list of lines, ``("fact", sentence)`` or ``("question",
    question, answer, supporting_ids)`` with 1-based line ids. The result is
    a deterministic function of the arguments and the first ``k`` stories do
    not depend on ``n``.

    Raises:
        ValueError: If `task` is not 1, 2 or 6, `n` is negative or `seed` is
            not an integer.

    Example:

    >>> from applications.qa.babi import generate_stories
    >>> story = generate_stories(6, 1, seed=3)[0]
    >>> story[:3]  # doctest: +NORMALIZE_WHITESPACE
    [('fact', 'John travelled to the kitchen.'), ('fact', 'Daniel went to the hallway.'),
     ('question', 'Is John in the bedroom?', 'no', (1,))]
    """
    _check_task(task)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"`n` must be a non-negative integer; got {n!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"`seed` must be an integer; got {seed!r}.")
    rng = random.Random(f"babi/{task}/{seed}")
    return [
        _story_2(rng) if task == 2 else _story_1_or_6(rng, task)
        for _ in progress(range(n), desc=f"generating bAbI {task} stories", unit="story")
    ]


def format_babi(stories: Iterable[list[tuple]]) -> str:
    """The stories as bAbI text: ``"<id> <sentence>"`` lines and
    ``"<id> <question> \\t<answer>\\t<ids>"`` question lines."""
    out = []
    for story in stories:
        for number, line in enumerate(story, 1):
            if line[0] == "fact":
                out.append(f"{number} {line[1]}")
            else:
                _, question, answer, ids = line
                out.append(f"{number} {question} \t{answer}\t{' '.join(map(str, ids))}")
    return "\n".join(out) + "\n"


def save_babi(path: str | os.PathLike, stories: Iterable[list[tuple]]) -> None:
    """Writes stories to a bAbI text file (`format_babi`)."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(format_babi(stories))


_LINE = re.compile(r"^(\d+) (.*)$")


def parse_babi(lines: Iterable[str], name: str = "<text>") -> list[dict]:
    """Parses bAbI lines into question examples (see `load_babi`)."""
    examples = []
    facts: list[tuple[int, str]] = []
    expected = 1
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        match = _LINE.match(line)
        if not match:
            raise ValueError(f"{name}, line {number}: expected '<id> <text>'; got {line!r}.")
        line_id, text = int(match[1]), match[2]
        if line_id == 1:
            facts, expected = [], 1
        if line_id != expected:
            raise ValueError(
                f"{name}, line {number}: expected line id {expected} (or 1 to start a story); got {line_id}."
            )
        expected += 1
        if "\t" not in text:
            facts.append((line_id, text.strip()))
            continue
        parts = text.split("\t")
        if len(parts) < 2 or not parts[1].strip():
            raise ValueError(f"{name}, line {number}: a question line needs '<question>\\t<answer>[\\t<ids>]'.")
        supporting = parts[2].split() if len(parts) > 2 else []
        if not all(s.isdigit() for s in supporting):
            raise ValueError(f"{name}, line {number}: supporting fact ids must be integers; got {parts[2]!r}.")
        ids = [int(s) for s in supporting]
        known = {i for i, _ in facts}
        if not set(ids) <= known:
            raise ValueError(f"{name}, line {number}: supporting ids {ids} are not earlier facts of the story.")
        examples.append(
            {
                "story": [t for _, t in facts],
                "story_ids": [i for i, _ in facts],
                "question": parts[0].strip(),
                "answer": parts[1].strip(),
                "supporting": ids,
            }
        )
    return examples


def load_babi(path: str | os.PathLike) -> list[dict]:
    """Reads a bAbI task file (the real ``tasks_1-20_v1-2`` format).

    Each question becomes one example ``{"story": [the story's fact
    sentences before it], "story_ids": [their line ids], "question",
    "answer", "supporting": [line ids]}``; question lines are not part of
    later stories (as in the usual memory-network setups). Answers of list
    tasks (``"football,milk"``) are kept as written.

    Raises:
        ValueError: naming the file and line, if a line is not ``"<id>
            <text>"``, ids do not count up from 1 within a story, a question
            has no answer, or supporting ids are not earlier facts.

    Example:

    >>> import os, tempfile
    >>> from applications.qa.babi import load_babi
    >>> path = os.path.join(tempfile.mkdtemp(), "qa1_train.txt")
    >>> with open(path, "w") as f:
    ...     _ = f.write("1 Mary moved to the bathroom.\\n2 John went to the hallway.\\n"
    ...                 "3 Where is Mary? \\tbathroom\\t1\\n")
    >>> load_babi(path)  # doctest: +NORMALIZE_WHITESPACE
    [{'story': ['Mary moved to the bathroom.', 'John went to the hallway.'],
      'story_ids': [1, 2], 'question': 'Where is Mary?', 'answer': 'bathroom',
      'supporting': [1]}]
    """
    with open(path, encoding="utf-8") as handle:
        return parse_babi(handle, os.fspath(path))


def story_key(story: list[tuple]) -> str:
    """The story's facts as one string: what makes two stories the same."""
    return " ".join(line[1] for line in story if line[0] == "fact")


def make_babi_dataset(task: int, n_train: int, n_test: int, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """``(train, test)`` question examples of `task`: ``n_train`` stories from
    `seed` and ``n_test`` stories from an independent stream, skipping every
    story whose facts equal a training story's (or an earlier test story's).
    Each story gives five questions.

    Example:

    >>> from applications.qa.babi import make_babi_dataset
    >>> train, test = make_babi_dataset(1, 20, 4)
    >>> len(train), len(test), test[0]["question"]
    (100, 20, 'Where is Mary?')
    """
    train_stories = generate_stories(task, n_train, seed)
    seen = {story_key(s) for s in train_stories}
    test_stories = []
    candidates = iter(generate_stories(task, 4 * n_test + 10, seed + 1_000_003))
    while len(test_stories) < n_test:
        story = next(candidates, None)
        if story is None:
            raise ValueError(f"could not find {n_test} test stories unseen in training.")
        key = story_key(story)
        if key not in seen:
            seen.add(key)
            test_stories.append(story)
    return (parse_babi(format_babi(train_stories).splitlines(), "train"),
            parse_babi(format_babi(test_stories).splitlines(), "test"))
