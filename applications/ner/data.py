"""Generated news sentences with BIO entity tags, and CoNLL / GMB loaders.

A sentence is a pair ``(tokens, tags)`` of equal-length lists; tags are BIO
(IOB2): ``B-TYPE`` opens an entity, ``I-TYPE`` continues it, ``O`` is outside.
The generator fills 76 news-style templates (`TEMPLATES`) with persons
(``PER``), organisations (``ORG``) and locations (``LOC``) built from the
name, city, state and country lists of `faker`'s ``en_US`` providers, plus
days, months, years and numbers (tagged ``O``) drawn by a seeded `faker.Faker`.

Splits (`make_dataset`) and what they hold out:

* ``"train"``: the 64 training templates, entities from the *training pools*.
* ``"unseen_entities"``: the same templates, entities only from the
  *held-out pools*: a fixed quarter of faker's first names, last names,
  states and countries (`entity_pools`), so no name token of a test entity
  (other than shared affixes such as "North", "Inc" or "-ville") appears in
  any training entity.
* ``"held_out_templates"``: the 12 templates never used in training
  (`HELD_OUT_TEMPLATES`), filled from the held-out pools as well.

Entity shapes: persons "First Last", "First M. Last", "Last" or "First";
organisations after faker's company formats ("Last Inc", "Last-Last",
"Last , Last and Last", "Last and Sons") plus "Last Motors" / "University of
State" style names; locations are cities after faker's city formats
("North Firstville", "Lake First", "Lastport"), states and countries.

Files: `save_conll` writes CoNLL "token TAG" lines (one token per line, a
blank line between sentences); `load_conll` reads that and the CoNLL-2003
four-column files (``token POS chunk NER``, ``-DOCSTART-`` lines; IOB1 tags
are converted to BIO); `load_gmb` reads the GMB/Kaggle ``ner_dataset.csv``
(``Sentence #,Word,POS,Tag``, Latin-1).

Example:

>>> from applications.ner.data import generate_sentences
>>> tokens, tags = generate_sentences(1, seed=8)[0]
>>> print(" ".join(f"{w}/{t}" for w, t in zip(tokens, tags)))
University/B-ORG of/I-ORG Pennsylvania/I-ORG reported/O a/O profit/O of/O 80/O million/O dollars/O for/O 1978/O ./O
"""

from __future__ import annotations

import csv
import functools
import os
import random
import re

from applications import contract

SPLITS = ("train", "unseen_entities", "held_out_templates")
ENTITY_TYPES = ("PER", "ORG", "LOC")
POOL_SPLIT_SEED = 20260101  # fixed: the held-out pools never depend on the run's seed
HELD_OUT_FRACTION = 0.25

TEMPLATES = (
    "{PER} was born in {LOC} in {YEAR} .",
    "{PER} joined {ORG} as chief executive on {DAY} .",
    "Shares of {ORG} fell {NUM} percent after {PER} resigned .",
    "The mayor of {LOC} , {PER} , opened a new bridge on {DAY} .",
    "{ORG} will open an office in {LOC} next {MONTH} .",
    "According to {PER} , talks between {ORG} and {ORG2} have stalled .",
    "{PER} and {PER2} met in {LOC} to discuss the merger .",
    "Police in {LOC} arrested {NUM} people on {DAY} .",
    "{ORG} reported a profit of {NUM} million dollars for {YEAR} .",
    "Flights from {LOC} to {LOC2} were cancelled because of the storm .",
    "{PER} , a spokesman for {ORG} , declined to comment .",
    "In {MONTH} , {PER} visited {LOC} for the first time .",
    "The contract was signed by {PER} on behalf of {ORG} .",
    "{PER} said the factory in {LOC} would close by {YEAR} .",
    "Thousands gathered in {LOC} on {DAY} to hear {PER} speak .",
    "{ORG} agreed to buy {ORG2} for {NUM} million dollars .",
    "Doctors at the hospital in {LOC} said {PER} was in stable condition .",
    "{PER} has lived in {LOC} since {YEAR} .",
    "Officials from {ORG} travelled to {LOC} on {DAY} .",
    "The new album by {PER} sold {NUM} thousand copies in its first week .",
    "{LOC} and {LOC2} signed a trade agreement in {MONTH} .",
    "Analysts at {ORG} expect growth to slow in {YEAR} .",
    "{PER} was elected governor of {LOC} with {NUM} percent of the vote .",
    "A court in {LOC} fined {ORG} {NUM} thousand dollars .",
    "{PER} told reporters that {ORG} had done nothing wrong .",
    "The team from {LOC} arrived late on {DAY} evening .",
    "{PER} will replace {PER2} as head of {ORG} .",
    "Heavy rain flooded parts of {LOC} overnight .",
    "{ORG} hired {NUM} new workers at its plant near {LOC} .",
    "Ambassador {PER} returned to {LOC} after talks in {LOC2} .",
    "Yesterday {PER} announced a visit to {LOC} .",
    "The report by {ORG} was published on {DAY} .",
    "{PER} , who founded {ORG} in {YEAR} , died on {DAY} .",
    "Protesters marched from {LOC} to the offices of {ORG} .",
    "Mr. {PER} denied the charges in a statement .",
    "{ORG} shares rose after the company won a contract in {LOC} .",
    "Tourists from {LOC} spent {NUM} million dollars last {MONTH} .",
    "The minister , {PER} , met {PER2} in {LOC} on {DAY} .",
    "Engineers at {ORG} in {LOC} built the new engine .",
    "{PER} won the race in {LOC} for the third time .",
    "On {DAY} , {ORG} moved its headquarters to {LOC} .",
    "Dr. {PER} leads the research team at {ORG} .",
    "The border between {LOC} and {LOC2} was closed on {DAY} .",
    "{PER} sued {ORG} over unpaid wages .",
    "Voters in {LOC} will go to the polls in {MONTH} .",
    "{ORG} and {ORG2} announced a joint venture in {LOC} .",
    "Ms. {PER} was appointed ambassador to {LOC} .",
    "Fans in {LOC} celebrated until dawn on {DAY} .",
    "{PER} signed a {NUM} year deal with {ORG} .",
    "Inflation in {LOC} reached {NUM} percent in {MONTH} .",
    "The trial of {PER} opened in {LOC} on {DAY} .",
    "{ORG} recalled {NUM} thousand cars sold in {LOC} .",
    "{PER} thanked the people of {LOC} for their support .",
    "Investors welcomed the news that {ORG} would cut costs .",
    "{PER} flew to {LOC} to meet executives from {ORG} .",
    "Last {MONTH} {PER} moved from {LOC} to work for {ORG} .",
    "{PER} and {PER2} were married in {LOC} last {MONTH} .",
    "Both {PER} and {PER2} declined to comment on the deal .",
    "A book by {PER} about {LOC} won a prize in {YEAR} .",
    "The film by {PER} opened in {LOC} on {DAY} .",
    "{PER} praised the work of {PER2} at a dinner in {LOC} .",
    "Fans waited for hours to see {PER} perform in {LOC} .",
    "{PER} , the coach of the team , resigned on {DAY} .",
    "The painting was sold by {PER} to a collector from {LOC} .",
    "{ORG} said {PER} would lead its office in {LOC} .",
    "Relatives of {PER} gathered in {LOC} on {DAY} .",
    "{PER} became the first woman to run {ORG} .",
    "A spokeswoman for {PER} said the singer was resting .",
    "{PER} spent {NUM} years in {LOC} before returning home .",
    "Neighbours described {PER} as a quiet man .",
    "Lawyers for {ORG} and {PER} met on {DAY} .",
    "{PER} , {PER2} and {PER3} were named to the board of {ORG} .",
    "Sales at {ORG} rose {NUM} percent in {MONTH} .",
    "{ORG} , based in {LOC} , makes parts for {ORG2} .",
    "Residents of {LOC} and {LOC2} were told to stay indoors .",
    "Students from {LOC} visited {ORG} on {DAY} .",
)
# 12 of the first 56 templates, drawn once at random: training never sees them.
HELD_OUT_TEMPLATES = (0, 1, 2, 3, 6, 7, 11, 19, 24, 32, 45, 54)
TRAIN_TEMPLATES = tuple(i for i in range(len(TEMPLATES)) if i not in HELD_OUT_TEMPLATES)

ORG_WORDS = (
    "Motors", "Airlines", "Bank", "Energy", "Foods", "Media", "Holdings", "Capital",
    "Systems", "Pharmaceuticals", "Logistics", "Partners", "Insurance", "Telecom",
)  # fmt: skip
_SLOT = re.compile(r"\{([A-Z]+)\d?\}")


def entity_pools() -> dict:
    """``{"train": {...}, "test": {...}}``, each with the lists ``first``,
    ``last``, ``state`` and ``country`` from faker's en_US providers: a fixed
    seeded quarter of every list is held out for the test splits, and
    training items sharing a capitalised word with any held-out item
    ("Virginia" the first name vs the state) are dropped.

    >>> from applications.ner.data import entity_pools
    >>> pools = entity_pools()
    >>> set(pools["train"]["last"]) & set(pools["test"]["last"])
    set()
    """
    return {split: {k: list(v) for k, v in lists.items()} for split, lists in _entity_pools().items()}


@functools.cache
def _entity_pools() -> dict:
    from faker.providers.address.en_US import Provider as Address
    from faker.providers.person.en_US import Provider as Person

    lists = {
        "first": sorted(set(Person.first_names)),
        "last": sorted(set(Person.last_names)),
        "state": sorted(Address.states),
        # Plain names only: faker's list also has "Cocos (Keeling) Islands" etc.
        "country": sorted(c for c in Address.countries if re.fullmatch(r"[A-Za-z ]+", c)),
    }
    rng = random.Random(POOL_SPLIT_SEED)
    pools = {"train": {}, "test": {}}
    for key, values in lists.items():
        shuffled = list(values)
        rng.shuffle(shuffled)
        held = round(HELD_OUT_FRACTION * len(shuffled))
        pools["test"][key], pools["train"][key] = sorted(shuffled[:held]), sorted(shuffled[held:])
    # A capitalised word of a held-out item (a first name that is also a last
    # name, "Virginia", "Washington", "Guinea") must not reach training
    # through another list.
    held_words = {w for items in pools["test"].values() for item in items for w in item.split() if w[0].isupper()}
    for key, items in pools["train"].items():
        pools["train"][key] = [item for item in items if not held_words & set(item.split())]
    return pools


def _person(rng, pool):
    first, last = rng.choice(pool["first"]), rng.choice(pool["last"])
    r = rng.random()
    if r < 0.55:
        return f"{first} {last}"
    if r < 0.7:
        return f"{first} {rng.choice('ABCDEFGHJKLMNPRSTW')}. {last}"
    if r < 0.9:
        return last
    return first


def _organisation(rng, pool):
    lasts = [rng.choice(pool["last"]) for _ in range(3)]
    r = rng.random()
    if r < 0.3:
        return f"{lasts[0]} {rng.choice(('Inc', 'LLC', 'Group', 'PLC', 'Ltd', 'and Sons'))}"
    if r < 0.45:
        return f"{lasts[0]}-{lasts[1]}"
    if r < 0.55:
        return f"{lasts[0]} , {lasts[1]} and {lasts[2]}"
    if r < 0.9:
        return f"{lasts[0]} {rng.choice(ORG_WORDS)}"
    return f"University of {rng.choice(pool['state'])}"


def _location(rng, pool):
    r = rng.random()
    if r < 0.25:
        return rng.choice(pool["country"])
    if r < 0.45:
        return rng.choice(pool["state"])
    prefix = rng.choice(("North", "East", "West", "South", "New", "Lake", "Port"))
    suffix = rng.choice(("town", "ton", "land", "ville", "berg", "burgh", "borough", "bury", "view", "port"))
    first, last = rng.choice(pool["first"]), rng.choice(pool["last"])
    return rng.choice((f"{prefix} {first}{suffix}", f"{prefix} {first}", f"{first}{suffix}", f"{last}{suffix}"))


_ENTITY_MAKERS = {"PER": _person, "ORG": _organisation, "LOC": _location}


def _check_count(name, n):
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"`{name}` must be an integer >= 0; received {n!r}.")


def generate_sentences(n: int, seed: int = 0, split: str = "train") -> list[tuple[list[str], list[str]]]:
    """`n` tagged sentences of `split` (see the module docstring),
    deterministic for ``(seed, split)``.

    Raises:
        ValueError: for a negative `n` or an unknown `split`.
    """
    import faker

    _check_count("n", n)
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {list(SPLITS)}; received {split!r}.")
    pool = _entity_pools()["train" if split == "train" else "test"]
    templates = [TEMPLATES[i] for i in (HELD_OUT_TEMPLATES if split == "held_out_templates" else TRAIN_TEMPLATES)]
    rng = random.Random(f"{split}:{seed}")
    fake = faker.Faker("en_US")
    fake.seed_instance(rng.randrange(2**31))
    sentences = []
    for _ in contract.progress(range(n), desc=f"generating {split} sentences", unit="sentence"):
        tokens, tags = [], []
        for word in rng.choice(templates).split():
            slot = _SLOT.fullmatch(word)
            if slot is None:
                tokens.append(word)
                tags.append("O")
                continue
            kind = slot.group(1)
            if kind in _ENTITY_MAKERS:
                words = _ENTITY_MAKERS[kind](rng, pool).split()
                tokens.extend(words)
                tags.extend([f"B-{kind}"] + [f"I-{kind}"] * (len(words) - 1))
            else:
                filler = {
                    "DAY": fake.day_of_week,
                    "MONTH": fake.month_name,
                    "YEAR": fake.year,
                    "NUM": lambda: str(fake.random_int(2, 99)),
                }[kind]()
                tokens.append(filler)
                tags.append("O")
        sentences.append((tokens, tags))
    return sentences


def make_dataset(train_examples: int = 3000, test_examples: int = 1000, seed: int = 0) -> dict:
    """``{"train", "unseen_entities", "held_out_templates"}`` -> sentences;
    the test splits are drawn with their own seeds from held-out pools."""
    _check_count("train_examples", train_examples)
    _check_count("test_examples", test_examples)
    return {
        "train": generate_sentences(train_examples, seed, "train"),
        "unseen_entities": generate_sentences(test_examples, seed, "unseen_entities"),
        "held_out_templates": generate_sentences(test_examples, seed, "held_out_templates"),
    }


def entity_strings(sentences) -> set[tuple[str, str]]:
    """The ``(type, "surface string")`` of every entity in BIO `sentences`."""
    from applications.ner.scoring import get_entities

    found = set()
    for tokens, tags in sentences:
        for kind, start, end in get_entities(tags):
            found.add((kind, " ".join(tokens[start : end + 1])))
    return found


# ---------------------------------------------------------------------- files


def save_conll(path: str | os.PathLike, sentences) -> None:
    """Writes CoNLL "token TAG" lines, a blank line after every sentence."""
    with open(path, "w", encoding="utf-8") as handle:
        for tokens, tags in sentences:
            for token, tag in zip(tokens, tags):
                handle.write(f"{token} {tag}\n")
            handle.write("\n")


def to_bio(tags: list[str]) -> list[str]:
    """IOB1 (or loose BIO) -> BIO: an ``I-X`` that starts an entity (at the
    start, after ``O`` or after another type) becomes ``B-X``; entities are
    unchanged under the CoNLL evaluation rules.

    >>> from applications.ner.data import to_bio
    >>> to_bio(["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"])
    ['B-PER', 'I-PER', 'O', 'B-LOC', 'B-LOC', 'B-ORG']
    """
    fixed = []
    previous = "O"
    for tag in tags:
        if tag.startswith("I-") and (previous == "O" or previous[2:] != tag[2:]):
            tag = "B-" + tag[2:]
        fixed.append(tag)
        previous = tag
    return fixed


def _check_tag(tag, where):
    if tag != "O" and not re.fullmatch(r"[BI]-\S+", tag):
        raise ValueError(f"{where}: tags must be O, B-TYPE or I-TYPE; found {tag!r}.")


def load_conll(path: str | os.PathLike) -> list[tuple[list[str], list[str]]]:
    """Sentences of a CoNLL file: "token TAG" or CoNLL-2003 "token POS chunk
    TAG" lines (the token is the first column, the tag the last), blank lines
    between sentences, ``-DOCSTART-`` lines skipped; tags converted to BIO.

    Raises:
        ValueError: if a line has a single column or a tag is not O/B-X/I-X.
    """
    sentences, tokens, tags = [], [], []

    def flush():
        if tokens:
            sentences.append((list(tokens), to_bio(tags)))
            tokens.clear()
            tags.clear()

    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            fields = line.split()
            if not fields:
                flush()
                continue
            if fields[0] == "-DOCSTART-":
                flush()
                continue
            if len(fields) < 2:
                raise ValueError(
                    f"`path` {os.fspath(path)!r} line {number}: expected 'token TAG' or "
                    f"'token POS chunk TAG'; found {line.rstrip()!r}."
                )
            _check_tag(fields[-1], f"`path` {os.fspath(path)!r} line {number}")
            tokens.append(fields[0])
            tags.append(fields[-1])
    flush()
    return sentences


def load_gmb(path: str | os.PathLike, encoding: str = "latin-1") -> list[tuple[list[str], list[str]]]:
    """Sentences of the GMB / Kaggle ``ner_dataset.csv``: columns
    ``Sentence #`` (``"Sentence: N"`` on a sentence's first row, empty
    after), ``Word``, ``POS``, ``Tag`` (``B-geo``, ``I-per``, ``O``, ...).

    Raises:
        ValueError: if a column is missing or the first row starts no sentence.
    """
    sentences = []
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in ("Sentence #", "Word", "Tag") if c not in header]
        if missing:
            raise ValueError(f"`path` {os.fspath(path)!r} lacks the column(s) {missing}; header is {header}.")
        s, w, t = (header.index(c) for c in ("Sentence #", "Word", "Tag"))
        for number, row in enumerate(reader, 2):
            if not row:
                continue
            if row[s].strip():
                sentences.append(([], []))
            elif not sentences:
                raise ValueError(f"`path` {os.fspath(path)!r} row {number}: a word before the first 'Sentence: N'.")
            _check_tag(row[t].strip(), f"`path` {os.fspath(path)!r} row {number}")
            sentences[-1][0].append(row[w])
            sentences[-1][1].append(row[t].strip())
    return [(tokens, to_bio(tags)) for tokens, tags in sentences]
