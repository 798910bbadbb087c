"""Model, training, evaluation and prediction for `reformer_lm`."""

from __future__ import annotations

import math
import re

import numpy as np

from applications import contract
from applications.reformer_lm import SIZES
from applications.reformer_lm.data import (
    BOS,
    CODE_WORDS,
    Vocabulary,
    generate_documents,
)
from keras_seq.models import ReformerLM


@contract.serializable
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
        greedily by up to `max_new_words` words; returns the new words.
        Prompts should look like the training documents: the code words
        and keys, then filler (at least ~100 words: the model never saw the
        keys asked sooner, and answers "." when they are), then
        `code : <key>`."""
        words = [BOS] + tokenize(text)
        words = words[-(self.sequence_length - max_new_words) :]
        prompt = np.array([self.vocabulary.encode(words)], "int32")
        out = self.generate(prompt, max_length=len(words) + max_new_words)
        return " ".join(self.vocabulary.decode(out[0, len(words) :]))


load = contract.loader("reformer_lm", RecallLM)


def tokenize(text):
    return re.findall(r"[a-z]+(?:'[a-z]+)?|[.,;:!?]", text.lower())


def stages(size, train_examples=None, epochs=None, batch_size=None):
    """The `(length, documents, batch_size, epochs)` training stages of a size;
    the options override the final stage."""
    s = contract.choose(SIZES, size)
    final = (s.length, train_examples or s.train_examples, batch_size or s.batch_size, epochs or s.epochs)
    return tuple(s.curriculum) + (final,)


def total_steps(plan):
    """Optimizer steps of `stages(...)` (1/16 of each stage's documents
    validate)."""
    return sum(epochs * contract.steps_per_epoch(docs - max(1, docs // 16), batch) for _, docs, batch, epochs in plan)


def build_model(vocabulary, size="default", steps=None):
    """A `RecallLM` of `size`, compiled with Adam and a warm-up + cosine
    schedule over `steps` (default: the size's curriculum).

    The model uses `token_shift=True` and no position features: the
    recall is "find the earlier copy of this key and read the word before
    it", which LSH attention with shared queries/keys does reliably when the
    previous word is part of each position's input (identical keys hash
    alike in every round, at any length); without position features the
    same weights work on 128 and on 8,192 words."""
    s = contract.choose(SIZES, size)
    model = RecallLM(
        vocabulary, sequence_length=s.length, intermediate_dim=4 * s.hidden_dim, num_chunks=max(1, s.length // 1024),
        dropout=0.0, position="none", token_shift=True,
        **s.pick("num_layers", "hidden_dim", "num_heads", "bucket_size", "num_hashes"),
    )  # fmt: skip
    if steps is None:
        steps = total_steps(stages(size))
    rate = contract.schedule(s.learning_rate, steps, warmup_steps=max(1, steps // 20))
    return contract.compile_classifier(model, rate, ignore_class=0, clipnorm=1.0, accuracy=False)


def score(model, documents, batch_size=4, num_hashes=None):
    """Teacher-forced recall accuracy (argmax at the recall positions), the
    chance level, and perplexity over every predicted word; with
    `num_hashes`, of the model re-hashed with that many LSH rounds."""
    if num_hashes is not None and num_hashes != model.num_hashes:
        model = model.with_num_hashes(num_hashes)
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
        "num_hashes": model.num_hashes,
    }


def describe(result):
    """The metric line of a `train`/`evaluate` result."""
    return (
        f"recall accuracy {100 * result['recall_accuracy']:.2f}% (chance {100 * result['chance']:.2f}%; "
        f"{result['num_hashes']} hash rounds), perplexity {result['perplexity']:.2f}"
    )


def train(size="default", *, data=None, eval_examples=32, **options):
    """Trains on generated recall documents (filler from `data`: None or
    "generated", "english", or a text file) through the size's curriculum
    (`stages`: short documents first, `model.fit` per stage, one contract.schedule)
    and reports recall accuracy and perplexity on held-out documents of the
    final length from another seed. `epochs`, `batch_size` (per replica) and
    `train_examples` of `options` (the common training options of
    `applications.contract.Training`) apply to the final stage."""
    run = contract.Training(SIZES, size, **options)
    s = run.size
    source = data or "generated"
    plan = stages(size, run.train_examples, run.epochs, run.per_replica_batch_size)
    corpora = [
        generate_documents(docs, length, run.seed + 100 * i, source)
        for i, (length, docs, _, _) in enumerate(plan)
    ]
    held_out = generate_documents(eval_examples, s.length, run.seed + 1000, source)
    vocabulary = Vocabulary.build([doc for corpus in corpora for doc in corpus])
    steps = total_steps(plan)
    model = lambda: build_model(vocabulary, size=size, steps=steps)  # noqa: E731
    for (length, _, batch, stage_epochs), documents in zip(plan, corpora):
        ids, _ = vocabulary.encode_documents(documents)
        validation = max(1, len(ids) // 16)
        batch *= run.replicas
        if run.verbose:
            print(f"stage: {len(ids) - validation} documents of {length} words, {stage_epochs} epoch(s)")
        model, _ = run.fit(
            model,
            contract.batched(ids[validation:, :-1], ids[validation:, 1:], batch, run.seed),
            validation_data=contract.batched(ids[:validation, :-1], ids[:validation, 1:], batch),
            epochs=stage_epochs,
            stage=f"length_{length}",
        )
    result = score(model, held_out, num_hashes=s.eval_hashes)
    run.save(model)
    return run.result(model, len(held_out), **result)


def evaluate(model_path, examples=32, seed=0, data=None):
    """Recall accuracy and perplexity of a saved model on held-out documents."""
    contract.check_count("examples", examples, allow_none=False)
    model = load(model_path)
    documents = generate_documents(examples, model.sequence_length, seed + 1000, data or "generated")
    hashes = max(model.num_hashes, SIZES["default"].eval_hashes)
    result = score(model, documents, num_hashes=hashes)
    result["eval_examples"] = len(documents)
    return result


def predict(model_path, texts, max_new_words=8):
    """Chat-style: each text continued by the model (re-hashed with the
    evaluation's LSH rounds), as `text -> continuation`."""
    texts = contract.check_inputs(texts, "texts")
    contract.check_count("max_new_words", max_new_words, allow_none=False)
    model = load(model_path)
    model = model.with_num_hashes(max(model.num_hashes, SIZES["default"].eval_hashes))
    return [f"{text} -> {model.continue_text(text, max_new_words)}" for text in texts]
