"""Model building, training, evaluation and prediction for `dates_nmt`."""

from __future__ import annotations

import sys

import numpy as np

from applications import contract
from applications.dates_nmt import SIZES
from applications.dates_nmt.data import TARGET_LENGTH, generate_pairs, load_tsv
from keras_seq.callbacks import AttentionHeatmap
from keras_seq.models import AttentionSeq2Seq
from keras_seq.text import Vocabulary, shift_right

TARGET_TOKENS = list("0123456789-")
EVAL_SEED_OFFSET = 1000
HEATMAP_EXAMPLES = ["3 May 1979", "tuesday march 7 1995", "08.04.21", "5/30/09"]


def build_vocabularies(sources):
    """Character vocabulary of the sources; the target side is digits and '-'."""
    source_vocabulary = Vocabulary.build(sources, level="char")
    return source_vocabulary, Vocabulary(TARGET_TOKENS, level="char")


def build_model(source_vocabulary, target_vocabulary, size="default"):
    """An `AttentionSeq2Seq` carrying its vocabularies, compiled for training."""
    s = contract.choose(SIZES, size)
    model = AttentionSeq2Seq(
        len(source_vocabulary), len(target_vocabulary), start_id=Vocabulary.SOS, end_id=Vocabulary.EOS,
        source_vocabulary=source_vocabulary, target_vocabulary=target_vocabulary,
        **s.pick("embedding_dim", "encoder_units", "decoder_units", "attention_units"),
    )  # fmt: skip
    return contract.compile_classifier(model, s.learning_rate, ignore_class=0, clipnorm=1.0)


def encode_pairs(model_or_vocabs, sources, targets):
    """Returns `(inputs dict, target ids)` for `model.fit`."""
    source_vocabulary, target_vocabulary = model_or_vocabs
    encoder_tokens = source_vocabulary.encode(sources, add_eos=True)
    target_ids = target_vocabulary.encode(targets, add_eos=True, max_length=TARGET_LENGTH + 1)
    decoder_tokens = np.asarray(shift_right(target_ids, Vocabulary.SOS))
    return {"encoder_tokens": encoder_tokens, "decoder_tokens": decoder_tokens}, target_ids


def exact_match(model, sources, targets, batch_size=500, decoding=None):
    """Share of `sources` whose translation (greedy unless `decoding` options
    say otherwise) equals the target exactly."""
    predictions = []
    for start in range(0, len(sources), batch_size):
        predictions.extend(
            model.translate(sources[start : start + batch_size], max_length=TARGET_LENGTH + 1, **(decoding or {}))
        )
    correct = [p == t for p, t in zip(predictions, targets)]
    return float(np.mean(correct)), predictions


def heatmap_examples(model, texts=HEATMAP_EXAMPLES):
    """`(weights, source_labels, target_labels)` for `AttentionHeatmap`."""
    outputs, attention = model.translate(list(texts), max_length=TARGET_LENGTH + 1, return_attention=True)
    examples = []
    for text, output, weights in zip(texts, outputs, attention):
        source_labels = model.source_vocabulary.tokenize(text) + ["<eos>"]
        target_labels = list(output) + ["<eos>"]
        examples.append((weights, source_labels, target_labels))
    return examples


def held_out_set(n, seed, exclude=()):
    """`n` pairs drawn with `seed + EVAL_SEED_OFFSET`, none of whose sources is in `exclude`."""
    exclude = set(exclude)
    pairs = [p for p in generate_pairs(n * 2, seed=seed + EVAL_SEED_OFFSET) if p[0] not in exclude]
    pairs = pairs[:n]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def train(size="default", *, data=None, eval_examples=2000, decoding=None, **options):
    """Trains the date translator and reports held-out exact match.

    Args:
        size: a key of `SIZES` (`"fast"` or `"default"`).
        data: optional path to a TSV of `source<TAB>YYYY-MM-DD` pairs used
            instead of the embedded generator (10% held out).
        eval_examples: size of the held-out set (generated with
            `seed + 1000`, excluding every training source).
        decoding: `generate` options for scoring (default greedy).
        **options: the common training options of
            `applications.contract.Training` (`epochs`, `batch_size`,
            `train_examples`, `seed`, `log_dir`, `output`, `strategy`, ...).

    Returns:
        dict with `model`, `history`, `exact_match`, `train_seconds`,
        `replicas`, `saved` and the held-out `examples` (source,
        prediction, target) that were wrong.
    """
    run = contract.Training(SIZES, size, **options)
    if data:
        pairs, held = contract.held_out_split(list(zip(*load_tsv(data))), eval_examples, run.seed)
        sources, targets = [p[0] for p in pairs], [p[1] for p in pairs]
        eval_sources, eval_targets = [p[0] for p in held], [p[1] for p in held]
    else:
        pairs = generate_pairs(run.train_examples, seed=run.seed)
        sources, targets = [p[0] for p in pairs], [p[1] for p in pairs]
        eval_sources, eval_targets = held_out_set(eval_examples, run.seed, exclude=sources)

    vocabularies = build_vocabularies(sources)
    inputs, target_ids = encode_pairs(vocabularies, sources, targets)
    train_data, validation, _ = run.datasets(inputs, target_ids)
    heatmaps = [lambda model: AttentionHeatmap(run.log_dir, heatmap_examples)] if run.log_dir else []
    model, _ = run.fit(
        lambda: build_model(*vocabularies, size=size), train_data, validation_data=validation, callbacks=heatmaps
    )
    accuracy, predictions = exact_match(model, eval_sources, eval_targets, decoding=decoding)
    run.save(model)
    wrong = [(s_, p, t) for s_, p, t in zip(eval_sources, predictions, eval_targets) if p != t]
    return run.result(model, len(eval_sources), exact_match=accuracy, examples=wrong)


def describe(result):
    """The metric line of a `train`/`evaluate` result."""
    return f"exact match {100 * result['exact_match']:.2f}%"


# A date translator is an `AttentionSeq2Seq` that carries its vocabularies.
load = contract.loader("dates_nmt", check=lambda m: isinstance(m, AttentionSeq2Seq) and m.source_vocabulary is not None)


def evaluate(model_path, examples=2000, seed=0, data=None, decoding=None):
    """Exact match of a saved model on held-out generated dates or a TSV."""
    contract.check_count("examples", examples, allow_none=False)
    model = load(model_path)
    if data:
        sources, targets = load_tsv(data)
    else:
        sources, targets = held_out_set(examples, seed)
    accuracy, predictions = exact_match(model, sources, targets, decoding=decoding)
    wrong = [(s, p, t) for s, p, t in zip(sources, predictions, targets) if p != t]
    return {"exact_match": accuracy, "eval_examples": len(sources), "examples": wrong}


def predict(model_path, texts, heatmap=None, decoding=None):
    """ISO dates for `texts`; optionally saves the first text's attention as PNG."""
    from keras_seq.callbacks import figure_to_png, plot_attention

    texts = contract.check_inputs(texts, "texts")
    model = load(model_path)
    outputs = model.translate(list(texts), max_length=TARGET_LENGTH + 1, **(decoding or {}))
    if heatmap:
        weights, source_labels, target_labels = heatmap_examples(model, texts[:1])[0]
        with open(heatmap, "wb") as f:
            f.write(figure_to_png(plot_attention(weights, source_labels, target_labels, title=texts[0])))
        print(f"attention heatmap saved to {heatmap}", file=sys.stderr)
    return outputs
