"""Name lists for the character language model: US census first names,
generated dinosaur names, or any text file.

Every data set is a list of *items* (short strings such as names); the
model reads ``<sos> c_1 ... c_n`` and learns to predict ``c_1 ... c_n <eos>``,
so `<eos>` ends each item (seed 4.4).

* ``"names"``: the 5,163 distinct first names (lower-cased) of the 1990 US
  census lists shipped in the `names` package (``dist.female.first`` and
  ``dist.male.first``, read directly; the package's random API is not used).
* ``"dinosaurs"``: pseudo-dinosaur names from `generate_dinosaur_names`, a
  seeded generator that joins Greek/Latin-sounding roots with linking vowels
  and suffixes ("velocisaurus", "brachyraptor", "microtitan", ...), the
  Coursera "Dinosaurus Island" task without its data file.
* a text file via `load_text`: one item per line, or raw text cut into
  fixed-length pieces.

`split_items` holds out a seeded share of the *distinct* items, so no test
item is ever a training item, which is what "held-out names" means for the
nats-per-character figure and what the novelty of samples is measured
against.

Example:

>>> from applications.char_lm.data import census_names, generate_dinosaur_names
>>> names = census_names()
>>> len(names), names[:3]
(5163, ['aaron', 'abbey', 'abbie'])
>>> generate_dinosaur_names(3, seed=0)
['protosuchomimosaurus', 'euscelidopus', 'eupentotops']
"""

from __future__ import annotations

import os
import random

from applications.char_lm import SOURCES

# Roots (with their own linking vowel where Greek uses one) and suffixes,
# after real genus names; combinations are mostly not real genera.
DINOSAUR_PREFIXES = ("", "", "", "", "eu", "neo", "proto", "pseudo", "para", "micro", "mega")
DINOSAUR_ROOTS = (
    "tyranno", "stego", "brachio", "veloci", "tricera", "ankylo", "diplo", "allo",
    "spino", "iguano", "pachycephalo", "hadro", "cerato", "carno", "compso",
    "dromaeo", "gallimimo", "oviro", "theri", "troodo", "apato", "bronto",
    "camara", "plateo", "lambeo", "parasauro", "maiasauro", "styraco", "centro",
    "chasmo", "pento", "nodo", "scelido", "dilopho", "cryolopho", "giganto",
    "argentino", "mamenchi", "shuno", "tarbo", "alberto", "daspleto", "gorgo",
    "raja", "masia", "abeli", "carcharodonto", "acrocantho", "suchomimo",
    "barony", "ornitho", "struthio", "deinony", "micro", "saurorni", "austro",
)  # fmt: skip
DINOSAUR_SUFFIXES = (
    "saurus", "saurus", "saurus", "raptor", "don", "odon", "tops", "ceratops",
    "mimus", "venator", "titan", "pteryx", "nychus", "suchus", "rhinus",
    "lophus", "gnathus", "cephale", "pelta", "nykus", "dromeus", "sauropteryx",
    "tyrannus", "mimus", "lestes", "pus", "ops", "ia",
)  # fmt: skip


def _names_directory() -> str:
    import names

    return os.path.dirname(names.__file__)


def census_names(sex: str = "all") -> list[str]:
    """The distinct lower-cased first names of the US census lists in the
    `names` package, sorted.

    Args:
        sex: ``"female"``, ``"male"`` or ``"all"``.

    >>> from applications.char_lm.data import census_names
    >>> len(census_names("male")), len(census_names("female"))
    (1219, 4275)
    """
    files = {"female": ["dist.female.first"], "male": ["dist.male.first"]}
    files["all"] = files["female"] + files["male"]
    if sex not in files:
        raise ValueError(f'`sex` must be "female", "male" or "all"; received {sex!r}.')
    found = set()
    for filename in files[sex]:
        with open(os.path.join(_names_directory(), filename), encoding="ascii") as handle:
            for line in handle:
                fields = line.split()
                if fields:
                    found.add(fields[0].lower())
    return sorted(found)


def _check_n(name, n):
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"`{name}` must be an integer >= 0; received {n!r}.")
    return n


def dinosaur_name(rng: random.Random) -> str:
    """One pseudo-dinosaur name: optional prefix + root (+ second root) + suffix."""
    name = rng.choice(DINOSAUR_PREFIXES) + rng.choice(DINOSAUR_ROOTS)
    if rng.random() < 0.15:
        name += rng.choice(DINOSAUR_ROOTS)
    suffix = rng.choice(DINOSAUR_SUFFIXES)
    # The roots end in a linking vowel; drop it before a vowel-initial suffix.
    if suffix[0] in "aeiou" and name[-1] in "aeiou":
        name = name[:-1]
    return name + suffix


def generate_dinosaur_names(n: int, seed: int = 0) -> list[str]:
    """`n` distinct pseudo-dinosaur names, deterministic for `seed`.

    Raises:
        ValueError: if `n` is negative or more than the generator can make
            distinct (about 40,000).
    """
    _check_n("n", n)
    rng = random.Random(seed)
    found: dict[str, None] = {}
    attempts = 0
    while len(found) < n:
        found.setdefault(dinosaur_name(rng), None)
        attempts += 1
        if attempts > 50 * n + 1000:
            raise ValueError(f"`n` is too large: only {len(found)} distinct names were generated.")
    return list(found)


def split_items(items, test_fraction: float = 0.1, seed: int = 0):
    """Splits the distinct `items` into ``(train, test)`` lists with a seeded
    shuffle; no test item equals a training item.

    >>> from applications.char_lm.data import split_items
    >>> split_items(["a", "b", "c", "d", "a"], test_fraction=0.25, seed=1)
    (['a', 'c', 'b'], ['d'])
    """
    if not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ValueError(f"`test_fraction` must be in (0, 1); received {test_fraction!r}.")
    distinct = list(dict.fromkeys(items))
    if len(distinct) < 2:
        raise ValueError(f"`items` must hold at least 2 distinct items; received {len(distinct)}.")
    random.Random(seed).shuffle(distinct)
    held = min(len(distinct) - 1, max(1, round(test_fraction * len(distinct))))
    return distinct[held:], distinct[:held]


def make_dataset(source: str = "names", seed: int = 0, test_fraction: float = 0.1, n: int = 8000):
    """``(train, test)`` item lists of an embedded source.

    Args:
        source: ``"names"`` (census first names) or ``"dinosaurs"``.
        seed: seeds the split (and the dinosaur generator).
        test_fraction: share of distinct items held out.
        n: how many dinosaur names to generate (ignored for names).

    >>> from applications.char_lm.data import make_dataset
    >>> train, test = make_dataset("names", seed=0)
    >>> len(train), len(test), set(train) & set(test)
    (4647, 516, set())
    """
    if source == "names":
        items = census_names()
    elif source == "dinosaurs":
        items = generate_dinosaur_names(n, seed=seed)
    else:
        raise ValueError(f"`source` must be one of {list(SOURCES)}; received {source!r}.")
    return split_items(items, test_fraction, seed)


def load_text(path: str | os.PathLike, mode: str = "lines", chunk_length: int = 64) -> list[str]:
    """Items from a UTF-8 text file.

    Args:
        path: the file.
        mode: ``"lines"``: every non-blank line (stripped) is an item (a list
            of names, words, titles); ``"raw"``: the whole text, with runs of
            whitespace collapsed to one space, cut into consecutive pieces of
            `chunk_length` characters (the model then learns running text and
            `<eos>` marks the end of a piece).
        chunk_length: piece length for ``mode="raw"``.

    Raises:
        ValueError: for an unknown mode, a bad chunk length, or a file
            without any item.
    """
    if mode not in ("lines", "raw"):
        raise ValueError(f'`mode` must be "lines" or "raw"; received {mode!r}.')
    if isinstance(chunk_length, bool) or not isinstance(chunk_length, int) or chunk_length < 1:
        raise ValueError(f"`chunk_length` must be a positive integer; received {chunk_length!r}.")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if mode == "lines":
        items = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        flat = " ".join(text.split())
        items = [flat[i : i + chunk_length] for i in range(0, len(flat), chunk_length)]
    if not items:
        raise ValueError(f"`path` {os.fspath(path)!r} holds no text.")
    return items
