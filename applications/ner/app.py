"""Model, training, evaluation and prediction for `ner`.

A BiLSTM tagger (seed 15.1, 4.8): each token is the concatenation of a
lower-cased word embedding, a word-shape embedding ("Xx", "X.", "d", ...)
and a character CNN (max-pooled over the token's characters), so entities
whose words were never seen are still recognised from their shape,
affixes and context. Padding is masked through the BiLSTM and excluded
from the loss by sample weights; training replaces a quarter of the words
by `<unk>` (half of the words inside entities) so the model learns what to
do with unknown words and leans on no single context word. Tags are decoded
with a BIO-constrained Viterbi search (`bio_viterbi`). Scored by
entity-level precision/recall/F1 (`applications.ner.scoring`, seqeval's
default mode).
"""

from __future__ import annotations

import os
import re

import keras
import numpy as np
from keras import ops

from applications import contract
from applications.ner import SIZES
from applications.ner.data import load_conll, load_gmb, make_dataset
from applications.ner.scoring import entity_scores
from keras_seq.text import Vocabulary

MAX_WORD_CHARS = 16
WORD_DROPOUT = 0.25  # share of training words replaced by <unk>
ENTITY_WORD_DROPOUT = 0.5  # the same for words inside entities


_TOKEN = re.compile(r"(?:Mr|Mrs|Ms|Dr|St|Jr)\.|[A-Z]\.(?=\s)|\w+(?:[-'.]\w+)*|[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Splits a sentence into words and punctuation, keeping titles ("Dr."),
    initials ("J.") and hyphenated words together.

    >>> from applications.ner.app import tokenize
    >>> tokenize("Dr. Ann J. Smith-Jones visited Paris, France.")
    ['Dr.', 'Ann', 'J.', 'Smith-Jones', 'visited', 'Paris', ',', 'France', '.']
    """
    return _TOKEN.findall(text)


def word_shape(token: str) -> str:
    """Capitals -> X, lower case -> x, digits -> d, other characters kept;
    runs of one symbol collapsed.

    >>> from applications.ner.app import word_shape
    >>> [word_shape(t) for t in ["Paris", "NASA", "J.", "1987", "Smith-Jones", ","]]
    ['Xx', 'X', 'X.', 'd', 'Xx-Xx', ',']
    """
    out = []
    for ch in token:
        symbol = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        if not out or out[-1] != symbol:
            out.append(symbol)
    return "".join(out) or "_"


@contract.serializable
class NERTagger(keras.Model):
    """A BiLSTM BIO tagger over word, shape and character features that
    carries its vocabularies and tag set.

    Args:
        word_vocabulary: word-level, lower-cased `Vocabulary` (or config).
        char_vocabulary: char-level `Vocabulary` (or config).
        shape_vocabulary: word-level `Vocabulary` of `word_shape` strings.
        tags: list of the tag strings (``"O"``, ``"B-PER"``, ...); output
            class 0 is padding, class i + 1 is ``tags[i]``.
        word_dim, char_dim, char_filters, shape_dim, units: widths.
        dropout: float in [0, 1).

    Call arguments:
        inputs: dict of ``words`` [B, T], ``shapes`` [B, T], ``chars``
            [B, T, C] int ids (0 = padding).

    Returns:
        logits [B, T, len(tags) + 1].

    Example:

    >>> from applications.ner.app import NERTagger, build_vocabularies
    >>> sentences = [(["Ann", "lives", "in", "Oslo"], ["B-PER", "O", "O", "B-LOC"])]
    >>> words, chars, shapes, tags = build_vocabularies(sentences)
    >>> model = NERTagger(words, chars, shapes, tags, word_dim=4, units=4)
    >>> len(model.tag(["Bob lives in Rome", ["Oslo"]])[0])
    4
    """

    def __init__(
        self, word_vocabulary, char_vocabulary, shape_vocabulary, tags, word_dim=64, char_dim=16, char_filters=32,
        shape_dim=8, units=64, dropout=0.2, **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        vocabularies = [
            Vocabulary.from_config(v) if isinstance(v, dict) else v
            for v in (word_vocabulary, char_vocabulary, shape_vocabulary)
        ]
        errors = []
        for name, vocabulary, level in zip(
            ("word_vocabulary", "char_vocabulary", "shape_vocabulary"), vocabularies, ("word", "char", "word")
        ):
            if not isinstance(vocabulary, Vocabulary) or vocabulary.level != level:
                errors.append(f"`{name}` must be a {level}-level Vocabulary; received {vocabulary!r}.")
        tags = list(tags) if not isinstance(tags, str) else tags
        if isinstance(tags, str) or not tags or not all(isinstance(t, str) for t in tags) or len(set(tags)) != len(tags):
            errors.append(f"`tags` must be a non-empty list of distinct tag strings; received {tags!r}.")
        contract.check_arguments(
            errors,
            positive=dict(word_dim=word_dim, char_dim=char_dim, char_filters=char_filters, shape_dim=shape_dim, units=units),
            rates=dict(dropout=dropout),
        )
        self.word_vocabulary, self.char_vocabulary, self.shape_vocabulary = vocabularies
        self.tags = tags
        self.word_dim, self.char_dim, self.char_filters = word_dim, char_dim, char_filters
        self.shape_dim, self.units, self.dropout = shape_dim, units, dropout
        self.word_embedding = keras.layers.Embedding(len(vocabularies[0]), word_dim, name="word_embedding")
        self.char_embedding = keras.layers.Embedding(len(vocabularies[1]), char_dim, name="char_embedding")
        self.shape_embedding = keras.layers.Embedding(len(vocabularies[2]), shape_dim, name="shape_embedding")
        self.char_cnn = keras.layers.Conv2D(char_filters, (1, 3), padding="same", activation="relu", name="char_cnn")
        self.drop = keras.layers.Dropout(dropout, name="dropout")
        self.bilstm = keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True), name="bilstm")
        self.head = keras.layers.Dense(len(tags) + 1, name="tag_logits")

    def build(self, inputs_shape=None):
        if self.built:
            return
        self.word_embedding.build((None, None))
        self.char_embedding.build((None, None, None))
        self.shape_embedding.build((None, None))
        self.char_cnn.build((None, None, MAX_WORD_CHARS, self.char_dim))
        width = self.word_dim + self.shape_dim + self.char_filters
        self.bilstm.build((None, None, width))
        self.head.build((None, None, 2 * self.units))
        self.built = True

    def call(self, inputs, training=False):
        words, shapes, chars = inputs["words"], inputs["shapes"], inputs["chars"]
        mask = ops.not_equal(words, 0)
        characters = ops.max(self.char_cnn(self.char_embedding(chars)), axis=2)
        x = ops.concatenate([self.word_embedding(words), self.shape_embedding(shapes), characters], axis=-1)
        x = self.bilstm(self.drop(x, training=training), mask=mask, training=training)
        return self.head(self.drop(x, training=training))

    def features(self, sentences, length=None):
        """The model inputs for token lists (strings are split with `tokenize`)."""
        sentences = [tokenize(s) if isinstance(s, str) else list(s) for s in sentences]
        length = length or max(1, max((len(s) for s in sentences), default=1))
        words = np.zeros((len(sentences), length), "int32")
        shapes = np.zeros((len(sentences), length), "int32")
        chars = np.zeros((len(sentences), length, MAX_WORD_CHARS), "int32")
        for i, tokens in enumerate(sentences):
            for j, token in enumerate(tokens[:length]):
                words[i, j] = self.word_vocabulary.token_to_id(token)
                shapes[i, j] = self.shape_vocabulary.token_to_id(word_shape(token))
                ids = self.char_vocabulary.encode(token[:MAX_WORD_CHARS], pad=False)
                chars[i, j, : len(ids)] = ids
        return {"words": words, "shapes": shapes, "chars": chars}, sentences

    def tag(self, sentences, batch_size=256):
        """BIO tags for each sentence (a string or a list of tokens)."""
        if isinstance(sentences, str):
            raise ValueError(f"`sentences` must be a list of sentences; received the string {sentences!r}.")
        inputs, tokenized = self.features(sentences)
        logits = np.concatenate(
            [
                ops.convert_to_numpy(self({k: v[s : s + batch_size] for k, v in inputs.items()}))
                for s in range(0, len(tokenized), batch_size)
            ]
        ) if tokenized else np.zeros((0, 1, len(self.tags) + 1))  # fmt: skip
        scores = logits[..., 1:].astype("float64")  # never predict the padding class
        log_probs = scores - np.logaddexp.reduce(scores, axis=-1, keepdims=True)
        return [
            [self.tags[k] for k in bio_viterbi(log_probs[i, : len(tokens)], self.tags)]
            for i, tokens in enumerate(tokenized)
        ]

    def get_config(self):
        config = super().get_config()
        config.update(
            word_vocabulary=self.word_vocabulary.get_config(),
            char_vocabulary=self.char_vocabulary.get_config(),
            shape_vocabulary=self.shape_vocabulary.get_config(),
            tags=list(self.tags),
            **{name: getattr(self, name) for name in ("word_dim", "char_dim", "char_filters", "shape_dim", "units",
                                                      "dropout")},
        )
        return config


load = contract.loader("ner", NERTagger)


def allowed_transitions(tags):
    """Boolean ``[len(tags), len(tags)]``: may tag j follow tag i in BIO?
    ``I-X`` only follows ``B-X`` or ``I-X``; everything else may follow anything."""
    allowed = np.ones((len(tags), len(tags)), bool)
    for j, tag in enumerate(tags):
        if tag.startswith("I-"):
            allowed[:, j] = [t in ("B-" + tag[2:], tag) for t in tags]
    return allowed


def bio_viterbi(log_probs, tags):
    """The most probable *valid* BIO tag sequence (indices into `tags`) under
    per-token log-probabilities ``[T, len(tags)]``: an entity cannot start
    with ``I-`` or change type midway, which the per-token argmax allows.

    >>> import numpy as np
    >>> from applications.ner.app import bio_viterbi
    >>> tags = ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]
    >>> p = np.log([[.1, .6, .1, .1, .1], [.1, .1, .5, .2, .1]])  # argmax: B-PER I-LOC
    >>> [tags[i] for i in bio_viterbi(p, tags)]
    ['B-PER', 'I-PER']
    """
    steps = len(log_probs)
    if steps == 0:
        return []
    allowed = allowed_transitions(tags)
    start = np.array([not t.startswith("I-") for t in tags])
    best = np.where(start, log_probs[0], -np.inf)
    back = np.zeros((steps, len(tags)), int)
    for t in range(1, steps):
        candidates = np.where(allowed, best[:, None], -np.inf)  # [from, to]
        back[t] = np.argmax(candidates, axis=0)
        best = candidates[back[t], np.arange(len(tags))] + log_probs[t]
    path = [int(np.argmax(best))]
    for t in range(steps - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def build_vocabularies(sentences, min_count=2):
    """Word (lower-cased, words seen at least `min_count` times), character
    and shape vocabularies, and the sorted tag list, of training sentences."""
    texts = [" ".join(tokens) for tokens, _ in sentences]
    words = Vocabulary.build(texts, level="word", lowercase=True, min_count=min_count)
    chars = Vocabulary.build(texts, level="char")
    shapes = Vocabulary.build([" ".join(word_shape(t) for t in tokens) for tokens, _ in sentences], level="word")
    tags = sorted({tag for _, tags in sentences for tag in tags} | {"O"})
    return words, chars, shapes, tags


def encode(model, sentences, word_dropout=0.0, entity_word_dropout=None, seed=0):
    """Inputs, tag targets (0 = padding) and loss weights (1 on real tokens).

    With `word_dropout`, that share of the words (and `entity_word_dropout`
    of the words inside entities; defaults to `word_dropout`) become
    `<unk>`: test entities are mostly unknown words, so training shows the
    model many entities it can only recognise from shape, characters and
    context.
    """
    inputs, _ = model.features([tokens for tokens, _ in sentences])
    index = {tag: i + 1 for i, tag in enumerate(model.tags)}
    targets = np.zeros(inputs["words"].shape, "int32")
    for i, (_, tags) in enumerate(sentences):
        targets[i, : len(tags)] = [index.get(t, index["O"]) for t in tags]
    weights = (targets != 0).astype("float32")
    if entity_word_dropout is None:
        entity_word_dropout = word_dropout
    if word_dropout or entity_word_dropout:
        rate = np.where(targets == index["O"], word_dropout, entity_word_dropout)
        drop = (np.random.default_rng(seed).random(targets.shape) < rate) & (targets != 0)
        inputs["words"] = np.where(drop, Vocabulary.UNK, inputs["words"]).astype("int32")
    return inputs, targets, weights


def build_model(vocabularies, size="default"):
    """An `NERTagger` of `size`, compiled."""
    s = contract.choose(SIZES, size)
    model = NERTagger(*vocabularies, word_dim=s.word_dim, units=s.units)
    return contract.compile_classifier(model, s.learning_rate, global_clipnorm=5.0, weighted=True)


def memorization_baseline(train_sentences, test_sentences):
    """The CoNLL baseline: tag every token with its most frequent training
    tag (unseen tokens ``O``); returns `entity_scores` on the test sentences."""
    counts = {}
    for tokens, tags in train_sentences:
        for token, tag in zip(tokens, tags):
            counts.setdefault(token, {}).setdefault(tag, 0)
            counts[token][tag] += 1
    best = {t: max(c, key=lambda k: (c[k], k)) for t, c in counts.items()}
    predicted = [[best.get(t, "O") for t in tokens] for tokens, _ in test_sentences]
    return entity_scores([tags for _, tags in test_sentences], predicted)


def score(model, splits):
    """`entity_scores` per named split, and wrong sentences for display."""
    result = {"splits": {}, "examples": []}
    for name, sentences in splits.items():
        predicted = model.tag([tokens for tokens, _ in sentences])
        result["splits"][name] = entity_scores([tags for _, tags in sentences], predicted)
        for (tokens, tags), guess in zip(sentences, predicted):
            if guess != tags and len(result["examples"]) < 5:
                result["examples"].append((" ".join(tokens), " ".join(guess), " ".join(tags)))
    return result


def describe(result):
    """The metric line of a `train`/`evaluate` result."""
    parts = []
    for name, s in result["splits"].items():
        line = f"{name}: F1 {s['f1']:.4f} (P {s['precision']:.4f}, R {s['recall']:.4f})"
        baseline = result.get("baselines", {}).get(name)
        if baseline is not None:
            line += f" [memorisation baseline F1 {baseline['f1']:.4f}]"
        parts.append(line)
    return "; ".join(parts)


def load_file(path):
    """Sentences of a GMB ``.csv`` or a CoNLL file (anything else)."""
    return load_gmb(path) if os.fspath(path).lower().endswith(".csv") else load_conll(path)


def splits_for(data, train_examples, eval_examples, seed):
    """``(train, {name: test sentences})``: generated, or a file with 10% held out."""
    if data:
        train_sentences, held = contract.held_out_split(load_file(data), eval_examples, seed)
        return train_sentences, {"held_out": held}
    dataset = make_dataset(train_examples, eval_examples, seed=seed)
    train_sentences = dataset.pop("train")
    return train_sentences, dataset


def train(size="default", *, data=None, eval_examples=1000, **options):
    """Trains on generated sentences (or a CoNLL / GMB file) and reports
    entity F1 on the held-out splits, with the memorisation baseline.
    `options`: the common training options of `applications.contract.Training`."""
    run = contract.Training(SIZES, size, **options)
    train_sentences, tests = splits_for(data, run.train_examples, eval_examples, run.seed)
    vocabularies = build_vocabularies(train_sentences)
    shell = NERTagger(*vocabularies, word_dim=1, units=1)  # only to encode the features
    inputs, targets, weights = encode(shell, train_sentences, WORD_DROPOUT, ENTITY_WORD_DROPOUT, run.seed)
    train_data, validation, _ = run.datasets(inputs, targets, weights)
    model, _ = run.fit(lambda: build_model(vocabularies, size=size), train_data, validation_data=validation)
    result = score(model, tests)
    result["baselines"] = {name: memorization_baseline(train_sentences, t) for name, t in tests.items()}
    run.save(model)
    return run.result(model, sum(len(t) for t in tests.values()), **result)


def evaluate(model_path, examples=1000, seed=0, data=None):
    """Entity F1 of a saved model on the generated test splits, or on every
    sentence of a CoNLL / GMB file."""
    contract.check_count("examples", examples, allow_none=False)
    tests = {"file": load_file(data)} if data else splits_for(None, 0, examples, seed)[1]
    result = score(load(model_path), tests)
    result["eval_examples"] = sum(len(t) for t in tests.values())
    return result


def predict(model_path, texts):
    """One line per sentence: ``token/TAG`` pairs."""
    model = load(model_path)
    sentences = [tokenize(t) for t in contract.check_inputs(texts, "texts")]
    return [" ".join(f"{w}/{t}" for w, t in zip(s, tags)) for s, tags in zip(sentences, model.tag(sentences))]
