"""Generated reports and their one-sentence summaries, for abstractive summarization.

Every pair is ``(article, summary)``: an article of 3 to 6 sentences and a
summary of one sentence that is *determined* by the article, so a model can
learn to reach (near) perfect ROUGE. Both are lowercase words separated by
single spaces, punctuation as separate tokens (``" ."``, ``" ,"``), numbers
written with digits (0 to 99), so a word-level vocabulary works (about 400
words). Each article mixes the sentences that carry the key facts with
*distractor* sentences that mention other numbers, teams, cities or people.

Report types (`REPORT_TYPES`, drawn uniformly from ``report_types``):

=========  ====================================  ===================================
type       article                               summary
=========  ====================================  ===================================
sports     who hosted whom, where and when;      ``"the wolves beat the owls 3 to 1
           each team's goals (in either order);  in rome ."`` (the winner first,
           crowd, cards, form, next fixture      derived from the goals) or ``"the
                                                 owls and the wolves drew 2 to 2 in
                                                 rome ."`` (home team first)
sales      a company's units sold (thousands)    ``"sales at acme rose in may and
           in 3 or 4 consecutive months; a       fell in june ."``: one verb per
           rival's sales, staff, forecasts       month after the first, from
                                                 comparing consecutive months
weather    the temperature (0 to 39 degrees,     ``"oslo was the warmest city on
           all different) of 3 or 4 cities;      monday at 31 degrees and rome the
           wind, rain, storm warnings            coldest at 4 ."`` (argmax and argmin)
election   the vote shares (all different) of    ``"anna won the race for mayor of
           3 or 4 candidates for mayor, in       lima with 41 percent of the vote
           random order; turnout, polls          ."`` (argmax)
incident   an event at a place in a city on a    ``"a fire at a school in oslo on
           day; how many people were hurt        monday injured 3 people ."`` (or
           (possibly none); response time,       ``"1 person"``, ``"no one"``)
           police, closures, a similar event
=========  ====================================  ===================================

Sports, sales, weather and election summaries need a comparison or an
aggregation over several sentences; incident summaries copy facts from two
sentences among distractors with other numbers.

The JSON-lines format of `save_jsonl` is one ``{"article": ..., "summary":
...}`` object per line; `load_jsonl` also reads CNN/DailyMail-style objects
``{"article": ..., "highlights": ...}`` (the highlights' lines are joined with
single spaces).

Example:

>>> from applications.summarization.data import generate_pairs
>>> article, summary = generate_pairs(1, seed=3, report_types=["sports"])[0]
>>> print(article)
on monday , the giants played the stallions at home in rome . the stallions finished with 2 goals . 6 goals came from the giants .
>>> print(summary)
the giants beat the stallions 6 to 2 in rome .
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable, Iterator, Sequence

from applications import contract
from applications._words import CITIES, MONTHS, NAMES

REPORT_TYPES = ("sports", "sales", "weather", "election", "incident")
MIN_SENTENCES, MAX_SENTENCES = 3, 6
# The longest possible article and summary in words (``len(text.split())``),
# counted from the templates (the longest sales report: a 13-word intro, four
# 11-word months and a 10-word distractor; the weather summary); checked on
# generated data by tests/applications/test_summarization_data.py.
MAX_ARTICLE_WORDS = 68
MAX_SUMMARY_WORDS = 17

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
TEAMS = (
    "lions", "eagles", "tigers", "wolves", "bears", "hawks", "sharks",
    "falcons", "panthers", "foxes", "bulls", "dragons", "ravens", "pirates",
    "giants", "comets", "knights", "owls", "rockets", "stallions",
)  # fmt: skip
COMPANIES = (
    "acme", "globex", "initech", "hooli", "vandelay", "tyrell", "cyberdyne",
    "soylent", "wonka", "zenith", "apex", "orion", "nimbus", "vertex",
    "polaris", "summit", "aurora", "nova", "atlas", "quantum",
)  # fmt: skip
PRODUCTS = (
    "phones", "bikes", "lamps", "shoes", "chairs", "tables", "cameras",
    "watches", "kettles", "printers", "tents", "guitars",
)  # fmt: skip
EVENTS = ("fire", "flood", "gas leak", "power cut", "explosion", "roof collapse")
PLACES = (
    "school", "hospital", "factory", "warehouse", "hotel", "library",
    "station", "museum", "stadium", "market", "office", "airport",
)  # fmt: skip
_SKIES = ("clear", "cloudy", "grey", "dark")
_CONDITIONS = ("sunny", "rainy", "windy", "foggy")
_COUNT_WORDS = {3: "three", 4: "four"}


def _a(noun: str) -> str:
    """``noun`` with its indefinite article."""
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _plural(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def _insert(rng: random.Random, sentences: list[str], extra: Iterable[str]) -> None:
    """Inserts each of ``extra`` at a random place, keeping the others' order."""
    for sentence in extra:
        sentences.insert(rng.randint(0, len(sentences)), sentence)


def _distractors(rng: random.Random, candidates: list[str], k: int) -> list[str]:
    return rng.sample(candidates, k)


def _join(clauses: list[str]) -> str:
    if len(clauses) == 1:
        return clauses[0]
    return " , ".join(clauses[:-1]) + " and " + clauses[-1]


# --------------------------------------------------------------------------
# Report types. Each returns ``(sentences, summary)``.


def _sports(rng: random.Random) -> tuple[list[str], str]:
    home, away, other = rng.sample(TEAMS, 3)
    city, day, next_day = rng.choice(CITIES), *rng.sample(DAYS, 2)
    goals = {home: rng.randint(0, 6), away: rng.randint(0, 6)}
    intro = rng.choice(
        (
            f"the {home} hosted the {away} in {city} on {day} .",
            f"on {day} , the {home} played the {away} at home in {city} .",
        )
    )
    templates = (
        "the {team} scored {goals} .",
        "{goals} came from the {team} .",
        "the {team} finished with {goals} .",
    )
    scores = [
        rng.choice(templates).format(
            team=team, goals=_plural(goals[team], "goal", "goals")
        )
        for team in (home, away)
    ]
    rng.shuffle(scores)
    team = rng.choice((home, away))
    last = rng.randint(5, 10)
    candidates = [
        f"a crowd of {rng.randint(2, 60)} thousand watched the game .",
        f"the {team} had won {rng.randint(0, last)} of their last {last} games .",
        f"{rng.choice(NAMES)} of the {rng.choice((home, away))} was shown a "
        f"yellow card after {rng.randint(2, 89)} minutes .",
        f"the {rng.choice((home, away))} will play the {other} next {next_day} .",
        f"it was {rng.choice(_CONDITIONS)} in {city} that day .",
    ]
    _insert(rng, scores, _distractors(rng, candidates, rng.randint(0, 3)))
    h, a = goals[home], goals[away]
    if h > a:
        summary = f"the {home} beat the {away} {h} to {a} in {city} ."
    elif a > h:
        summary = f"the {away} beat the {home} {a} to {h} in {city} ."
    else:
        summary = f"the {home} and the {away} drew {h} to {a} in {city} ."
    return [intro, *scores], summary


def _sales(rng: random.Random) -> tuple[list[str], str]:
    company, rival = rng.sample(COMPANIES, 2)
    product, day, city = rng.choice(PRODUCTS), rng.choice(DAYS), rng.choice(CITIES)
    k = rng.choice((3, 4))
    start = rng.randint(0, 12 - k)
    months = MONTHS[start : start + k]
    values = [rng.randint(10, 99)]
    while len(values) < k:
        value = rng.randint(10, 99)
        if value != values[-1]:
            values.append(value)
    intro = rng.choice(
        (
            f"{company} , a maker of {product} , published its sales figures on {day} .",
            f"this is the sales report of {company} , which makes {product} .",
        )
    )
    templates = (
        "{company} sold {value} thousand {product} in {month} .",
        "in {month} , {company} sold {value} thousand {product} .",
        "in {month} , sales at {company} reached {value} thousand {product} .",
    )
    body = [
        rng.choice(templates).format(
            company=company, value=value, product=product, month=month
        )
        for month, value in zip(months, values)
    ]
    candidates = [
        f"its rival {rival} sold {rng.randint(10, 99)} thousand {product} in "
        f"{rng.choice(months)} .",
        f"{company} employs {rng.randint(2, 99)} hundred people .",
        f"analysts expect {rng.randint(10, 99)} thousand {product} in "
        f"{MONTHS[(start + k) % 12]} .",
        f"a new {company} store opened in {city} in {rng.choice(months)} .",
    ]
    _insert(rng, body, _distractors(rng, candidates, rng.randint(0, 5 - k)))
    clauses = [
        f"{'rose' if values[i] > values[i - 1] else 'fell'} in {months[i]}"
        for i in range(1, k)
    ]
    return [intro, *body], f"sales at {company} {_join(clauses)} ."


def _weather(rng: random.Random) -> tuple[list[str], str]:
    k = rng.choice((3, 4))
    cities = rng.sample(CITIES, k + 1)
    cities, elsewhere = cities[:k], cities[k]
    temperatures = rng.sample(range(40), k)
    day_index = rng.randrange(7)
    day, next_day = DAYS[day_index], DAYS[(day_index + 1) % 7]
    intro = rng.choice(
        (
            f"here is the weather report for {day} .",
            f"the weather service published its report for {day} .",
        )
    )
    body = []
    for city, t in zip(cities, temperatures):
        body.append(
            rng.choice(
                (
                    f"{city} reached {t} degrees under {rng.choice(_SKIES)} skies .",
                    f"in {city} it was {t} degrees and {rng.choice(_CONDITIONS)} .",
                    f"it was {t} degrees in {city} .",
                )
            )
        )
    candidates = [
        f"winds in {rng.choice(cities)} reached {rng.randint(10, 99)} kilometres "
        "per hour .",
        f"{rng.choice(cities)} had {rng.randint(1, 60)} millimetres of rain .",
        f"a storm is expected in {elsewhere} on {next_day} .",
    ]
    _insert(rng, body, _distractors(rng, candidates, rng.randint(0, 5 - k)))
    hot = max(range(k), key=temperatures.__getitem__)
    cold = min(range(k), key=temperatures.__getitem__)
    summary = (
        f"{cities[hot]} was the warmest city on {day} at {temperatures[hot]} "
        f"degrees and {cities[cold]} the coldest at {temperatures[cold]} ."
    )
    return [intro, *body], summary


def _shares(rng: random.Random, k: int) -> list[int]:
    """``k`` different vote shares (>= 2 percent) summing to 85..100 or so."""
    while True:
        weights = [rng.random() + 0.1 for _ in range(k)]
        total, scale = sum(weights), rng.randint(85, 100)
        shares = [max(2, round(scale * w / total)) for w in weights]
        if len(set(shares)) == k and sum(shares) <= 100:
            return shares


def _election(rng: random.Random) -> tuple[list[str], str]:
    k = rng.choice((3, 4))
    names = rng.sample(NAMES, k)
    city, day, month = rng.choice(CITIES), rng.choice(DAYS), rng.choice(MONTHS)
    shares = _shares(rng, k)
    intro = rng.choice(
        (
            f"voters in {city} chose a new mayor on {day} .",
            f"{_COUNT_WORDS[k]} candidates ran for mayor of {city} on {day} .",
        )
    )
    body = [
        rng.choice(
            (
                f"{name} received {share} percent of the vote .",
                f"{name} got {share} percent .",
                f"{share} percent of voters chose {name} .",
            )
        )
        for name, share in zip(names, shares)
    ]
    rng.shuffle(body)
    candidates = [
        f"turnout was {rng.randint(30, 80)} percent .",
        f"{rng.choice(names)} had led the polls in {month} .",
        f"the count took {rng.randint(2, 30)} hours .",
    ]
    _insert(rng, body, _distractors(rng, candidates, rng.randint(0, 5 - k)))
    best = max(range(k), key=shares.__getitem__)
    summary = (
        f"{names[best]} won the race for mayor of {city} with {shares[best]} "
        "percent of the vote ."
    )
    return [intro, *body], summary


def _incident(rng: random.Random) -> tuple[list[str], str]:
    event, other_event = rng.sample(EVENTS, 2)
    place, day, month = rng.choice(PLACES), rng.choice(DAYS), rng.choice(MONTHS)
    city, other_city = rng.sample(CITIES, 2)
    hurt = 0 if rng.random() < 0.15 else rng.randint(1, 40)
    intro = rng.choice(
        (
            f"{_a(event)} was reported at {_a(place)} in {city} on {day} .",
            f"on {day} , {_a(event)} hit {_a(place)} in {city} .",
        )
    )
    if hurt == 0:
        injured = rng.choice(("no one was hurt .", "nobody was injured ."))
        victims = "no one"
    else:
        people = _plural(hurt, "person", "people")
        verb = "was" if hurt == 1 else "were"
        injured = rng.choice(
            (f"{people} {verb} hurt .", f"{people} {verb} taken to hospital .")
        )
        victims = people
    candidates = [
        f"emergency crews arrived after {rng.randint(3, 59)} minutes .",
        f"{rng.randint(2, 40)} police officers were at the scene .",
        f"the {place} will stay closed for {rng.randint(2, 30)} days .",
        f"{_a(other_event)} hit {other_city} in {month} .",
        "the cause is still unknown .",
    ]
    body = [injured]
    _insert(rng, body, _distractors(rng, candidates, rng.randint(1, 4)))
    summary = f"{_a(event)} at {_a(place)} in {city} on {day} injured {victims} ."
    return [intro, *body], summary


_GENERATORS = {
    "sports": _sports,
    "sales": _sales,
    "weather": _weather,
    "election": _election,
    "incident": _incident,
}


# --------------------------------------------------------------------------
# Generation.


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"`seed` must be an integer; got {seed!r}.")
    return seed


def _check_types(report_types) -> tuple[str, ...]:
    if isinstance(report_types, str) or not isinstance(report_types, Iterable):
        raise ValueError(
            f"`report_types` must be a sequence drawn from {REPORT_TYPES}; "
            f"got {report_types!r}."
        )
    report_types = tuple(report_types)
    if not report_types or any(t not in REPORT_TYPES for t in report_types):
        raise ValueError(
            f"`report_types` must be a non-empty subset of {REPORT_TYPES}; "
            f"got {report_types!r}."
        )
    return report_types


def _stream(name: str, report_types: tuple[str, ...]) -> Iterator[tuple[str, str, str]]:
    # A string seed is hashed with SHA-512: stable across runs and processes.
    rng = random.Random(name)
    while True:
        report_type = rng.choice(report_types)
        sentences, summary = _GENERATORS[report_type](rng)
        yield " ".join(sentences), summary, report_type


def generate_examples(
    n: int, seed: int = 0, report_types: Sequence[str] = REPORT_TYPES
) -> list[dict[str, str]]:
    """Like `generate_pairs`, as dicts ``{"article", "summary", "type"}``.

    Example:

    >>> from applications.summarization.data import generate_examples
    >>> [e["type"] for e in generate_examples(4, seed=0)]
    ['incident', 'sales', 'sports', 'election']
    """
    contract.check_count("n", n, allow_none=False, minimum=0)
    _check_seed(seed)
    report_types = _check_types(report_types)
    stream = _stream(f"summarization/{seed}", report_types)
    return [
        {"article": article, "summary": summary, "type": report_type}
        for article, summary, report_type in (
            next(stream) for _ in contract.progress(range(n), desc="generating reports", unit="report")
        )
    ]


def generate_pairs(
    n: int, seed: int = 0, report_types: Sequence[str] = REPORT_TYPES
) -> list[tuple[str, str]]:
    """Generates ``n`` random ``(article, summary)`` pairs.

    The report type of each pair is drawn uniformly from ``report_types`` (see
    the module docstring). The output is deterministic given ``seed``, and the
    first ``k`` pairs do not depend on ``n``.

    Args:
        n: The number of pairs (>= 0).
        seed: The random seed (an integer).
        report_types: A non-empty subset of `REPORT_TYPES`.

    Returns:
        A list of ``(article, summary)`` string pairs; articles have 3 to 6
        sentences and at most ``MAX_ARTICLE_WORDS`` words, summaries one
        sentence of at most ``MAX_SUMMARY_WORDS`` words.

    Raises:
        ValueError: If an argument is invalid.

    Example:

    >>> from applications.summarization.data import generate_pairs
    >>> article, summary = generate_pairs(1, seed=3, report_types=["sales"])[0]
    >>> print(article)
    polaris , a maker of guitars , published its sales figures on friday . polaris sold 50 thousand guitars in may . in june , polaris sold 63 thousand guitars . in july , sales at polaris reached 39 thousand guitars .
    >>> print(summary)
    sales at polaris rose in june and fell in july .
    """
    return [
        (e["article"], e["summary"])
        for e in generate_examples(n, seed=seed, report_types=report_types)
    ]


def make_dataset(
    n_train: int,
    n_test: int,
    seed: int = 0,
    report_types: Sequence[str] = REPORT_TYPES,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Returns ``(train_pairs, test_pairs)``.

    The training pairs are ``generate_pairs(n_train, seed)``; the test pairs
    come from an independent random stream (another seed), skipping every
    article that is in the training pairs (or already in the test pairs), so
    no article is in both.

    Raises:
        ValueError: If an argument is invalid.

    Example:

    >>> from applications.summarization.data import make_dataset
    >>> train, test = make_dataset(100, 20, seed=1)
    >>> len(train), len(test), not {a for a, _ in train} & {a for a, _ in test}
    (100, 20, True)
    """
    contract.check_count("n_train", n_train, allow_none=False, minimum=0)
    contract.check_count("n_test", n_test, allow_none=False, minimum=0)
    train = generate_pairs(n_train, seed=seed, report_types=report_types)
    seen = {article for article, _ in train}
    test = []
    stream = _stream(f"summarization/test/{seed}", _check_types(report_types))
    while len(test) < n_test:
        article, summary, _ = next(stream)
        if article not in seen:
            seen.add(article)
            test.append((article, summary))
    return train, test


# --------------------------------------------------------------------------
# JSON lines.


def load_jsonl(path: str | os.PathLike) -> list[tuple[str, str]]:
    """Reads ``(article, summary)`` pairs from a JSON-lines file.

    Each non-blank line holds one JSON object with an ``"article"`` and either
    a ``"summary"`` or (CNN/DailyMail style) a ``"highlights"`` string; other
    keys (``"id"``, ...) are ignored. The lines of ``"highlights"`` are joined
    with single spaces; texts are otherwise kept as they are. A byte-order
    mark is ignored.

    Raises:
        ValueError: If a line is not a JSON object, lacks the keys, or has an
            article or summary that is not a non-empty string (the message
            names the file and the line number).

    Example:

    >>> import json, os, tempfile
    >>> from applications.summarization.data import load_jsonl
    >>> story = {"id": "1", "article": "a b c .", "highlights": "a .\\nc ."}  # CNN/DailyMail
    >>> path = os.path.join(tempfile.mkdtemp(), "cnn.jsonl")
    >>> _ = open(path, "w", encoding="utf-8").write(json.dumps(story) + "\\n")
    >>> load_jsonl(path)
    [('a b c .', 'a . c .')]
    """
    name = os.fspath(path)
    pairs = []
    with open(path, encoding="utf-8-sig") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{name}, line {lineno}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{where}: not valid JSON ({error}).") from None
            if not isinstance(record, dict):
                raise ValueError(
                    f"{where}: expected a JSON object, got {type(record).__name__}."
                )
            if "summary" in record:
                key = "summary"
            elif "highlights" in record:
                key = "highlights"
            else:
                raise ValueError(
                    f"{where}: the object has no 'summary' (or 'highlights') key."
                )
            if "article" not in record:
                raise ValueError(f"{where}: the object has no 'article' key.")
            article, summary = record["article"], record[key]
            for field, value in (("article", article), (key, summary)):
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(
                        f"{where}: {field!r} must be a non-empty string; got {value!r}."
                    )
            if key == "highlights":
                summary = " ".join(
                    part.strip() for part in summary.splitlines() if part.strip()
                )
            pairs.append((article, summary))
    return pairs


def save_jsonl(path: str | os.PathLike, pairs: Iterable[tuple[str, str]]) -> None:
    """Writes ``(article, summary)`` pairs as ``{"article", "summary"}`` JSON lines.

    Raises:
        ValueError: If a pair is not two non-empty strings.

    Example:

    >>> import os, tempfile
    >>> from applications.summarization.data import load_jsonl, save_jsonl
    >>> path = os.path.join(tempfile.mkdtemp(), "pairs.jsonl")
    >>> save_jsonl(path, [("it rained in oslo .", "rain in oslo .")])
    >>> load_jsonl(path)
    [('it rained in oslo .', 'rain in oslo .')]
    """
    lines = []
    for index, pair in enumerate(contract.check_pairs(pairs, "(article, summary)")):
        for value in pair:
            if not isinstance(value, str) or not value.strip():
                raise ValueError(
                    f"`pairs` item {index}: {value!r} must be a non-empty string."
                )
        record = {"article": pair[0], "summary": pair[1]}
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(lines)
