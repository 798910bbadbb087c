import calendar
import json
import re
from collections import Counter

import pytest
from file_errors import assert_loader_error

from applications.summarization.data import (
    MAX_ARTICLE_WORDS,
    MAX_SENTENCES,
    MAX_SUMMARY_WORDS,
    MIN_SENTENCES,
    REPORT_TYPES,
    generate_examples,
    generate_pairs,
    load_jsonl,
    make_dataset,
    save_jsonl,
)

CALENDAR = [name.lower() for name in calendar.month_name[1:]]  # the stdlib, English
TOKEN = re.compile(r"[a-z]+|[0-9]+|[.,]")


# --------------------------------------------------------------------------
# An independent reader: recomputes the summary from the article text alone,
# with regular expressions for the sentences that carry the facts.


def split_sentences(article):
    assert article.endswith(" ."), article
    return [s + " ." for s in article[:-2].split(" . ")]


def first_match(patterns, sentence):
    for pattern in patterns:
        match = re.fullmatch(pattern, sentence)
        if match:
            return match
    return None


def body_facts(sentences, patterns):
    """The matches of `patterns` among the body sentences (all but the first)."""
    matches = (first_match(patterns, sentence) for sentence in sentences[1:])
    return [match for match in matches if match]


def classify(article):
    if re.search(r"\d+ goals? ", article):
        return "sports"
    if "new mayor" in article or "candidates ran for mayor" in article:
        return "election"
    if " degrees " in article:
        return "weather"
    if "sales" in article:
        return "sales"
    return "incident"


def read_sports(sentences):
    intro = first_match(
        [
            r"the (?P<home>\w+) hosted the (?P<away>\w+) in (?P<city>\w+) on \w+ \.",
            r"on \w+ , the (?P<home>\w+) played the (?P<away>\w+) at home in (?P<city>\w+) \.",
        ],
        sentences[0],
    )
    home, away, city = intro["home"], intro["away"], intro["city"]
    goals = {}
    for match in body_facts(
        sentences,
        [
            r"the (?P<team>\w+) scored (?P<n>\d+) goals? \.",
            r"(?P<n>\d+) goals? came from the (?P<team>\w+) \.",
            r"the (?P<team>\w+) finished with (?P<n>\d+) goals? \.",
        ],
    ):
        assert match["team"] not in goals
        goals[match["team"]] = int(match["n"])
    assert set(goals) == {home, away}
    h, a = goals[home], goals[away]
    if h == a:
        return f"the {home} and the {away} drew {h} to {a} in {city} ."
    (winner, w), (loser, v) = sorted(goals.items(), key=lambda kv: -kv[1])
    return f"the {winner} beat the {loser} {w} to {v} in {city} ."


def read_sales(sentences):
    intro = first_match(
        [
            r"(?P<c>\w+) , a maker of \w+ , published its sales figures on \w+ \.",
            r"this is the sales report of (?P<c>\w+) , which makes \w+ \.",
        ],
        sentences[0],
    )
    company = intro["c"]
    sold = {}
    for match in body_facts(
        sentences,
        [
            r"(?P<c>\w+) sold (?P<v>\d+) thousand \w+ in (?P<m>\w+) \.",
            r"in (?P<m>\w+) , (?P<c>\w+) sold (?P<v>\d+) thousand \w+ \.",
            r"in (?P<m>\w+) , sales at (?P<c>\w+) reached (?P<v>\d+) thousand \w+ \.",
        ],
    ):
        if match["c"] == company:
            assert match["m"] not in sold
            sold[match["m"]] = int(match["v"])
    months = sorted(sold, key=CALENDAR.index)
    assert len(months) in (3, 4)
    assert [CALENDAR.index(m) for m in months] == list(
        range(CALENDAR.index(months[0]), CALENDAR.index(months[0]) + len(months))
    )
    clauses = []
    for before, month in zip(months, months[1:]):
        assert sold[month] != sold[before]
        clauses.append(f"{'rose' if sold[month] > sold[before] else 'fell'} in {month}")
    text = clauses[0] if len(clauses) == 1 else " , ".join(clauses[:-1])
    if len(clauses) > 1:
        text += " and " + clauses[-1]
    return f"sales at {company} {text} ."


def read_weather(sentences):
    day = re.fullmatch(r".* for (\w+) \.", sentences[0])[1]
    facts = body_facts(
        sentences,
        [
            r"(?P<c>\w+) reached (?P<t>\d+) degrees under \w+ skies \.",
            r"in (?P<c>\w+) it was (?P<t>\d+) degrees and \w+ \.",
            r"it was (?P<t>\d+) degrees in (?P<c>\w+) \.",
        ],
    )
    temperature = {match["c"]: int(match["t"]) for match in facts}
    assert len(temperature) in (3, 4)
    assert len(set(temperature.values())) == len(temperature)
    hot = max(temperature, key=temperature.get)
    cold = min(temperature, key=temperature.get)
    return (
        f"{hot} was the warmest city on {day} at {temperature[hot]} degrees and "
        f"{cold} the coldest at {temperature[cold]} ."
    )


def read_election(sentences):
    intro = first_match(
        [
            r"voters in (?P<city>\w+) chose a new mayor on \w+ \.",
            r"\w+ candidates ran for mayor of (?P<city>\w+) on \w+ \.",
        ],
        sentences[0],
    )
    facts = body_facts(
        sentences,
        [
            r"(?P<name>\w+) received (?P<p>\d+) percent of the vote \.",
            r"(?P<name>\w+) got (?P<p>\d+) percent \.",
            r"(?P<p>\d+) percent of voters chose (?P<name>\w+) \.",
        ],
    )
    shares = {match["name"]: int(match["p"]) for match in facts}
    assert len(shares) in (3, 4) and sum(shares.values()) <= 100
    assert len(set(shares.values())) == len(shares)
    winner = max(shares, key=shares.get)
    return (
        f"{winner} won the race for mayor of {intro['city']} with {shares[winner]} "
        "percent of the vote ."
    )


def read_incident(sentences):
    intro = first_match(
        [
            r"an? (?P<e>[a-z ]+) was reported at an? (?P<p>\w+) in (?P<c>\w+) on (?P<d>\w+) \.",
            r"on (?P<d>\w+) , an? (?P<e>[a-z ]+) hit an? (?P<p>\w+) in (?P<c>\w+) \.",
        ],
        sentences[0],
    )
    victims = []
    for sentence in sentences[1:]:
        if sentence in ("no one was hurt .", "nobody was injured ."):
            victims.append(0)
        match = re.fullmatch(
            r"(\d+) (?:people were|person was) (?:hurt|taken to hospital) \.", sentence
        )
        if match:
            victims.append(int(match[1]))
    (hurt,) = victims
    count = {0: "no one", 1: "1 person"}.get(hurt, f"{hurt} people")

    def a(noun):
        return ("an " if noun[0] in "aeiou" else "a ") + noun

    return (
        f"{a(intro['e'])} at {a(intro['p'])} in {intro['c']} on {intro['d']} "
        f"injured {count} ."
    )


READERS = {
    "sports": read_sports,
    "sales": read_sales,
    "weather": read_weather,
    "election": read_election,
    "incident": read_incident,
}


@pytest.fixture(scope="module")
def examples():
    return generate_examples(5000, seed=11)


# --------------------------------------------------------------------------


def test_summaries_are_rederived_from_the_article(examples):
    kinds = Counter()
    for example in examples:
        article = example["article"]
        kind = classify(article)
        assert kind == example["type"], article
        assert READERS[kind](split_sentences(article)) == example["summary"], article
        kinds[kind] += 1
    assert set(kinds) == set(REPORT_TYPES)
    assert min(kinds.values()) > 800


def test_summaries_need_comparison(examples):
    """The summary is not a copy of the first facts: every outcome occurs."""
    outcomes = Counter()
    for example in examples:
        summary, article = example["summary"], example["article"]
        if example["type"] == "sports":
            home = re.search(r"the (\w+) (?:hosted|played)", article)[1]
            if " drew " in summary:
                outcomes["draw"] += 1
            else:
                won = summary.split()[1] == home
                outcomes["home" if won else "away"] += 1
        elif example["type"] == "sales":
            outcomes.update(w for w in summary.split() if w in ("rose", "fell"))
        elif example["type"] == "election":
            winner = summary.split()[0]
            first = next(s for s in split_sentences(article)[1:] if "percent" in s)
            outcomes["first named wins" if winner in first.split() else "other"] += 1
    for outcome in (
        "draw",
        "home",
        "away",
        "rose",
        "fell",
        "first named wins",
        "other",
    ):
        assert outcomes[outcome] > 20, outcomes


def test_format_and_lengths(examples):
    vocabulary = set()
    longest = [0, 0]
    for example in examples:
        article, summary = example["article"], example["summary"]
        for text in (article, summary):
            tokens = text.split(" ")
            assert all(TOKEN.fullmatch(t) for t in tokens), text
            vocabulary.update(tokens)
        assert MIN_SENTENCES <= len(split_sentences(article)) <= MAX_SENTENCES
        assert summary.endswith(" .") and summary.count(".") == 1
        longest[0] = max(longest[0], len(article.split()))
        longest[1] = max(longest[1], len(summary.split()))
    assert longest[0] <= MAX_ARTICLE_WORDS and longest[1] <= MAX_SUMMARY_WORDS
    assert longest[0] >= MAX_ARTICLE_WORDS - 10  # the bounds are tight
    assert len(vocabulary) < 2000


def test_deterministic_and_prefix_stable():
    assert generate_pairs(40, seed=5) == generate_pairs(40, seed=5)
    assert generate_pairs(10, seed=5) == generate_pairs(40, seed=5)[:10]
    assert generate_pairs(0) == []


def test_seeds_differ():
    a, b = generate_pairs(50, seed=0), generate_pairs(50, seed=1)
    assert sum(x == y for x, y in zip(a, b)) == 0


def test_report_types_subset():
    pairs = generate_examples(60, seed=2, report_types=["weather", "sales"])
    assert {e["type"] for e in pairs} == {"weather", "sales"}
    for example in pairs:
        assert classify(example["article"]) == example["type"]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n=-1),
        dict(n=2.0),
        dict(n=True),
        dict(n=2, seed="0"),
        dict(n=2, report_types="sports"),
        dict(n=2, report_types=[]),
        dict(n=2, report_types=["poetry"]),
    ],
)
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        generate_pairs(**kwargs)


def test_make_dataset_disjoint_and_deterministic():
    train, test = make_dataset(2000, 300, seed=4)
    assert len(train) == 2000 and len(test) == 300
    assert train == generate_pairs(2000, seed=4)
    assert not {a for a, _ in train} & {a for a, _ in test}
    assert len({a for a, _ in test}) == 300
    assert make_dataset(2000, 300, seed=4) == (train, test)
    assert make_dataset(10, 5, seed=5)[1] != test[:5]
    with pytest.raises(ValueError):
        make_dataset(-1, 2)


# --------------------------------------------------------------------------
# JSON lines.


def test_jsonl_round_trip(tmp_path):
    pairs = generate_pairs(30, seed=3) + [("ünïcode « text » .", "ok .")]
    path = tmp_path / "pairs.jsonl"
    save_jsonl(path, pairs)
    assert load_jsonl(path) == pairs
    assert load_jsonl(str(path)) == pairs
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert first == {"article": pairs[0][0], "summary": pairs[0][1]}


def test_jsonl_cnn_dailymail_keys_and_blank_lines(tmp_path):
    path = tmp_path / "cnn.jsonl"
    records = [
        {"id": "x1", "article": "first story .", "highlights": "one .\ntwo . "},
        {"article": "second story .", "summary": "short .", "extra": 3},
    ]
    path.write_text(
        "\ufeff" + json.dumps(records[0]) + "\n\n  \n" + json.dumps(records[1]) + "\n",
        encoding="utf-8",
    )
    assert load_jsonl(path) == [
        ("first story .", "one . two ."),
        ("second story .", "short ."),
    ]


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"article": "a", "summary": "b"', "not valid JSON"),
        ('["a", "b"]', "expected a JSON object"),
        ('{"article": "a"}', "no 'summary'"),
        ('{"summary": "b"}', "no 'article'"),
        ('{"article": "", "summary": "b"}', "non-empty string"),
        ('{"article": "a", "highlights": 3}', "non-empty string"),
    ],
)
def test_jsonl_errors_name_file_and_line(tmp_path, line, message):
    text = '{"article": "ok .", "summary": "ok ."}\n\n' + line + "\n"
    assert_loader_error(load_jsonl, tmp_path / "bad.jsonl", text, f".*line 3.*{message}")


@pytest.mark.parametrize(
    "pairs", [[("a", "")], [("a",)], ["ab"], [("a", 3)], [(None, "b")]]
)
def test_save_jsonl_rejects_bad_pairs(tmp_path, pairs):
    path = tmp_path / "out.jsonl"
    with pytest.raises(ValueError):
        save_jsonl(path, pairs)
    assert not path.exists()
