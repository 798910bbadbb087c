import calendar
import datetime
import re
from collections import Counter

import babel.dates
import pytest
from file_errors import assert_loader_error

from applications.dates_nmt import data
from applications.dates_nmt.data import (
    FORMATS,
    LOCALES,
    MAX_DATE,
    MAX_SOURCE_LENGTH,
    MIN_DATE,
    TARGET_LENGTH,
    format_human_date,
    generate_pairs,
    load_tsv,
    make_dataset,
    ordinal,
    save_tsv,
)

# --------------------------------------------------------------------------
# An independent inverse parser: maps a source string to the one date it can
# mean, using only the string itself and the documented rules.
_MONTH_NAMES = [name.lower() for name in calendar.month_name[1:]]  # the stdlib, English
_WEEKDAY_NAMES = [name.lower() for name in calendar.day_name]
MONTHS = {name: i for i, name in enumerate(_MONTH_NAMES, start=1)}
MONTHS.update({name[:3]: i for i, name in enumerate(_MONTH_NAMES, start=1)})
MONTHS.update({"sept": 9})
WEEKDAYS = {name: i for i, name in enumerate(_WEEKDAY_NAMES)}
WEEKDAYS.update({name[:3]: i for i, name in enumerate(_WEEKDAY_NAMES)})

NUMERIC_FAMILIES = {
    # name: (regex, order of the captured fields)
    "compact": (r"(\d{4})(\d{2})(\d{2})", "ymd"),
    "slash_month_first": (r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})", "mdy"),
    "slash_year_first": (r"(\d{4})/(\d{1,2})/(\d{1,2})", "ymd"),
    "dot_day_first": (r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})", "dmy"),
    "dash_year_first": (r"(\d{2}|\d{4})-(\d{1,2})-(\d{1,2})", "ymd"),
}


def expand_year(text):
    year = int(text)
    if len(text) == 2:
        return 1900 + year if year >= 50 else 2000 + year
    assert len(text) == 4
    return year


def numeric_family(source):
    for name, (regex, _) in NUMERIC_FAMILIES.items():
        if re.fullmatch(regex, source):
            return name
    return None


def inverse_parse(source):
    text = source.lower()
    matches = [
        (name, m)
        for name, (regex, _) in NUMERIC_FAMILIES.items()
        if (m := re.fullmatch(regex, text))
    ]
    assert len(matches) <= 1, (source, matches)
    if matches:
        name, m = matches[0]
        fields = dict(zip(NUMERIC_FAMILIES[name][1], m.groups()))
        return datetime.date(
            expand_year(fields["y"]), int(fields["m"]), int(fields["d"])
        )
    assert set(text) <= set("abcdefghijklmnopqrstuvwxyz0123456789 ,-'"), source
    month = weekday = day = year = None
    plain = []
    for word in re.findall(r"[a-z]+|'?\d+(?:st|nd|rd|th)?", text):
        if word in MONTHS:
            assert month is None, source
            month = MONTHS[word]
        elif word in WEEKDAYS:
            assert weekday is None, source
            weekday = WEEKDAYS[word]
        elif word in ("the", "of"):
            continue
        elif re.fullmatch(r"\d{1,2}(st|nd|rd|th)", word):
            assert day is None and ordinal(int(word[:-2])) == word, source
            day = int(word[:-2])
        elif re.fullmatch(r"'\d\d", word):
            assert year is None, source
            year = expand_year(word[1:])
        elif re.fullmatch(r"\d{4}", word):
            assert year is None, source
            year = int(word)
        elif re.fullmatch(r"\d{1,2}", word):
            plain.append(word)
        else:
            raise AssertionError(f"unexpected word {word!r} in {source!r}")
    assert month is not None, source
    if day is None:
        day = int(plain.pop(0))  # the day always comes before a 2-digit year
    if year is None:
        year = expand_year(plain.pop(0))
    assert not plain, source
    date = datetime.date(year, month, day)
    if weekday is not None:
        assert date.weekday() == weekday, source
    return date


@pytest.fixture(scope="module")
def pairs():
    return generate_pairs(50_000, seed=0)


# --------------------------------------------------------------------------
def test_constants():
    assert TARGET_LENGTH == 10
    assert MAX_SOURCE_LENGTH <= 40
    assert (MIN_DATE, MAX_DATE) == (
        datetime.date(1950, 1, 1),
        datetime.date(2049, 12, 31),
    )
    assert len(FORMATS) == len(set(FORMATS)) >= 30
    assert len(LOCALES) >= 4 and all(loc.startswith("en_") for loc in LOCALES)


def test_ordinal():
    expected = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 10: "10th", 11: "11th",
                12: "12th", 13: "13th", 21: "21st", 22: "22nd", 23: "23rd",
                24: "24th", 30: "30th", 31: "31st", 101: "101st", 111: "111th"}  # fmt: skip
    assert {n: ordinal(n) for n in expected} == expected


def test_deterministic_and_prefix_stable():
    first = generate_pairs(2000, seed=7)
    assert first == generate_pairs(2000, seed=7)
    assert generate_pairs(300, seed=7) == first[:300]


def test_different_seeds_differ():
    a, b = generate_pairs(1000, seed=0), generate_pairs(1000, seed=1)
    assert a != b
    assert len(set(a) & set(b)) < 100


def test_make_dataset():
    sources, targets = make_dataset(500, seed=3)
    assert list(zip(sources, targets)) == generate_pairs(500, seed=3)
    assert len(make_dataset()[0]) == 50_000


def test_targets_are_valid_iso_dates_in_range(pairs):
    for _, target in pairs:
        assert len(target) == TARGET_LENGTH
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", target)
        assert MIN_DATE <= datetime.date.fromisoformat(target) <= MAX_DATE
    years = Counter(target[:4] for _, target in pairs)
    assert min(years) == "1950" and max(years) == "2049"
    assert len(years) == 100


def test_inverse_parse_agrees(pairs):
    for source, target in pairs:
        assert inverse_parse(source).isoformat() == target, source


@pytest.mark.parametrize("pattern", FORMATS)
def test_every_format_parses_back(pattern):
    family_counts = Counter()
    for source, target in generate_pairs(1500, seed=11, formats=[pattern]):
        assert inverse_parse(source).isoformat() == target, (pattern, source)
        family_counts[numeric_family(source.lower())] += 1
    # A pattern belongs to a single family (or is a text pattern, None).
    assert len(family_counts) == 1, (pattern, family_counts)


def test_numeric_families_cover_numeric_formats():
    day = datetime.date(2009, 5, 30)
    families = {}
    for pattern in FORMATS:
        source = format_human_date(day, pattern)
        if not re.search(r"[A-Za-z]", source):
            families.setdefault(numeric_family(source), []).append(pattern)
    assert None not in families, families
    assert set(families) == set(NUMERIC_FAMILIES)
    assert families["dot_day_first"] == ["d.M.yy", "dd.MM.yy", "d.M.y", "dd.MM.y"]
    assert families["slash_month_first"] == ["M/d/yy", "MM/dd/yy", "M/d/y", "MM/dd/y"]


def test_no_source_has_two_targets(pairs):
    seen = {}
    for source, target in pairs:
        assert seen.setdefault(source, target) == target, (source, seen[source], target)
    assert len(seen) > 30_000


def test_no_ambiguity_across_many_seeds():
    seen = {}
    for seed in range(1, 5):
        for source, target in generate_pairs(25_000, seed=seed):
            assert seen.setdefault(source, target) == target, source


def test_source_lengths(pairs):
    assert all(0 < len(source) <= MAX_SOURCE_LENGTH for source, _ in pairs)
    assert all(source.isascii() for source, _ in pairs)
    assert all(source == " ".join(source.split()) for source, _ in pairs)


def test_max_source_length_is_exact():
    # The length of a rendering depends only on the locale, the weekday, the
    # month and the number of digits of the day (case changes keep it, comma
    # removal and space collapsing only shorten it). Days 22..28 of every month
    # of 2000 cover all (weekday, month) combinations with a 2-digit day.
    probes = [
        datetime.date(2000, month, day)
        for month in range(1, 13)
        for day in range(22, 29)
    ]
    longest = max(
        (len(format_human_date(date, pattern, locale)), date, pattern, locale)
        for pattern in FORMATS
        for locale in LOCALES
        for date in probes
    )
    assert longest[0] == MAX_SOURCE_LENGTH, longest
    assert longest[0] <= 40


def test_specified_example_forms_are_produced(pairs):
    sources = [source for source, _ in pairs]
    shapes = {
        "3 May 1979": r"\d{1,2} [A-Z][a-z]+ \d{4}",
        "tuesday march 7 1995": r"[a-z]+day [a-z]+ \d{1,2} \d{4}",
        "08.04.21": r"\d\d\.\d\d\.\d\d",
        "5/30/09": r"\d{1,2}/\d{1,2}/\d\d",
        "1979-05-03": r"\d{4}-\d\d-\d\d",
        "March 7th, 1995": r"[A-Z][a-z]+ \d{1,2}(st|nd|rd|th), \d{4}",
        "7 Mar 95": r"\d{1,2} [A-Z][a-z]{2,3} \d\d",
        "Tue, 7 Mar 1995": r"[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2,3} \d{4}",
        "the 7th of March 1995": r"the \d{1,2}(st|nd|rd|th) of [A-Z][a-z]+ \d{4}",
        "2009/05/30": r"\d{4}/\d\d/\d\d",
        "MARCH 7, 1995": r"[A-Z]+ \d{1,2}, \d{4}",
        "The 7th Of March 1995": r"The \d{1,2}(st|nd|rd|th) Of [A-Z][a-z]+ \d{4}",
        "07-Mar-95": r"\d\d-[A-Z][a-z]{2,3}-\d\d",
        "Mar 7, '95": r"[A-Z][a-z]{2,3} \d{1,2}, '\d\d",
    }
    for example, regex in shapes.items():
        assert re.fullmatch(regex, example), example
        assert any(re.fullmatch(regex, s) for s in sources), example


@pytest.mark.parametrize(
    "date, pattern, locale, expected",
    [
        ((1979, 5, 3), "d MMMM y", "en_GB", "3 May 1979"),
        ((1995, 3, 7), "EEEE, MMMM d, y", "en_US", "Tuesday, March 7, 1995"),
        ((2021, 4, 8), "dd.MM.yy", "en_GB", "08.04.21"),
        ((2009, 5, 30), "M/d/yy", "en_US", "5/30/09"),
        ((1979, 5, 3), "y-MM-dd", "en_US", "1979-05-03"),
        ((1995, 3, 7), "MMMM {o}, y", "en_US", "March 7th, 1995"),
        ((1995, 3, 7), "d MMM yy", "en_GB", "7 Mar 95"),
        ((1995, 3, 7), "EEE, d MMM y", "en_GB", "Tue, 7 Mar 1995"),
        ((1995, 3, 7), "'the' {o} 'of' MMMM y", "en_IN", "the 7th of March 1995"),
        ((2009, 5, 30), "y/MM/dd", "en_ZA", "2009/05/30"),
        ((1995, 9, 22), "EEEE, MMMM {o}, y", "en_AU", "Friday, September 22nd, 1995"),
        # CLDR's en_AU abbreviation of June changed ("June" in babel <= 2.18, "Jun" in 2.19):
        # the pattern's rendering is what is tested, so the month comes from babel itself.
        ((2001, 6, 1), "MMM d, ''yy", "en_AU",
         babel.dates.format_date(datetime.date(2001, 6, 1), "MMM", locale="en_AU") + " 1, '01"),
        ((1995, 9, 27), "EEEE, 'the' {o} 'of' MMMM y", "en_US",
         "Wednesday, the 27th of September 1995"),
    ],
)  # fmt: skip
def test_format_human_date_examples(date, pattern, locale, expected):
    assert format_human_date(datetime.date(*date), pattern, locale) == expected


def test_surface_variations_present(pairs):
    sources = [source for source, _ in pairs]
    has_letters = [s for s in sources if re.search("[A-Za-z]", s)]
    assert any(s == s.lower() for s in has_letters)
    assert any(s == s.upper() for s in has_letters)
    assert any(" Of " in s for s in has_letters)  # title case
    assert any("," in s for s in sources)
    assert any(re.fullmatch(r"[A-Za-z]+ [A-Za-z]+ \d{1,2} \d{4}", s) for s in sources)
    used = Counter(
        "sept" if "sept" in s.lower() else "sep" for s in sources if "sep" in s.lower()
    )
    assert used["sept"] and used["sep"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": -1}, "`n` must be a non-negative integer"),
        ({"n": 2.0}, "`n` must be a non-negative integer"),
        ({"n": 2, "seed": "x"}, "`seed` must be an integer"),
        ({"n": 2, "formats": ["d/M/y"]}, "`formats` must only contain patterns"),
        ({"n": 2, "formats": []}, "`formats` must not be empty"),
        ({"n": 2, "formats": "d MMMM y"}, "`formats` must be None or a list"),
    ],
)
def test_generate_pairs_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_pairs(**kwargs)


def test_generate_zero_and_format_subset():
    assert generate_pairs(0) == []
    pairs = generate_pairs(200, seed=2, formats=["dd.MM.y"])
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4}", s) for s, _ in pairs)


# ------------------------------------------------------------------ TSV files
def test_tsv_round_trip(tmp_path):
    pairs = generate_pairs(2000, seed=4)
    path = tmp_path / "dates.tsv"
    save_tsv(path, pairs)
    sources, targets = load_tsv(path)
    assert list(zip(sources, targets)) == pairs
    assert load_tsv(str(path)) == (sources, targets)


def test_load_tsv_skips_comments_and_blank_lines(tmp_path):
    path = tmp_path / "dates.tsv"
    path.write_text(
        "# a comment\n\n3 May 1979\t1979-05-03\r\n   \n  # indented comment\n"
        "march 7th, 1995 \t 1995-03-07\n",
        encoding="utf-8",
    )
    assert load_tsv(path) == (
        ["3 May 1979", "march 7th, 1995"],
        ["1979-05-03", "1995-03-07"],
    )


@pytest.mark.parametrize(
    "bad_line, match",
    [
        ("no tab here", "exactly one tab"),
        ("a\tb\tc", "exactly one tab"),
        ("\t1995-03-07", "source is empty"),
        ("7 Mar 95\t95-03-07", "not a valid ISO date"),
        ("30 Feb 1995\t1995-02-30", "not a valid ISO date"),
        ("7 Mar 1995\t1995/03/07", "not a valid ISO date"),
    ],
)
def test_load_tsv_errors_name_file_and_line(tmp_path, bad_line, match):
    text = f"# header\n3 May 1979\t1979-05-03\n{bad_line}\n"
    assert_loader_error(load_tsv, tmp_path / "broken.tsv", text, f", line 3: .*{match}")


@pytest.mark.parametrize(
    "pair, match",
    [
        (("a\tb", "1995-03-07"), "the source"),
        (("# x", "1995-03-07"), "the source"),
        ((" x", "1995-03-07"), "the source"),
        (("", "1995-03-07"), "the source"),
        (("x", "1995-3-7"), "not a valid ISO date"),
        (("x",), "pairs"),
    ],
)
def test_save_tsv_validation(tmp_path, pair, match):
    with pytest.raises(ValueError, match=match):
        save_tsv(tmp_path / "out.tsv", [("ok", "2000-01-01"), pair])
    assert not (tmp_path / "out.tsv").exists()


def test_module_docstring_mentions_window():
    assert "yy >= 50" in data.__doc__ and "20yy" in data.__doc__
