"""Model, training, evaluation and prediction for `transformer_nmt`."""

from __future__ import annotations

import numpy as np

from applications import contract
from applications.transformer_nmt import SIZES
from applications.transformer_nmt.data import load_tsv, make_dataset
from keras_seq.metrics import corpus_bleu
from keras_seq.models import Transformer
from keras_seq.text import Vocabulary, shift_right
from keras_seq.text.tokenizer import WordPieceTokenizer
from keras_seq.text.wordpiece import train_wordpiece


@contract.serializable
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
            object.__setattr__(self, "_tokenizer", WordPieceTokenizer(self.source_vocabulary))
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
load = contract.loader("transformer_nmt", Translator)


WORDPIECE_SAMPLE = 10_000


def build_vocabularies(sources, targets, size="default"):
    """WordPiece vocabulary of (a sample of) the sources, word vocabulary of the targets."""
    s = contract.choose(SIZES, size)
    with contract.stage("learning the WordPiece vocabulary"):
        source_vocabulary = train_wordpiece(sources[:WORDPIECE_SAMPLE], s.source_vocabulary_size)
    return source_vocabulary, Vocabulary.build(targets, level="word")


def build_model(source_vocabulary, target_vocabulary, size="default", steps=None):
    """A `Translator` compiled with Adam, linear warm-up and cosine decay
    over `steps` optimizer steps (default: one pass of the size's data)."""
    s = contract.choose(SIZES, size)
    layers = ("num_encoder_layers", "num_decoder_layers")
    model = Translator(source_vocabulary, target_vocabulary, sequence_length=64, **contract.transformer_options(s, layers))
    steps = steps or s.epochs * contract.steps_per_epoch(s.train_examples, s.batch_size)
    rate = contract.schedule(s.learning_rate, steps, warmup_steps=min(500, steps // 5))
    return contract.compile_classifier(model, rate, ignore_class=0)


def encode_pairs(model, sources, targets):
    """`(inputs, target ids)` for `model.fit`; targets end with `<eos>`."""
    encoder_tokens = model.encode_sources(sources)
    target_ids = model.target_vocabulary.encode(targets, add_eos=True)
    return (
        {"encoder_tokens": encoder_tokens, "decoder_tokens": np.asarray(shift_right(target_ids, Vocabulary.SOS))},
        target_ids,
    )


def score(model, sources, targets, decoding=None):
    """Corpus BLEU (`keras_seq.metrics.corpus_bleu`, sacrebleu's 13a) and
    exact match of the translations (greedy unless `decoding` says otherwise)."""
    hypotheses = model.translate(sources, **(decoding or {}))
    bleu = corpus_bleu(hypotheses, [list(targets)])
    exact = float(np.mean([h == t for h, t in zip(hypotheses, targets)]))
    wrong = [(s, h, t) for s, h, t in zip(sources, hypotheses, targets) if h != t]
    return {"bleu": bleu.score, "exact_match": exact, "examples": wrong}


def describe(result):
    """The metric line of a `train`/`evaluate` result."""
    return f"BLEU {result['bleu']:.2f}, exact match {100 * result['exact_match']:.2f}%"


def train(size="default", *, data=None, eval_examples=2000, decoding=None, **options):
    """Trains on generated number/date translations (or a TSV corpus, 10%
    held out) and reports corpus BLEU and exact match on the held-out number
    ranges. `options`: the common training options of
    `applications.contract.Training` (`epochs`, `batch_size`, `seed`, ...)."""
    run = contract.Training(SIZES, size, **options)
    generate = lambda: make_dataset(run.train_examples, eval_examples, seed=run.seed)  # noqa: E731
    train_pairs, test = run.examples(data, load_tsv, generate, eval_examples)
    sources, targets = [p[0] for p in train_pairs], [p[1] for p in train_pairs]
    vocabularies = build_vocabularies(sources, targets, size)
    # An uncompiled twin encodes the data; the trained model is built under the strategy.
    encoder = Translator(*vocabularies, sequence_length=64)
    inputs, target_ids = encode_pairs(encoder, sources, targets)
    train_data, validation, steps = run.datasets(inputs, target_ids)
    model, _ = run.fit(lambda: build_model(*vocabularies, size=size, steps=steps), train_data, validation_data=validation)
    result = score(model, [p[0] for p in test], [p[1] for p in test], decoding)
    run.save(model)
    return run.result(model, len(test), **result)


def evaluate(model_path, examples=2000, seed=0, data=None, decoding=None):
    """BLEU and exact match of a saved model on held-out generated pairs (or a TSV)."""
    contract.check_count("examples", examples, allow_none=False)
    model = load(model_path)
    pairs = load_tsv(data) if data else make_dataset(1, examples, seed=seed)[1]
    result = score(model, [p[0] for p in pairs], [p[1] for p in pairs], decoding)
    result["eval_examples"] = len(pairs)
    return result


def predict(model_path, texts, decoding=None):
    """The translations of `texts`."""
    texts = contract.check_inputs(texts, "texts")
    return load(model_path).translate(texts, **(decoding or {}))
