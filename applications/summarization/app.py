"""Model, training, evaluation and prediction for `summarization`."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from rouge_score import rouge_scorer

from applications._common import batched, choose, distribution, fit, save
from applications.summarization.data import (
    MAX_ARTICLE_WORDS,
    MAX_SUMMARY_WORDS,
    load_jsonl,
    make_dataset,
)
from keras_seq.models import TransformerLM
from keras_seq.text import Vocabulary

SEQUENCE_LENGTH = MAX_ARTICLE_WORDS + MAX_SUMMARY_WORDS + 4


@dataclasses.dataclass(frozen=True)
class Size:
    train_examples: int
    epochs: int
    batch_size: int
    hidden_dim: int
    num_layers: int
    learning_rate: float


SIZES = {
    "fast": Size(4_000, 4, 64, 64, 2, 2e-3),
    "default": Size(30_000, 10, 64, 128, 3, 1e-3),
}


@keras.saving.register_keras_serializable(package="applications")
class Summarizer(TransformerLM):
    """A decoder-only LM over `article <eos> summary <eos>` that carries its
    word vocabulary; `summarize` prompts with `article <eos>`."""

    def __init__(self, vocabulary, **kwargs):
        if isinstance(vocabulary, dict):
            vocabulary = Vocabulary.from_config(vocabulary)
        self.vocabulary = vocabulary
        kwargs.setdefault("vocabulary_size", len(vocabulary))
        kwargs.setdefault("sequence_length", SEQUENCE_LENGTH)
        kwargs.setdefault("end_id", Vocabulary.EOS)
        super().__init__(**kwargs)

    def summarize(self, articles, batch_size=256):
        single = isinstance(articles, str)
        articles = [articles] if single else list(articles)
        summaries = []
        for start in range(0, len(articles), batch_size):
            chunk = articles[start : start + batch_size]
            prompts = self.vocabulary.encode(chunk, add_eos=True, max_length=self.sequence_length - 1, truncate=True)
            generated = self.generate(prompts, self.sequence_length)
            for prompt, row in zip(prompts, generated):
                summaries.append(self.vocabulary.decode(row[int(np.count_nonzero(prompt)) :]))
        return summaries[0] if single else summaries

    def get_config(self):
        config = super().get_config()
        config["vocabulary"] = self.vocabulary.get_config()
        return config


def language_model_batch(vocabulary, articles, summaries, length=SEQUENCE_LENGTH):
    """Inputs, next-token targets and loss weights for `article <eos> summary <eos>`.

    The weights are 1 exactly where the target is a summary token (or the
    final `<eos>`), so the article is context the model is never asked to
    predict (seed 10.3).
    """
    rows = np.zeros((len(articles), length + 1), "int32")
    weights = np.zeros((len(articles), length), "float32")
    for i, (article, summary) in enumerate(zip(articles, summaries)):
        a = vocabulary.encode(article, add_eos=True, pad=False)
        s = vocabulary.encode(summary, add_eos=True, pad=False)
        sequence = np.concatenate([a, s])[: length + 1]
        rows[i, : len(sequence)] = sequence
        weights[i, len(a) - 1 : len(sequence) - 1] = 1.0
    return rows[:, :-1], rows[:, 1:], weights


def build_vocabulary(articles, summaries):
    return Vocabulary.build(list(articles) + list(summaries), level="word")


def build_model(vocabulary, size="default", train_size=None, epochs=None):
    s = choose(SIZES, size)
    model = Summarizer(
        vocabulary,
        num_layers=s.num_layers,
        hidden_dim=s.hidden_dim,
        num_heads=4,
        intermediate_dim=4 * s.hidden_dim,
        dropout=0.1,
    )
    steps = (epochs or s.epochs) * max(1, (train_size or s.train_examples) // s.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=steps, warmup_target=s.learning_rate, warmup_steps=min(300, steps // 5)
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=["accuracy"],
    )
    return model


def rouge(summaries, references):
    """Mean ROUGE-1/2/L F1 (rouge-score) over the pairs."""
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    scores = [scorer.score(r, s) for s, r in zip(summaries, references)]
    return {k: float(np.mean([x[k].fmeasure for x in scores])) for k in ("rouge1", "rouge2", "rougeL")}


def score(model, articles, references):
    summaries = model.summarize(articles)
    result = rouge(summaries, references)
    result["exact_match"] = float(np.mean([s == r for s, r in zip(summaries, references)]))
    result["examples"] = [(a, s, r) for a, s, r in zip(articles, summaries, references) if s != r]
    return result


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
    eval_examples=1000,
    verbose=1,
):
    """Trains on generated reports (or a JSONL file) and reports ROUGE."""
    s = choose(SIZES, size)
    chosen = distribution(strategy, num_cpu_devices)
    keras.utils.set_random_seed(seed)
    if data:
        pairs = load_jsonl(data)
        order = np.random.default_rng(seed).permutation(len(pairs))
        held = max(1, min(eval_examples, len(pairs) // 10))
        test, train_pairs = [pairs[i] for i in order[:held]], [pairs[i] for i in order[held:]]
    else:
        train_pairs, test = make_dataset(train_examples or s.train_examples, eval_examples, seed=seed)
    articles, summaries = [p[0] for p in train_pairs], [p[1] for p in train_pairs]
    vocabulary = build_vocabulary(articles, summaries)
    inputs, targets, weights = language_model_batch(vocabulary, articles, summaries)
    validation = max(1, len(articles) // 20)
    batch_size = batch_size or s.batch_size

    def part(start, stop, shuffle_seed=None):
        return batched(
            inputs[start:stop], targets[start:stop], batch_size, shuffle_seed, weights[start:stop]
        )

    epochs = epochs or s.epochs
    model, history, seconds, replicas = fit(
        lambda: build_model(vocabulary, size=size, train_size=len(articles), epochs=epochs),
        part(validation, len(articles), seed),
        part(0, validation),
        epochs,
        chosen,
        log_dir=log_dir,
        verbose=verbose,
    )
    result = score(model, [p[0] for p in test], [p[1] for p in test])
    save(model, output)
    result.update(model=model, history=history, train_seconds=seconds, replicas=replicas, eval_examples=len(test))
    return result


def load(path):
    model = keras.models.load_model(path)
    if not isinstance(model, Summarizer):
        raise ValueError(f"{path} is not a summarization model (a Summarizer).")
    return model


def evaluate(model_path, examples=1000, seed=0, data=None):
    pairs = load_jsonl(data) if data else make_dataset(1, examples, seed=seed)[1]
    result = score(load(model_path), [p[0] for p in pairs], [p[1] for p in pairs])
    result["eval_examples"] = len(pairs)
    return result


def predict(model_path, articles):
    return load(model_path).summarize(list(articles))
