"""The dna application: AUROC/AUPRC against scikit-learn, the model's
reverse-complement options, saliency and in-silico mutagenesis against
brute force, filters -> PWMs -> TOMTOM, logos in PNG and TensorBoard, the
fast size on both tasks (the BiLSTM reads the motif grammar, the CNN
baseline cannot; composition cannot give the multi-label task away), the
FASTA and BED loaders end to end, and the command line after a reload."""

import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score

from applications.dna import app
from applications.dna.__main__ import main
from applications.dna.data import (
    ALPHABET,
    FACTORS,
    decode,
    dinucleotide_counts,
    factor_motifs,
    jaspar_collection,
    make_dataset,
    one_hot,
    reverse_complement,
    sample_sites,
    write_fasta,
)
from applications.dna.interpret import (
    filter_pfms,
    gradient_times_input,
    information_content,
    log_images,
    logo_png,
    mutagenesis,
    mutagenesis_contributions,
    tomtom,
    trim,
)
from applications.dna.scoring import auprc, auroc, per_label

# -- metrics: equal to scikit-learn -----------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(0, 6)), min_size=2, max_size=60),
    st.booleans(),
)
def test_auroc_and_auprc_equal_scikit_learn(pairs, continuous):
    labels = np.array([label for label, _ in pairs])
    scores = np.array([score for _, score in pairs], "float64")  # few values: many ties
    if continuous:
        scores = scores + np.random.default_rng(len(pairs)).normal(0, 1e-3, len(scores))
    if labels.min() == labels.max():
        assert np.isnan(auroc(labels, scores))
        assert np.isnan(auprc(labels, scores)) == (labels.max() == 0)
        return
    assert auroc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert auprc(labels, scores) == pytest.approx(average_precision_score(labels, scores), abs=1e-12)


def test_per_label_scores_and_means_equal_scikit_learn():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, (300, 3))
    scores = labels * rng.uniform(0, 1, (300, 3)) + rng.uniform(0, 0.8, (300, 3))
    result = per_label(labels, scores, ["a", "b", "c"])
    for k, name in enumerate("abc"):
        assert result[name]["auroc"] == pytest.approx(roc_auc_score(labels[:, k], scores[:, k]), abs=1e-12)
        assert result[name]["auprc"] == pytest.approx(average_precision_score(labels[:, k], scores[:, k]), abs=1e-12)
        assert result[name]["positives"] == labels[:, k].sum()
    assert result["mean"]["auroc"] == pytest.approx(roc_auc_score(labels, scores, average="macro"), abs=1e-12)
    assert result["mean"]["auprc"] == pytest.approx(average_precision_score(labels, scores, average="macro"), abs=1e-12)
    with pytest.raises(ValueError, match=r"must both be \[N, 2\]"):
        per_label(labels, scores, ["a", "b"])
    with pytest.raises(ValueError, match="`labels` must be 0 or 1"):
        auroc([0, 2], [0.1, 0.2])


# -- the model ------------------------------------------------------------------------------


def _tiny(architecture="danq", reverse_complement="none", **options):
    options = dict(filters=6, kernel_size=5, units=4, hidden_units=4, dropout=0.0, seed=1) | options
    model = app.RegulatoryNet(["a", "b"], architecture, reverse_complement=reverse_complement, **options)
    model(one_hot(["ACGTACGTAC"]))
    return model


def _random_dna(count, length, seed=0):
    rng = np.random.default_rng(seed)
    return [decode(rng.integers(0, 4, length)) for _ in range(count)]


@pytest.mark.parametrize("architecture", ["danq", "cnn", "transformer"])
def test_averaging_strands_makes_predictions_reverse_complement_invariant(architecture):
    sequences = _random_dna(4, 40)
    rc = [reverse_complement(s) for s in sequences]
    average = _tiny(architecture, "average", num_heads=2)
    np.testing.assert_allclose(average.probabilities(sequences), average.probabilities(rc), atol=1e-6)
    plain = _tiny(architecture, "none", num_heads=2)
    assert np.abs(plain.probabilities(sequences) - plain.probabilities(rc)).max() > 1e-4


def test_augmentation_feeds_each_training_sequence_on_one_of_its_strands():
    model = _tiny("danq", "augment")
    x = one_hot(_random_dna(64, 30))
    forward = keras.ops.convert_to_numpy(model(x))
    flipped = keras.ops.convert_to_numpy(model(app.reverse_complement_one_hot(x)))
    trained = keras.ops.convert_to_numpy(model(x, training=True))  # dropout 0: only the strand changes
    as_is = np.all(np.isclose(trained, forward, atol=1e-6), axis=1)
    as_rc = np.all(np.isclose(trained, flipped, atol=1e-6), axis=1)
    assert np.all(as_is | as_rc) and 10 < as_rc.sum() < 54  # about half flipped
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), forward)  # inference: as given


def test_model_config_round_trip_save_and_bad_arguments(tmp_path):
    model = _tiny("danq", "augment", sequence_length=30)
    again = app.RegulatoryNet.from_config(model.get_config())
    assert again.get_config() == model.get_config()
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = app.load(path)
    sequences = _random_dna(3, 30)
    np.testing.assert_allclose(loaded.probabilities(sequences), model.probabilities(sequences), atol=1e-6)
    assert loaded.sequence_length == 30 and loaded.label_names == ["a", "b"]
    with pytest.raises(ValueError, match=r"`architecture` must be one of .*`filters` must be a positive integer"):
        app.RegulatoryNet(["a"], "rnn", filters=0)
    with pytest.raises(ValueError, match="`reverse_complement` must be one of"):
        app.RegulatoryNet(["a"], reverse_complement="both")
    with pytest.raises(ValueError, match="`sequence_length` must be None or an integer >= `kernel_size`"):
        app.RegulatoryNet(["a"], kernel_size=9, sequence_length=5)
    with pytest.raises(ValueError, match="at least 5 bases"):
        model.probabilities(["ACG"])


def test_model_trains_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = app.build_model(["a"], size="fast", seed=0)
        x = one_hot(_random_dna(32, 40))
        history = model.fit(x, np.zeros((32, 1)), epochs=1, batch_size=16, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        assert model.probabilities(_random_dna(2, 40)).dtype == np.float32
    finally:
        keras.mixed_precision.set_global_policy("float32")


# -- interpretation against brute force ---------------------------------------------------------


def _logit(model, sequence, output):
    return float(keras.ops.convert_to_numpy(model(one_hot([sequence])))[0, output])


def test_in_silico_mutagenesis_is_every_single_base_substitution():
    model = _tiny("danq")
    sequence = _random_dna(1, 24, seed=3)[0]
    changes = mutagenesis(model, sequence, output=1)
    reference = _logit(model, sequence, 1)
    for i in range(len(sequence)):
        for b, base in enumerate(ALPHABET):
            mutant = sequence[:i] + base + sequence[i + 1 :]
            assert changes[i, b] == pytest.approx(_logit(model, mutant, 1) - reference, abs=1e-5)
    assert np.all(changes[one_hot([sequence])[0] == 1] == 0)
    masked = "N" + sequence[1:]  # an unknown base: every base there is a substitution
    changes_n = mutagenesis(model, masked, output=1)
    for b, base in enumerate(ALPHABET):
        expected = _logit(model, base + sequence[1:], 1) - _logit(model, masked, 1)
        assert changes_n[0, b] == pytest.approx(expected, abs=1e-5)
    contributions = mutagenesis_contributions(model, sequence, output=1)
    np.testing.assert_allclose(contributions.sum(axis=1), -changes.sum(axis=1) / 3, atol=1e-6)


def test_gradient_times_input_equals_finite_differences():
    model = _tiny("cnn")
    sequence = _random_dna(1, 20, seed=4)[0]
    saliency = gradient_times_input(model, [sequence], output=0)[0]
    x = one_hot([sequence]).astype("float64")
    eps = 1e-3
    for i in range(len(sequence)):
        b = ALPHABET.index(sequence[i])
        up, down = x.copy(), x.copy()
        up[0, i, b] += eps
        down[0, i, b] -= eps
        logits = keras.ops.convert_to_numpy(model(np.concatenate([up, down]).astype("float32")))[:, 0]
        assert saliency[i, b] == pytest.approx((logits[0] - logits[1]) / (2 * eps), abs=2e-3)
    assert np.all(saliency[x[0] == 0] == 0)  # only the bases present


def test_filter_pfms_stack_the_windows_that_activate_each_filter():
    model = _tiny("cnn", filters=3, kernel_size=4)
    sequences = _random_dna(12, 25, seed=5)
    counts, sites = filter_pfms(model, sequences, threshold=0.5)
    kernel = keras.ops.convert_to_numpy(model.motif_conv.kernel)  # [width, 4, filters]
    bias = keras.ops.convert_to_numpy(model.motif_conv.bias)
    x = one_hot(sequences)
    windows = [(n, p, x[n, p : p + 4]) for n in range(len(x)) for p in range(25 - 4 + 1)]
    for f in range(3):
        activation = [max(0.0, float((w * kernel[..., f]).sum() + bias[f])) for _, _, w in windows]
        peak = max(activation)
        chosen = [w for (_, _, w), a in zip(windows, activation) if peak > 0 and a > 0.5 * peak]
        assert sites[f] == len(chosen)
        expected = np.sum(chosen, axis=0).T if chosen else np.zeros((4, 4))
        np.testing.assert_allclose(counts[f], expected, atol=1e-6)


def test_trim_cuts_uninformative_flanks():
    flat, sharp = np.full(4, 0.25), np.array([0.97, 0.01, 0.01, 0.01])
    matrix = np.stack([flat, sharp, sharp[::-1], flat], axis=1)
    np.testing.assert_array_equal(trim(matrix), matrix[:, 1:3])
    assert trim(np.full((4, 3), 0.25)) is None
    np.testing.assert_allclose(information_content(matrix)[[0, 3]], 0, atol=1e-9)


def test_tomtom_finds_a_jaspar_matrix_and_its_sampled_sites():
    targets = jaspar_collection()
    probabilities = [t.probabilities() for t in targets]
    index = {t.matrix_id: i for i, t in enumerate(targets)}
    motifs = factor_motifs()
    rng = np.random.default_rng(0)
    # A PWM of 300 sites sampled from each factor, and the reverse complement of one.
    queries = [one_hot([decode(s) for s in sample_sites(m, 300, rng)]).sum(axis=0).T + 0.25 for m in motifs]
    queries = [q / q.sum(axis=0) for q in queries]
    queries.append(queries[0][::-1, ::-1])
    p_values, q_values, strands = tomtom(queries, probabilities)
    assert p_values.shape == q_values.shape == (6, len(targets))
    for row, motif in enumerate(motifs + motifs[:1]):
        column = index[motif.matrix_id]
        assert q_values[row, column] < 1e-3
        assert column in np.argsort(p_values[row])[:5]  # among the best few (families share motifs)
    assert strands[5, index[motifs[0].matrix_id]] != strands[0, index[motifs[0].matrix_id]]
    # q-values: Benjamini-Hochberg over each query's targets, computed here by hand.
    p = np.clip(p_values[0], 0, 1)
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    expected = np.empty_like(p)
    expected[order] = np.minimum(1, np.minimum.accumulate(ranked[::-1])[::-1])
    np.testing.assert_allclose(q_values[0], expected, rtol=1e-10)


def read_images(folder):
    images = {}
    for path in glob.glob(os.path.join(folder, "events.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                images[value.tag] = tf.make_ndarray(value.tensor)
    return images


def test_logos_are_png_files_and_tensorboard_images(tmp_path):
    motif = factor_motifs(["CTCF"])[0]
    png = logo_png([motif.probabilities(), motif.probabilities()[::-1, ::-1]], "CTCF", ["+", "-"])
    assert png.startswith(b"\x89PNG")
    decoded = tf.io.decode_png(png).numpy()
    assert decoded.shape[0] > 100 and decoded.std() > 0
    log_images(str(tmp_path), [("CTCF_logo", png)])
    images = read_images(str(tmp_path))
    assert set(images) == {"CTCF_logo"}
    np.testing.assert_array_equal(tf.io.decode_png(images["CTCF_logo"][2]).numpy()[..., :3], decoded[..., :3])


# -- the fast size on both tasks ----------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("dna")
    results = {}
    for task in ("grammar", "multilabel"):
        results[task] = app.train(
            "fast", task=task, eval_examples=1000, log_dir=str(root / f"runs_{task}"),
            output=str(root / f"{task}.keras"), verbose=0,
        )  # fmt: skip
    return root, results


@pytest.mark.long
def test_the_bilstm_reads_the_grammar_and_the_cnn_baseline_cannot(trained):
    _, results = trained
    result = results["grammar"]
    danq, cnn = result["scores"]["mean"]["auroc"], result["baseline"]["mean"]["auroc"]
    assert danq >= 0.95, (danq, cnn)
    assert cnn <= 0.8 and danq - cnn >= 0.2, (danq, cnn)
    assert result["architecture"] == "danq" and "motifs" not in result


@pytest.mark.long
def test_multilabel_fast_beats_composition_and_recovers_the_motifs(trained):
    root, results = trained
    result = results["multilabel"]
    assert result["scores"]["mean"]["auroc"] >= 0.95, app.describe(result)
    assert min(result["scores"][name]["auroc"] for name in FACTORS) >= 0.9
    # The stated baseline: dinucleotide composition (logistic regression, scikit-learn).
    # Whether anything binds it cannot tell at all (every unbound sequence is a shuffle
    # of a bound one); which factor binds it tells only a little (the sites' own GC).
    data = make_dataset("multilabel", 4000, 1000, length=150, seed=0)

    def composition(examples):
        pairs = [a + b for a in ALPHABET for b in ALPHABET]
        return np.array([[dinucleotide_counts(s).get(p, 0) for p in pairs] for s in examples.sequences]) / 149

    def composition_auroc(train_labels, test_labels):
        classifier = LogisticRegression(max_iter=2000).fit(composition(data.train), train_labels)
        return roc_auc_score(test_labels, classifier.predict_proba(composition(data.test))[:, 1])

    bound = composition_auroc(data.train.labels.max(axis=1), data.test.labels.max(axis=1))
    assert bound == pytest.approx(0.5, abs=0.02)  # each unbound sequence has its bound twin's features
    per_factor = [composition_auroc(data.train.labels[:, k], data.test.labels[:, k]) for k in range(len(FACTORS))]
    assert np.mean(per_factor) < 0.75, per_factor
    assert result["scores"]["mean"]["auroc"] > np.mean(per_factor) + 0.2
    # The training's held-out scores are scikit-learn's on its probabilities.
    for k, name in enumerate(FACTORS):
        assert result["scores"][name]["auroc"] == pytest.approx(
            roc_auc_score(data.test.labels[:, k], result["probabilities"][:, k]), abs=1e-12
        )
    # TOMTOM recovers the planted factors from the first-layer filters (target: 4 of 5).
    planted = result["motifs"]["planted"]
    assert set(planted) == set(FACTORS.values())
    assert sum(hit["recovered"] for hit in planted.values()) >= 4, planted
    assert all(hit["q"] < 0.05 for hit in planted.values() if hit["recovered"])
    logos = result["motifs"]["logos"]
    assert len(logos) == 5 and all(open(path, "rb").read(4) == b"\x89PNG" for path in logos)
    assert os.path.dirname(logos[0]) == str(root / "runs_multilabel" / "logos")
    images = read_images(str(root / "runs_multilabel" / "motifs"))
    assert {f"{name}_{matrix_id}" for name, matrix_id in FACTORS.items()} == set(images)
    assert "recovers" in app.describe(result)


@pytest.mark.long
def test_predict_and_evaluate_after_reload(trained, tmp_path, capsys):
    root, results = trained
    path = str(root / "grammar.keras")
    model = results["grammar"]["model"]
    sequences = make_dataset("grammar", 0, 6, length=150, seed=9).test.sequences
    expected = model.probabilities(sequences)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(reloaded, app.RegulatoryNet) and reloaded.sequence_length == 150
    np.testing.assert_allclose(reloaded.probabilities(sequences), expected, atol=1e-5)
    lines = app.predict(path, sequences[:2])
    assert [line.split("\t")[0] for line in lines] == ["input0", "input1"]
    assert [float(line.split("=")[-1]) for line in lines] == pytest.approx(expected[:2, 0], abs=1e-4)
    fasta = tmp_path / "query.fa"
    fasta.write_text(f">first\n{sequences[2][:70]}\n{sequences[2][70:]}\n>second\n{sequences[3]}\n")
    assert main(["predict", str(fasta), sequences[4], "--model", path]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in printed] == ["first", "second", "input1"]
    assert [float(line.split("=")[-1]) for line in printed] == pytest.approx(expected[2:5, 0], abs=1e-4)
    # evaluate: generated sequences of the model's task and length, scored as scikit-learn does.
    scores = app.evaluate(path, examples=400, seed=3)
    test = make_dataset("grammar", 0, 400, length=150, seed=3).test
    assert scores["eval_examples"] == 400
    assert scores["scores"]["mean"]["auroc"] == pytest.approx(
        roc_auc_score(test.labels[:, 0], reloaded.probabilities(test.sequences)[:, 0]), abs=1e-6
    )
    assert main(["evaluate", "--model", path, "--examples", "300"]) == 0
    assert "300 examples: danq: mean AUROC" in capsys.readouterr().out
    with pytest.raises(ValueError, match="the data have 5 labels"):
        app.evaluate(path, examples=20, task="multilabel")


@pytest.mark.long
def test_explain_and_motifs_commands(trained, tmp_path, capsys):
    root, results = trained
    path = str(root / "grammar.keras")
    test = make_dataset("grammar", 0, 40, length=150, seed=5).test
    positive = next(s for s, kind in zip(test.sequences, test.kinds) if kind == "positive")
    sites = next(site for site, kind in zip(test.sites, test.kinds) if kind == "positive")
    png = tmp_path / "saliency.png"
    for method in ("saliency", "mutagenesis"):
        assert main(["explain", positive, "--model", path, "--output", str(png), "--method", method]) == 0
        out = capsys.readouterr().out
        assert png.read_bytes()[:4] == b"\x89PNG"
        assert out.startswith("SPI1>IRF4: probability")
        start, end = (int(v) for v in out.split("window: ")[1].split()[0].split("-"))
        # The most important window overlaps a planted site.
        assert any(start < at + 14 and at < end for _, at, _ in sites), (out, sites)
    logos = tmp_path / "logos"
    assert main(["motifs", "--model", path, "--examples", "300", "--logos", str(logos)]) == 0
    out = capsys.readouterr().out
    assert "filters with a PWM" in out and "planted" not in out  # the grammar model: no planted factor list
    multilabel = str(root / "multilabel.keras")
    assert main(["motifs", "--model", multilabel, "--examples", "600", "--logos", str(logos)]) == 0
    out = capsys.readouterr().out
    assert sum(line.startswith("planted ") and ": recovered" in line for line in out.splitlines()) >= 4, out
    assert len(glob.glob(str(logos / "*.png"))) >= 5


# -- real formats end to end ---------------------------------------------------------------------


@pytest.mark.long
def test_training_on_a_fasta_file_with_labels(tmp_path, capsys):
    data = make_dataset("multilabel", 1200, 0, length=120, seed=2)
    write_fasta(tmp_path / "train.fa", data.train)
    assert main([
        "train", "--data", str(tmp_path / "train.fa"), "--size", "fast", "--epochs", "2", "--no-baseline",
        "--no-motifs", "--eval-examples", "100", "--output", str(tmp_path / "f.keras"), "--logdir", str(tmp_path / "r"),
    ]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "held-out (100 examples): danq: mean AUROC" in out
    model = app.load(str(tmp_path / "f.keras"))
    assert model.label_names == ["label0", "label1", "label2", "label3", "label4"]
    scores = app.evaluate(str(tmp_path / "f.keras"), data=str(tmp_path / "train.fa"))
    assert scores["eval_examples"] == 1200


@pytest.mark.long
def test_training_on_bed_intervals_of_a_genome(tmp_path):
    rng = np.random.default_rng(0)
    motif = factor_motifs(["SRF"])[0]
    genome = decode(rng.integers(0, 4, 60_000))
    lines, sites = [], sample_sites(motif, 200, rng)
    for k, site in enumerate(sites):
        centre = 150 + 290 * k
        start = centre - motif.width // 2
        genome = genome[:start] + decode(site) + genome[start + motif.width :]
        lines.append(f"chr7\t{centre - 40}\t{centre + 40}\tpeak{k}\t0\t{'+-'[k % 2]}")
    with open(tmp_path / "genome.fa", "w") as handle:
        handle.write(">chr7\n" + "\n".join(genome[i : i + 80] for i in range(0, len(genome), 80)) + "\n")
    (tmp_path / "peaks.bed").write_text("\n".join(lines) + "\n")
    result = app.train(
        "fast", data=str(tmp_path / "peaks.bed"), genome=str(tmp_path / "genome.fa"), epochs=4, baseline=False,
        motifs=False, output=str(tmp_path / "bed.keras"), verbose=0,
    )  # fmt: skip
    # Every interval re-centred to the size's length, plus one shuffle of each as a negative; 10% held out.
    assert result["eval_examples"] == 40 and result["task"] is None
    assert 0 < result["scores"]["bound"]["positives"] < 40
    scores = app.evaluate(str(tmp_path / "bed.keras"), data=str(tmp_path / "peaks.bed"), genome=str(tmp_path / "genome.fa"))
    assert scores["eval_examples"] == 400 and scores["scores"]["bound"]["positives"] == 200
    assert scores["scores"]["bound"]["auroc"] > 0.8
    with pytest.raises(ValueError, match="is a BED file: give the genome FASTA with --genome"):
        app.evaluate(str(tmp_path / "bed.keras"), data=str(tmp_path / "peaks.bed"))
