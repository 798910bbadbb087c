"""bAbI generators (tasks 1, 2, 6) and the bAbI file loader."""

import re

import pytest
from file_errors import assert_loader_error

from applications.qa.babi import (
    LOCATIONS,
    OBJECTS,
    PEOPLE,
    format_babi,
    generate_stories,
    load_babi,
    make_babi_dataset,
    parse_babi,
    save_babi,
    story_key,
)

FACT = re.compile(
    r"(?P<p>Mary|John|Daniel|Sandra) (?:"
    r"(?:moved|went|travelled|journeyed|went back) to the (?P<place>\w+)"
    r"|(?:got|picked up|grabbed|took) the (?P<taken>\w+) there"
    r"|(?:dropped|discarded|put down) the (?P<dropped>\w+)"
    r"|left the (?P<left>\w+) there)\."
)
QUESTION = re.compile(r"(?:Where is (?P<who>Mary|John|Daniel|Sandra)|Where is the (?P<what>\w+)"
                      r"|Is (?P<is>\w+) in the (?P<room>\w+))\?")
LINE = re.compile(r"(?P<id>[1-9]\d*) (?P<text>[^\t]+?)(?: \t(?P<answer>\w+)\t(?P<ids>\d+(?: \d+)*))?")


def replay(text):
    """An independent reader of bAbI text: replays the world line by line and
    checks every answer and its supporting facts."""
    checked = 0
    for line in text.splitlines():
        m = LINE.fullmatch(line)
        assert m, line
        if m["id"] == "1":
            place, moved, holder, lying = {}, {}, {}, {}
        number = int(m["id"])
        if m["answer"] is None:
            f = FACT.fullmatch(m["text"])
            assert f, line
            p = f["p"]
            if f["place"]:
                assert f["place"] in LOCATIONS and f["place"] != place.get(p)
                place[p], moved[p] = f["place"], number
            elif f["taken"]:
                thing = f["taken"]
                assert thing in OBJECTS and thing not in holder and p in place
                if thing in lying:  # taken where it lies
                    assert lying[thing][0] == place[p]
                    del lying[thing]
                holder[thing] = (p, number)
            else:
                thing = f["dropped"] or f["left"]
                assert holder[thing][0] == p
                del holder[thing]
                lying[thing] = (place[p], {moved[p], number})
            continue
        q = QUESTION.fullmatch(m["text"])
        assert q, line
        ids = {int(i) for i in m["ids"].split()}
        if q["who"]:
            assert (m["answer"], ids) == (place[q["who"]], {moved[q["who"]]})
        elif q["is"]:
            assert m["answer"] == ("yes" if place[q["is"]] == q["room"] else "no")
            assert ids == {moved[q["is"]]}
        else:
            thing = q["what"]
            if thing in holder:
                p, took = holder[thing]
                assert (m["answer"], ids) == (place[p], {took, moved[p]})
            else:
                assert (m["answer"], ids) == lying[thing]
        checked += 1
    return checked


@pytest.mark.parametrize("task", [1, 2, 6])
def test_generated_stories_are_exact_babi_and_correct(task):
    stories = generate_stories(task, 60, seed=4)
    text = format_babi(stories)
    assert replay(text) == 5 * 60
    # bAbI's question lines: "<id> <question>? \t<answer>\t<ids>".
    assert re.search(r"^\d+ [A-Z][^\t]*\? \t\w+\t\d+", text, re.M)
    answers = [e["answer"] for e in parse_babi(text.splitlines())]
    if task == 6:
        assert set(answers) == {"yes", "no"} and 0.35 < answers.count("yes") / len(answers) < 0.65
    else:
        assert set(answers) <= set(LOCATIONS) and len(set(answers)) == len(LOCATIONS)
    if task == 2:
        # Most task-2 questions need the object fact and a move after it.
        examples = parse_babi(text.splitlines())
        assert all(len(e["supporting"]) == 2 for e in examples)
        assert {w for e in examples for w in re.findall(r"\w+", e["question"])} & set(OBJECTS) == set(OBJECTS)
    assert {p for s in stories for line in s for p in PEOPLE if line[1].startswith(p)} == set(PEOPLE)


def test_generator_is_deterministic_and_prefix_stable():
    assert generate_stories(2, 10, seed=1) == generate_stories(2, 10, seed=1)
    assert generate_stories(2, 10, seed=1)[:4] == generate_stories(2, 4, seed=1)
    assert generate_stories(2, 10, seed=1) != generate_stories(2, 10, seed=2)
    assert generate_stories(1, 5, seed=1) != generate_stories(6, 5, seed=1)
    for kwargs, name in (({"task": 3, "n": 1}, "task"), ({"task": 1, "n": -1}, "n"),
                         ({"task": 1, "n": 1, "seed": "x"}, "seed")):
        with pytest.raises(ValueError, match=f"`{name}`"):
            generate_stories(**kwargs)


def test_split_holds_out_whole_stories():
    train, test = make_babi_dataset(1, 300, 100, seed=0)
    assert (len(train), len(test)) == (1500, 500)

    def stories(examples):
        # The last question of a story sees all its facts.
        return {" ".join(e["story"]) for e in examples[4::5]}

    assert len(stories(test)) == 100
    assert not stories(train) & stories(test)
    # Stories are not shared even as prefixes seen at an earlier question.
    train_prefixes = {" ".join(e["story"]) for e in train}
    assert not {" ".join(e["story"]) for e in test[4::5]} & train_prefixes
    assert story_key(generate_stories(1, 1, 0)[0]).startswith("Mary travelled to the hallway.")


def test_loader_parses_the_real_format(tmp_path):
    # Lines as in tasks_1-20_v1-2/en/qa1 and qa2 (two stories, two supporting ids).
    path = tmp_path / "qa2_two-supporting-facts_test.txt"
    path.write_text(
        "1 Mary moved to the bathroom.\n"
        "2 Sandra journeyed to the bedroom.\n"
        "3 Mary got the football there.\n"
        "4 John went to the kitchen.\n"
        "5 Mary went back to the kitchen.\n"
        "6 Where is the football? \tkitchen\t3 5\n"
        "7 John went back to the hallway.\n"
        "8 Where is Mary? \tkitchen\t5\n"
        "1 Daniel travelled to the office.\n"
        "2 Where is Daniel? \toffice\t1\n",
        encoding="utf-8",
    )
    examples = load_babi(path)
    assert examples == [
        {
            "story": ["Mary moved to the bathroom.", "Sandra journeyed to the bedroom.",
                      "Mary got the football there.", "John went to the kitchen.",
                      "Mary went back to the kitchen."],
            "story_ids": [1, 2, 3, 4, 5],
            "question": "Where is the football?",
            "answer": "kitchen",
            "supporting": [3, 5],
        },
        {
            "story": ["Mary moved to the bathroom.", "Sandra journeyed to the bedroom.",
                      "Mary got the football there.", "John went to the kitchen.",
                      "Mary went back to the kitchen.", "John went back to the hallway."],
            "story_ids": [1, 2, 3, 4, 5, 7],
            "question": "Where is Mary?",
            "answer": "kitchen",
            "supporting": [5],
        },
        {"story": ["Daniel travelled to the office."], "story_ids": [1], "question": "Where is Daniel?",
         "answer": "office", "supporting": [1]},
    ]
    # Windows line endings and a file written by save_babi read the same.
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert load_babi(path) == examples
    stories = generate_stories(6, 3, seed=9)
    save_babi(tmp_path / "qa6.txt", stories)
    assert len(load_babi(tmp_path / "qa6.txt")) == 15


@pytest.mark.parametrize(
    "text, message",
    [
        ("1 Mary moved to the bathroom.\n3 Where is Mary? \tbathroom\t1\n", "line 2: expected line id 2"),
        ("1 Mary moved to the bathroom.\n2 Where is Mary? \t\t1\n", "line 2: a question line needs"),
        ("1 Mary moved to the bathroom.\n2 Where is Mary? \tbathroom\t2\n", "line 2: supporting ids"),
        ("1 Mary moved to the bathroom.\n2 Where is Mary? \tbathroom\tone\n", "must be integers"),
        ("Mary moved to the bathroom.\n", "line 1: expected '<id> <text>'"),
    ],
)
def test_loader_errors_name_file_and_line(tmp_path, text, message):
    assert_loader_error(load_babi, tmp_path / "bad.txt", text, ".*" + re.escape(message))
