"""Model, training, evaluation and prediction for `summarization`."""

from __future__ import annotations

import numpy as np

from applications import contract
from applications.summarization import SIZES
from applications.summarization.data import (
    MAX_ARTICLE_WORDS,
    MAX_SUMMARY_WORDS,
    load_jsonl,
    make_dataset,
)
from keras_seq.metrics import rouge_l, rouge_n
from keras_seq.models import TransformerLM
from keras_seq.text import Vocabulary

SEQUENCE_LENGTH = MAX_ARTICLE_WORDS + MAX_SUMMARY_WORDS + 4


@contract.serializable
class Summarizer(TransformerLM):
    """A decoder-only LM over `article <eos> summary <eos>` that carries its
    word vocabulary; `summarize` prompts with `article <eos>`."""

    def __init__(self, vocabulary, **kwargs):
        vocabulary = contract.vocabulary(vocabulary)
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
        return {**super().get_config(), "vocabulary": self.vocabulary.get_config()}


load = contract.loader("summarization", Summarizer)


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


def build_model(vocabulary, size="default", steps=None):
    """A `Summarizer` compiled with Adam, warm-up and cosine decay over
    `steps` (default: the size's data and epochs)."""
    s = contract.choose(SIZES, size)
    model = Summarizer(vocabulary, **contract.transformer_options(s))
    steps = steps or s.epochs * contract.steps_per_epoch(s.train_examples, s.batch_size)
    rate = contract.schedule(s.learning_rate, steps, warmup_steps=min(300, steps // 5))
    return contract.compile_classifier(model, rate, clipnorm=1.0, weighted=True)


def rouge(summaries, references):
    """Mean ROUGE-1/2/L F1 (`keras_seq.metrics`, equal to rouge-score's) over the pairs."""
    scores = [
        (rouge_n(s, r, 1)[2], rouge_n(s, r, 2)[2], rouge_l(s, r)[2]) for s, r in zip(summaries, references)
    ]
    return {k: float(np.mean([x[i] for x in scores])) for i, k in enumerate(("rouge1", "rouge2", "rougeL"))}


def score(model, articles, references):
    summaries = model.summarize(articles)
    result = rouge(summaries, references)
    result["exact_match"] = float(np.mean([s == r for s, r in zip(summaries, references)]))
    result["examples"] = [(a, s, r) for a, s, r in zip(articles, summaries, references) if s != r]
    return result


def describe(result):
    """The metric line of a `train`/`evaluate` result."""
    return (
        f"ROUGE-1 {result['rouge1']:.4f}, ROUGE-2 {result['rouge2']:.4f}, ROUGE-L {result['rougeL']:.4f}, "
        f"exact match {100 * result['exact_match']:.2f}%"
    )


def train(size="default", *, data=None, eval_examples=1000, **options):
    """Trains on generated reports (or a JSONL file, 10% held out) and
    reports ROUGE and exact match. `options`: the common training options of
    `applications.contract.Training`."""
    run = contract.Training(SIZES, size, **options)
    generate = lambda: make_dataset(run.train_examples, eval_examples, seed=run.seed)  # noqa: E731
    train_pairs, test = run.examples(data, load_jsonl, generate, eval_examples)
    articles, summaries = [p[0] for p in train_pairs], [p[1] for p in train_pairs]
    vocabulary = build_vocabulary(articles, summaries)
    inputs, targets, weights = language_model_batch(vocabulary, articles, summaries)
    train_data, validation, steps = run.datasets(inputs, targets, weights)
    model, _ = run.fit(lambda: build_model(vocabulary, size=size, steps=steps), train_data, validation_data=validation)
    result = score(model, [p[0] for p in test], [p[1] for p in test])
    run.save(model)
    return run.result(model, len(test), **result)


def evaluate(model_path, examples=1000, seed=0, data=None):
    """ROUGE and exact match of a saved model on held-out reports (or a JSONL file)."""
    contract.check_count("examples", examples, allow_none=False)
    pairs = load_jsonl(data) if data else make_dataset(1, examples, seed=seed)[1]
    result = score(load(model_path), [p[0] for p in pairs], [p[1] for p in pairs])
    result["eval_examples"] = len(pairs)
    return result


def predict(model_path, articles):
    """The summaries of `articles`."""
    return load(model_path).summarize(contract.check_inputs(articles, "articles"))
