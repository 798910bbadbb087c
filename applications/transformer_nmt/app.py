"""Model, training, evaluation and prediction for `transformer_nmt`."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import sacrebleu

from applications._common import batched, choose, distribution, fit, save
from applications.transformer_nmt.data import load_tsv, make_dataset
from keras_seq.models import Transformer
from keras_seq.text import Vocabulary, shift_right
from keras_seq.text.wordpiece import train_wordpiece, wordpiece_tokenizer


@dataclasses.dataclass(frozen=True)
class Size:
    train_examples: int
    epochs: int
    batch_size: int
    hidden_dim: int
    num_layers: int
    source_vocabulary_size: int
    learning_rate: float


SIZES = {
    "fast": Size(6_000, 3, 64, 64, 1, 800, 2e-3),
    "default": Size(80_000, 6, 64, 128, 3, 2000, 1e-3),
}


@keras.saving.register_keras_serializable(package="applications")
class Translator(Transformer):
    """A `Transformer` that carries its source WordPiece vocabulary and target
    word vocabulary, so the saved `.keras` file translates strings on its own."""

    def __init__(self, source_vocabulary, target_vocabulary, **kwargs):
        self.source_vocabulary = list(source_vocabulary)
        if isinstance(target_vocabulary, dict):
            target_vocabulary = Vocabulary.from_config(target_vocabulary)
        self.target_vocabulary = target_vocabulary
        kwargs.setdefault("encoder_vocabulary_size", len(self.source_vocabulary))
        kwargs.setdefault("decoder_vocabulary_size", len(target_vocabulary))
        super().__init__(**kwargs)

    @property
    def tokenizer(self):
        # Kept out of Keras's state tracking: it is rebuilt from the vocabulary.
        if "_tokenizer" not in self.__dict__:
            object.__setattr__(self, "_tokenizer", wordpiece_tokenizer(self.source_vocabulary))
        return self.__dict__["_tokenizer"]

    def encode_sources(self, texts):
        rows = [np.asarray(r) for r in self.tokenizer(list(texts))]
        width = min(max(len(r) for r in rows), self.sequence_length)
        ids = np.zeros((len(rows), width), "int32")
        for i, row in enumerate(rows):
            ids[i, : min(len(row), width)] = row[:width]
        return ids

    def translate(self, texts, max_length=None, batch_size=500, **decoding):
        """Translations of `texts`; `decoding` options go to `generate`
        (e.g. `strategy="beam", beam_width=4, length_penalty=0.6`)."""
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        max_length = max_length or self.sequence_length - 1
        outputs = []
        for start in range(0, len(texts), batch_size):
            ids = self.encode_sources(texts[start : start + batch_size])
            outputs.extend(self.target_vocabulary.decode(self.generate(ids, max_length, **decoding)))
        return outputs[0] if single else outputs

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "source_vocabulary": self.source_vocabulary,
                "target_vocabulary": self.target_vocabulary.get_config(),
            }
        )
        return config


# tensorflow-text's WordPiece learner is pure Python (about 3 s per 1,000
# sentences of this corpus here); learning on a sample keeps it near 30 s.
# Pieces that are rarer in the sample fall back to shorter pieces.
WORDPIECE_SAMPLE = 10_000


def build_vocabularies(sources, targets, size="default"):
    """WordPiece vocabulary of (a sample of) the sources, word vocabulary of the targets."""
    s = choose(SIZES, size)
    source_vocabulary = train_wordpiece(sources[:WORDPIECE_SAMPLE], s.source_vocabulary_size)
    return source_vocabulary, Vocabulary.build(targets, level="word")


def build_model(source_vocabulary, target_vocabulary, size="default", train_size=None, epochs=None):
    """A `Translator` compiled with warm-up + cosine-decayed Adam."""
    s = choose(SIZES, size)
    model = Translator(
        source_vocabulary,
        target_vocabulary,
        sequence_length=64,
        num_encoder_layers=s.num_layers,
        num_decoder_layers=s.num_layers,
        hidden_dim=s.hidden_dim,
        num_heads=4,
        intermediate_dim=4 * s.hidden_dim,
        dropout=0.1,
    )
    steps = (epochs or s.epochs) * max(1, (train_size or s.train_examples) // s.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=steps, warmup_target=s.learning_rate, warmup_steps=min(500, steps // 5)
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
        metrics=["accuracy"],
    )
    return model


def encode_pairs(model, sources, targets):
    """`(inputs, target ids)` for `model.fit`; targets end with `<eos>`."""
    encoder_tokens = model.encode_sources(sources)
    target_ids = model.target_vocabulary.encode(targets, add_eos=True)
    return (
        {"encoder_tokens": encoder_tokens, "decoder_tokens": np.asarray(shift_right(target_ids, Vocabulary.SOS))},
        target_ids,
    )


def score(model, sources, targets, decoding=None):
    """Corpus BLEU (sacrebleu, 13a) and exact match of the translations
    (greedy unless `decoding` options say otherwise)."""
    hypotheses = model.translate(sources, **(decoding or {}))
    bleu = sacrebleu.corpus_bleu(hypotheses, [list(targets)])
    exact = float(np.mean([h == t for h, t in zip(hypotheses, targets)]))
    wrong = [(s, h, t) for s, h, t in zip(sources, hypotheses, targets) if h != t]
    return {"bleu": bleu.score, "exact_match": exact, "examples": wrong}


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
    """Trains on generated number/date translations (or a TSV corpus) and
    reports corpus BLEU and exact match on the held-out number ranges."""
    s = choose(SIZES, size)
    chosen = distribution(strategy, num_cpu_devices)
    keras.utils.set_random_seed(seed)
    if data:
        pairs = load_tsv(data)
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(pairs))
        held = max(1, min(eval_examples, len(pairs) // 10))
        test = [pairs[i] for i in order[:held]]
        train_pairs = [pairs[i] for i in order[held:]]
    else:
        train_pairs, test = make_dataset(train_examples or s.train_examples, eval_examples, seed=seed)
    sources, targets = [p[0] for p in train_pairs], [p[1] for p in train_pairs]
    vocabularies = build_vocabularies(sources, targets, size)
    # An uncompiled twin encodes the data; the trained model is built under the strategy.
    encoder = Translator(*vocabularies, sequence_length=64)
    inputs, target_ids = encode_pairs(encoder, sources, targets)
    validation = max(1, len(sources) // 20)
    batch_size = batch_size or s.batch_size

    def part(start, stop, shuffle_seed=None):
        return batched(
            {k: v[start:stop] for k, v in inputs.items()}, target_ids[start:stop], batch_size, shuffle_seed
        )

    epochs = epochs or s.epochs
    model, history, seconds, replicas = fit(
        lambda: build_model(*vocabularies, size=size, train_size=len(sources), epochs=epochs),
        part(validation, len(sources), seed),
        part(0, validation),
        epochs,
        chosen,
        log_dir=log_dir,
        verbose=verbose,
    )
    result = score(model, [p[0] for p in test], [p[1] for p in test], decoding)
    save(model, output)
    result.update(
        model=model, history=history, train_seconds=seconds, replicas=replicas, eval_examples=len(test)
    )
    return result


def load(path):
    model = keras.models.load_model(path)
    if not isinstance(model, Translator):
        raise ValueError(f"{path} is not a transformer_nmt model (a Translator).")
    return model


def evaluate(model_path, examples=2000, seed=0, data=None, decoding=None):
    model = load(model_path)
    if data:
        pairs = load_tsv(data)
    else:
        _, pairs = make_dataset(1, examples, seed=seed)
    result = score(model, [p[0] for p in pairs], [p[1] for p in pairs], decoding)
    result["eval_examples"] = len(pairs)
    return result


def predict(model_path, texts, decoding=None):
    """`source<TAB>translation` lines."""
    texts = list(texts)
    return [f"{t}\t{o}" for t, o in zip(texts, load(model_path).translate(texts, **(decoding or {})))]
