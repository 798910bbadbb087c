"""Model, training, evaluation and prediction for `dna`.

`RegulatoryNet` reads one-hot DNA (``[B, L, 4]``, A/C/G/T) with a first
convolution whose filters are motif detectors (DeepBind, Alipanahi et al.
2015), then:

* ``"cnn"``: global max pooling over positions: *whether* each motif
  occurs (the bag-of-motifs baseline);
* ``"danq"``: max pooling, a BiLSTM over the pooled positions and a dense
  layer (DanQ, Quang & Xie 2016): *where* motifs occur relative to each
  other, which the grammar task needs;
* ``"transformer"``: max pooling, sinusoidal positions and
  `keras_seq.layers.TransformerEncoderBlock`s, then average pooling.

Reverse complements: ``"augment"`` feeds a random half of each training
batch reverse-complemented (a strand-blind task keeps its labels);
``"average"`` averages the logits of a sequence and its reverse complement,
so predictions are equal on both strands (reverse-complement invariant);
``"none"`` does neither.

Scored by AUROC and AUPRC per label (`applications.dna.scoring`, equal to
scikit-learn's). Interpretation (first-layer filters -> PWMs -> TOMTOM
against JASPAR, sequence logos, saliency) is in `applications.dna.interpret`.
"""

from __future__ import annotations

import os
import sys

import keras
import numpy as np
from keras import ops

from applications import contract
from applications.dna import ARCHITECTURES, SIZES, TASKS
from applications.dna.data import (
    FACTORS,
    load_bed,
    load_fasta,
    make_dataset,
    one_hot,
    read_fasta,
    with_shuffled_negatives,
)
from applications.dna.interpret import (
    gradient_times_input,
    motif_report,
    mutagenesis_contributions,
    saliency_logo_png,
    top_window,
)
from applications.dna.scoring import per_label

REVERSE_COMPLEMENT = ("augment", "average", "none")


def reverse_complement_one_hot(x):
    """The reverse complement of one-hot DNA ``[B, L, 4]`` (A, C, G, T): the
    positions reversed and the channels too (A<->T, C<->G)."""
    return ops.flip(ops.flip(x, axis=1), axis=2)


@contract.serializable
class RegulatoryNet(keras.Model):
    """A DeepBind/DanQ-style network over one-hot DNA with one logit per label.

    Args:
        label_names: the names of the outputs (factors, or the grammar rule).
        architecture: ``"danq"``, ``"cnn"`` or ``"transformer"``.
        filters, kernel_size: the first convolution (motif detectors).
        pool_size: max pooling before the BiLSTM/Transformer.
        units: BiLSTM units per direction.
        hidden_units: the dense layer before the output.
        num_layers, num_heads: the Transformer's blocks and heads.
        dropout: float in [0, 1).
        reverse_complement: ``"augment"``, ``"average"`` or ``"none"``.
        seed: seed of the reverse-complement augmentation.
        sequence_length: the length of the training sequences (what
            `evaluate` and `motifs` generate for a model of a generated task);
            the model reads sequences of any length.

    Call arguments:
        inputs: ``[B, L, 4]`` one-hot DNA (an all-zero row is an N or padding).

    Returns:
        logits ``[B, len(label_names)]``.

    Example:

    >>> import numpy as np
    >>> from applications.dna.app import RegulatoryNet
    >>> from applications.dna.data import one_hot
    >>> model = RegulatoryNet(["bound"], filters=4, kernel_size=5, units=4, hidden_units=4)
    >>> tuple(model(one_hot(["ACGTACGTACGTAAAT"])).shape)
    (1, 1)
    >>> model.probabilities(["ACGTACGTACGTAAAT", "TTTACGTACGTACGT"]).shape
    (2, 1)
    """

    def __init__(
        self, label_names, architecture="danq", filters=64, kernel_size=15, pool_size=4, units=32, hidden_units=64,
        num_layers=2, num_heads=4, dropout=0.2, reverse_complement="augment", seed=None,
        sequence_length=None, **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        errors = []
        label_names = (
            [label_names] if isinstance(label_names, str) else list(label_names)
        )
        if not label_names or not all(isinstance(n, str) and n for n in label_names):
            errors.append(
                f"`label_names` must be a non-empty list of names; received {label_names!r}."
            )
        if architecture not in ARCHITECTURES:
            errors.append(
                f"`architecture` must be one of {ARCHITECTURES}; received {architecture!r}."
            )
        if reverse_complement not in REVERSE_COMPLEMENT:
            errors.append(
                f"`reverse_complement` must be one of {REVERSE_COMPLEMENT}; received {reverse_complement!r}."
            )
        if sequence_length is not None and (isinstance(sequence_length, bool) or not isinstance(sequence_length, int)
                                            or sequence_length < kernel_size):
            errors.append(f"`sequence_length` must be None or an integer >= `kernel_size`; received {sequence_length!r}.")
        contract.check_arguments(
            errors,
            positive=dict(filters=filters, kernel_size=kernel_size, pool_size=pool_size, units=units,
                          hidden_units=hidden_units, num_layers=num_layers, num_heads=num_heads),
            rates=dict(dropout=dropout),
        )  # fmt: skip
        self.label_names, self.architecture = label_names, architecture
        self.filters, self.kernel_size, self.pool_size = filters, kernel_size, pool_size
        self.units, self.hidden_units, self.num_layers, self.num_heads = (
            units,
            hidden_units,
            num_layers,
            num_heads,
        )
        self.dropout, self.reverse_complement, self.seed = (
            dropout,
            reverse_complement,
            seed,
        )
        self.sequence_length = sequence_length
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.motif_conv = keras.layers.Conv1D(
            filters, kernel_size, activation="relu", name="motif_conv"
        )
        self.drop = keras.layers.Dropout(dropout, name="dropout")
        self.pool = keras.layers.MaxPooling1D(pool_size, padding="same", name="pool")
        self.body = []
        if architecture == "danq":
            self.body = [
                keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True), name="bilstm")
            ]
        elif architecture == "transformer":
            from keras_seq.layers import (
                SinusoidalPositionEncoding,
                TransformerEncoderBlock,
            )

            self.positions = SinusoidalPositionEncoding(name="positions")
            self.body = [
                TransformerEncoderBlock(
                    num_heads, 2 * filters, dropout=dropout, name=f"encoder_{i}"
                )
                for i in range(num_layers)
            ]
        self.hidden = keras.layers.Dense(hidden_units, activation="relu", name="hidden")
        self.head = keras.layers.Dense(len(label_names), name="logits")

    def build(self, inputs_shape=None):
        if self.built:
            return
        self.motif_conv.build((None, None, 4))
        width = self.filters
        if self.architecture != "cnn":
            width += 2 * self.units if self.architecture == "danq" else self.filters
        if self.architecture == "danq":
            self.body[0].build((None, None, self.filters))
        elif self.architecture == "transformer":
            for block in self.body:
                block.build((None, None, self.filters))
        self.hidden.build((None, width))
        self.head.build((None, self.hidden_units))
        self.built = True

    def _logits(self, x, training=False):
        x = self.motif_conv(x)
        motifs = ops.max(x, axis=1)  # which motifs occur: all the CNN sees
        if self.architecture == "cnn":
            x = motifs
        else:
            x = self.drop(self.pool(x), training=training)
            if self.architecture == "danq":
                x = ops.max(self.body[0](x, training=training), axis=1)
            else:
                x = x + ops.cast(self.positions(x), x.dtype)
                for block in self.body:
                    x = block(x, training=training)
                x = ops.mean(x, axis=1)
            # The motif shortcut: the detectors get their gradient straight from
            # the output, so they learn as fast as the CNN's (the sequence model
            # then only has to learn what order and spacing add).
            x = ops.concatenate([x, motifs], axis=-1)
        return self.head(
            self.drop(self.hidden(self.drop(x, training=training)), training=training)
        )

    def call(self, inputs, training=False):
        x = ops.convert_to_tensor(inputs, self.compute_dtype)
        if self.reverse_complement == "average":
            return (
                self._logits(x, training)
                + self._logits(reverse_complement_one_hot(x), training)
            ) / 2
        if training and self.reverse_complement == "augment":
            flip = (
                keras.random.uniform((ops.shape(x)[0], 1, 1), seed=self.seed_generator)
                < 0.5
            )
            x = ops.where(flip, reverse_complement_one_hot(x), x)
        return self._logits(x, training)

    def motif_activations(self, x):
        """The first layer's activations ``[B, L - kernel_size + 1, filters]``."""
        return self.motif_conv(ops.convert_to_tensor(x, self.compute_dtype))

    def probabilities(self, sequences, batch_size=256):
        """Sigmoid probabilities ``[N, len(label_names)]`` of DNA strings."""
        if isinstance(sequences, str):
            raise ValueError(
                f"`sequences` must be a list of DNA strings; received the string {sequences[:40]!r}."
            )
        sequences = list(sequences)
        if any(len(s) < self.kernel_size for s in sequences):
            short = min(sequences, key=len)
            raise ValueError(f"every sequence must be at least {self.kernel_size} bases (the motif width); "
                             f"received one of {len(short)}: {short!r}.")  # fmt: skip
        out = []
        for start in range(0, len(sequences), batch_size):
            logits = self(one_hot(sequences[start : start + batch_size]))
            out.append(ops.convert_to_numpy(ops.sigmoid(ops.cast(logits, "float32"))))
        return (
            np.concatenate(out)
            if out
            else np.zeros((0, len(self.label_names)), "float32")
        )

    def get_config(self):
        config = super().get_config()
        names = ("architecture", "filters", "kernel_size", "pool_size", "units", "hidden_units", "num_layers",
                 "num_heads", "dropout", "reverse_complement", "seed", "sequence_length")  # fmt: skip
        config.update(
            label_names=list(self.label_names),
            **{name: getattr(self, name) for name in names},
        )
        return config


load = contract.loader("dna", RegulatoryNet)


def build_model(
    label_names,
    size="default",
    architecture="danq",
    reverse_complement="augment",
    seed=None,
    sequence_length=None,
):
    """A `RegulatoryNet` of `size`, compiled with binary cross-entropy on
    logits and Adam."""
    s = contract.choose(SIZES, size)
    model = RegulatoryNet(
        label_names, architecture, reverse_complement=reverse_complement, seed=seed, sequence_length=sequence_length,
        **s.pick("filters", "kernel_size", "pool_size", "units", "hidden_units", "dropout"),
    )  # fmt: skip
    model.compile(
        optimizer=keras.optimizers.Adam(s.learning_rate),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[
            keras.metrics.AUC(
                from_logits=True,
                multi_label=True,
                num_labels=len(model.label_names),
                name="auc",
            )
        ],
    )
    return model


def score(model, examples):
    """AUROC/AUPRC per label (and their means) of `model` on `examples`."""
    probabilities = model.probabilities(examples.sequences)
    return {
        "scores": per_label(examples.labels, probabilities, examples.label_names),
        "probabilities": probabilities,
    }


def describe(result):
    """The metric line of a `train`/`evaluate` result."""

    def line(scores, name):
        mean = scores["mean"]
        parts = [f"{name}: mean AUROC {mean['auroc']:.4f}, AUPRC {mean['auprc']:.4f}"]
        if len(scores) > 2:
            parts.append(
                "("
                + ", ".join(
                    f"{k} {v['auroc']:.3f}" for k, v in scores.items() if k != "mean"
                )
                + ")"
            )
        return " ".join(parts)

    text = line(result["scores"], result.get("architecture", "model"))
    if result.get("baseline"):
        text += "; " + line(result["baseline"], "cnn baseline")
        if result.get("model_seconds") is not None:
            text += f" [training: {result['architecture']} {result['model_seconds']:.0f} s, cnn {result['baseline_seconds']:.0f} s]"
    motifs = result.get("motifs")
    if motifs and motifs.get("planted"):
        found = [name for name, hit in motifs["planted"].items() if hit["recovered"]]
        text += f"; TOMTOM recovers {len(found)}/{len(motifs['planted'])} planted motifs (q < {motifs['q_threshold']})"
    return text


def read_examples(data, labels=None, genome=None, length=None, seed=0):
    """Labelled examples of a FASTA file (labels in the headers or in the
    side file `labels`) or of a BED file of intervals of `genome` (every
    interval a positive, plus one dinucleotide shuffle of each as a
    negative, unless `labels` labels them)."""
    if os.fspath(data).lower().endswith((".bed", ".bed.txt", ".narrowpeak")):
        if genome is None:
            raise ValueError(
                f"--data {os.fspath(data)!r} is a BED file: give the genome FASTA with --genome."
            )
        examples = load_bed(data, genome, labels=labels, length=length)
        return (
            examples if labels is not None else with_shuffled_negatives(examples, seed)
        )
    return load_fasta(data, labels=labels)


def _splits(run, task, data, labels, genome, eval_examples):
    if data:
        loaded = read_examples(data, labels, genome, run.size.length, run.seed)
        train_part, test_part = contract.held_out_split(
            list(range(len(loaded))), eval_examples, run.seed
        )
        return loaded.subset(train_part), loaded.subset(test_part)
    dataset = make_dataset(
        task, run.train_examples, eval_examples, run.size.length, run.seed
    )
    return dataset.train, dataset.test


def _fit(run, train_set, size, architecture, reverse_complement, stage=None):
    x = one_hot(train_set.sequences)
    train_data, validation, _ = run.datasets(x, train_set.labels)
    model, _ = run.fit(
        lambda: build_model(train_set.label_names, size, architecture, reverse_complement, seed=run.seed,
                            sequence_length=x.shape[1]),
        train_data, validation_data=validation, stage=stage,
    )  # fmt: skip
    return model


def train(size="default", *, data=None, eval_examples=2000, task="multilabel", architecture="danq", baseline=True,
          reverse_complement="augment", labels=None, genome=None, motifs=None, **options):  # fmt: skip
    """Trains on generated sequences of `task` (or a FASTA/BED file) and
    reports held-out AUROC and AUPRC per label.

    Args:
        size: a key of `SIZES`.
        data, labels, genome: see `read_examples` (10% held out).
        eval_examples: the held-out examples.
        task: ``"multilabel"`` or ``"grammar"`` (generated data).
        architecture: see `RegulatoryNet`.
        baseline: also train the ``"cnn"`` baseline (bag of motifs) on the
            same data and report it (not when `architecture` is ``"cnn"``).
        reverse_complement: see `RegulatoryNet`.
        motifs: turn the first-layer filters into PWMs, match them against
            JASPAR with TOMTOM and log their logos to TensorBoard
            (`applications.dna.interpret.motif_report`); by default for the
            multilabel task and for loaded data.
        **options: the common training options of `applications.contract.Training`.
    """
    if task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS}; received {task!r}.")
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"`architecture` must be one of {ARCHITECTURES}; received {architecture!r}."
        )
    run = contract.Training(SIZES, size, **options)
    train_set, test_set = _splits(run, task, data, labels, genome, eval_examples)
    model = _fit(run, train_set, size, architecture, reverse_complement)
    result = {
        "task": None if data else task,
        "architecture": architecture,
        **score(model, test_set),
    }
    model_seconds = run.train_seconds
    if baseline and architecture != "cnn":
        cnn = _fit(
            run, train_set, size, "cnn", reverse_complement, stage="cnn_baseline"
        )
        result["baseline"] = score(cnn, test_set)["scores"]
        result["baseline_seconds"] = run.train_seconds - model_seconds
    result["model_seconds"] = model_seconds
    if motifs if motifs is not None else (data is not None or task == "multilabel"):
        planted = None if data else [FACTORS[name] for name in train_set.label_names]
        result["motifs"] = motif_report(
            model, test_set, planted=planted, log_dir=run.log_dir if run.chief else None
        )
    run.save(model)
    return run.result(model, len(test_set), **result)


def evaluate(
    model_path, examples=2000, seed=0, data=None, task=None, labels=None, genome=None
):
    """AUROC/AUPRC of a saved model on generated test sequences of its task
    (`task` defaults to the one its labels say) or on every example of a
    FASTA/BED file."""
    contract.check_count("examples", examples, allow_none=False)
    model = load(model_path)
    if data:
        test_set = read_examples(data, labels, genome, model.sequence_length, seed)
    else:
        test_set = make_dataset(task or task_of(model), 0, examples, _length(model), seed).test
    if list(test_set.label_names) != list(model.label_names) and test_set.labels.shape[
        1
    ] == len(model.label_names):
        test_set.label_names = list(model.label_names)
    if test_set.labels.shape[1] != len(model.label_names):
        raise ValueError(f"the data have {test_set.labels.shape[1]} labels {test_set.label_names}; "
                         f"the model predicts {len(model.label_names)}: {model.label_names}.")  # fmt: skip
    result = {
        "architecture": model.architecture,
        **score(model, test_set),
        "eval_examples": len(test_set),
    }
    return result


def task_of(model):
    """The generated task a model's labels are those of."""
    return "multilabel" if list(model.label_names) == list(FACTORS) else "grammar"


def _length(model):
    return model.sequence_length or SIZES["default"].length


def sequences_of(inputs):
    """``[(name, sequence)]`` of DNA strings and FASTA files among `inputs`."""
    out = []
    for index, item in enumerate(contract.check_inputs(inputs, "inputs")):
        if os.path.isfile(item):
            out.extend(read_fasta(item))
        else:
            sequence = item.strip().upper()
            if any(c not in "ACGTN" for c in sequence):
                raise ValueError(f"input {index} is neither a FASTA file nor a DNA sequence (A, C, G, T, N): "
                                 f"{item[:40]!r}.")  # fmt: skip
            out.append((f"input{index}", sequence))
    return out


def predict(model_path, inputs):
    """One line per sequence (DNA strings, or the records of FASTA files):
    the name, then ``label=probability`` for every label."""
    model = load(model_path)
    named = sequences_of(inputs)
    probabilities = model.probabilities([s for _, s in named])
    return [
        f"{name}\t"
        + "\t".join(f"{label}={p:.4f}" for label, p in zip(model.label_names, row))
        for (name, _), row in zip(named, probabilities)
    ]


def explain(model_path, sequence, output, label=None, method="saliency"):
    """Writes the saliency logo of one sequence (gradient x input or
    in-silico mutagenesis, `applications.dna.interpret`) to the PNG `output`;
    returns the probability and the most important window."""
    model = load(model_path)
    (name, sequence), *_ = sequences_of([sequence])
    index = _label_index(model, label)
    if method == "saliency":
        contributions = gradient_times_input(model, [sequence], index)[0]
    else:
        contributions = mutagenesis_contributions(model, sequence, index)
    title = f"{model.label_names[index]}: {method}"
    with open(output, "wb") as handle:
        handle.write(
            saliency_logo_png(sequence, contributions, title=title)
        )
    window = top_window(contributions.sum(axis=1), model.kernel_size)
    probability = float(model.probabilities([sequence])[0, index])
    print(f"saliency logo saved to {output}", file=sys.stderr)
    return {"label": model.label_names[index], "probability": probability, "window": window,
            "window_sequence": sequence[window[0] : window[1]]}  # fmt: skip


def _label_index(model, label):
    if label is None:
        return 0
    if label not in model.label_names:
        raise ValueError(
            f"`label` must be one of {model.label_names}; received {label!r}."
        )
    return model.label_names.index(label)


def examples_for_motifs(
    model, data=None, labels=None, genome=None, examples=2000, seed=0
):
    """The sequences `motifs` scans: a FASTA/BED file, or generated test sequences of the model's task."""
    if data:
        return read_examples(data, labels, genome, model.sequence_length, seed)
    return make_dataset(task_of(model), 0, examples, _length(model), seed).test


def motifs(
    model_path, data=None, labels=None, genome=None, examples=2000, seed=0, logos=None
):
    """`applications.dna.interpret.motif_report` of a saved model, with the logos
    written as PNGs to the folder `logos`."""
    model = load(model_path)
    test_set = examples_for_motifs(model, data, labels, genome, examples, seed)
    planted = (
        [FACTORS[n] for n in model.label_names]
        if not data and list(model.label_names) == list(FACTORS)
        else None
    )
    return motif_report(model, test_set, planted=planted, logo_dir=logos)
