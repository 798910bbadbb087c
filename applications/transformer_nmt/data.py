"""Translation pairs for the Transformer NMT application: numbers and dates.

Every pair is ``(source, target)``: a number or a date written out in German,
French or Spanish (the languages are mixed, and by default no tag says which
one: the model must tell from the words), and its English reading. Both sides
are lowercase words separated by single spaces, punctuation kept as the
libraries write it (``"thousand,"``, ``"martes,"``, ``"7."``).

Kinds (drawn uniformly from ``kinds``, the language uniformly from
``languages``):

=========  ==================================  ================================
kind       source (``num2words`` / ``babel``)  target (``num2words``, ``"en"``)
=========  ==================================  ================================
cardinal   0 .. 10^9, e.g. 99:                 ``"ninety-nine"``
           ``"neunundneunzig"``,
           ``"quatre-vingt-dix-neuf"``,
           ``"noventa y nueve"``
ordinal    1 .. 999, e.g. 7: ``"siebte"``,     ``"seventh"``
           ``"septième"``, ``"séptimo"``
decimal    integer part < 10^6, 1-3 decimals   ``"three point one four"``
           (last one non-zero), e.g. 3.14:
           ``"drei komma eins vier"``,
           ``"trois virgule un quatre"``,
           ``"tres punto uno cuatro"``
date       1800-01-01 .. 2099-12-31 in one of  ``"the seventh of march
           `DATE_STYLES` (below)               nineteen ninety-five"``
=========  ==================================  ================================

The target of a number is exactly ``num2words(value, lang="en")`` (with
``to="ordinal"`` for ordinals; decimals are passed as `decimal.Decimal`). The
target of a date is ``"the {day} of {month} {year}"`` with the day from
``num2words(day, lang="en", to="ordinal")``, the month from babel's English
names and the year from ``num2words(year, lang="en", to="year")``.

Date styles, shown for 1995-03-07 (de / fr / es):

* ``"long"``: babel's long format, ``"7. märz 1995"`` / ``"7 mars 1995"`` /
  ``"7 de marzo de 1995"``.
* ``"full"``: babel's full format, with the weekday: ``"dienstag, 7. märz
  1995"`` / ``"mardi 7 mars 1995"`` / ``"martes, 7 de marzo de 1995"``.
* ``"words"``: all in words, ``"siebter märz neunzehnhundertfünfundneunzig"`` /
  ``"sept mars mille neuf cent quatre-vingt-quinze"`` / ``"siete de marzo de
  mil novecientos noventa y cinco"`` (the first of the month is ``"erster"`` /
  ``"premier"`` / ``"primero"``).
* ``"article"``: the same with an article, ``"der siebte märz ..."`` / ``"le
  sept mars ..."`` / ``"el siete de marzo de ..."``.

Sources are lowercased with whitespace collapsed. Where ``num2words`` 0.5.14
misspells an ordinal, the source is corrected (`ORDINAL_FIXES`: French
``"deux centsième"`` -> ``"deux centième"``, Spanish ``"quadragésimo"`` ->
``"cuadragésimo"``, ...); ordinals stop at 999 because num2words' Spanish
ordinals of thousands are not real Spanish.

Held-out split (``split="test"`` draws only held-out values, ``"train"`` never
does, ``"all"`` ignores the rule). The rule holds out number *ranges*, so the
test set measures generalisation to unseen combinations of known words. With
``HELD_OUT_TAILS = (7, 35, 62, 98)``, an integer ``n`` is held out when

* ``n >= 1000`` and its thousands group ``(n // 1000) % 1000`` ends in one of
  the tails (``% 100``): the blocks ``[t * 1000, t * 1000 + 1000)`` for
  ``t = 7, 35, 62, 98, 107, 135, ...`` repeated every million, e.g. 7 000 to
  7 999, 35 000 to 35 999, 4 562 000 to 4 562 999 (so "five hundred and
  sixty-two thousand" is never seen in training, while "five hundred and
  sixty-two million" and "... thousand, five hundred and sixty-two" are);
* ``100 <= n < 1000`` and ``n % 100`` is a tail: 107, 135, 162, 198, 207, ...;
* never when ``n < 100``: those are the atoms every number is built from.

The rule applies to cardinals, to ordinals and to the integer part of decimals
(so held-out numbers have at least 3 digits). A date is held out when its year
is in ``HELD_OUT_YEARS``: for each tail in ``HELD_OUT_YEAR_TAILS = (35, 44, 62,
98)`` two of the three centuries (1835 and 2035, 1944 and 2044, 1962 and 2062,
1898 and 2098; 8 of the 300 years). As for numbers, the test asks for unseen
*combinations* of seen parts: "eighteen" and "thirty-five" both occur in
training years ("eighteen forty-four", "nineteen thirty-five"), "eighteen
thirty-five" never does. (Holding out every year with a tail, a first design,
asks for a year part never seen in any year, and a 3-layer model got 48% of
those dates right.) No "oh-" year such as "nineteen oh-seven" is held out.
About 4% of thousands blocks and 3% of years are held out. A source string determines its
value, so no source can be in both splits; `make_dataset` checks it.

Vocabulary: German writes every number below a million as one word
("neunhundertneunundneunzigtausend"), so the distinct source words keep growing
with the data (about 6,400 in 50,000 training pairs, most of them German
compounds, and most German test words are unseen in training), while the
English side has about 230 words. Use a subword tokenizer (e.g. WordPiece).

The TSV format of `save_tsv` is one ``source<TAB>target`` line per pair;
`load_tsv` also reads the Tatoeba / ManyThings files
(``english<TAB>foreign<TAB>attribution``) with ``reverse=True``.

Example:

>>> from applications.transformer_nmt.data import generate_pairs, make_dataset
>>> generate_pairs(2, seed=0, split="train")  # doctest: +NORMALIZE_WHITESPACE
[('sesenta y cinco mil sesenta y seis punto cinco uno',
  'sixty-five thousand and sixty-six point five one'),
 ('der erste oktober zweitausendneunundsechzig',
  'the first of october twenty sixty-nine')]
>>> generate_pairs(1, seed=0, languages=["de"], kinds=["decimal"], split="test")
[('siebentausendachtundsiebzig komma zwei', 'seven thousand and seventy-eight point two')]
>>> train, test = make_dataset(1000, 100, seed=0)
>>> len(train), len(test)
(1000, 100)
"""

from __future__ import annotations

import copy
import datetime
import os
import random
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache, lru_cache

from babel import Locale
from num2words import CONVERTER_CLASSES, num2words

from applications import contract

LANGUAGES = ("de", "fr", "es")
KINDS = ("cardinal", "ordinal", "decimal", "date")
SPLITS = ("train", "test", "all")
DATE_STYLES = ("long", "full", "words", "article")

MAX_CARDINAL = 10**9
MAX_ORDINAL = 999
MAX_DECIMAL_DIGITS = 6  # digits of the integer part of a decimal
MAX_FRACTION_DIGITS = 3
MIN_YEAR, MAX_YEAR = 1800, 2099
HELD_OUT_TAILS = (7, 35, 62, 98)
HELD_OUT_YEAR_TAILS = (35, 44, 62, 98)
HELD_OUT_YEARS = frozenset({1835, 2035, 1944, 2044, 1962, 2062, 1898, 2098})

# How many digits a drawn integer has: relative weights per kind (10 digits
# can only be 10**9 itself, capped by MAX_CARDINAL).
_DIGIT_WEIGHTS = {
    "cardinal": {1: 0.5, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 0.02},
    "ordinal": {1: 1, 2: 2, 3: 2},
    "decimal": {1: 2, 2: 2, 3: 1, 4: 1, 5: 1, 6: 1},
}
_ROUND_PROBABILITY = 0.25  # "round" numbers: trailing zeros, e.g. 35 000 000

_LOCALES = {"de": "de_DE", "fr": "fr_FR", "es": "es_ES", "en": "en_US"}

# Source-side corrections of num2words 0.5.14 ordinal misspellings (1..999).
ORDINAL_FIXES = {
    "fr": (("centsième", "centième"), ("vingtsième", "vingtième")),
    "es": (
        ("décimoprimero", "undécimo"),
        ("décimosegundo", "duodécimo"),
        ("quadragésimo", "cuadragésimo"),
        ("cuadrigentésimo", "cuadringentésimo"),
        ("septigentésimo", "septingentésimo"),
        ("octigentésimo", "octingentésimo"),
    ),
}


def is_held_out_number(n: int) -> bool:
    """Whether the integer ``n`` (or a decimal's integer part) is in the test range.

    Example:

    >>> from applications.transformer_nmt.data import is_held_out_number
    >>> [is_held_out_number(n) for n in (99, 135, 136, 7_500, 8_500, 4_562_001)]
    [False, True, False, True, False, True]
    """
    if n >= 1000:
        return (n // 1000) % 1000 % 100 in HELD_OUT_TAILS
    if n >= 100:
        return n % 100 in HELD_OUT_TAILS
    return False


def is_held_out_year(year: int) -> bool:
    """Whether dates in ``year`` are in the test range.

    Example:

    >>> from applications.transformer_nmt.data import is_held_out_year
    >>> [is_held_out_year(y) for y in (1962, 1963, 2044)]
    [True, False, True]
    """
    return year in HELD_OUT_YEARS


def is_held_out(kind: str, value) -> bool:
    """Whether a value of ``kind`` (as in the ``meta`` of `generate_examples`) is held out.

    Example:

    >>> import datetime
    >>> from decimal import Decimal
    >>> from applications.transformer_nmt.data import is_held_out
    >>> is_held_out("decimal", Decimal("1035.5")), is_held_out("date", datetime.date(2098, 1, 2))
    (False, True)
    """
    if kind == "date":
        return is_held_out_year(value.year)
    if kind == "decimal":
        return is_held_out_number(int(value))
    if kind in ("cardinal", "ordinal"):
        return is_held_out_number(value)
    raise ValueError(f"`kind` must be one of {KINDS}; got {kind!r}.")


# --------------------------------------------------------------------------
# Words, cached.


@cache
def _converter(lang: str):
    """A private copy of num2words' converter for ``lang``, made faster.

    ``splitnum`` walks the converter's ``cards`` (number words by value, largest
    first, up to 10^600 and more) and skips every card larger than the value,
    on every recursive call: most of num2words' time. Dropping the cards above
    10^12 changes no output below 10^12 and makes it ~3x faster; the tests
    compare every generated pair with the public `num2words`. num2words' own
    converters are left untouched.
    """
    converter = copy.copy(CONVERTER_CLASSES[lang])
    cards = getattr(converter, "cards", None)
    if isinstance(cards, dict):
        converter.cards = type(cards)((k, v) for k, v in cards.items() if k <= 10**12)
    return converter


@lru_cache(maxsize=1 << 16)
def _n2w(value, lang: str, to: str = "cardinal") -> str:
    if isinstance(value, Decimal | int) and 0 <= value < 10**12:
        return getattr(_converter(lang), f"to_{to}")(value)
    return num2words(value, lang=lang, to=to)


def _clean(text: str) -> str:
    return " ".join(text.lower().split())


@cache
def _ordinal_source(n: int, lang: str) -> str:
    text = _clean(_n2w(n, lang, "ordinal"))
    for wrong, right in ORDINAL_FIXES.get(lang, ()):
        text = text.replace(wrong, right)
    return text


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(_LOCALES[lang])


@cache
def _month(lang: str, month: int) -> str:
    return _clean(_locale(lang).months["format"]["wide"][month])


@cache
def _year_words(year: int, lang: str) -> str:
    return _clean(_n2w(year, lang, "year"))


@cache
def _day_words(day: int, lang: str, article: bool) -> str:
    if lang == "de":
        ordinal = _ordinal_source(day, "de")  # "siebte"
        return f"der {ordinal}" if article else f"{ordinal}r"
    if day == 1:
        word = _ordinal_source(1, lang)  # "premier", "primero"
    else:
        word = _clean(_n2w(day, lang))
    if article:
        return f"{'le' if lang == 'fr' else 'el'} {word}"
    return word


def date_target(date: datetime.date) -> str:
    """The English reading of ``date``: ``"the {day} of {month} {year}"``.

    Example:

    >>> import datetime
    >>> from applications.transformer_nmt.data import date_target
    >>> date_target(datetime.date(1995, 3, 7))
    'the seventh of march nineteen ninety-five'
    """
    return (
        f"the {_n2w(date.day, 'en', 'ordinal')} of {_month('en', date.month)} "
        f"{_n2w(date.year, 'en', 'year')}"
    )


def date_source(date: datetime.date, lang: str, style: str) -> str:
    """``date`` written in ``lang`` in one of `DATE_STYLES`.

    Example:

    >>> import datetime
    >>> from applications.transformer_nmt.data import date_source
    >>> day = datetime.date(1995, 3, 7)
    >>> date_source(day, "de", "words")
    'siebter märz neunzehnhundertfünfundneunzig'
    >>> date_source(day, "es", "full")
    'martes, 7 de marzo de 1995'
    """
    if style in ("long", "full"):
        return _clean(_locale(lang).date_formats[style].apply(date, _locale(lang)))
    if style not in ("words", "article"):
        raise ValueError(f"`style` must be one of {DATE_STYLES}; got {style!r}.")
    day = _day_words(date.day, lang, style == "article")
    month, year = _month(lang, date.month), _year_words(date.year, lang)
    if lang == "es":
        return f"{day} de {month} de {year}"
    return f"{day} {month} {year}"


# --------------------------------------------------------------------------
# Sampling.


def _held_thousands(digits: int) -> list[int]:
    """Held-out thousands groups possible in a number of ``digits`` digits."""
    if digits == 4:
        return [t for t in HELD_OUT_TAILS if t < 10]
    if digits == 5:
        return [t for t in HELD_OUT_TAILS if t >= 10]
    first = 1 if digits == 6 else 0
    return [h * 100 + t for h in range(first, 10) for t in HELD_OUT_TAILS]


def _digit_choices(kind: str, split: str) -> tuple[list[int], list[float]]:
    weights = _DIGIT_WEIGHTS[kind]
    if split == "test":
        # Held-out integers have 3..9 digits (10**9 itself is not held out).
        weights = {
            d: w
            for d, w in weights.items()
            if d == 3 or (4 <= d <= 9 and _held_thousands(d))
        }
    return list(weights), list(weights.values())


def _draw_integer(rng: random.Random, kind: str, split: str) -> int:
    digits, weights = _digit_choices(kind, split)
    upper = MAX_CARDINAL if kind == "cardinal" else 10 ** max(digits) - 1
    lower = 1 if kind == "ordinal" else 0
    while True:
        d = rng.choices(digits, weights)[0]
        if split == "test":
            if d == 3:
                return rng.randint(1, 9) * 100 + rng.choice(HELD_OUT_TAILS)
            millions = rng.randrange(10 ** (d - 7), 10 ** (d - 6)) if d >= 7 else 0
            units = rng.randrange(1000)
            if rng.random() < _ROUND_PROBABILITY:
                k = rng.randint(1, 3)
                units = units // 10**k * 10**k
            return millions * 10**6 + rng.choice(_held_thousands(d)) * 1000 + units
        n = rng.randint(
            max(lower, 10 ** (d - 1) if d > 1 else 0), min(upper, 10**d - 1)
        )
        if d > 1 and rng.random() < _ROUND_PROBABILITY:
            k = rng.randint(1, d - 1)
            n = n // 10**k * 10**k
        if split == "train" and is_held_out_number(n):
            continue
        return n


def _draw_decimal(rng: random.Random, split: str) -> Decimal:
    whole = _draw_integer(rng, "decimal", split)
    places = rng.randint(1, MAX_FRACTION_DIGITS)
    fraction = rng.randrange(10**places)
    if fraction % 10 == 0:  # the last decimal is never 0
        fraction += 1
    return Decimal(f"{whole}.{fraction:0{places}d}")


_DATE_YEARS = {
    "all": list(range(MIN_YEAR, MAX_YEAR + 1)),
    "train": [y for y in range(MIN_YEAR, MAX_YEAR + 1) if not is_held_out_year(y)],
    "test": [y for y in range(MIN_YEAR, MAX_YEAR + 1) if is_held_out_year(y)],
}


def _draw_date(rng: random.Random, split: str) -> datetime.date:
    year = rng.choice(_DATE_YEARS[split])
    start = datetime.date(year, 1, 1).toordinal()
    length = datetime.date(year, 12, 31).toordinal() - start + 1
    return datetime.date.fromordinal(start + rng.randrange(length))


def _example(rng: random.Random, kind: str, lang: str, split: str):
    style = None
    if kind == "cardinal":
        value = _draw_integer(rng, kind, split)
        source, target = _clean(_n2w(value, lang)), _n2w(value, "en")
    elif kind == "ordinal":
        value = _draw_integer(rng, kind, split)
        source, target = _ordinal_source(value, lang), _n2w(value, "en", "ordinal")
    elif kind == "decimal":
        value = _draw_decimal(rng, split)
        source, target = _clean(_n2w(value, lang)), _n2w(value, "en")
    else:
        value = _draw_date(rng, split)
        style = rng.choice(DATE_STYLES)
        source, target = date_source(value, lang, style), date_target(value)
    return source, target, {"kind": kind, "lang": lang, "value": value, "style": style}


def _check_subset(name: str, values, allowed: Sequence[str]) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValueError(
            f"`{name}` must be a sequence drawn from {allowed}; got {values!r}."
        )
    values = tuple(values)
    if not values or any(v not in allowed for v in values):
        raise ValueError(
            f"`{name}` must be a non-empty subset of {allowed}; got {values!r}."
        )
    return values


def generate_examples(
    n: int,
    seed: int = 0,
    languages: Sequence[str] = LANGUAGES,
    kinds: Sequence[str] = KINDS,
    split: str = "all",
    language_tags: bool = False,
) -> list[tuple[str, str, dict]]:
    """Like `generate_pairs`, with the ``meta`` of each pair.

    ``meta`` is ``{"kind", "lang", "value", "style"}``: ``value`` is the
    ``int``, `decimal.Decimal` or `datetime.date` the pair was made from and
    ``style`` the date style (``None`` for numbers).

    Example:

    >>> from applications.transformer_nmt.data import generate_examples
    >>> generate_examples(1, seed=3, kinds=["cardinal"])[0][2]
    {'kind': 'cardinal', 'lang': 'es', 'value': 30016660, 'style': None}
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"`n` must be a non-negative integer; got {n!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"`seed` must be an integer; got {seed!r}.")
    languages = _check_subset("languages", languages, LANGUAGES)
    kinds = _check_subset("kinds", kinds, KINDS)
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}; got {split!r}.")
    # A string seed is hashed with SHA-512: stable across runs and processes.
    rng = random.Random(f"transformer_nmt/{split}/{seed}")
    examples = []
    for _ in contract.progress(range(n), desc=f"generating {split} pairs", unit="pair"):
        kind = rng.choice(kinds)
        lang = rng.choice(languages)
        source, target, meta = _example(rng, kind, lang, split)
        if language_tags:
            source = f"<{lang}> {source}"
        examples.append((source, target, meta))
    return examples


def generate_pairs(
    n: int,
    seed: int = 0,
    languages: Sequence[str] = LANGUAGES,
    kinds: Sequence[str] = KINDS,
    split: str = "all",
    language_tags: bool = False,
) -> list[tuple[str, str]]:
    """Generates ``n`` ``(source, target)`` translation pairs.

    Each pair's kind is drawn uniformly from ``kinds`` and its source language
    from ``languages`` (see the module docstring). The output is deterministic
    given ``seed`` and ``split``, and the first ``k`` pairs do not depend on
    ``n``; the splits use independent random streams.

    Args:
        n: The number of pairs (>= 0).
        seed: The random seed (an integer).
        languages: Source languages, a subset of `LANGUAGES`.
        kinds: A subset of `KINDS`.
        split: ``"train"`` (no held-out values), ``"test"`` (only held-out
            values) or ``"all"`` (no rule).
        language_tags: Whether to start each source with ``"<de> "``,
            ``"<fr> "`` or ``"<es> "``; by default the language is untagged.

    Returns:
        A list of ``(source, target)`` string pairs.

    Raises:
        ValueError: If an argument is invalid.

    Example:

    >>> from applications.transformer_nmt.data import generate_pairs
    >>> generate_pairs(3, seed=0, kinds=["cardinal", "date"], split="train") == (
    ...     generate_pairs(3, seed=0, kinds=["cardinal", "date"], split="train"))
    True
    >>> generate_pairs(1, seed=3, languages=["es"], kinds=["cardinal"])
    [('tres millones quinientos dos mil ochenta y dos', 'three million, five hundred and two thousand and eighty-two')]
    """
    examples = generate_examples(n, seed, languages, kinds, split, language_tags)
    return [(source, target) for source, target, _ in examples]


def make_dataset(
    n_train: int,
    n_test: int,
    seed: int = 0,
    languages: Sequence[str] = LANGUAGES,
    kinds: Sequence[str] = KINDS,
    language_tags: bool = False,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Returns ``(train_pairs, test_pairs)`` from the held-out split.

    Raises:
        ValueError: If an argument is invalid.
        RuntimeError: If a source string were in both splits (never expected).

    Example:

    >>> from applications.transformer_nmt.data import make_dataset
    >>> train, test = make_dataset(100, 20, seed=1)
    >>> len(train), len(test), not {s for s, _ in train} & {s for s, _ in test}
    (100, 20, True)
    """
    options = dict(languages=languages, kinds=kinds, language_tags=language_tags)
    train = generate_pairs(n_train, seed, split="train", **options)
    test = generate_pairs(n_test, seed, split="test", **options)
    shared = {source for source, _ in train} & {source for source, _ in test}
    if shared:
        raise RuntimeError(f"Sources in both splits: {sorted(shared)[:5]!r}.")
    return train, test


def corpus_stats(pairs: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Word-level vocabulary sizes and maximum lengths of ``pairs``.

    Example:

    >>> from applications.transformer_nmt.data import corpus_stats
    >>> corpus_stats([("drei komma eins", "three point one"), ("elf", "eleven")])["source_words"]
    4
    """
    source_words, target_words = set(), set()
    stats = dict.fromkeys(
        (
            "pairs",
            "max_source_words",
            "max_target_words",
            "max_source_chars",
            "max_target_chars",
        ),
        0,
    )
    for source, target in pairs:
        source_split, target_split = source.split(), target.split()
        source_words.update(source_split)
        target_words.update(target_split)
        stats["pairs"] += 1
        stats["max_source_words"] = max(stats["max_source_words"], len(source_split))
        stats["max_target_words"] = max(stats["max_target_words"], len(target_split))
        stats["max_source_chars"] = max(stats["max_source_chars"], len(source))
        stats["max_target_chars"] = max(stats["max_target_chars"], len(target))
    stats["source_words"] = len(source_words)
    stats["target_words"] = len(target_words)
    return stats


# --------------------------------------------------------------------------
# TSV files.


def load_tsv(
    path: str | os.PathLike,
    source_column: int = 0,
    target_column: int = 1,
    reverse: bool = False,
) -> list[tuple[str, str]]:
    """Reads ``(source, target)`` pairs from a tab-separated UTF-8 file.

    Reads the files of `save_tsv` (``source<TAB>target``) and the Tatoeba /
    ManyThings parallel corpora (``english<TAB>foreign<TAB>attribution``):
    extra columns are ignored. ``reverse=True`` swaps source and target, so
    the foreign side of a ManyThings file becomes the source. Blank lines and
    lines whose first non-space character is ``#`` are skipped; fields are
    stripped of surrounding whitespace; a byte-order mark is ignored.

    Args:
        path: The file.
        source_column: The 0-based column of the source.
        target_column: The 0-based column of the target.
        reverse: Whether to swap the two after reading.

    Returns:
        A list of ``(source, target)`` pairs.

    Raises:
        ValueError: If a column argument is invalid, or a line has too few
            columns or an empty source or target (the message names the file
            and the line number).

    Example:

    >>> import os, tempfile
    >>> from applications.transformer_nmt.data import load_tsv
    >>> path = os.path.join(tempfile.mkdtemp(), "deu.txt")
    >>> with open(path, "w", encoding="utf-8") as f:
    ...     _ = f.write("Go.\\tGeh.\\tCC-BY 2.0 (France) Attribution: tatoeba.org\\n")
    >>> load_tsv(path), load_tsv(path, reverse=True)
    ([('Go.', 'Geh.')], [('Geh.', 'Go.')])
    """
    for name, column in (
        ("source_column", source_column),
        ("target_column", target_column),
    ):
        if isinstance(column, bool) or not isinstance(column, int) or column < 0:
            raise ValueError(
                f"`{name}` must be a non-negative integer; got {column!r}."
            )
    if source_column == target_column:
        raise ValueError("`source_column` and `target_column` must differ.")
    needed = max(source_column, target_column) + 1
    name = os.fspath(path)
    pairs = []
    for lineno, line in contract.data_lines(path):
        fields = line.split("\t")
        if len(fields) < needed:
            raise ValueError(
                f"{name}, line {lineno}: expected at least {needed} tab-separated "
                f"columns, got {len(fields)}: {line!r}."
            )
        source, target = (
            fields[source_column].strip(),
            fields[target_column].strip(),
        )
        if not source or not target:
            which = "source" if not source else "target"
            raise ValueError(
                f"{name}, line {lineno}: the {which} is empty: {line!r}."
            )
        pairs.append((target, source) if reverse else (source, target))
    return pairs


def save_tsv(path: str | os.PathLike, pairs: Iterable[tuple[str, str]]) -> None:
    """Writes ``(source, target)`` pairs as ``source<TAB>target`` lines.

    Raises:
        ValueError: If a pair could not be read back unchanged by `load_tsv`
            (not two strings; an empty field; a tab, newline or surrounding
            whitespace in a field; a source starting with ``#``).

    Example:

    >>> import os, tempfile
    >>> from applications.transformer_nmt.data import load_tsv, save_tsv
    >>> pairs = [("neunundneunzig", "ninety-nine"), ("drei", "three")]
    >>> path = os.path.join(tempfile.mkdtemp(), "pairs.tsv")
    >>> save_tsv(path, pairs)
    >>> load_tsv(path) == pairs
    True
    """
    lines = []
    for index, pair in enumerate(contract.check_pairs(pairs)):
        for field in pair:
            if (
                not isinstance(field, str)
                or not field
                or field != field.strip()
                or any(c in field for c in "\t\r\n")
            ):
                raise ValueError(
                    f"`pairs` item {index}: {field!r} must be a non-empty string "
                    "without tabs, newlines or surrounding whitespace."
                )
        if pair[0].startswith("#"):
            raise ValueError(
                f"`pairs` item {index}: the source must not start with '#'."
            )
        lines.append(f"{pair[0]}\t{pair[1]}\n")
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(lines)
