import json
import re
from collections import Counter

import pytest

from applications.qa.data import (
    CITIES,
    MAX_ANSWER_WORDS,
    MAX_CONTEXT_WORDS,
    MAX_QUESTION_WORDS,
    NAMES,
    QUESTION_TYPES,
    char_to_word_span,
    generate_examples,
    load_squad,
    make_dataset,
    save_squad,
)

MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|"
    "november|december"
)
SPELLED = (
    "two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen twenty"
).split()
TOKEN = re.compile(r"[a-z]+|[0-9]+|[.,?]")

# --------------------------------------------------------------------------
# An independent reader: each question pattern names the one sentence pattern
# that answers it; the answer is read off the only sentence that matches.


# (question regex, question type, entity type, sentence regexes): `{name}`
# in a sentence regex is the question's group `name`, and the group `a` of
# the sentence is the answer.
QUESTION_RULES = [
    (
        r"(?:where|in which city) was (?P<p>\w+) born \?",
        "birthplace",
        "city",
        [r"{p} was born in (?P<a>[a-z]+) in \d+ \.", r"{p} was born in \d+ in (?P<a>[a-z]+) \."],
    ),
    (
        r"(?:in which year|when) was (?P<p>\w+) born \?",
        "birth_year",
        "year",
        [r"{p} was born in [a-z]+ in (?P<a>\d+) \.", r"{p} was born in (?P<a>\d+) in [a-z]+ \."],
    ),
    (
        r"(?:where|in which city) does (?P<p>\w+) live \?",
        "residence",
        "city",
        [r"(?:today )?{p} lives in (?P<a>[a-z]+) \."],
    ),
    (r"what is the job of (?P<p>\w+) \?", "job", "job", [r"{p} (?:works as|is) an? (?P<a>[a-z ]+) \."]),
    (r"what does (?P<p>\w+) do for a living \?", "job", "job", [r"{p} (?:works as|is) an? (?P<a>[a-z ]+) \."]),
    (
        r"how many (?P<noun>\w+) (?:did|does|has) (?P<p>\w+) \w+ \?",
        "count",
        "number",
        [r"{p} (?:has )?\w+ (?P<a>[a-z]+) {noun} \."],
    ),
    (
        r"when did (?P<p>\w+) move to (?P<city>\w+) \?",
        "move_date",
        "date",
        [r"in (?P<a>[a-z]+ \d+) , {p} moved to {city} \.", r"{p} moved to {city} in (?P<a>[a-z]+ \d+) \."],
    ),
    (
        r"where did (?P<p>\w+) move to \?",
        "move_city",
        "city",
        [r"in [a-z]+ \d+ , {p} moved to (?P<a>[a-z]+) \.", r"{p} moved to (?P<a>[a-z]+) in [a-z]+ \d+ \."],
    ),
    (
        r"where did (?P<p>\w+) move in (?P<date>[a-z]+ \d+) \?",
        "move_city",
        "city",
        [r"in {date} , {p} moved to (?P<a>[a-z]+) \.", r"{p} moved to (?P<a>[a-z]+) in {date} \."],
    ),
    (r"how old is (?P<p>\w+) \?", "age", "age", [r"{p} is (?P<a>\d+) years old \."]),
]


def sentence_rules(question):
    """``(question type, entity type, [sentence regexes with group 'a'])``."""
    for pattern, question_type, kind, sentences in QUESTION_RULES:
        m = re.fullmatch(pattern, question)
        if m:
            filled = []
            for sentence in sentences:
                for name, value in m.groupdict().items():
                    sentence = sentence.replace("{" + name + "}", value)
                filled.append(sentence)
            return question_type, kind, filled
    raise AssertionError(f"unknown question {question!r}")


def entities(sentence, kind):
    """The entities of ``kind`` a sentence mentions."""
    if kind == "city":
        return [w for w in sentence.split() if w in CITIES]
    if kind == "year":
        return re.findall(r"\b\d{4}\b", sentence)
    if kind == "number":
        return [w for w in sentence.split() if w in SPELLED]
    if kind == "job":
        return re.findall(r"(?:works as|is) an? ([a-z ]+) \.", sentence)
    if kind == "date":
        return re.findall(rf"\b(?:{MONTHS}) \d{{4}}\b", sentence)
    return re.findall(r"(\d+) years old", sentence)


def sentences_with_offsets(context):
    words = context.split()
    start, out = 0, []
    for i, word in enumerate(words):
        if word == ".":
            out.append((start, i, " ".join(words[start : i + 1])))
            start = i + 1
    assert start == len(words)
    return out


@pytest.fixture(scope="module")
def examples():
    return generate_examples(5000, seed=21)


def test_answer_span_matches(examples):
    for e in examples:
        words = e["context"].split()
        start, end = e["answer_start_word"], e["answer_end_word"]
        assert 0 <= start <= end < len(words)
        assert " ".join(words[start : end + 1]) == e["answer_text"]
        offset = e["answer_start"]
        assert e["context"][offset : offset + len(e["answer_text"])] == e["answer_text"]
        assert char_to_word_span(e["context"], offset, len(e["answer_text"])) == (
            start,
            end,
        )
        # The answer occurs exactly once in the context.
        padded = f" {e['context']} "
        assert padded.count(f" {e['answer_text']} ") == 1


def test_answers_rederived_from_the_one_right_sentence(examples):
    types = Counter()
    for e in examples:
        question_type, kind, patterns = sentence_rules(e["question"])
        types[question_type] += 1
        sentences = sentences_with_offsets(e["context"])
        matches = []
        for first, last, sentence in sentences:
            for pattern in patterns:
                match = re.fullmatch(pattern, sentence)
                if match:
                    matches.append((first, last, sentence, match["a"]))
        assert len(matches) == 1, (e, matches)
        first, last, sentence, answer = matches[0]
        assert answer == e["answer_text"]
        assert first <= e["answer_start_word"] <= e["answer_end_word"] <= last
        # At least two entities of the asked type, the other(s) elsewhere.
        elsewhere = [
            x for f, _, s in sentences if f != first for x in entities(s, kind)
        ]
        assert entities(sentence, kind) == [answer]
        assert elsewhere and answer not in elsewhere, e
    assert set(types) == set(QUESTION_TYPES)
    assert min(types.values()) > 400


def test_hard_distractors_are_common(examples):
    """Often the other entity of the asked type is about the same person."""
    same_person = 0
    for e in examples:
        _, kind, patterns = sentence_rules(e["question"])
        (person,) = [w for w in e["question"].split() if w in NAMES]
        for _, _, sentence in sentences_with_offsets(e["context"]):
            if person in sentence.split():
                if not any(re.fullmatch(p, sentence) for p in patterns) and entities(
                    sentence, kind
                ):
                    same_person += 1
                    break
    assert same_person > 0.15 * len(examples)


def test_format_lengths_and_vocabulary(examples):
    vocabulary = set()
    longest = Counter()
    n_sentences = Counter()
    for e in examples:
        for key in ("context", "question", "answer_text"):
            tokens = e[key].split(" ")
            assert all(TOKEN.fullmatch(t) for t in tokens), e[key]
            vocabulary.update(tokens)
            longest[key] = max(longest[key], len(tokens))
        assert e["question"].endswith(" ?")
        n_sentences[e["context"].split().count(".")] += 1
    assert set(n_sentences) == {3, 4, 5, 6}
    assert longest["context"] <= MAX_CONTEXT_WORDS
    assert longest["context"] >= MAX_CONTEXT_WORDS - 6
    assert longest["question"] == MAX_QUESTION_WORDS
    assert longest["answer_text"] == MAX_ANSWER_WORDS
    assert len(vocabulary) < 2000


def test_facts_are_consistent(examples):
    for e in examples:
        born, moved, age = {}, {}, {}
        for _, _, s in sentences_with_offsets(e["context"]):
            m = re.search(r"(\w+) was born in (?:[a-z]+ in )?(\d+)", s)
            if m:
                born[m[1]] = int(m[2])
            m = re.fullmatch(rf"in (?:{MONTHS}) (\d+) , (\w+) moved .*", s)
            m = m or re.fullmatch(rf"(\w+) moved to \w+ in (?:{MONTHS}) (\d+) \.", s)
            if m:
                person, year = (m[2], m[1]) if s.startswith("in ") else (m[1], m[2])
                assert person not in moved
                moved[person] = int(year)
            m = re.fullmatch(r"(\w+) is (\d+) years old \.", s)
            if m:
                age[m[1]] = int(m[2])
        assert not set(born) & set(age)
        for person, year in moved.items():
            birth = born.get(person, 2024 - age.get(person, 2024 - 1900))
            assert year >= birth + 16


def test_sentence_range_and_determinism():
    short = generate_examples(300, seed=2, min_sentences=2, max_sentences=3)
    assert {e["context"].split().count(".") for e in short} == {2, 3}
    assert generate_examples(30, seed=2) == generate_examples(30, seed=2)
    assert generate_examples(10, seed=2) == generate_examples(30, seed=2)[:10]
    a, b = generate_examples(40, seed=0), generate_examples(40, seed=1)
    assert sum(x == y for x, y in zip(a, b)) == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n=-1),
        dict(n=1.5),
        dict(n=1, seed=None),
        dict(n=1, min_sentences=1),
        dict(n=1, min_sentences=4, max_sentences=3),
        dict(n=1, max_sentences=9),
        dict(n=1, max_sentences=5.0),
    ],
)
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        generate_examples(**kwargs)


def test_make_dataset():
    train, test = make_dataset(1500, 300, seed=3)
    assert len(train) == 1500 and len(test) == 300
    assert train == generate_examples(1500, seed=3)
    contexts = {e["context"] for e in train}
    assert not contexts & {e["context"] for e in test}
    assert len({e["context"] for e in test}) == 300
    assert make_dataset(1500, 300, seed=3) == (train, test)
    with pytest.raises(ValueError):
        make_dataset(1, -2)


# --------------------------------------------------------------------------
# SQuAD files.


def test_squad_round_trip_and_grouping(tmp_path):
    examples = generate_examples(20, seed=6)
    examples.insert(3, dict(examples[2], question="again ?"))  # shared context
    path = tmp_path / "qa.json"
    save_squad(path, examples)
    assert load_squad(path) == examples
    root = json.loads(path.read_text(encoding="utf-8"))
    assert root["version"] == "1.1"
    paragraphs = root["data"][0]["paragraphs"]
    assert len(paragraphs) == 20 and len(paragraphs[2]["qas"]) == 2
    ids = [qa["id"] for p in paragraphs for qa in p["qas"]]
    assert len(set(ids)) == 21


SQUAD = {
    "version": "1.1",
    "data": [
        {
            "title": "Anna_Smith",
            "paragraphs": [
                {
                    "context": "Anna Smith (born 1990) moved to  Lisbon,\nPortugal.",
                    "qas": [
                        {
                            "id": "a1",
                            "question": "When was Anna born?",
                            "answers": [{"text": "1990", "answer_start": 17}],
                        },
                        {
                            "id": "a2",
                            "question": "Where did she move?",
                            "answers": [
                                {"text": "Lisbon", "answer_start": 33},
                                {"text": "Lisbon,\nPortugal", "answer_start": 33},
                            ],
                        },
                    ],
                }
            ],
        },
        {"title": "Empty", "paragraphs": []},
    ],
}


def test_load_real_style_squad(tmp_path):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(SQUAD), encoding="utf-8")
    first, second = load_squad(path)
    context = SQUAD["data"][0]["paragraphs"][0]["context"]
    assert first == {
        "context": context,
        "question": "When was Anna born?",
        "answer_text": "1990",
        "answer_start": 17,
        "answer_start_word": 3,  # the word "1990)"
        "answer_end_word": 3,
    }
    assert second["answer_text"] == "Lisbon"  # the first listed answer
    assert second["answer_start_word"] == second["answer_end_word"] == 6
    assert context.split()[6] == "Lisbon,"


def test_char_to_word_span():
    context = "  ab cd\n ef  "
    assert char_to_word_span(context, 2, 2) == (0, 0)
    assert char_to_word_span(context, 3, 4) == (0, 1)
    assert char_to_word_span(context, 4, 3) == (1, 1)  # leading space skipped
    assert char_to_word_span(context, 9, 2) == (2, 2)
    with pytest.raises(ValueError):
        char_to_word_span(context, 11, 2)


def broken(change):
    root = json.loads(json.dumps(SQUAD))
    change(root)
    return json.dumps(root)


def _set_answer(root, **fields):
    root["data"][0]["paragraphs"][0]["qas"][0]["answers"][0].update(fields)


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not valid JSON"),
        ("[]", "'data' list"),
        ('{"data": {}}', "'data' list"),
        ('{"data": [{"title": "x"}]}', r"data\[0\]: expected an object with a 'paragraphs'"),
        ('{"data": [{"paragraphs": [{"qas": []}]}]}', "'context' string"),
        (broken(lambda r: r["data"][0]["paragraphs"][0]["qas"][1].update(answers=[])), "no answer"),
        (broken(lambda r: r["data"][0]["paragraphs"][0]["qas"][0].pop("question")), "'question' string"),
        (broken(lambda r: _set_answer(r, answer_start=16)), "not at character 16"),
        (broken(lambda r: _set_answer(r, answer_start=True)), "integer 'answer_start'"),
        (broken(lambda r: _set_answer(r, answer_start=-1)), "not at character"),
        (broken(lambda r: _set_answer(r, text="")), "non-empty 'text'"),
    ],
)  # fmt: skip
def test_load_squad_errors_name_the_file(tmp_path, text, message):
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        load_squad(path)
    assert str(path) in str(info.value)


def test_save_squad_errors(tmp_path):
    good = generate_examples(1, seed=0)[0]
    path = tmp_path / "out.json"
    for bad in (
        {k: v for k, v in good.items() if k != "question"},
        dict(good, answer_start=good["answer_start"] + 1),
        dict(good, answer_end_word=good["answer_end_word"] + 1),
        dict(good, answer_text=""),
        "not a dict",
    ):
        with pytest.raises(ValueError, match="item 1"):
            save_squad(path, [good, bad])
    assert not path.exists()
