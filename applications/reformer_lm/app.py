"""Model, training, evaluation and prediction for `reformer_lm`."""

from __future__ import annotations

import dataclasses
import math
import re

import keras
import numpy as np

from applications._common import batched, choose, distribution, fit, save
from applications.reformer_lm.data import (
    BOS,
    CODE_WORDS,
    Vocabulary,
    generate_documents,
)
from keras_seq.models import ReformerLM


@dataclasses.dataclass(frozen=True)
class Size:
    length: int
    train_examples: int
    epochs: int
    batch_size: int
    hidden_dim: int
    num_layers: int
    num_heads: int
    bucket_size: int
    num_hashes: int
    learning_rate: float


SIZES = {
    "fast": Size(256, 192, 3, 8, 32, 2, 2, 16, 2, 3e-3),
    "default": Size(8192, 160, 2, 2, 64, 2, 2, 64, 2, 2e-3),
}


@keras.saving.register_keras_serializable(package="applications")
class RecallLM(ReformerLM):
    """A `ReformerLM` over words that carries its vocabulary; `continue_text`
    extends a prompt."""

    def __init__(self, vocabulary, **kwargs):
        if isinstance(vocabulary, dict):
            vocabulary = Vocabulary(**vocabulary)
        self.vocabulary = vocabulary
        kwargs.setdefault("vocabulary_size", len(vocabulary))
        kwargs.setdefault("end_id", 3)
        super().__init__(**kwargs)

    def get_config(self):
        config = super().get_config()
        config["vocabulary"] = self.vocabulary.get_config()
        return config

    def continue_text(self, text, max_new_words=8):
        """The prompt's words (unknown words become `<unk>`) continued
        greedily by up to `max_new_words` words; returns the new words."""
        words = [BOS] + tokenize(text)
        words = words[-(self.sequence_length - max_new_words) :]
        prompt = np.array([self.vocabulary.encode(words)], "int32")
        out = self.generate(prompt, max_length=len(words) + max_new_words)
        return " ".join(self.vocabulary.decode(out[0, len(words) :]))


def tokenize(text):
    return re.findall(r"[a-z]+(?:'[a-z]+)?|[.,;:!?]", text.lower())


def build_model(vocabulary, size="default", train_size=None, epochs=None):
    s = choose(SIZES, size)
    model = RecallLM(
        vocabulary,
        sequence_length=s.length,
        num_layers=s.num_layers,
        hidden_dim=s.hidden_dim,
        num_heads=s.num_heads,
        intermediate_dim=4 * s.hidden_dim,
        bucket_size=s.bucket_size,
        num_hashes=s.num_hashes,
        num_chunks=max(1, s.length // 1024),
        dropout=0.0,
    )
    steps = (epochs or s.epochs) * max(1, (train_size or s.train_examples) // s.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=steps, warmup_target=s.learning_rate, warmup_steps=max(1, steps // 10)
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    )
    return model


def score(model, documents, batch_size=4):
    """Teacher-forced recall accuracy (argmax at the recall positions), the
    chance level, and perplexity over every predicted word."""
    ids, recall = model.vocabulary.encode_documents(documents)
    inputs, targets, recall = ids[:, :-1], ids[:, 1:], recall[:, 1:]
    hits, total, nll, count, examples = 0, 0, 0.0, 0, []
    for start in range(0, len(inputs), batch_size):
        logits = np.asarray(model(inputs[start : start + batch_size]), "float64")
        logits -= logits.max(-1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        target = targets[start : start + batch_size]
        real = target > 0
        picked = np.take_along_axis(log_probs, target[..., None], -1)[..., 0]
        nll -= float(picked[real].sum())
        count += int(real.sum())
        predicted = log_probs.argmax(-1)
        for row in range(len(target)):
            positions = recall[start + row]
            guess, truth = predicted[row][positions], target[row][positions]
            hits += int((guess == truth).sum())
            total += int(positions.sum())
            if not np.array_equal(guess, truth):
                examples.append(
                    (
                        f"document {start + row} (recall after {positions.argmax()} words)",
                        " ".join(model.vocabulary.decode(guess)),
                        " ".join(model.vocabulary.decode(truth)),
                    )
                )
    return {
        "recall_accuracy": hits / max(1, total),
        "chance": 1.0 / len(CODE_WORDS),
        "perplexity": math.exp(nll / max(1, count)),
        "examples": examples,
    }


def train(
    size="default",
    epochs=None,
    batch_size=None,
    train_examples=None,
    seed=0,
    data=None,
    log_dir=None,
    output=None,
    strategy="auto",
    num_cpu_devices=None,
    eval_examples=32,
    verbose=1,
):
    """Trains on generated recall documents (filler from `data`: None or
    "generated", "english", or a text file) and reports recall accuracy and
    perplexity on documents from another seed."""
    s = choose(SIZES, size)
    chosen = distribution(strategy, num_cpu_devices)
    keras.utils.set_random_seed(seed)
    source = data or "generated"
    documents = generate_documents(train_examples or s.train_examples, s.length, seed, source)
    held_out = generate_documents(eval_examples, s.length, seed + 1000, source)
    vocabulary = Vocabulary.build(documents)
    ids, _ = vocabulary.encode_documents(documents)
    validation = max(1, len(ids) // 16)
    batch_size = batch_size or s.batch_size
    epochs = epochs or s.epochs

    def part(start, stop, shuffle_seed=None):
        return batched(ids[start:stop, :-1], ids[start:stop, 1:], batch_size, shuffle_seed)

    model, history, seconds, replicas = fit(
        lambda: build_model(vocabulary, size=size, train_size=len(ids), epochs=epochs),
        part(validation, len(ids), seed),
        part(0, validation),
        epochs,
        chosen,
        log_dir=log_dir,
        verbose=verbose,
    )
    result = score(model, held_out)
    save(model, output)
    result.update(
        model=model, history=history, train_seconds=seconds, replicas=replicas,
        eval_examples=len(held_out),
    )
    return result


def load(path):
    model = keras.models.load_model(path)
    if not isinstance(model, RecallLM):
        raise ValueError(f"{path} is not a reformer_lm model (a RecallLM).")
    return model


def evaluate(model_path, examples=32, seed=0, data=None):
    model = load(model_path)
    documents = generate_documents(examples, model.sequence_length, seed + 1000, data or "generated")
    result = score(model, documents)
    result["eval_examples"] = len(documents)
    return result


def predict(model_path, texts, max_new_words=8):
    """Chat-style: each text continued by the model, as `text -> continuation`."""
    model = load(model_path)
    return [f"{text} -> {model.continue_text(text, max_new_words)}" for text in texts]
