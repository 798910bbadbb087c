"""dna data: motifs read from the JASPAR database in the pyjaspar wheel, the
dinucleotide-preserving shuffle (exact counts, uniform over the sequences
it may return), the seeded generators and what their splits hold out, and
the FASTA / BED loaders on small files in the real formats."""

import collections
import itertools
import sqlite3

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from applications.dna.data import (
    FACTORS,
    FAR_GAP,
    GRAMMAR,
    NEAR_GAP,
    Examples,
    decode,
    dinucleotide_counts,
    dinucleotide_shuffle,
    encode,
    factor_motifs,
    generate,
    jaspar_collection,
    jaspar_motif,
    load_bed,
    load_fasta,
    make_dataset,
    one_hot,
    read_fasta,
    reverse_complement,
    with_shuffled_negatives,
    write_fasta,
)

DNA = st.text(alphabet="ACGT", min_size=0, max_size=300)


# -- JASPAR ------------------------------------------------------------------------------


def test_motifs_are_the_matrices_of_the_wheel_s_database():
    from pyjaspar import jaspar_releases
    from pyjaspar.utils import get_jaspardb_path

    connection = sqlite3.connect(get_jaspardb_path(jaspar_releases["JASPAR2024"]))
    for name, matrix_id in FACTORS.items():
        base, version = matrix_id.split(".")
        (key,) = connection.execute(
            "SELECT ID FROM MATRIX WHERE BASE_ID = ? AND VERSION = ?", (base, int(version))
        ).fetchone()
        rows = connection.execute("SELECT row, col, val FROM MATRIX_DATA WHERE ID = ?", (key,)).fetchall()
        expected = np.zeros((4, max(col for _, col, _ in rows)))
        for row, col, value in rows:
            expected[np.searchsorted(["A", "C", "G", "T"], row), col - 1] = value
        motif = jaspar_motif(matrix_id)
        assert motif.name == name
        np.testing.assert_array_equal(motif.counts, expected)
    assert {m.matrix_id for m in jaspar_collection()} >= set(FACTORS.values())
    probabilities = factor_motifs()[0].probabilities()
    np.testing.assert_allclose(probabilities.sum(axis=0), 1.0)


def test_an_unknown_matrix_or_factor_is_named():
    with pytest.raises(ValueError, match="'MA9999.9' is not in JASPAR2024"):
        jaspar_motif("MA9999.9")
    with pytest.raises(ValueError, match="must be factors of"):
        factor_motifs(["NOPE"])


# -- the dinucleotide-preserving shuffle ------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(DNA, st.integers(0, 2**32 - 1))
def test_shuffle_preserves_dinucleotide_counts_exactly(sequence, seed):
    shuffled = dinucleotide_shuffle(sequence, seed)
    assert dinucleotide_counts(shuffled) == dinucleotide_counts(sequence)
    assert collections.Counter(shuffled) == collections.Counter(sequence)
    assert shuffled[:1] == sequence[:1] and shuffled[-1:] == sequence[-1:]
    assert dinucleotide_shuffle(sequence, seed) == shuffled  # seeded


def test_shuffle_draws_uniformly_among_the_sequences_with_those_counts():
    from scipy.stats import chisquare

    sequence = "ACAGTACGAT"
    target = dinucleotide_counts(sequence)
    # Brute force: every arrangement of the letters with the same first letter and dinucleotides.
    valid = {
        "".join(p)
        for p in itertools.permutations(sequence)
        if p[0] == sequence[0] and dinucleotide_counts("".join(p)) == target
    }
    assert len(valid) > 5
    rng = np.random.default_rng(0)
    draws = collections.Counter(dinucleotide_shuffle(sequence, rng) for _ in range(6000))
    assert set(draws) == valid
    assert chisquare([draws[s] for s in sorted(valid)]).pvalue > 1e-3


def test_shuffle_changes_a_long_sequence_and_keeps_short_ones():
    sequence = decode(np.random.default_rng(1).integers(0, 4, 200))
    assert dinucleotide_shuffle(sequence, 0) != sequence
    assert dinucleotide_shuffle("AC", 0) == "AC" and dinucleotide_shuffle("", 0) == ""


# -- encoding ---------------------------------------------------------------------------


@given(DNA.filter(bool))
def test_one_hot_of_the_reverse_complement_is_the_flipped_one_hot(sequence):
    from applications.dna.app import reverse_complement_one_hot

    x = one_hot([sequence])
    np.testing.assert_array_equal(one_hot([reverse_complement(sequence)]), np.asarray(reverse_complement_one_hot(x)))
    assert decode(np.argmax(x[0], axis=1)) == sequence


def test_bad_letters_are_refused():
    with pytest.raises(ValueError, match=r"only A, C, G, T and N; found \['X'\]"):
        encode("ACXG")
    with pytest.raises(ValueError, match="a list of DNA strings"):
        one_hot("ACGT")


# -- the generators -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def multilabel():
    return make_dataset("multilabel", 600, 300, length=160, seed=4)


@pytest.fixture(scope="module")
def grammar():
    return make_dataset("grammar", 800, 300, length=150, seed=4)


def _site(sequence, start, width, strand):
    site = sequence[start : start + width]
    return site if strand == "+" else reverse_complement(site)


def _log_odds(motif, site):
    p = motif.probabilities()
    return float(sum(np.log2(p["ACGT".index(b), i] / 0.25) for i, b in enumerate(site)))


@pytest.mark.parametrize("task", ["multilabel", "grammar"])
def test_generators_are_deterministic(task):
    a, b = generate(task, 40, 150, seed=7), generate(task, 40, 150, seed=7)
    assert a.sequences == b.sequences and a.sites == b.sites and a.kinds == b.kinds
    np.testing.assert_array_equal(a.labels, b.labels)
    assert generate(task, 40, 150, seed=8).sequences != a.sequences


def test_the_test_split_holds_no_training_sequence_nor_its_reverse_complement(multilabel, grammar):
    for data in (multilabel, grammar):
        seen = set(data.train.sequences) | {reverse_complement(s) for s in data.train.sequences}
        assert not seen & set(data.test.sequences)
        assert len(set(data.test.sequences)) == len(data.test)
    excluded = generate("grammar", 30, 150, seed=2).sequences[:10]
    assert not set(excluded) & set(generate("grammar", 30, 150, seed=2, exclude=excluded).sequences)


def test_multilabel_labels_are_the_planted_sites(multilabel):
    motifs = {m.name: m for m in factor_motifs()}
    planted = collections.defaultdict(list)
    for examples in (multilabel.train, multilabel.test):
        assert examples.label_names == list(FACTORS)
        for sequence, label, sites, kind in zip(examples.sequences, examples.labels, examples.sites, examples.kinds):
            assert {name for name, _, _ in sites} == {n for n, v in zip(FACTORS, label) if v}
            assert (kind == "bound") == bool(label.any()) == bool(sites)
            spans = sorted((start, start + motifs[name].width) for name, start, _ in sites)
            assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))  # no overlap
            for name, start, strand in sites:
                planted[name].append(_site(sequence, start, motifs[name].width, strand))
        # Each bound sequence is followed by its dinucleotide shuffle.
        for i in range(0, len(examples) - 1, 2):
            assert examples.kinds[i : i + 2] == ["bound", "shuffled"]
            assert dinucleotide_counts(examples.sequences[i]) == dinucleotide_counts(examples.sequences[i + 1])
    # The sites read back at their positions and strands are draws from the motifs' columns.
    for name, sites in planted.items():
        assert len(sites) > 80
        frequencies = one_hot(sites).mean(axis=0).T  # [4, width]
        assert np.abs(frequencies - motifs[name].probabilities()).max() < 0.12, name
        assert np.mean([_log_odds(motifs[name], site) for site in sites]) > 10
    share = multilabel.train.labels.mean(axis=0)
    assert np.all((share > 0.12) & (share < 0.35))


def test_grammar_labels_follow_order_and_spacing(grammar):
    first, second = factor_motifs(GRAMMAR)
    widths = {first.name: first.width, second.name: second.width}
    for examples in (grammar.train, grammar.test):
        for label, sites, kind in zip(examples.labels, examples.sites, examples.kinds):
            assert label[0] == (kind == "positive")
            if kind == "shuffled":
                assert not sites
                continue
            (a, a_start, a_strand), (b, b_start, b_strand) = sites
            assert a_strand == b_strand and {a, b} == set(GRAMMAR)
            # Read along the pair's strand: which motif comes first, and the gap.
            ordered = sorted(sites, key=lambda s: s[1], reverse=a_strand == "-")
            upstream, downstream = ordered[0][0], ordered[1][0]
            left, right = sorted(sites, key=lambda s: s[1])
            gap = right[1] - (left[1] + widths[left[0]])
            near = NEAR_GAP[0] <= gap <= NEAR_GAP[1]
            if kind == "positive":
                assert (upstream, downstream) == GRAMMAR and near
            elif kind == "wrong_order":
                assert (upstream, downstream) == GRAMMAR[::-1] and near
            else:
                assert kind == "too_far" and (upstream, downstream) == GRAMMAR
                assert FAR_GAP[0] <= gap <= FAR_GAP[1]
    kinds = collections.Counter(grammar.train.kinds)
    assert set(kinds) == {"positive", "wrong_order", "too_far", "shuffled"}
    # Motif content says nothing: positives and order/spacing negatives hold the same two sites.
    strands = collections.Counter((k, s[0][2]) for k, s in zip(grammar.train.kinds, grammar.train.sites) if s)
    assert 0.4 < strands[("positive", "+")] / (strands[("positive", "+")] + strands[("positive", "-")]) < 0.6


def test_background_gc_content_varies():
    examples = generate("multilabel", 200, 300, seed=0)
    gc = [(s.count("G") + s.count("C")) / len(s) for s in examples.sequences]
    assert min(gc) < 0.42 and max(gc) > 0.58


def test_generation_checks_its_arguments():
    with pytest.raises(ValueError, match="`task` must be one of"):
        generate("chipseq", 4)
    with pytest.raises(ValueError, match="at least .* for the grammar task"):
        generate("grammar", 20, length=40)


# -- files ------------------------------------------------------------------------------------


def test_fasta_with_labels_in_the_headers_round_trips(tmp_path, multilabel):
    examples = multilabel.test.subset(range(12))
    path = tmp_path / "seqs.fa"
    write_fasta(path, examples)
    text = path.read_text()
    assert text.startswith(">seq0 ") and max(len(line) for line in text.splitlines()) <= 60
    loaded = load_fasta(path)
    assert loaded.sequences == examples.sequences and loaded.names == examples.names
    np.testing.assert_array_equal(loaded.labels, examples.labels)


def test_fasta_with_a_side_file_of_labels(tmp_path):
    (tmp_path / "a.fa").write_text(">r1 some description\nACGTAC\nGGTT\n>r2\nttagc\n\n;comment\n>r3\nNNACG\n")
    (tmp_path / "labels.tsv").write_text("id\tCTCF\tSRF\nr2\t1\t0\nr1\t0\t1\nr3\t0\t0\n")
    loaded = load_fasta(tmp_path / "a.fa", labels=tmp_path / "labels.tsv")
    assert loaded.sequences == ["ACGTACGGTT", "TTAGC", "NNACG"] and loaded.label_names == ["CTCF", "SRF"]
    np.testing.assert_array_equal(loaded.labels, [[0, 1], [1, 0], [0, 0]])
    (tmp_path / "single.fa").write_text(">x label=1\nACGT\n>y 0\nTTTT\n")
    assert load_fasta(tmp_path / "single.fa").labels.ravel().tolist() == [1.0, 0.0]


def test_malformed_fasta_is_reported_with_file_and_line(tmp_path):
    cases = {
        "before.fa": ("ACGT\n>x 1\nACGT\n", "line 1: sequence before the first '>' header"),
        "letters.fa": (">x 1\nACGT\nACZT\n", r"line 3: a sequence may hold only A, C, G, T and N; found \['Z'\]"),
        "empty.fa": (">x 1\n>y 0\nAC\n", "line 2: the record 'x 1' has no sequence"),
        "nolabel.fa": (">x\nACGT\n", "holds no labels"),
        "widths.fa": (">x 1\nACGT\n>y 0,1\nACGT\n", "same number of labels"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=message):
            load_fasta(tmp_path / name)
    (tmp_path / "ok.fa").write_text(">x\nACGT\n")
    (tmp_path / "l.tsv").write_text("y\t1\n")
    with pytest.raises(ValueError, match=r"has no labels for \['x'\]"):
        load_fasta(tmp_path / "ok.fa", labels=tmp_path / "l.tsv")
    assert read_fasta(tmp_path / "ok.fa") == [("x", "ACGT")]


@pytest.fixture()
def genome(tmp_path):
    rng = np.random.default_rng(5)
    chromosomes = {"chr1": decode(rng.integers(0, 4, 1000)), "chr2": decode(rng.integers(0, 4, 333))}
    path = tmp_path / "genome.fa"
    with open(path, "w") as handle:
        for name, sequence in chromosomes.items():
            handle.write(f">{name} assembled\n")
            handle.writelines(sequence[i : i + 70].lower() + "\n" for i in range(0, len(sequence), 70))
    return path, chromosomes


def test_bed_intervals_are_read_from_the_genome_with_pyfaidx(tmp_path, genome):
    path, chromosomes = genome
    bed = tmp_path / "peaks.bed"
    bed.write_text(
        "track name=peaks\n"
        "chr1\t10\t60\tpeak1\t500\t+\n"
        "chr2\t0\t333\tpeak2\t0\t-\n"
        "chr1\t990\t1000\n"
    )
    loaded = load_bed(bed, path)
    assert loaded.sequences == [
        chromosomes["chr1"][10:60],
        reverse_complement(chromosomes["chr2"]),
        chromosomes["chr1"][990:1000],
    ]
    assert loaded.names == ["peak1", "peak2", "chr1:990-1000"] and loaded.label_names == ["bound"]
    inner = tmp_path / "inner.bed"
    inner.write_text("chr1\t10\t60\tpeak1\nchr2\t100\t200\tpeak2\t0\t-\n")
    centred = load_bed(inner, path, length=20)
    assert centred.sequences == [chromosomes["chr1"][25:45], reverse_complement(chromosomes["chr2"][140:160])]
    with pytest.raises(ValueError, match=r"line 4: chr1:985-1005 lies outside chr1"):
        load_bed(bed, path, length=20)
    both = with_shuffled_negatives(loaded.subset([0, 1]), seed=0)
    assert both.labels.ravel().tolist() == [1, 1, 0, 0] and both.kinds[2:] == ["shuffled"] * 2
    assert dinucleotide_counts(both.sequences[2]) == dinucleotide_counts(both.sequences[0])


def test_bed_labels_from_a_side_file_and_errors(tmp_path, genome):
    path, chromosomes = genome
    (tmp_path / "a.bed").write_text("chr1 100 120 p1\nchr2 5 25 p2\n")
    (tmp_path / "labels.tsv").write_text("p1,1,0\np2,0,1\n")
    loaded = load_bed(tmp_path / "a.bed", path, labels=tmp_path / "labels.tsv")
    assert loaded.label_names == ["label0", "label1"]
    np.testing.assert_array_equal(loaded.labels, [[1, 0], [0, 1]])
    assert loaded.sequences[1] == chromosomes["chr2"][5:25]
    for text, message in [
        ("chr1\t5\n", "line 1: expected 'chrom<TAB>start<TAB>end'"),
        ("chr1\t50\t40\n", "with start < end"),
        ("chrX\t1\t5\n", "chromosome 'chrX' is not in"),
        ("chr2\t300\t400\n", r"chr2:300-400 lies outside chr2 \(length 333\)"),
    ]:
        (tmp_path / "bad.bed").write_text(text)
        with pytest.raises(ValueError, match=message):
            load_bed(tmp_path / "bad.bed", path)


def test_examples_subset_keeps_everything_aligned():
    examples = Examples(["AAAA", "CCCC", "GGGG"], [[1], [0], [1]], ["bound"], kinds=["a", "b", "c"])
    part = examples.subset([2, 0])
    assert part.sequences == ["GGGG", "AAAA"] and part.kinds == ["c", "a"] and part.names == ["seq2", "seq0"]
    assert part.labels.ravel().tolist() == [1, 1]
