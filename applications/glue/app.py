"""GLUE fine-tuning: a `BertEncoder` (random, or from a `bert_pretraining`
checkpoint) with one head per task, trained on all the tasks at once,
scored with GLUE's metrics against the majority and lexical baselines,
and writing leaderboard submissions."""

from __future__ import annotations

import os
import tempfile

import keras
import numpy as np
from keras import ops

from applications import contract
from applications.glue import SIZES
from applications.glue.baselines import lexical, majority
from applications.glue.data import GENERATED_TASKS, generated_directory, make_dataset
from applications.glue.formats import (
    EVALUATIONS,
    TASKS,
    Example,
    load_glue,
    write_submission,
)
from applications.glue.metrics import METRIC_NAMES, glue_score, task_metrics
from keras_seq.layers import Adapter, freeze_except_adapters
from keras_seq.models import BertEncoder

PAD, UNK, CLS, SEP = 0, 1, 2, 3
# An STS-B head predicts 2.5 + 2.5 * output: a score in [0, 5] is an output in [-1, 1].
SCORE_CENTRE = 2.5


# -- the model -------------------------------------------------------------------------


@contract.serializable
class AdaptedBlock(keras.layers.Layer):
    """An encoder block followed by an `Adapter` (built by
    `AdapterBertEncoder`, which serialises it)."""

    def __init__(self, block, adapter_dim, **kwargs):
        super().__init__(name=f"adapted_{block.name}", dtype=block.dtype_policy, **kwargs)
        self.block = block
        self.adapter = Adapter(adapter_dim, dtype=block.dtype_policy, name=f"adapter_{block.name}")

    def build(self, inputs_shape):
        self.block.build(inputs_shape)
        self.adapter.build(inputs_shape)

    def call(self, inputs, padding_mask=None, training=None):
        return self.adapter(self.block(inputs, padding_mask=padding_mask, training=training))

    def compute_output_shape(self, inputs_shape):
        return inputs_shape


@contract.serializable
class AdapterBertEncoder(BertEncoder):
    """A `BertEncoder` with a bottleneck `Adapter` (Houlsby et al., 2019)
    after every encoder block. Each adapter starts as the identity, so
    pretrained weights copied in (`from_encoder`) give the same outputs
    until the adapters train.

    Args:
        adapter_dim: the adapters' bottleneck width.
        *args, **kwargs: `BertEncoder`'s.
    """

    def __init__(self, *args, adapter_dim=16, **kwargs):
        super().__init__(*args, **kwargs)
        contract.check_arguments(positive={"adapter_dim": adapter_dim})
        self.adapter_dim = adapter_dim
        self.blocks = [AdaptedBlock(block, adapter_dim) for block in self.blocks]

    def get_config(self):
        return {**super().get_config(), "adapter_dim": self.adapter_dim}

    @classmethod
    def from_encoder(cls, encoder, adapter_dim):
        """An adapted copy of a built `BertEncoder`, its weights copied."""
        config = {k: v for k, v in encoder.get_config().items() if k not in ("name", "trainable", "dtype")}
        adapted = cls(**config, adapter_dim=adapter_dim)
        adapted.build()
        for name in ("token_embedding", "segment_embedding", "position_embedding", "embedding_norm", "pooler"):
            getattr(adapted, name).set_weights(getattr(encoder, name).get_weights())
        for target, source in zip(adapted.blocks, encoder.blocks):
            target.block.set_weights(source.get_weights())
        return adapted


def _head_name(task):
    return task.lower().replace("-", "_") + "_head"


@contract.serializable
class GlueModel(keras.Model):
    """A `BertEncoder` with one head per GLUE task on its pooled output: a
    `Dense` over the task's classes, or for STS-B a score 2.5 + 2.5 x
    `Dense(1)`. The WordPiece vocabulary and input length travel with the
    model, so a saved model is all `predict` needs.

    Fit with `x = {"token_ids", "segment_ids"}` and `y = {"task": [B] index
    into `tasks`, "label": [B] class index or score}`: each example's loss
    is its own task's (cross-entropy, or the squared error of the score /
    2.5), averaged over the batch, so batches may mix tasks.

    Args:
        encoder: a `BertEncoder` (or `AdapterBertEncoder`).
        tasks: `[(name, labels or None), ...]`: GLUE task names and their
            label strings (None: a score).
        vocabulary: the WordPiece vocabulary (`[PAD]`, `[UNK]`, `[CLS]`,
            `[SEP]` first).
        sequence_length: the input length (tokens, padded or truncated).
        dropout: before each head. Defaults to `0.1`.
    """

    def __init__(self, encoder, tasks, vocabulary, sequence_length, dropout=0.1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(encoder, dict):
            encoder = keras.saving.deserialize_keras_object(encoder)
        errors = [] if isinstance(encoder, BertEncoder) else [f"`encoder` must be a BertEncoder; received {type(encoder).__name__}."]
        tasks = [(name, list(labels) if labels else None) for name, labels in tasks]
        errors += [f"`tasks` names must be GLUE tasks {list(TASKS)}; received {name!r}." for name, _ in tasks if name not in TASKS]
        if not tasks:
            errors.append("`tasks` must name at least one task.")
        contract.check_arguments(errors, positive={"sequence_length": sequence_length}, rates={"dropout": dropout})
        self.encoder, self.tasks, self.vocabulary = encoder, tasks, list(vocabulary)
        self.sequence_length, self.dropout = sequence_length, dropout
        self.head_dropout = keras.layers.Dropout(dropout, name="head_dropout")
        self.heads = [
            keras.layers.Dense(len(labels) if labels else 1, dtype="float32", name=_head_name(name))
            for name, labels in tasks
        ]
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self._pieces = None

    @property
    def task_names(self):
        return [name for name, _ in self.tasks]

    def labels_of(self, task):
        return dict(self.tasks)[task]

    @property
    def pieces(self):
        """The `WordPieces` tokenizer of the model's vocabulary."""
        if self._pieces is None:
            from applications.bert_pretraining.app import WordPieces

            self._pieces = WordPieces(self.vocabulary)
        return self._pieces

    def build(self, inputs_shape=None):
        if self.built:
            return
        self.encoder.build()
        for head in self.heads:
            head.build((None, self.encoder.hidden_dim))
        self.built = True

    def call(self, inputs, training=False):
        pooled = self.head_dropout(self.encoder(inputs, training=training)["pooled_output"], training=training)
        outputs = {}
        for (name, labels), head in zip(self.tasks, self.heads):
            value = ops.cast(head(pooled), "float32")
            outputs[name] = value if labels else SCORE_CENTRE + SCORE_CENTRE * value[:, 0]
        return outputs

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not isinstance(y, dict) or not {"task", "label"} <= set(y):
            raise ValueError(f"GlueModel needs `y = {{'task', 'label'}}`; received {sorted(y) if isinstance(y, dict) else type(y).__name__}.")
        task, label = ops.cast(y["task"], "int32"), ops.cast(y["label"], "float32")
        total = ops.zeros((), "float32")
        for number, (name, labels) in enumerate(self.tasks):
            mask = ops.cast(ops.equal(task, number), "float32")
            if labels:
                classes = ops.cast(label * mask, "int32")
                per_example = keras.losses.sparse_categorical_crossentropy(classes, y_pred[name], from_logits=True)
            else:
                per_example = ops.square((y_pred[name] - label * mask) / SCORE_CENTRE)
            total = total + ops.sum(per_example * mask)
        loss = total / ops.cast(ops.shape(task)[0], "float32")
        if self.losses:
            loss = loss + ops.sum(ops.stack(self.losses))
        self.loss_tracker.update_state(loss)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return self.get_metrics_result()

    @property
    def metrics(self):
        return [self.loss_tracker]

    def get_config(self):
        config = super().get_config()
        config.update(
            encoder=keras.saving.serialize_keras_object(self.encoder), tasks=[list(t) for t in self.tasks],
            vocabulary=self.vocabulary, sequence_length=self.sequence_length, dropout=self.dropout,
        )  # fmt: skip
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)


# -- inputs ---------------------------------------------------------------------------


def encode(pieces, examples, length):
    """`{"token_ids", "segment_ids"}` of `[CLS] a [SEP]` or `[CLS] a [SEP] b
    [SEP]` per example (segment 1 for b), the longer side truncated first
    to fit `length`, padded to the longest (so batches of short inputs are
    short)."""
    firsts = pieces.ids([e.text_a for e in examples])
    pair = any(e.text_b is not None for e in examples)
    seconds = pieces.ids([e.text_b or "" for e in examples]) if pair else [np.zeros(0, "int32")] * len(examples)
    token_ids = np.zeros((len(examples), length), "int32")
    segment_ids = np.zeros((len(examples), length), "int32")
    for row, (a, b) in enumerate(zip(firsts, seconds)):
        a, b = list(a), list(b)
        budget = length - (3 if b else 2)
        while len(a) + len(b) > budget:
            (a if len(a) >= len(b) else b).pop()
        tokens = [CLS, *a, SEP] + ([*b, SEP] if b else [])
        token_ids[row, : len(tokens)] = tokens
        segment_ids[row, len(a) + 2 : len(tokens)] = 1
    used = int(np.max(np.nonzero(token_ids.any(axis=0))[0], initial=0)) + 1
    return {"token_ids": token_ids[:, :used], "segment_ids": segment_ids[:, :used]}


def targets(model, task, examples):
    """`{"task", "label"}` of `examples` of `task` for `GlueModel.fit`."""
    labels = model.labels_of(task)
    values = [e.label if labels is None else labels.index(e.label) for e in examples]
    return {"task": np.full(len(examples), model.task_names.index(task), "int32"), "label": np.asarray(values, "float32")}


def predict_examples(model, task, examples, batch_size=256):
    """The model's predictions for `examples` of `task`: label strings, or
    scores for STS-B."""
    if not examples:
        return []
    outputs = model.predict(encode(model.pieces, examples, model.sequence_length), batch_size=batch_size, verbose=0)
    output = np.asarray(outputs[task])
    labels = model.labels_of(task)
    if labels is None:
        return [float(v) for v in np.clip(output, 0.0, 5.0)]
    return [labels[i] for i in np.argmax(output, axis=-1)]


# -- building -------------------------------------------------------------------------


def build_vocabulary(texts, size):
    """A WordPiece vocabulary learned on `texts` (lower-cased)."""
    from keras_seq.text.wordpiece import train_wordpiece

    with contract.stage("learning the WordPiece vocabulary"):
        return train_wordpiece(list(texts), size)


def pretrained_encoder(path):
    """The `BertEncoder` and WordPiece vocabulary of a model saved by
    `applications.bert_pretraining` (its `.keras` file with the
    `.vocab.txt` beside it)."""
    from applications.bert_pretraining.app import load as load_pretrained

    model, pieces, _ = load_pretrained(path)
    encoder = next(layer for layer in model.layers if isinstance(layer, BertEncoder))
    return encoder, pieces.vocabulary


def build_model(tasks, vocabulary, size="default", encoder=None, adapter_dim=None, sequence_length=None):
    """A `GlueModel` for `tasks` (`[(name, labels or None)]`): a new
    `BertEncoder` of the size's shape, or `encoder` (pretrained); with
    `adapter_dim` the encoder gets an `Adapter` after each block. Not compiled."""
    s = contract.choose(SIZES, size)
    length = sequence_length or s.sequence_length
    if encoder is None:
        options = {**contract.transformer_options(s), "dropout": s.get("dropout", 0.1)}
        if adapter_dim:
            encoder = AdapterBertEncoder(len(vocabulary), length, adapter_dim=adapter_dim, **options)
        else:
            encoder = BertEncoder(len(vocabulary), length, **options)
    else:
        length = min(length, encoder.sequence_length)
        if adapter_dim:
            encoder.build()
            encoder = AdapterBertEncoder.from_encoder(encoder, adapter_dim)
    model = GlueModel(encoder, tasks, vocabulary, length)
    model.build()
    return model


def layer_groups(model):
    """`GradualUnfreezing`'s groups, top first: the heads and the pooler,
    each encoder block from the top, then the embeddings."""
    encoder = model.encoder
    groups = [[*model.heads, encoder.pooler]]
    groups += [[block] for block in reversed(encoder.blocks)]
    groups.append([encoder.token_embedding, encoder.segment_embedding, encoder.position_embedding, encoder.embedding_norm])
    return groups


def compile_model(model, learning_rate, steps):
    """AdamW (weight decay 0.01, clip norm 1) with 10% warm-up and cosine
    decay over `steps`, as BERT is fine-tuned."""
    warmup = max(1, steps // 10)
    rate = contract.schedule(learning_rate, max(1, steps - warmup), warmup_steps=warmup)
    # No XLA: batches of different tasks have different lengths (one
    # compilation each), and on a CPU XLA gains little for a model this size.
    model.compile(keras.optimizers.AdamW(rate, weight_decay=0.01, clipnorm=1.0), jit_compile=False)
    return model


class GlueValidation(keras.callbacks.Callback):
    """Scores the dev sets with GLUE's metrics after every epoch, prints the
    GLUE score and writes every metric to TensorBoard (`log_dir/glue`)."""

    def __init__(self, evaluations, log_dir=None, verbose=1):
        super().__init__()
        self.evaluations, self.verbose = evaluations, verbose
        self.writer = None
        if log_dir:
            import tensorflow as tf

            self.writer = tf.summary.create_file_writer(os.path.join(log_dir, "glue"))

    def on_epoch_end(self, epoch, logs=None):
        results = score(self.model, self.evaluations)
        total = glue_score(results)
        if logs is not None:
            logs["val_glue_score"] = total
        if self.writer is not None:
            import tensorflow as tf

            with self.writer.as_default(step=epoch):
                tf.summary.scalar("glue_score", total)
                for name, metrics in results.items():
                    for metric, value in metrics.items():
                        tf.summary.scalar(f"{name}/{metric}", value)
            self.writer.flush()
        if self.verbose:
            print(f"epoch {epoch + 1}: dev GLUE score {100 * total:.1f}", flush=True)


# -- scoring --------------------------------------------------------------------------


def dev_sets(data, tasks):
    """`{evaluation: (task, examples)}` of the labelled dev sets of `tasks` in `data`."""
    result = {}
    for name, (task, dev, _, _) in EVALUATIONS.items():
        split = dev and dev.removesuffix(".tsv")
        if task.name in tasks and split in data.get(task.name, {}):
            result[name] = (task.name, data[task.name][split])
    return result


def score(model, evaluations):
    """`{evaluation: {metric: value}}` of the model on `{evaluation: (task, examples)}`."""
    results = {}
    for name, (task, examples) in contract.progress(evaluations.items(), desc="scoring", unit="set"):
        predictions = predict_examples(model, task, examples)
        results[name] = task_metrics(task, [e.label for e in examples], predictions)
    return results


def baseline_scores(data, evaluations):
    """`{"majority": results, "lexical": results}` for the dev sets, each
    baseline fitted on its task's training split."""
    table = {}
    for baseline, fit in (("majority", majority), ("lexical", lexical)):
        results, fitted = {}, {}
        for name, (task, examples) in evaluations.items():
            if task not in fitted:
                fitted[task] = fit(task, data[task]["train"])
            results[name] = task_metrics(task, [e.label for e in examples], fitted[task](examples))
        table[baseline] = results
    return table


# -- the commands ------------------------------------------------------------------------


def _glue_data(data, run, eval_examples):
    """The data as `load_glue` returns it, and the directory it came from:
    `data` (a GLUE directory), or the embedded tasks generated and written
    in the GLUE layout under the log directory (or a temporary one)."""
    if data:
        return load_glue(data), data
    directory = os.path.join(run.log_dir, "data") if run.log_dir else tempfile.mkdtemp(prefix="glue_data_")
    s = run.size
    with contract.stage(f"writing the generated tasks to {directory}"):
        generated_directory(directory, run.train_examples or s.train_examples, eval_examples, run.seed,
                            adverbials=s.get("adverbials", True))  # fmt: skip
    return load_glue(directory), directory


def _task_list(loaded, tasks):
    available = [name for name in TASKS if "train" in loaded.get(name, {})]
    if tasks:
        tasks = [tasks] if isinstance(tasks, str) else list(tasks)
        missing = [t for t in tasks if t not in available]
        if missing:
            raise ValueError(f"`tasks` {missing} have no training data here; available: {available}.")
        return tasks
    if not available:
        raise ValueError("the data holds no task with a train.tsv.")
    return available


def train(size="default", *, data=None, tasks=None, encoder=None, adapter_dim=None, gradual_unfreezing=False,
          submission=None, eval_examples=1000, **options):
    """Fine-tunes one encoder on every task at once and scores each dev set.

    Args:
        size: a key of `SIZES`.
        data: a GLUE data directory (see `applications.glue.formats`);
            default: the embedded tasks, generated and written in the GLUE
            layout under `<log_dir>/data`.
        tasks: GLUE task names to train (default: every task with a
            train.tsv).
        encoder: a `bert_pretraining` model file to start from (its
            encoder and WordPiece vocabulary); default: a new encoder.
        adapter_dim: freeze the encoder and train an `Adapter` of this
            width after each block (plus the heads and pooler).
        gradual_unfreezing: unfreeze one layer group per epoch, from the
            heads down (`keras_seq.callbacks.GradualUnfreezing`).
        submission: also write the leaderboard files of the test sets here.
        eval_examples: dev and test examples per generated task.
        **options: the common options of `applications.contract.Training`;
            `train_examples` counts generated examples per task.

    Returns:
        `run.result(...)` with `results` (`{evaluation: {metric: value}}`),
        `baselines` (`{"majority": ..., "lexical": ...}`), `glue_score`,
        `data_dir`, `submission_files`.
    """
    if adapter_dim is not None:
        contract.check_count("adapter_dim", adapter_dim)
    if adapter_dim and gradual_unfreezing:
        raise ValueError("`adapter_dim` freezes the encoder; `gradual_unfreezing` would thaw it: choose one.")
    run = contract.Training(SIZES, size, **options)
    s = run.size
    loaded, directory = _glue_data(data, run, eval_examples)
    names = _task_list(loaded, tasks)
    task_specs = [(name, TASKS[name].labels) for name in names]
    pretrained, vocabulary = pretrained_encoder(encoder) if encoder else (None, None)
    if vocabulary is None:
        texts = [t for name in names for e in loaded[name]["train"] for t in (e.text_a, e.text_b) if t]
        vocabulary = build_vocabulary(texts, s.vocabulary_size)
    with run.strategy.scope():
        model = build_model(task_specs, vocabulary, size, pretrained, adapter_dim)
    train_set, steps_per_epoch = training_batches(model, loaded, names, run.batch_size, run.seed, s.get("task_weights"))
    evaluations = dev_sets(loaded, names)
    steps = run.epochs * steps_per_epoch
    callbacks = [GlueValidation(evaluations, run.log_dir if run.chief else None, verbose=run.verbose)]
    if gradual_unfreezing:
        from keras_seq.callbacks import GradualUnfreezing

        callbacks.append(GradualUnfreezing(layer_groups(model), verbose=bool(run.verbose)))
    if adapter_dim:
        freeze_except_adapters(model, trainable_layers=[*model.heads, model.encoder.pooler])
    with run.strategy.scope():
        compile_model(model, s.learning_rate, steps)
    model, _ = run.fit(model, train_set, callbacks=callbacks)
    run.save(model)  # before scoring: a run stopped while scoring keeps its model
    results = score(model, evaluations)
    files = write_predictions(model, loaded, submission) if submission else []
    return run.result(
        model, sum(len(examples) for _, examples in evaluations.values()), results=results,
        baselines=baseline_scores(loaded, evaluations), glue_score=glue_score(results), data_dir=directory,
        submission_files=files, tasks=names, examples=_wrong_examples(model, evaluations),
    )  # fmt: skip


def training_batches(model, data, names, batch_size, seed, task_weights=None):
    """`(dataset, steps per epoch)`: batches of one task each, padded to
    that task's longest training input, the tasks' batches in a random
    order (reshuffled every epoch, as are the examples of each task).

    With `task_weights` (`{task: weight}`, 1 for a task left out) every
    batch mixes all the tasks instead: `batch_size` examples shared in
    proportion to the weights (at least one each; see `task_quotas`),
    padded to the longest input of any task, so every step trains every
    head. An epoch is as many steps as it takes to show as many examples
    as the tasks hold; in each, every task's examples come in a fresh
    shuffle (cycled when its share asks for more than it holds)."""
    import tensorflow as tf

    if task_weights is not None:
        return _mixed_batches(model, data, names, task_quotas(names, batch_size, task_weights), seed)
    datasets, order = [], []
    for number, name in enumerate(contract.progress(names, desc="encoding", unit="task")):
        examples = data[name]["train"]
        elements = (encode(model.pieces, examples, model.sequence_length), targets(model, name, examples))
        dataset = tf.data.Dataset.from_tensor_slices(elements).shuffle(len(examples), seed=seed + number)
        datasets.append(dataset.batch(batch_size))
        order += [number] * contract.steps_per_epoch(len(examples), batch_size)
    selector = tf.data.Dataset.from_tensor_slices(np.array(order, "int64")).shuffle(len(order), seed=seed)
    batches = tf.data.Dataset.choose_from_datasets(datasets, selector)
    return batches.apply(tf.data.experimental.assert_cardinality(len(order))).prefetch(tf.data.AUTOTUNE), len(order)


def task_quotas(names, batch_size, task_weights):
    """Each task's share of a mixed batch of `batch_size`: proportional to
    its weight (1 when `task_weights` leaves it out), at least 1, summing
    to `batch_size` (largest remainders first).

    >>> task_quotas(["CoLA", "SST-2", "MRPC"], 10, {"MRPC": 3})
    [3, 2, 5]
    """
    weights = np.array([float(task_weights.get(name, 1.0)) for name in names])
    if len(names) > batch_size or not np.all(weights > 0):
        raise ValueError(f"mixed batches need `batch_size` >= the {len(names)} tasks and positive `task_weights`; "
                         f"received batch_size={batch_size}, task_weights={task_weights}.")  # fmt: skip
    shares = 1 + (batch_size - len(names)) * weights / weights.sum()
    quotas = np.floor(shares).astype(int)
    for index in np.argsort(quotas - shares, kind="stable")[: batch_size - quotas.sum()]:
        quotas[index] += 1
    return [int(q) for q in quotas]


def _mixed_batches(model, data, names, quotas, seed):
    import tensorflow as tf

    encoded = [(encode(model.pieces, data[name]["train"], model.sequence_length), targets(model, name, data[name]["train"]))
               for name in contract.progress(names, desc="encoding", unit="task")]  # fmt: skip
    length = max(inputs["token_ids"].shape[1] for inputs, _ in encoded)
    streams = []
    for number, ((inputs, labels), quota) in enumerate(zip(encoded, quotas)):
        inputs = {key: np.pad(value, ((0, 0), (0, length - value.shape[1]))) for key, value in inputs.items()}
        stream = tf.data.Dataset.from_tensor_slices((inputs, labels)).shuffle(len(labels["task"]), seed=seed + number)
        streams.append(stream.repeat().batch(quota, drop_remainder=True))

    def concatenate(*parts):
        return tuple({key: tf.concat([part[side][key] for part in parts], 0) for key in parts[0][side]} for side in (0, 1))

    steps = contract.steps_per_epoch(sum(len(labels["task"]) for _, labels in encoded), sum(quotas))
    batches = tf.data.Dataset.zip(tuple(streams)).map(concatenate).take(steps)
    return batches.prefetch(tf.data.AUTOTUNE), steps


def _wrong_examples(model, evaluations, count=3):
    """A few misclassified dev examples per set: (input, prediction, label)."""
    wrong = []
    for name, (task, examples) in evaluations.items():
        if TASKS[task].is_regression:
            continue
        head = examples[:200]
        for example, prediction in zip(head, predict_examples(model, task, head)):
            if prediction != example.label and sum(w[0].startswith(name) for w in wrong) < count:
                text = example.text_a + (f" ||| {example.text_b}" if example.text_b else "")
                wrong.append((f"{name}: {text}", prediction, example.label))
    return wrong


def write_predictions(model, data, directory):
    """Writes the leaderboard file of every test set in `data` whose task
    the model has (AX with the MNLI head); returns the paths."""
    paths = []
    for name, (task, _, test, _) in EVALUATIONS.items():
        split = "diagnostic" if test == "diagnostic" else test.removesuffix(".tsv")
        examples = data.get(task.name, {}).get(split)
        if examples is None or task.name not in model.task_names:
            continue
        paths.append(write_submission(directory, name, [e.index for e in examples],
                                      predict_examples(model, task.name, examples)))  # fmt: skip
    return paths


def load(path):
    """A saved `GlueModel` (`keras.saving.load_model` in safe mode, checked)."""
    return contract.load_model(path, "glue", GlueModel)


def evaluate(model_path, examples=1000, seed=0, data=None, submission=None):
    """Scores a saved model on the dev sets of a GLUE directory (`data`:
    for a model trained on the generated tasks, the `data` folder of its log
    directory holds its exact held-out splits) or of freshly generated tasks
    (`examples` per set, generator seed `1000 + seed`, so not the training
    run's stream; a short text may still recur by chance; generated as the
    default size's data, with adverbials in MRPC and STS-B, which a model
    of the fast size never saw), with the baselines fitted on the training
    split; with `submission`, also writes
    the leaderboard files of the test sets there."""
    contract.check_count("examples", examples, allow_none=False)
    model = load(model_path)
    if data:
        loaded = load_glue(data)
    else:
        generated = [t for t in model.task_names if t in GENERATED_TASKS]
        if not generated:
            raise ValueError(f"the model's tasks {model.task_names} have no generated data; pass `data` (a GLUE directory).")
        loaded = make_dataset(max(examples, 1000), examples, 1000 + seed, tasks=generated)
    evaluations = dev_sets(loaded, model.task_names)
    if not evaluations:
        raise ValueError(f"the data has no dev set of the model's tasks {model.task_names}.")
    results = score(model, evaluations)
    trained = {task for task, _ in evaluations.values() if "train" in loaded.get(task, {})}
    baselines = baseline_scores(loaded, {k: v for k, v in evaluations.items() if v[0] in trained})
    files = write_predictions(model, loaded, submission) if submission else []
    return {"results": results, "baselines": baselines, "glue_score": glue_score(results),
            "eval_examples": sum(len(e) for _, e in evaluations.values()), "submission_files": files,
            "examples": _wrong_examples(model, evaluations)}  # fmt: skip


def parse_input(text, tasks):
    """`(task, sentence, second sentence or None)` of a predict input
    ``"TASK: sentence"`` or ``"TASK: sentence ||| sentence"``; the task may
    be left out when the model has one.

    >>> parse_input("MRPC: a b ||| b a", ["MRPC", "CoLA"])
    ('MRPC', 'a b', 'b a')
    """
    name, sep, rest = text.partition(":")
    if sep and name.strip() in TASKS:
        task = name.strip()
    elif len(tasks) == 1:
        task, rest = tasks[0], text
    else:
        raise ValueError(f"`inputs` must start with the task, one of {tasks} (e.g. '{tasks[0]}: ...'); received {text!r}.")
    if task not in tasks:
        raise ValueError(f"the model has no {task} head; it has {tasks}.")
    first, sep, second = rest.partition("|||")
    pair = TASKS[task].is_pair
    if pair != bool(sep) or not first.strip() or (pair and not second.strip()):
        shape = "'sentence ||| sentence'" if pair else "one sentence (no '|||')"
        raise ValueError(f"a {task} input is {shape}; received {text!r}.")
    return task, first.strip(), second.strip() if pair else None


def predict(model_path, inputs):
    """Labels (or STS-B scores) for ``"TASK: sentence [||| sentence]"`` inputs."""
    inputs = contract.check_inputs(inputs, "inputs")
    model = load(model_path)
    parsed = [parse_input(text, model.task_names) for text in inputs]
    outputs = []
    for task, first, second in parsed:
        value = predict_examples(model, task, [Example("0", first, second)])[0]
        outputs.append(f"{value:.2f}" if isinstance(value, float) else value)
    return outputs


def describe(result):
    """A GLUE-style table: each dev set's metrics for the model and the two
    baselines, then the GLUE score of each."""
    baselines = result.get("baselines", {})
    rows = [("task", "metric", "model", "majority", "lexical")]
    for name, metrics in result["results"].items():
        label = " / ".join(METRIC_NAMES[m] for m in metrics)
        cells = [" / ".join(f"{100 * v:.1f}" for v in metrics.values())]
        for baseline in ("majority", "lexical"):
            other = baselines.get(baseline, {}).get(name)
            cells.append(" / ".join(f"{100 * v:.1f}" for v in other.values()) if other else "-")
        rows.append((name, label, *cells))
    scores = [f"{100 * result['glue_score']:.1f}"]
    for baseline in ("majority", "lexical"):
        scores.append(f"{100 * glue_score(baselines[baseline]):.1f}" if baselines.get(baseline) else "-")
    rows.append(("GLUE score", "mean of task means", *scores))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return f"GLUE score {scores[0]} (majority {scores[1]}, lexical {scores[2]})\n" + "\n".join(lines)
