"""ner data: the seeded generator, what its test splits hold out, and the
CoNLL / GMB loaders on small files in the real formats."""

import re

import pytest

from applications.ner.data import (
    ENTITY_TYPES,
    HELD_OUT_TEMPLATES,
    TEMPLATES,
    TRAIN_TEMPLATES,
    entity_pools,
    entity_strings,
    generate_sentences,
    load_conll,
    load_gmb,
    make_dataset,
    save_conll,
    to_bio,
)
from applications.ner.scoring import get_entities


@pytest.fixture(scope="module")
def dataset():
    return make_dataset(2000, 400, seed=3)


def template_pattern(template):
    pattern = re.escape(template)
    for kind in ENTITY_TYPES:
        pattern = re.sub(r"\\\{" + kind + r"\d?\\\}", r"(?:\\S+(?: \\S+)*?)", pattern)
    for filler in ("DAY", "MONTH", "YEAR", "NUM"):
        pattern = re.sub(r"\\\{" + filler + r"\\\}", r"\\S+", pattern)
    return re.compile(pattern)


def frame(tokens, tags):
    """The sentence with each entity replaced by its type slot."""
    out = []
    for token, tag in zip(tokens, tags):
        if tag.startswith("B-"):
            out.append("{" + tag[2:] + "}")
        elif tag == "O":
            out.append(token)
    return " ".join(out)


def template_frames(indices):
    """Templates with numbered slots unified and fillers kept as slots."""
    return {re.sub(r"\{(PER|ORG|LOC)\d\}", r"{\1}", TEMPLATES[i]) for i in indices}


def matches(sentence_frame, template):
    parts = re.split(r"(\{(?:DAY|MONTH|YEAR|NUM)\})", template)
    regex = "".join(r"\S+" if re.fullmatch(r"\{(?:DAY|MONTH|YEAR|NUM)\}", p) else re.escape(p) for p in parts)
    return re.fullmatch(regex, sentence_frame) is not None


def test_generator_is_deterministic_and_well_formed(dataset):
    assert make_dataset(2000, 400, seed=3) == dataset
    assert generate_sentences(50, seed=4) != generate_sentences(50, seed=5)
    assert generate_sentences(50, seed=4, split="unseen_entities") != generate_sentences(50, seed=4)
    assert len(TRAIN_TEMPLATES) >= 40 and len(set(TEMPLATES)) == len(TEMPLATES)
    for sentences in dataset.values():
        for tokens, tags in sentences:
            assert len(tokens) == len(tags) and all(" " not in t and t for t in tokens)
            assert to_bio(tags) == tags  # valid BIO: every entity opens with B-
            assert {t[2:] for t in tags if t != "O"} <= set(ENTITY_TYPES)
    kinds = {e[0] for e in entity_strings(dataset["train"])}
    assert kinds == set(ENTITY_TYPES)


def test_unseen_entities_share_no_entity_or_name_token_with_training(dataset):
    train = entity_strings(dataset["train"])
    # Also every entity training could ever produce from its pools' names.
    pools = entity_pools()
    train_names = set().union(*(pools["train"][k] for k in ("first", "last")))
    test_names = set().union(*(pools["test"][k] for k in ("first", "last")))
    assert not train_names & test_names
    assert not set(pools["train"]["country"]) & set(pools["test"]["country"])
    assert not set(pools["train"]["state"]) & set(pools["test"]["state"])
    train_tokens = {token for _, text in train for token in text.split()}
    for split in ("unseen_entities", "held_out_templates"):
        held = entity_strings(dataset[split])
        assert held and not {text for _, text in held} & {text for _, text in train}
        for kind, text in held:
            if kind == "PER":  # person name tokens are all new (initials aside)
                assert not {t for t in text.split() if not re.fullmatch(r"[A-Z]\.", t)} & train_tokens, text


def test_held_out_templates_are_never_used_for_training(dataset):
    train_frames = template_frames(TRAIN_TEMPLATES)
    held_frames = template_frames(HELD_OUT_TEMPLATES)
    assert not train_frames & held_frames
    for split, own, other in (
        ("train", train_frames, held_frames),
        ("unseen_entities", train_frames, held_frames),
        ("held_out_templates", held_frames, train_frames),
    ):
        used = set()
        for tokens, tags in dataset[split]:
            f = frame(tokens, tags)
            mine = [t for t in own if matches(f, t)]
            assert mine, (split, f)
            assert not any(matches(f, t) for t in other), (split, f)
            used.update(mine)
        assert len(used) == len(own)  # every template of the split is used


def test_generator_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`split`"):
        generate_sentences(3, split="dev")
    with pytest.raises(ValueError, match="`n`"):
        generate_sentences(-1)
    with pytest.raises(ValueError, match="`test_examples`"):
        make_dataset(10, 1.5)


def test_conll_round_trip(tmp_path):
    sentences = generate_sentences(30, seed=8)
    path = tmp_path / "gen.conll"
    save_conll(path, sentences)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"{sentences[0][0][0]} {sentences[0][1][0]}" and lines[len(sentences[0][0])] == ""
    assert load_conll(path) == sentences


CONLL_2003 = """-DOCSTART- -X- -X- O

EU NNP B-NP I-ORG
rejects VBZ B-VP O
German JJ B-NP I-MISC
call NN I-NP O
to TO B-VP O
boycott VB I-VP O
British JJ B-NP I-MISC
lamb NN I-NP O
. . O O

Peter NNP B-NP I-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

In IN B-PP O
Germany NNP B-NP I-LOC
France NNP I-NP B-LOC
and CC O O
the DT B-NP O
European NNP I-NP I-ORG
Commission NNP I-NP I-ORG
"""


def test_load_conll_2003_four_columns_and_iob1(tmp_path):
    path = tmp_path / "eng.train"
    path.write_text(CONLL_2003, encoding="utf-8")
    sentences = load_conll(path)
    assert [tokens for tokens, _ in sentences] == [
        ["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."],
        ["Peter", "Blackburn"],
        ["In", "Germany", "France", "and", "the", "European", "Commission"],
    ]
    assert sentences[0][1] == ["B-ORG", "O", "B-MISC", "O", "O", "O", "B-MISC", "O", "O"]
    assert sentences[1][1] == ["B-PER", "I-PER"]
    # IOB1: B-LOC after I-LOC starts the second adjacent location.
    assert sentences[2][1] == ["O", "B-LOC", "B-LOC", "O", "O", "B-ORG", "I-ORG"]
    assert [get_entities(t) for _, t in sentences][2] == [("LOC", 1, 1), ("LOC", 2, 2), ("ORG", 5, 6)]


def test_load_conll_errors(tmp_path):
    bad = tmp_path / "bad.conll"
    bad.write_text("Paris B-LOC\nlonely\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        load_conll(bad)
    bad.write_text("Paris LOCATION\n", encoding="utf-8")
    with pytest.raises(ValueError, match="tags must be O, B-TYPE or I-TYPE"):
        load_conll(bad)


GMB = (
    "Sentence #,Word,POS,Tag\n"
    "Sentence: 1,Thousands,NNS,O\n"
    ",of,IN,O\n"
    ",demonstrators,NNS,O\n"
    ",marched,VBD,O\n"
    ",through,IN,O\n"
    ",London,NNP,B-geo\n"
    ",\",\",\",\",O\n"
    ",Jos\xe9,NNP,B-per\n"
    ",Mar\xeda,NNP,I-per\n"
    ",.,.,O\n"
    "Sentence: 2,Iranian,JJ,B-gpe\n"
    ",officials,NNS,O\n"
    ",say,VBP,O\n"
)


def test_load_gmb_csv(tmp_path):
    path = tmp_path / "ner_dataset.csv"
    path.write_bytes(GMB.encode("latin-1"))
    sentences = load_gmb(path)
    assert sentences == [
        (
            ["Thousands", "of", "demonstrators", "marched", "through", "London", ",", "Jos\xe9", "Mar\xeda", "."],
            ["O", "O", "O", "O", "O", "B-geo", "O", "B-per", "I-per", "O"],
        ),
        (["Iranian", "officials", "say"], ["B-gpe", "O", "O"]),
    ]
    (tmp_path / "bad.csv").write_text("Sentence #,Word,POS\nSentence: 1,a,DT\n", encoding="latin-1")
    with pytest.raises(ValueError, match="Tag"):
        load_gmb(tmp_path / "bad.csv")
    (tmp_path / "orphan.csv").write_text("Sentence #,Word,POS,Tag\n,a,DT,O\n", encoding="latin-1")
    with pytest.raises(ValueError, match="before the first"):
        load_gmb(tmp_path / "orphan.csv")
