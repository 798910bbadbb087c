"""Regulatory DNA generated from real JASPAR motifs, the dinucleotide-preserving
shuffle, and loaders of FASTA (labels in the headers or a side file) and BED
intervals of a genome FASTA.

The motifs are the JASPAR 2024 CORE vertebrate matrices that ship inside the
`pyjaspar` wheel (read from its SQLite file; nothing is downloaded). A
binding site is *sampled* from a matrix (each position drawn from its
column's base frequencies), so no two sites need be alike, and planted on a
random strand into background sequence whose GC content varies from sequence
to sequence (`GC_RANGE`).

Two tasks (`make_dataset`):

* ``"multilabel"``: which of the five `FACTORS` bind. A bound sequence holds
  one site of each of a random non-empty subset of the factors; every bound
  sequence is paired with its dinucleotide-preserving shuffle
  (`dinucleotide_shuffle`) as an unbound one, so base and dinucleotide
  composition cannot give a label away.
* ``"grammar"``: a sequence is positive when a site of ``GRAMMAR[0]`` (SPI1)
  lies upstream of a site of ``GRAMMAR[1]`` (IRF4) on the same strand with
  `NEAR_GAP` bases between them. The negatives hold the *same two sites on the
  same strand* in the wrong order (`WRONG_ORDER`) or too far apart
  (`TOO_FAR`, gaps of `FAR_GAP`), or are shuffles of positives (`SHUFFLED`):
  which motifs occur, and on which strand, says nothing about the label, so
  a bag-of-motifs model (convolution + global max pooling) cannot do much
  better than find the shuffles, while a model that reads order and spacing
  can.

Splits: ``"test"`` is drawn from its own seed stream (``seed +
EVAL_SEED_OFFSET``) and holds no sequence of ``"train"`` (nor its reverse
complement); its shuffled negatives are shuffles of test positives.

Example:

>>> from applications.dna.data import make_dataset
>>> data = make_dataset("grammar", 8, 4, length=120, seed=0)
>>> data.label_names, len(data.train), len(data.test), len(data.train.sequences[0])
(['SPI1>IRF4'], 8, 4, 120)
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re

import numpy as np

from applications import contract
from applications.dna import TASKS

ALPHABET = "ACGT"
JASPAR_RELEASE = "JASPAR2024"
#: The factors of the multi-label task and their JASPAR 2024 CORE matrices:
#: five unrelated DNA-binding domains (zinc finger, homeodomain, Rel, bZIP, MADS).
FACTORS = {
    "CTCF": "MA0139.2",
    "HNF1A": "MA0046.3",
    "NFKB1": "MA0105.4",
    "CEBPB": "MA0466.4",
    "SRF": "MA0083.3",
}
#: The grammar task's pair, upstream first: PU.1 (SPI1) and IRF4, partners of
#: immune-cell enhancers. Neither motif is palindromic, so a site's strand,
#: and with it the order of the pair along its strand, can be read.
GRAMMAR_FACTORS = {"SPI1": "MA0080.7", "IRF4": "MA1419.2"}
GRAMMAR = tuple(GRAMMAR_FACTORS)
GC_RANGE = (0.35, 0.65)
NEAR_GAP = (10, 20)  # bases between the two sites of a positive (inclusive)
FAR_GAP = (40, 70)  # ... of a too-far negative
#: The kinds of grammar examples and their shares.
POSITIVE, WRONG_ORDER, TOO_FAR, SHUFFLED = (
    "positive",
    "wrong_order",
    "too_far",
    "shuffled",
)
GRAMMAR_MIX = {POSITIVE: 0.5, WRONG_ORDER: 0.2, TOO_FAR: 0.2, SHUFFLED: 0.1}
EVAL_SEED_OFFSET = 1000
PSEUDOCOUNT = 0.5  # added to each JASPAR count before sampling sites


@dataclasses.dataclass(frozen=True)
class Motif:
    """A JASPAR matrix: `counts` is ``[4, width]`` over A, C, G, T."""

    name: str
    matrix_id: str
    counts: np.ndarray

    @property
    def width(self):
        return self.counts.shape[1]

    def probabilities(self, pseudocount=PSEUDOCOUNT):
        """The position probability matrix ``[4, width]`` (columns sum to 1)."""
        counts = self.counts + pseudocount
        return counts / counts.sum(axis=0, keepdims=True)

    @property
    def consensus(self):
        return "".join(ALPHABET[i] for i in self.counts.argmax(axis=0))


@dataclasses.dataclass
class Examples:
    """Labelled sequences: `labels` is ``[N, len(label_names)]`` of 0/1;
    `sites[i]` lists ``(factor, start, strand)`` of the sites planted in
    sequence i (empty for loaded data and shuffles); `kinds[i]` says what
    kind of example it is (``"bound"``/``"shuffled"``, the grammar kinds, or
    ``"loaded"``)."""

    sequences: list
    labels: np.ndarray
    label_names: list
    sites: list = None
    kinds: list = None
    names: list = None

    def __post_init__(self):
        count = len(self.sequences)
        self.labels = np.asarray(self.labels, "float32").reshape(
            count, len(self.label_names)
        )
        self.sites = (
            self.sites if self.sites is not None else [[] for _ in range(count)]
        )
        self.kinds = self.kinds if self.kinds is not None else ["loaded"] * count
        self.names = (
            self.names if self.names is not None else [f"seq{i}" for i in range(count)]
        )

    def __len__(self):
        return len(self.sequences)

    def subset(self, indices):
        """The examples at `indices`, in that order."""
        return Examples(
            [self.sequences[i] for i in indices], self.labels[list(indices)], list(self.label_names),
            [self.sites[i] for i in indices], [self.kinds[i] for i in indices], [self.names[i] for i in indices],
        )  # fmt: skip


@dataclasses.dataclass
class Dataset:
    """The two splits of a task and its label names."""

    task: str
    train: Examples
    test: Examples

    @property
    def label_names(self):
        return list(self.train.label_names)


# -- JASPAR --------------------------------------------------------------------------


@functools.cache
def _database(release=JASPAR_RELEASE):
    try:
        from pyjaspar import jaspardb
    except ImportError as error:
        raise ImportError(
            "the dna application reads motifs from the `pyjaspar` package (extra `nlp`)"
        ) from error
    return jaspardb(release=release)


def _motif(record):
    counts = np.array([record.counts[base] for base in ALPHABET], "float64")
    return Motif(record.name, record.matrix_id, counts)


@functools.cache
def jaspar_motif(matrix_id, release=JASPAR_RELEASE):
    """The JASPAR matrix `matrix_id` (e.g. ``"MA0139.2"``) from the database
    in the `pyjaspar` wheel.

    >>> motif = jaspar_motif("MA0139.2")
    >>> motif.name, motif.width, motif.consensus
    ('CTCF', 15, 'GCCACCAGGGGGCGC')
    """
    record = _database(release).fetch_motif_by_id(matrix_id)
    if record is None:
        raise ValueError(f"`matrix_id` {matrix_id!r} is not in {release}.")
    return _motif(record)


@functools.cache
def jaspar_collection(
    release=JASPAR_RELEASE, collection="CORE", tax_group="vertebrates"
):
    """Every matrix of a JASPAR collection (the latest version of each), as a
    tuple of `Motif`s: the targets TOMTOM matches learned motifs against.

    >>> len(jaspar_collection()) > 800
    True
    """
    records = _database(release).fetch_motifs(
        collection=collection, tax_group=[tax_group]
    )
    return tuple(_motif(record) for record in records)


def factor_motifs(names=None):
    """`Motif`s of `FACTORS` (or of the named factors of `FACTORS` and
    `GRAMMAR_FACTORS`), in that order."""
    known = {**FACTORS, **GRAMMAR_FACTORS}
    names = list(FACTORS) if names is None else list(names)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"`names` must be factors of {list(known)}; received {unknown}.")
    # Named as the application names them (JASPAR writes some names in mouse
    # case, e.g. MA0080.7 is "Spi1"); the matrices are the database's.
    return [dataclasses.replace(jaspar_motif(known[name]), name=name) for name in names]


# -- sequences as arrays -------------------------------------------------------------

_CODES = np.full(256, 255, "uint8")
for _index, _base in enumerate(ALPHABET):
    _CODES[ord(_base)] = _CODES[ord(_base.lower())] = _index
_CODES[ord("N")] = _CODES[ord("n")] = 4


def encode(sequence):
    """Base indices (A=0, C=1, G=2, T=3, N=4) of a DNA string, as uint8.

    >>> encode("ACGTn").tolist()
    [0, 1, 2, 3, 4]
    """
    codes = _CODES[np.frombuffer(sequence.encode("ascii", "replace"), "uint8")]
    if (codes == 255).any():
        bad = sorted({c for c in sequence if c.upper() not in ALPHABET + "N"})
        raise ValueError(
            f"a DNA sequence may hold only A, C, G, T and N; found {bad} in {sequence[:40]!r}."
        )
    return codes


def decode(indices):
    """The DNA string of base indices (4 = N)."""
    return "".join("ACGTN"[i] for i in indices)


def reverse_complement(sequence):
    """The reverse complement of a DNA string.

    >>> reverse_complement("AACGTN")
    'NACGTT'
    """
    return sequence.translate(str.maketrans("ACGTNacgtn", "TGCANtgcan"))[::-1]


def one_hot(sequences, length=None):
    """``[N, length, 4]`` float32 one-hot encodings (N is all zeros; shorter
    sequences are padded with zeros at the end, longer ones cut).

    >>> one_hot(["ACGN"])[0].tolist()
    [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    """
    if isinstance(sequences, str):
        raise ValueError(
            f"`sequences` must be a list of DNA strings; received the string {sequences[:40]!r}."
        )
    sequences = list(sequences)
    length = length or max((len(s) for s in sequences), default=1)
    table = np.concatenate([np.eye(4, dtype="float32"), np.zeros((1, 4), "float32")])
    out = np.zeros((len(sequences), length, 4), "float32")
    for i, sequence in enumerate(sequences):
        codes = encode(sequence[:length])
        out[i, : len(codes)] = table[codes]
    return out


# -- the dinucleotide-preserving shuffle ------------------------------------------------


def _shuffle_codes(codes, rng):
    """Altschul & Erickson's shuffle as a random Eulerian walk (Kandel et al.
    1996): the walk over the multigraph whose edges are the sequence's
    dinucleotides, with a uniformly drawn spanning arborescence of "last
    exits" into the final letter, uses every dinucleotide once."""
    if len(codes) < 3:
        return codes.copy()
    letters = np.unique(codes)
    exits = {int(v): list(codes[1:][codes[:-1] == v]) for v in letters}
    last = int(codes[-1])
    while True:
        # For each letter but the last, the exit it leaves by for the last
        # time; accepted when following them from every letter reaches `last`.
        final = {
            v: int(rng.integers(len(e))) for v, e in exits.items() if v != last and e
        }
        if all(_reaches(v, last, final, exits) for v in final):
            break
    order = {}
    for v, edges in exits.items():
        edges = list(edges)
        kept = edges.pop(final[v]) if v in final else None
        rng.shuffle(edges)
        order[v] = edges + ([kept] if kept is not None else [])
    out = np.empty_like(codes)
    out[0] = codes[0]
    used = dict.fromkeys(order, 0)
    for i in range(1, len(codes)):
        v = int(out[i - 1])
        out[i] = order[v][used[v]]
        used[v] += 1
    return out


def _reaches(start, last, final, exits):
    seen, v = set(), start
    while v != last:
        if v in seen:
            return False
        seen.add(v)
        v = int(exits[v][final[v]])
    return True


def dinucleotide_shuffle(sequence, seed=0):
    """A random sequence with exactly the dinucleotide counts of `sequence`
    (and its first and last letters), uniformly among all such sequences.

    >>> shuffled = dinucleotide_shuffle("AACGTTTACGGA", seed=3)
    >>> sorted(shuffled) == sorted("AACGTTTACGGA"), shuffled[0], shuffled[-1]
    (True, 'A', 'A')
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return decode(_shuffle_codes(encode(sequence), rng))


def dinucleotide_counts(sequence):
    """``{dinucleotide: count}`` of a DNA string (overlapping pairs).

    >>> dinucleotide_counts("AACA")
    {'AA': 1, 'AC': 1, 'CA': 1}
    """
    counts = {}
    for a, b in zip(sequence, sequence[1:]):
        counts[a + b] = counts.get(a + b, 0) + 1
    return counts


# -- generation ----------------------------------------------------------------------


def background(count, length, rng, gc_range=GC_RANGE):
    """``[count, length]`` base indices; each sequence has its own GC content
    drawn uniformly from `gc_range`."""
    gc = rng.uniform(*gc_range, size=(count, 1))
    p = np.concatenate(
        [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2], axis=1
    )  # A, C, G, T
    return (
        (rng.random((count, length, 1)) > np.cumsum(p, axis=1)[:, None, :3])
        .sum(-1)
        .astype("uint8")
    )


def sample_sites(motif, count, rng):
    """``[count, width]`` base indices of sites drawn from `motif`'s columns."""
    cdf = np.cumsum(motif.probabilities(), axis=0)[:3].T  # [width, 3]
    return (rng.random((count, motif.width, 1)) > cdf[None]).sum(-1).astype("uint8")


def _plant(codes, site, start, strand):
    codes[start : start + len(site)] = site if strand == "+" else 3 - site[::-1]


def _free_starts(length, widths, rng, tries=100):
    """Non-overlapping random starts for sites of `widths` in a sequence of `length`."""
    for _ in range(tries):
        starts = [int(rng.integers(0, length - w + 1)) for w in widths]
        spans = sorted(zip(starts, widths))
        if all(a + wa <= b for (a, wa), (b, _) in zip(spans, spans[1:])):
            return starts
    raise ValueError(
        f"`length` {length} is too short to hold sites of widths {list(widths)} apart."
    )


def _multilabel(count, length, rng, progress_desc):
    motifs = factor_motifs()
    bound = (count + 1) // 2
    sequences, labels, sites, kinds = [], [], [], []
    for _ in contract.progress(range(bound), desc=progress_desc, unit="seq"):
        chosen = []
        while not chosen:
            chosen = [k for k in range(len(motifs)) if rng.random() < 0.4]
        codes = background(1, length, rng)[0]
        starts = _free_starts(length, [motifs[k].width for k in chosen], rng)
        planted = []
        for k, start in zip(chosen, starts):
            strand = "+" if rng.random() < 0.5 else "-"
            _plant(codes, sample_sites(motifs[k], 1, rng)[0], start, strand)
            planted.append((motifs[k].name, start, strand))
        label = np.zeros(len(motifs), "float32")
        label[chosen] = 1
        sequences += [decode(codes), decode(_shuffle_codes(codes, rng))]
        labels += [label, np.zeros(len(motifs), "float32")]
        sites += [sorted(planted, key=lambda s: s[1]), []]
        kinds += ["bound", "shuffled"]
    return (
        sequences[:count],
        labels[:count],
        sites[:count],
        kinds[:count],
        [m.name for m in motifs],
    )


def _grammar_pair(kind, length, rng):
    first, second = factor_motifs(GRAMMAR)
    low, high = NEAR_GAP if kind in (POSITIVE, WRONG_ORDER) else FAR_GAP
    gap = int(rng.integers(low, high + 1))
    upstream, downstream = (second, first) if kind == WRONG_ORDER else (first, second)
    span = upstream.width + gap + downstream.width
    if span > length:
        raise ValueError(
            f"`length` must be at least {span} for the grammar task; received {length}."
        )
    codes = background(1, length, rng)[0]
    start = int(rng.integers(0, length - span + 1))
    strand = "+" if rng.random() < 0.5 else "-"
    # On the minus strand the pair reads, on the plus strand, as rc(downstream) then rc(upstream).
    placed = [(upstream, start), (downstream, start + upstream.width + gap)]
    if strand == "-":
        placed = [(downstream, start), (upstream, start + downstream.width + gap)]
    planted = []
    for motif, at in placed:
        _plant(codes, sample_sites(motif, 1, rng)[0], at, strand)
        planted.append((motif.name, at, strand))
    return codes, planted


def _grammar(count, length, rng, progress_desc):
    kinds = list(
        rng.choice(list(GRAMMAR_MIX), size=count, p=list(GRAMMAR_MIX.values()))
    )
    sequences, labels, sites = [], [], []
    for kind in contract.progress(kinds, desc=progress_desc, unit="seq"):
        codes, planted = _grammar_pair(
            POSITIVE if kind == SHUFFLED else kind, length, rng
        )
        if kind == SHUFFLED:
            codes, planted = _shuffle_codes(codes, rng), []
        sequences.append(decode(codes))
        labels.append([1.0 if kind == POSITIVE else 0.0])
        sites.append(planted)
    return (
        sequences,
        labels,
        sites,
        [str(k) for k in kinds],
        [f"{GRAMMAR[0]}>{GRAMMAR[1]}"],
    )


def generate(task, count, length=200, seed=0, exclude=(), progress_desc=None):
    """`count` generated `Examples` of `task` (see the module docstring),
    none of whose sequences is in `exclude`."""
    if task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS}; received {task!r}.")
    contract.check_count("count", count, allow_none=False, minimum=0)
    contract.check_count("length", length, allow_none=False)
    rng = np.random.default_rng(seed)
    make = _multilabel if task == "multilabel" else _grammar
    exclude = set(exclude)
    sequences, labels, sites, kinds, names = [], [], [], [], None
    while len(sequences) < count:
        batch = make(
            count - len(sequences),
            length,
            rng,
            progress_desc or f"generating {task} sequences",
        )
        for sequence, label, site, kind in zip(*batch[:4]):
            if sequence not in exclude:
                sequences.append(sequence)
                labels.append(label)
                sites.append(site)
                kinds.append(kind)
        names = batch[4]
    if names is None:
        names = (
            [m.name for m in factor_motifs()]
            if task == "multilabel"
            else [f"{GRAMMAR[0]}>{GRAMMAR[1]}"]
        )
    return Examples(
        sequences, np.reshape(labels, (count, len(names))), names, sites, kinds
    )


def make_dataset(task, train_examples, eval_examples, length=200, seed=0):
    """The ``train`` and ``test`` splits of `task`: the test split from
    ``seed + EVAL_SEED_OFFSET``, without any training sequence or the
    reverse complement of one."""
    train = generate(
        task,
        train_examples,
        length,
        seed,
        progress_desc=f"generating {task} training sequences",
    )
    seen = set(train.sequences) | {reverse_complement(s) for s in train.sequences}
    test = generate(task, eval_examples, length, seed + EVAL_SEED_OFFSET, exclude=seen,
                    progress_desc=f"generating {task} test sequences")  # fmt: skip
    return Dataset(task, train, test)


def with_shuffled_negatives(examples, seed=0):
    """`examples` (positives, e.g. the peaks of a BED file) followed by one
    dinucleotide-preserving shuffle of each, labelled all 0."""
    rng = np.random.default_rng(seed)
    shuffled = [
        decode(_shuffle_codes(encode(s), rng))
        for s in contract.progress(examples.sequences, desc="shuffling")
    ]
    count = len(examples)
    return Examples(
        list(examples.sequences) + shuffled,
        np.concatenate([examples.labels, np.zeros_like(examples.labels)]), list(examples.label_names),
        list(examples.sites) + [[] for _ in range(count)], list(examples.kinds) + ["shuffled"] * count,
        list(examples.names) + [f"{name}_shuffled" for name in examples.names],
    )  # fmt: skip


# -- files ------------------------------------------------------------------------------

_LABELS = re.compile(r"(?:labels?=)?([01](?:,[01])*)")


def read_fasta(path):
    """``[(header, sequence)]`` of a FASTA file (header without ``>``;
    sequence lines joined, upper-cased).

    Raises:
        ValueError: naming the file and line, for sequence before the first
            header, an empty record or letters other than A, C, G, T, N.
    """
    records, where = [], os.fspath(path)
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line or line.startswith(";"):
                continue
            if line.startswith(">"):
                if records and not records[-1][1]:
                    raise ValueError(
                        f"{where} line {number}: the record {records[-1][0]!r} has no sequence."
                    )
                records.append((line[1:].strip(), []))
                continue
            if not records:
                raise ValueError(
                    f"{where} line {number}: sequence before the first '>' header."
                )
            if re.search(r"[^ACGTNacgtn]", line):
                bad = sorted(set(re.findall(r"[^ACGTNacgtn]", line)))
                raise ValueError(
                    f"{where} line {number}: a sequence may hold only A, C, G, T and N; found {bad}."
                )
            records[-1][1].append(line.upper())
    if records and not records[-1][1]:
        raise ValueError(
            f"{where}: the last record {records[-1][0]!r} has no sequence."
        )
    if not records:
        raise ValueError(f"{where} holds no FASTA record.")
    return [(header, "".join(parts)) for header, parts in records]


def _parse_labels(text, where):
    values = [float(v) for v in text.split(",")]
    if not values:
        raise ValueError(f"{where}: no label.")
    return values


def read_label_table(path):
    """``(names, {id: [labels]})`` of a side file: tab-, comma- or
    whitespace-separated ``id label...`` lines of 0/1 values, with an
    optional header row naming the labels (``id CTCF SRF``)."""
    where, rows, names = os.fspath(path), {}, None
    for number, line in contract.data_lines(path):
        fields = re.split(r"[\t,\s]+", line.strip())
        if len(fields) < 2:
            raise ValueError(
                f"{where} line {number}: expected 'id<TAB>label...'; found {line!r}."
            )
        if (
            names is None
            and not rows
            and not all(re.fullmatch(r"[01]", f) for f in fields[1:])
        ):
            names = fields[1:]
            continue
        if not all(re.fullmatch(r"[01]", f) for f in fields[1:]):
            raise ValueError(
                f"{where} line {number}: labels must be 0 or 1; found {fields[1:]}."
            )
        if names is not None and len(fields) - 1 != len(names):
            raise ValueError(
                f"{where} line {number}: {len(fields) - 1} labels for the {len(names)} columns {names}."
            )
        rows[fields[0]] = [float(f) for f in fields[1:]]
    if not rows:
        raise ValueError(f"{where} holds no labels.")
    widths = {len(v) for v in rows.values()}
    if len(widths) != 1:
        raise ValueError(
            f"{where}: every line must hold the same number of labels; found {sorted(widths)}."
        )
    return names or _default_names(widths.pop()), rows


def _default_names(width):
    return ["label"] if width == 1 else [f"label{i}" for i in range(width)]


def load_fasta(path, labels=None):
    """Labelled `Examples` of a FASTA file.

    The labels come from the side file `labels` (see `read_label_table`;
    its ids are the first word of each header) or else from each header:
    ``>id 1``, ``>id 0,1,1`` or ``>id label=1`` (the last word of the
    header holding 0/1 values).

    Raises:
        ValueError: naming the file and record, for a header without labels
            (and no side file), an id missing from the side file, or labels of
            differing widths.
    """
    records, where = read_fasta(path), os.fspath(path)
    names = [header.split()[0] if header.split() else "" for header, _ in records]
    if labels is not None:
        label_names, table = read_label_table(labels)
        missing = [name for name in names if name not in table]
        if missing:
            raise ValueError(
                f"{os.fspath(labels)} has no labels for {missing[:3]} of {where}."
            )
        values = [table[name] for name in names]
    else:
        values = []
        for header, _ in records:
            words = header.split()
            match = _LABELS.fullmatch(words[-1]) if len(words) > 1 else None
            if not match:
                raise ValueError(f"{where}: the header {header!r} holds no labels (expected '>id 1' or '>id 0,1'); "
                                 f"or give a side file of labels.")  # fmt: skip
            values.append(_parse_labels(match.group(1), where))
        widths = {len(v) for v in values}
        if len(widths) != 1:
            raise ValueError(
                f"{where}: every header must hold the same number of labels; found {sorted(widths)}."
            )
        label_names = _default_names(widths.pop())
    return Examples([s for _, s in records], values, label_names, names=names)


def load_bed(path, genome, labels=None, length=None):
    """`Examples` of the intervals of a BED file, read from the genome FASTA
    `genome` with `pyfaidx` (BED's 0-based, end-exclusive coordinates; a
    ``-`` in the sixth column reads the reverse complement).

    With `length`, each interval is re-centred to `length` bases (as peak
    summits usually are). The labels come from the side file `labels`, keyed
    by the fourth (name) column; without one every interval is a positive
    with the single label ``"bound"`` (add negatives with
    `with_shuffled_negatives`).

    Raises:
        ValueError: naming the file and line, for a malformed line, an
            unknown chromosome or an interval outside it.
    """
    try:
        import pyfaidx
    except ImportError as error:
        raise ImportError(
            "reading BED intervals needs the `pyfaidx` package (extra `nlp`)"
        ) from error
    where = os.fspath(path)
    contract.check_exists(genome, "`genome`")
    fasta = pyfaidx.Fasta(os.fspath(genome), as_raw=True, sequence_always_upper=True)
    sequences, names = [], []
    try:
        for number, line in contract.data_lines(path):
            fields = line.split("\t") if "\t" in line else line.split()
            if fields[0] in ("track", "browser"):
                continue
            if (
                len(fields) < 3
                or not fields[1].isdigit()
                or not fields[2].isdigit()
                or int(fields[1]) >= int(fields[2])
            ):
                raise ValueError(f"{where} line {number}: expected 'chrom<TAB>start<TAB>end' with start < end; "
                                 f"found {line!r}.")  # fmt: skip
            chrom, start, end = fields[0], int(fields[1]), int(fields[2])
            if chrom not in fasta.keys():
                raise ValueError(
                    f"{where} line {number}: chromosome {chrom!r} is not in {os.fspath(genome)}."
                )
            if length:
                start = (start + end) // 2 - length // 2
                end = start + length
            size = len(fasta[chrom])
            if start < 0 or end > size:
                raise ValueError(
                    f"{where} line {number}: {chrom}:{start}-{end} lies outside {chrom} (length {size})."
                )
            sequence = fasta[chrom][start:end]
            if len(fields) >= 6 and fields[5] == "-":
                sequence = reverse_complement(sequence)
            sequences.append(sequence)
            names.append(fields[3] if len(fields) >= 4 else f"{chrom}:{start}-{end}")
    finally:
        fasta.close()
    if not sequences:
        raise ValueError(f"{where} holds no intervals.")
    if labels is None:
        return Examples(sequences, np.ones((len(sequences), 1)), ["bound"], names=names)
    label_names, table = read_label_table(labels)
    missing = [name for name in names if name not in table]
    if missing:
        raise ValueError(
            f"{os.fspath(labels)} has no labels for the intervals {missing[:3]} of {where}."
        )
    return Examples(sequences, [table[n] for n in names], label_names, names=names)


def write_fasta(path, examples):
    """Writes `examples` as FASTA with the labels in the headers (``>name 0,1``),
    which `load_fasta` reads back."""
    with open(path, "w", encoding="utf-8") as handle:
        for name, sequence, label in zip(
            examples.names, examples.sequences, examples.labels
        ):
            handle.write(f">{name} {','.join(str(int(v)) for v in label)}\n")
            for start in range(0, len(sequence), 60):
                handle.write(sequence[start : start + 60] + "\n")
