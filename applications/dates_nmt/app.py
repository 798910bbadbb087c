"""Model building, training, evaluation and prediction for `dates_nmt`."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from applications._common import batched, choose, distribution, fit, save
from applications.dates_nmt.data import TARGET_LENGTH, generate_pairs, load_tsv
from keras_seq.callbacks import AttentionHeatmap
from keras_seq.models import AttentionSeq2Seq
from keras_seq.text import Vocabulary, shift_right

TARGET_TOKENS = list("0123456789-")
EVAL_SEED_OFFSET = 1000
HEATMAP_EXAMPLES = ["3 May 1979", "tuesday march 7 1995", "08.04.21", "5/30/09"]


@dataclasses.dataclass(frozen=True)
class Size:
    train_examples: int
    epochs: int
    batch_size: int
    embedding_dim: int
    encoder_units: int
    decoder_units: int
    attention_units: int
    learning_rate: float


SIZES = {
    # What the test suite trains: well under a minute on 2 cores.
    "fast": Size(6_000, 4, 64, 16, 32, 64, 32, 5e-3),
    # What `make demo` trains and RESULTS.md reports. The course's size (Bi-LSTM of 32 units
    # per direction, a 64-unit decoder) at Adam 5e-3 passes 99% held-out exact match within
    # about one epoch (benchmarks/time_to_accuracy.py); three epochs leave a margin.
    "default": Size(50_000, 3, 128, 32, 32, 64, 32, 5e-3),
}


def build_vocabularies(sources):
    """Character vocabulary of the sources; the target side is digits and '-'."""
    source_vocabulary = Vocabulary.build(sources, level="char")
    return source_vocabulary, Vocabulary(TARGET_TOKENS, level="char")


def build_model(source_vocabulary, target_vocabulary, size="default"):
    """An `AttentionSeq2Seq` carrying its vocabularies, compiled for training."""
    s = choose(SIZES, size)
    model = AttentionSeq2Seq(
        len(source_vocabulary),
        len(target_vocabulary),
        embedding_dim=s.embedding_dim,
        encoder_units=s.encoder_units,
        decoder_units=s.decoder_units,
        attention_units=s.attention_units,
        start_id=Vocabulary.SOS,
        end_id=Vocabulary.EOS,
        source_vocabulary=source_vocabulary,
        target_vocabulary=target_vocabulary,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(s.learning_rate, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
        metrics=["accuracy"],
    )
    return model


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
    eval_examples=2000,
    verbose=1,
    decoding=None,
):
    """Trains the date translator and reports held-out exact match.

    Args:
        size: `"fast"` or `"default"`.
        epochs, batch_size, train_examples: override the size's values.
        seed: seed of the embedded generator (held-out data uses
            `seed + 1000` and excludes every training source).
        data: optional path to a TSV of `source<TAB>YYYY-MM-DD` pairs used
            instead of the embedded generator.
        log_dir: TensorBoard directory (loss, accuracy, attention heatmaps).
        output: where to save the `.keras` model.
        strategy, num_cpu_devices: see `keras_seq.distribute.get_strategy`.
        eval_examples: size of the held-out set.

    Returns:
        dict with `model`, `history`, `exact_match`, `train_seconds`,
        `replicas` and the held-out `examples` (source, prediction, target)
        that were wrong.
    """
    s = choose(SIZES, size)
    chosen = distribution(strategy, num_cpu_devices)
    keras.utils.set_random_seed(seed)
    if data:
        sources, targets = load_tsv(data)
    else:
        pairs = generate_pairs(train_examples or s.train_examples, seed=seed)
        sources, targets = [p[0] for p in pairs], [p[1] for p in pairs]
    eval_sources, eval_targets = held_out_set(eval_examples, seed, exclude=sources)

    vocabularies = build_vocabularies(sources)
    inputs, target_ids = encode_pairs(vocabularies, sources, targets)
    validation = max(1, len(sources) // 20)
    batch_size = batch_size or s.batch_size

    def part(start, stop, shuffle_seed=None):
        return batched(
            {k: v[start:stop] for k, v in inputs.items()}, target_ids[start:stop], batch_size, shuffle_seed
        )

    callbacks = [lambda model: AttentionHeatmap(log_dir, heatmap_examples)] if log_dir else []
    model, history, seconds, replicas = fit(
        lambda: build_model(*vocabularies, size=size),
        part(validation, len(sources), seed),
        part(0, validation),
        epochs or s.epochs,
        chosen,
        log_dir=log_dir,
        callbacks=callbacks,
        verbose=verbose,
    )
    accuracy, predictions = exact_match(model, eval_sources, eval_targets, decoding=decoding)
    save(model, output)
    wrong = [(s_, p, t) for s_, p, t in zip(eval_sources, predictions, eval_targets) if p != t]
    return {
        "model": model,
        "history": history,
        "exact_match": accuracy,
        "eval_examples": len(eval_sources),
        "train_seconds": seconds,
        "examples": wrong,
        "replicas": replicas,
    }


def load(path):
    """Loads a saved date translator."""
    model = keras.models.load_model(path)
    if not isinstance(model, AttentionSeq2Seq) or model.source_vocabulary is None:
        raise ValueError(f"{path} is not a dates_nmt model (an AttentionSeq2Seq with vocabularies).")
    return model


def evaluate(model_path, examples=2000, seed=0, data=None, decoding=None):
    """Exact match of a saved model on held-out generated dates or a TSV."""
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

    model = load(model_path)
    outputs = model.translate(list(texts), max_length=TARGET_LENGTH + 1, **(decoding or {}))
    if heatmap:
        weights, source_labels, target_labels = heatmap_examples(model, texts[:1])[0]
        with open(heatmap, "wb") as f:
            f.write(figure_to_png(plot_attention(weights, source_labels, target_labels, title=texts[0])))
    return outputs
