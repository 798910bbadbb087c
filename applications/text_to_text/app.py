"""One encoder-decoder for several tasks chosen by a text prefix (T5-style)."""

from __future__ import annotations

import numpy as np

from applications import contract
from applications.text_to_text import MIXING, SIZES
from applications.text_to_text.data import TASKS, make_datasets
from keras_seq.data import mix_datasets, mixing_weights
from keras_seq.models import Transformer
from keras_seq.text import Vocabulary, shift_right

SEQUENCE_LENGTH = 64


@contract.serializable
class TextToText(Transformer):
    """A `Transformer` with one shared word vocabulary (tied embeddings) that
    maps `"<task prefix>: <input>"` to the target text."""

    def __init__(self, vocabulary, **kwargs):
        vocabulary = contract.vocabulary(vocabulary)
        self.vocabulary = vocabulary
        kwargs.setdefault("encoder_vocabulary_size", len(vocabulary))
        kwargs.setdefault("decoder_vocabulary_size", len(vocabulary))
        kwargs.setdefault("sequence_length", SEQUENCE_LENGTH)
        kwargs.setdefault("tie_embeddings", True)
        super().__init__(**kwargs)

    def run(self, texts, max_length=24, batch_size=500):
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        outputs = []
        for start in range(0, len(texts), batch_size):
            ids = self.vocabulary.encode(texts[start : start + batch_size], max_length=SEQUENCE_LENGTH, truncate=True)
            outputs.extend(self.vocabulary.decode(self.generate(ids, max_length)))
        return outputs[0] if single else outputs

    def get_config(self):
        return {**super().get_config(), "vocabulary": self.vocabulary.get_config()}


load = contract.loader("text_to_text", TextToText)


def build_model(vocabulary, size="default", steps=None):
    """A `TextToText` compiled with Adam, warm-up and cosine decay over `steps`."""
    s = contract.choose(SIZES, size)
    model = TextToText(vocabulary, **contract.transformer_options(s, ("num_encoder_layers", "num_decoder_layers")))
    steps = steps or s.epochs * contract.steps_per_epoch(s.examples_per_task * len(TASKS), s.batch_size)
    rate = contract.schedule(s.learning_rate, steps, warmup_steps=min(300, steps // 5))
    return contract.compile_classifier(model, rate, ignore_class=0, clipnorm=1.0)


def encode(vocabulary, pairs):
    """`({"encoder_tokens", "decoder_tokens"}, targets)` padded to fixed widths."""
    sources = vocabulary.encode([p[0] for p in pairs], max_length=SEQUENCE_LENGTH, truncate=True)
    targets = vocabulary.encode([p[1] for p in pairs], add_eos=True, max_length=SEQUENCE_LENGTH // 2, truncate=True)
    return {"encoder_tokens": sources, "decoder_tokens": np.asarray(shift_right(targets, Vocabulary.SOS))}, targets


def mixed_dataset(vocabulary, train_sets, batch_size, strategy, seed, temperature=2.0):
    """Examples of every task, mixed by `keras_seq.data.mix_datasets`."""
    import tensorflow as tf

    datasets, sizes = {}, {}
    for task, pairs in train_sets.items():
        inputs, targets = encode(vocabulary, pairs)
        datasets[task] = tf.data.Dataset.from_tensor_slices((inputs, targets)).shuffle(len(pairs), seed=seed).repeat()
        sizes[task] = len(pairs)
    mixed = mix_datasets(
        datasets, strategy=strategy, sizes=sizes, seed=seed,
        temperature=temperature if strategy == "temperature" else None,
    )
    return mixed.batch(batch_size).prefetch(tf.data.AUTOTUNE), mixing_weights(
        sizes, strategy, temperature=temperature if strategy == "temperature" else None
    )


def score(model, test_sets):
    """Exact match per task."""
    result, wrong = {}, []
    for task, pairs in test_sets.items():
        outputs = model.run([p[0] for p in pairs])
        hits = [o == p[1] for o, p in zip(outputs, pairs)]
        result[task] = float(np.mean(hits))
        wrong.extend((p[0], o, p[1]) for o, p, hit in zip(outputs, pairs, hits) if not hit)
    return result, wrong


def describe(result):
    """The metric line of a `train`/`evaluate` result."""
    return ", ".join(f"{task} exact match {100 * v:.1f}%" for task, v in result["exact_match"].items())


def train(size="default", *, data=None, eval_examples=300, mixing="proportional", **options):
    """Trains one model on all tasks mixed with `mixing` and reports per-task
    exact match. `train_examples` (in `options`, with the other common
    training options of `applications.contract.Training`) is per task;
    `data` is not supported (the tasks are generated)."""
    if mixing not in MIXING:
        raise ValueError(f"`mixing` must be one of {MIXING}; received {mixing!r}.")
    if data:
        raise ValueError("text_to_text generates its tasks; `data` is not supported.")
    run = contract.Training(SIZES, size, **options)
    per_task = run.train_examples or run.size.examples_per_task
    splits = make_datasets(per_task, seed=run.seed, n_test_per_task=eval_examples)
    train_sets = {task: splits[task][0] for task in TASKS}
    test_sets = {task: splits[task][1] for task in TASKS}
    vocabulary = Vocabulary.build(
        [text for pairs in train_sets.values() for pair in pairs for text in pair], level="word"
    )
    steps = sum(len(p) for p in train_sets.values()) // run.batch_size
    dataset, weights = mixed_dataset(vocabulary, train_sets, run.batch_size, mixing, run.seed)
    model, _ = run.fit(
        lambda: build_model(vocabulary, size, steps=run.epochs * steps),
        dataset.take(steps).repeat(),
        steps_per_epoch=steps,
    )
    exact, wrong = score(model, test_sets)
    run.save(model)
    return run.result(
        model, sum(len(p) for p in test_sets.values()), exact_match=exact, mixing_weights=weights, examples=wrong
    )


def evaluate(model_path, examples=300, seed=0, data=None):
    """Per-task exact match of a saved model on `examples` held-out pairs per task."""
    contract.check_count("examples", examples, allow_none=False)
    if data:
        raise ValueError("text_to_text generates its tasks; `data` is not supported.")
    splits = make_datasets(1, seed=seed, n_test_per_task=examples)
    per_task, wrong = score(load(model_path), {task: splits[task][1] for task in TASKS})
    return {"exact_match": per_task, "eval_examples": examples * len(TASKS), "examples": wrong}


def predict(model_path, texts):
    """The model's output for each prefixed input."""
    return load(model_path).run(contract.check_inputs(texts, "texts"))
