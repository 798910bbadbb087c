import calendar
import datetime
from collections import Counter
from decimal import Decimal

import pytest
from babel.dates import format_date
from num2words import num2words

from applications.transformer_nmt import data
from applications.transformer_nmt.data import (
    DATE_STYLES,
    KINDS,
    LANGUAGES,
    corpus_stats,
    generate_examples,
    generate_pairs,
    is_held_out,
    load_tsv,
    make_dataset,
    save_tsv,
)

ENGLISH_MONTHS = [name.lower() for name in calendar.month_name[1:]]  # the stdlib, English
BABEL_LOCALES = {"de": "de_DE", "fr": "fr_FR", "es": "es_ES"}


def held_number(n):
    """The documented rule, written independently of the module."""
    tails = {7, 35, 62, 98}
    if n >= 1000:
        return (n // 1000) % 100 in tails
    return n >= 100 and n % 100 in tails


def held_year(year):
    # Two of the three centuries of each tail 35, 44, 62 and 98.
    return (year // 100, year % 100) in {(18, 35), (20, 35), (19, 44), (20, 44), (19, 62), (20, 62), (18, 98), (20, 98)}


def expected_target(kind, value):
    if kind == "cardinal":
        return num2words(value, lang="en")
    if kind == "ordinal":
        return num2words(value, lang="en", to="ordinal")
    if kind == "decimal":
        return num2words(value, lang="en")
    day = num2words(value.day, lang="en", to="ordinal")
    year = num2words(value.year, lang="en", to="year")
    return f"the {day} of {ENGLISH_MONTHS[value.month - 1]} {year}"


def words(text):
    return " ".join(text.lower().split())


@pytest.fixture(scope="module")
def examples():
    return {
        split: generate_examples(3000, seed=11, split=split)
        for split in ("train", "test", "all")
    }


@pytest.fixture(scope="module")
def big_dataset():
    train = generate_pairs(50_000, seed=0, split="train")
    test = generate_pairs(5_000, seed=0, split="test")
    return train, test


# --------------------------------------------------------------------------
# Determinism and seeds.


def test_deterministic_and_prefix_stable():
    a = generate_pairs(300, seed=7)
    assert a == generate_pairs(300, seed=7)
    assert generate_pairs(100, seed=7) == a[:100]
    assert generate_examples(50, seed=7) == generate_examples(50, seed=7)


def test_seeds_and_splits_differ():
    assert generate_pairs(200, seed=0) != generate_pairs(200, seed=1)
    train = generate_pairs(200, seed=0, split="train")
    assert train != generate_pairs(200, seed=0, split="all")
    assert make_dataset(50, 20, seed=0) != make_dataset(50, 20, seed=1)
    assert make_dataset(50, 20, seed=3) == make_dataset(50, 20, seed=3)


# --------------------------------------------------------------------------
# The mix.


@pytest.mark.parametrize("split", ["train", "test", "all"])
def test_mix_has_every_kind_language_and_style(examples, split):
    metas = [meta for _, _, meta in examples[split]]
    kinds = Counter(meta["kind"] for meta in metas)
    langs = Counter(meta["lang"] for meta in metas)
    assert set(kinds) == set(KINDS) and min(kinds.values()) > 500
    assert set(langs) == set(LANGUAGES) and min(langs.values()) > 700
    pairs = Counter((m["kind"], m["lang"]) for m in metas)
    assert len(pairs) == len(KINDS) * len(LANGUAGES)
    styles = {(m["lang"], m["style"]) for m in metas if m["kind"] == "date"}
    assert styles == {(lang, style) for lang in LANGUAGES for style in DATE_STYLES}
    assert all(m["style"] is None for m in metas if m["kind"] != "date")


def test_kinds_and_languages_can_be_restricted():
    metas = [m for _, _, m in generate_examples(200, languages=["fr"], kinds=["date"])]
    assert {(m["kind"], m["lang"]) for m in metas} == {("date", "fr")}


def test_value_ranges(examples):
    metas = [m for split in examples for _, _, m in examples[split]]
    values = {kind: [m["value"] for m in metas if m["kind"] == kind] for kind in KINDS}
    assert all(0 <= v <= 10**9 for v in values["cardinal"])
    assert max(values["cardinal"]) >= 10**8  # up to 10^9
    assert min(values["cardinal"]) < 100
    assert all(1 <= v <= 999 for v in values["ordinal"])
    for v in values["decimal"]:
        assert isinstance(v, Decimal) and 0 <= v < 10**6
        places = -v.as_tuple().exponent
        assert 1 <= places <= 3 and str(v)[-1] != "0"
    years = [d.year for d in values["date"]]
    assert 1800 <= min(years) and max(years) <= 2099


def test_sources_and_targets_are_clean_words(examples):
    for split in examples:
        for source, target, _ in examples[split]:
            for text in (source, target):
                assert text == text.lower() == " ".join(text.split())
                assert "\t" not in text and text


# --------------------------------------------------------------------------
# Exactness against the libraries.


@pytest.mark.parametrize("split", ["train", "test", "all"])
def test_targets_are_num2words_english(examples, split):
    for _, target, meta in examples[split]:
        assert target == expected_target(meta["kind"], meta["value"]), meta


@pytest.mark.parametrize("split", ["train", "test", "all"])
def test_sources_match_the_libraries(examples, split):
    for source, _, meta in examples[split]:
        kind, lang, value = meta["kind"], meta["lang"], meta["value"]
        if kind in ("cardinal", "decimal"):
            assert source == words(num2words(value, lang=lang)), meta
        elif kind == "ordinal":
            expected = words(num2words(value, lang=lang, to="ordinal"))
            for wrong, right in data.ORDINAL_FIXES.get(lang, ()):
                expected = expected.replace(wrong, right)
            assert source == expected, meta
        elif meta["style"] in ("long", "full"):
            babel = format_date(value, meta["style"], locale=BABEL_LOCALES[lang])
            assert source == words(babel), meta
        else:
            year = words(num2words(value.year, lang=lang, to="year"))
            assert source.endswith(" " + year), meta
            assert str(value.year) not in source


def test_date_sources_in_words():
    day = datetime.date(1995, 3, 7)
    first = datetime.date(2001, 5, 1)
    assert data.date_source(day, "de", "words") == (
        "siebter märz neunzehnhundertfünfundneunzig"
    )
    assert data.date_source(day, "de", "article") == (
        "der siebte märz neunzehnhundertfünfundneunzig"
    )
    assert data.date_source(day, "fr", "words") == (
        "sept mars mille neuf cent quatre-vingt-quinze"
    )
    assert data.date_source(first, "fr", "article") == "le premier mai deux mille un"
    assert data.date_source(day, "es", "article") == (
        "el siete de marzo de mil novecientos noventa y cinco"
    )
    assert data.date_source(first, "es", "words") == "primero de mayo de dos mil uno"
    assert data.date_source(day, "de", "long") == "7. märz 1995"
    assert data.date_target(day) == "the seventh of march nineteen ninety-five"
    with pytest.raises(ValueError, match="style"):
        data.date_source(day, "de", "short")


def test_ordinal_fixes():
    assert data._ordinal_source(200, "fr") == "deux centième"
    assert data._ordinal_source(80, "fr") == "quatre-vingtième"
    assert data._ordinal_source(40, "es") == "cuadragésimo"
    assert data._ordinal_source(711, "es") == "septingentésimo undécimo"
    pairs = generate_pairs(3000, seed=2, kinds=["ordinal"])
    for wrong in ("centsième", "vingtsième", "quadragésimo", "igentésimo", "décimopr"):
        assert not any(wrong in source for source, _ in pairs)


def test_german_reordering_example(big_dataset):
    train, _ = big_dataset
    assert ("neunundneunzig", "ninety-nine") in train
    german = generate_examples(3000, seed=0, languages=["de"], kinds=["cardinal"])
    hits = [(s, t) for s, t, m in german if m["value"] == 99]
    assert hits and set(hits) == {("neunundneunzig", "ninety-nine")}


def test_source_determines_target(big_dataset):
    train, test = big_dataset
    meaning = {}
    for source, target in train + test + generate_pairs(20_000, seed=5):
        assert meaning.setdefault(source, target) == target, source


# --------------------------------------------------------------------------
# The held-out split.


def test_held_out_rule():
    assert [held_number(n) for n in (7_000, 7_999, 8_000, 35_500, 1_062_000)] == [
        True,
        True,
        False,
        True,
        True,
    ]
    for n in list(range(0, 200_000, 7)) + [10**9, 999_999_999, 4_562_001]:
        assert data.is_held_out_number(n) == held_number(n), n
        assert is_held_out("cardinal", n) == held_number(n)
    for year in range(1800, 2100):
        assert data.is_held_out_year(year) == held_year(year)
    assert sum(map(held_year, range(1800, 2100))) == 8
    # Every held-out year's parts are seen in training: its tail in another century.
    for year in filter(held_year, range(1800, 2100)):
        assert any(not held_year(other) for other in range(1800 + year % 100, 2100, 100))
    assert is_held_out("decimal", Decimal("7035.25"))
    with pytest.raises(ValueError, match="kind"):
        is_held_out("fraction", 3)


def test_splits_respect_the_held_out_ranges(examples):
    for split, wanted in (("train", False), ("test", True)):
        for _, _, meta in examples[split]:
            kind, value = meta["kind"], meta["value"]
            if kind == "date":
                assert held_year(value.year) is wanted, meta
            else:
                assert held_number(int(value)) is wanted, meta
    # Held-out numbers have at least three digits; every magnitude is tested.
    test_ints = [m["value"] for _, _, m in examples["test"] if m["kind"] == "cardinal"]
    assert min(test_ints) >= 100
    assert {len(str(v)) for v in test_ints} == set(range(3, 10))
    all_metas = [m for _, _, m in examples["all"]]
    assert any(is_held_out(m["kind"], m["value"]) for m in all_metas)
    assert not all(is_held_out(m["kind"], m["value"]) for m in all_metas)


def test_make_dataset_is_disjoint_by_source_and_value():
    train, test = make_dataset(20_000, 4_000, seed=4)
    assert len(train) == 20_000 and len(test) == 4_000
    assert not {s for s, _ in train} & {s for s, _ in test}
    assert train == generate_pairs(20_000, seed=4, split="train")
    assert test == generate_pairs(4_000, seed=4, split="test")


def test_test_targets_use_only_training_words(big_dataset):
    train, test = big_dataset
    train_words = {w for _, t in train for w in t.split()}
    assert {w for _, t in test for w in t.split()} <= train_words


def test_language_tags():
    tagged = generate_examples(300, seed=1, language_tags=True)
    plain = generate_examples(300, seed=1)
    for (ts, tt, tm), (ps, pt, pm) in zip(tagged, plain, strict=True):
        assert ts == f"<{tm['lang']}> {ps}" and tt == pt and tm == pm


# --------------------------------------------------------------------------
# Statistics and speed.


def test_corpus_stats(big_dataset):
    train, _ = big_dataset
    stats = corpus_stats(train)
    assert stats["pairs"] == 50_000
    assert 100 < stats["target_words"] < 400
    assert stats["source_words"] > stats["target_words"]
    assert 10 <= stats["max_source_words"] <= 30
    assert stats["max_source_chars"] >= max(len(s) for s, _ in train[:100])
    small = corpus_stats([("drei komma eins", "three point one"), ("elf", "eleven")])
    assert small == {
        "pairs": 2,
        "max_source_words": 3,
        "max_target_words": 3,
        "max_source_chars": 15,
        "max_target_chars": 15,
        "source_words": 4,
        "target_words": 4,
    }


# --------------------------------------------------------------------------
# Arguments.


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n": -1},
        {"n": 2.0},
        {"n": True},
        {"n": 3, "seed": "a"},
        {"n": 3, "languages": "de"},
        {"n": 3, "languages": ["it"]},
        {"n": 3, "languages": []},
        {"n": 3, "kinds": ["fraction"]},
        {"n": 3, "split": "valid"},
    ],
)
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        generate_pairs(**kwargs)


# --------------------------------------------------------------------------
# TSV files.

MANYTHINGS = (
    "Go.\tGeh.\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #8597805 (Roujin)\n"
    "\n"
    "# a comment line\n"
    "Hi.\tHallo!\tCC-BY 2.0 (France) Attribution: tatoeba.org #538123 (CM) & #380701 (cburgmer)\r\n"
    "   \n"
    "Run!\tLauf!\tCC-BY 2.0 (France) Attribution: tatoeba.org #906328 (papabear) & #941078 (Fingerhut)\n"
)


def test_load_tsv_manythings_both_orientations(tmp_path):
    path = tmp_path / "deu.txt"
    path.write_text(MANYTHINGS, encoding="utf-8")
    english_first = [("Go.", "Geh."), ("Hi.", "Hallo!"), ("Run!", "Lauf!")]
    assert load_tsv(path) == english_first
    assert load_tsv(str(path)) == english_first
    german_first = [(b, a) for a, b in english_first]
    assert load_tsv(path, reverse=True) == german_first
    assert load_tsv(path, source_column=1, target_column=0) == german_first
    assert load_tsv(path, source_column=2, target_column=0)[0][0].startswith("CC-BY")


def test_load_tsv_bom(tmp_path):
    path = tmp_path / "bom.tsv"
    path.write_bytes("\ufeffeins\tone\n".encode())
    assert load_tsv(path) == [("eins", "one")]


def test_load_tsv_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("Go.\tGeh.\tCC-BY\n\n# note\nno tab here\nHi.\tHallo!\n", "utf-8")
    with pytest.raises(ValueError, match=r"bad\.txt, line 4") as info:
        load_tsv(path)
    assert "no tab here" in str(info.value)
    path.write_text("Go.\tGeh.\tCC-BY\nHi.\tHallo!\n", "utf-8")
    with pytest.raises(ValueError, match="line 2: expected at least 3"):
        load_tsv(path, source_column=2)
    path.write_text("Go.\tGeh.\n\t Hallo!\n", "utf-8")
    with pytest.raises(ValueError, match="line 2: the source is empty"):
        load_tsv(path)
    with pytest.raises(ValueError, match="line 2: the target is empty"):
        load_tsv(path, reverse=True, source_column=1, target_column=0)


@pytest.mark.parametrize(
    "kwargs",
    [{"source_column": -1}, {"target_column": 1.0}, {"source_column": 1}],
)
def test_load_tsv_invalid_columns(tmp_path, kwargs):
    path = tmp_path / "ok.tsv"
    path.write_text("a\tb\n", "utf-8")
    with pytest.raises(ValueError, match="column"):
        load_tsv(path, **kwargs)


def test_save_tsv_round_trip(tmp_path):
    train, test = make_dataset(500, 100, seed=9)
    path = tmp_path / "pairs.tsv"
    save_tsv(path, train + test)
    assert load_tsv(path) == train + test
    assert path.read_text("utf-8").count("\n") == 600


@pytest.mark.parametrize(
    "pair",
    [
        ("a\tb", "c"),
        ("a", ""),
        (" a", "b"),
        ("a", "b\n"),
        ("#a", "b"),
        ("a",),
        ("a", 1),
    ],
)
def test_save_tsv_rejects_unreadable_pairs(tmp_path, pair):
    with pytest.raises(ValueError, match="item 0"):
        save_tsv(tmp_path / "x.tsv", [pair])
