"""Synthetic data for the dates NMT application: human-readable dates -> ISO.

Every pair is ``(human_date, iso_date)``, e.g. ``("tuesday march 7 1995",
"1995-03-07")``. Dates are drawn uniformly from ``MIN_DATE`` (1950-01-01) to
``MAX_DATE`` (2049-12-31) and rendered with one of the CLDR patterns in
`FORMATS` through ``babel`` (with an English locale drawn from `LOCALES`, so
abbreviations vary: "Sep"/"Sept", "Jun"/"June"), then given a random surface
variation: unchanged, lowercase, UPPERCASE or Title Case; commas removed; runs
of whitespace are always collapsed to one space.

The task is designed to be learnable to (near) 100% exact match, so **every
source string has exactly one correct reading**. The rules that guarantee it:

* Month names / abbreviations are unambiguous; a number written with an ordinal
  suffix ("7th") or standing next to a month name with a 4-digit year is the
  day. In the text formats a two-digit year only appears *last*, after the day.
* Slash-separated numbers are month-first US style (``M/d/yy``,
  ``MM/dd/yyyy``), except when the first field has 4 digits, which makes it
  year-first (``yyyy/MM/dd``). There is no day-first slash format.
* Dot-separated numbers are always day-first (``dd.MM.yy``, ``d.M.yyyy``).
* Dash-separated numbers are always year-first, ISO order (``yyyy-MM-dd``,
  ``yy-MM-dd``).
* Eight digits with no separator are ``yyyyMMdd``.
* Two-digit years use a fixed window matching the date range: ``yy >= 50``
  means ``19yy`` and ``yy < 50`` means ``20yy``.

``{o}`` in a pattern (not CLDR) stands for the day of the month with an English
ordinal suffix ("1st", "22nd", "13th").

The TSV pair format read by `load_tsv` and written by `save_tsv` has one
``source<TAB>target`` pair per line; blank lines and lines starting with ``#``
are ignored.
"""

from __future__ import annotations

import datetime
import os
import random
import re
from collections.abc import Iterable, Sequence
from functools import cache

from babel import Locale
from babel.dates import parse_pattern

from applications import contract

MIN_DATE = datetime.date(1950, 1, 1)
MAX_DATE = datetime.date(2049, 12, 31)
TARGET_LENGTH = 10
# The longest source `generate_pairs` can produce ("Wednesday, the 27th of
# September 1995"); checked exhaustively by tests/applications/test_dates_data.py.
MAX_SOURCE_LENGTH = 37

# English locales used for month and weekday names.
LOCALES = ["en_US", "en_GB", "en_IN", "en_AU", "en_CA", "en_NZ", "en_IE", "en_ZA"]

# The patterns used (CLDR syntax, plus ``{o}`` = ordinal day), with examples for
# 1995-03-07 in en_US.
FORMATS = [
    # Month name, day before month or after it, 4-digit year anywhere or
    # 2-digit year last.
    "d MMMM y",  # 7 March 1995
    "dd MMMM y",  # 07 March 1995
    "d MMMM, y",  # 7 March, 1995
    "d MMM y",  # 7 Mar 1995
    "dd MMM y",  # 07 Mar 1995
    "d MMM yy",  # 7 Mar 95
    "MMMM d, y",  # March 7, 1995
    "MMM d, y",  # Mar 7, 1995
    "MMM d, yy",  # Mar 7, 95
    "MMM d, ''yy",  # Mar 7, '95
    "y MMMM d",  # 1995 March 7
    "y MMM d",  # 1995 Mar 7
    "d-MMM-y",  # 7-Mar-1995
    "dd-MMM-yy",  # 07-Mar-95
    # With the weekday.
    "EEEE, MMMM d, y",  # Tuesday, March 7, 1995
    "EEEE, d MMMM y",  # Tuesday, 7 March 1995
    "EEE, d MMM y",  # Tue, 7 Mar 1995
    "EEE, MMM d, y",  # Tue, Mar 7, 1995
    "EEE d MMM yy",  # Tue 7 Mar 95
    # Ordinal day.
    "MMMM {o}, y",  # March 7th, 1995
    "MMM {o}, y",  # Mar 7th, 1995
    "{o} MMMM y",  # 7th March 1995
    "{o} MMM y",  # 7th Mar 1995
    "'the' {o} 'of' MMMM y",  # the 7th of March 1995
    "EEEE, MMMM {o}, y",  # Tuesday, March 7th, 1995
    "EEEE, 'the' {o} 'of' MMMM y",  # Tuesday, the 7th of March 1995
    # Numeric, slashes: month first (or year first when it has 4 digits).
    "M/d/yy",  # 3/7/95
    "MM/dd/yy",  # 03/07/95
    "M/d/y",  # 3/7/1995
    "MM/dd/y",  # 03/07/1995
    "y/MM/dd",  # 1995/03/07
    "y/M/d",  # 1995/3/7
    # Numeric, dots: day first.
    "d.M.yy",  # 7.3.95
    "dd.MM.yy",  # 07.03.95
    "d.M.y",  # 7.3.1995
    "dd.MM.y",  # 07.03.1995
    # Numeric, dashes: year first (ISO order).
    "y-MM-dd",  # 1995-03-07
    "y-M-d",  # 1995-3-7
    "yy-MM-dd",  # 95-03-07
    # Numeric, no separator.
    "yyyyMMdd",  # 19950307
]

_ISO_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ORDINAL_PLACEHOLDER = "{o}"


def ordinal(n: int) -> str:
    """Returns ``n`` with its English ordinal suffix.

    Example:

    >>> from applications.dates_nmt.data import ordinal
    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '23rd', '31st']
    """
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@cache
def _locale(name: str) -> Locale:
    return Locale.parse(name)


@cache
def _compile(pattern: str):
    """Splits a pattern at ``{o}`` and parses each CLDR piece once."""
    return tuple(
        parse_pattern(piece) if piece else None
        for piece in pattern.split(_ORDINAL_PLACEHOLDER)
    )


def _render(date: datetime.date, pattern: str, locale: Locale) -> str:
    pieces = _compile(pattern)
    if len(pieces) == 1:
        return pieces[0].apply(date, locale)
    day = ordinal(date.day)
    return day.join(piece.apply(date, locale) if piece else "" for piece in pieces)


def format_human_date(date: datetime.date, pattern: str, locale: str = "en_US") -> str:
    """Renders `date` with one of `FORMATS`, without surface variations.

    Example:

    >>> import datetime
    >>> from applications.dates_nmt.data import format_human_date
    >>> format_human_date(datetime.date(1995, 3, 7), "MMMM {o}, y")
    'March 7th, 1995'
    >>> format_human_date(datetime.date(1995, 9, 7), "d MMM yy", locale="en_GB")
    '7 Sept 95'
    """
    return " ".join(_render(date, pattern, _locale(locale)).split())


def _title(text: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in text.lower().split(" "))


def _check_formats(formats: Sequence[str] | None) -> list[str]:
    if formats is None:
        return list(FORMATS)
    if isinstance(formats, str) or not isinstance(formats, Iterable):
        raise ValueError(
            f"`formats` must be None or a list of patterns from FORMATS; got {formats!r}."
        )
    formats = list(formats)
    if not formats:
        raise ValueError("`formats` must not be empty.")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(
            f"`formats` must only contain patterns from FORMATS (other patterns "
            f"could make the task ambiguous); unknown: {unknown!r}."
        )
    return formats


def generate_pairs(
    n: int, seed: int = 0, formats: Sequence[str] | None = None
) -> list[tuple[str, str]]:
    """Generates ``n`` random ``(human_date, iso_date)`` pairs.

    Dates are uniform over ``MIN_DATE``..``MAX_DATE`` (1950-01-01 to
    2049-12-31), so two-digit years are unambiguous with the window
    ``yy >= 50 -> 19yy, yy < 50 -> 20yy``. The pattern is drawn uniformly from
    `formats`, the locale from `LOCALES`, then a surface variation is applied
    (see the module docstring). The output is deterministic given `seed`, and
    the first ``k`` pairs do not depend on ``n``.

    Args:
        n: The number of pairs (>= 0).
        seed: The random seed (an integer).
        formats: A subset of `FORMATS` to draw from; ``None`` means all.

    Returns:
        A list of ``(source, target)`` string pairs; targets are
        ``YYYY-MM-DD`` and sources at most ``MAX_SOURCE_LENGTH`` characters.

    Raises:
        ValueError: If an argument is invalid.

    Example:

    >>> from applications.dates_nmt.data import generate_pairs
    >>> generate_pairs(3, seed=0)
    [('2034/06/11', '2034-06-11'), ('1990/6/30', '1990-06-30'), ('Oct 23rd, 2040', '2040-10-23')]
    >>> generate_pairs(3, seed=0) == generate_pairs(3, seed=0)
    True
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"`n` must be a non-negative integer; got {n!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"`seed` must be an integer; got {seed!r}.")
    formats = _check_formats(formats)
    rng = random.Random(seed)
    first, last = MIN_DATE.toordinal(), MAX_DATE.toordinal()
    locales = [_locale(name) for name in LOCALES]
    n_formats, n_locales = len(formats), len(locales)
    pairs = []
    for _ in contract.progress(range(n), desc="generating dates", unit="date"):
        date = datetime.date.fromordinal(first + int(rng.random() * (last - first + 1)))
        pattern = formats[int(rng.random() * n_formats)]
        locale = locales[int(rng.random() * n_locales)]
        case, comma = rng.random(), rng.random()
        text = _render(date, pattern, locale)
        if case < 0.25:
            text = text.lower()
        elif case < 0.35:
            text = text.upper()
        elif case < 0.45:
            text = _title(text)
        if comma < 0.3:
            text = text.replace(",", "")
        pairs.append((" ".join(text.split()), date.isoformat()))
    return pairs


def make_dataset(n: int = 50_000, seed: int = 0) -> tuple[list[str], list[str]]:
    """Returns ``(sources, targets)`` lists of ``n`` generated pairs.

    Example:

    >>> from applications.dates_nmt.data import make_dataset
    >>> sources, targets = make_dataset(4, seed=1)
    >>> len(sources), len(targets[0])
    (4, 10)
    """
    pairs = generate_pairs(n, seed=seed)
    return [s for s, _ in pairs], [t for _, t in pairs]


def _is_iso_date(text: str) -> bool:
    if not _ISO_RE.fullmatch(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def load_tsv(path: str | os.PathLike) -> tuple[list[str], list[str]]:
    """Reads ``source<TAB>target`` pairs from a UTF-8 text file.

    Blank lines and lines whose first non-space character is ``#`` are
    skipped; whitespace around each field is stripped.

    Returns:
        ``(sources, targets)`` lists.

    Raises:
        ValueError: If a line does not have exactly one tab, has an empty
            source, or its target is not a valid ``YYYY-MM-DD`` date (the
            message names the file and the line number).
    """
    name = os.fspath(path)
    sources, targets = [], []
    for lineno, line in contract.data_lines(path, encoding="utf-8"):
        fields = line.split("\t")
        if len(fields) != 2:
            raise ValueError(
                f"{name}, line {lineno}: expected 'source<TAB>target' "
                f"(exactly one tab), got {line!r}."
            )
        source, target = fields[0].strip(), fields[1].strip()
        if not source:
            raise ValueError(f"{name}, line {lineno}: the source is empty.")
        if not _is_iso_date(target):
            raise ValueError(
                f"{name}, line {lineno}: the target {target!r} is not a valid "
                "ISO date YYYY-MM-DD."
            )
        sources.append(source)
        targets.append(target)
    return sources, targets


def save_tsv(path: str | os.PathLike, pairs: Iterable[tuple[str, str]]) -> None:
    """Writes ``(source, target)`` pairs in the format read by `load_tsv`.

    Raises:
        ValueError: If a pair could not be read back unchanged (a source that
            is empty, has a tab, newline or surrounding whitespace, or starts
            with ``#``; a target that is not ``YYYY-MM-DD``).

    Example:

    >>> import tempfile
    >>> from applications.dates_nmt.data import load_tsv, save_tsv
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save_tsv(f"{folder}/dates.tsv", [("3 May 1979", "1979-05-03")])
    ...     load_tsv(f"{folder}/dates.tsv")
    (['3 May 1979'], ['1979-05-03'])
    """
    lines = []
    for index, (source, target) in enumerate(contract.check_pairs(pairs)):
        if (
            not isinstance(source, str)
            or not source
            or source != source.strip()
            or any(c in source for c in "\t\r\n")
            or source.startswith("#")
        ):
            raise ValueError(
                f"`pairs` item {index}: the source {source!r} must be a non-empty "
                "string without tabs, newlines, surrounding whitespace or a "
                "leading '#'."
            )
        if not isinstance(target, str) or not _is_iso_date(target):
            raise ValueError(
                f"`pairs` item {index}: the target {target!r} is not a valid ISO "
                "date YYYY-MM-DD."
            )
        lines.append(f"{source}\t{target}\n")
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(lines)
