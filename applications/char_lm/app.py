"""Model, training, evaluation and sampling for `char_lm`.

A character-level GRU/LSTM language model over ``<sos> item <eos>`` (seed
4.4): trained with teacher forcing, padding excluded from the loss,
gradients clipped by global norm (seed 4.5); scored in nats per character
(the mean negative log-likelihood of every character *and* the final `<eos>`
of held-out items, natural log) and perplexity; sampled character by
character with temperature and top-p until `<eos>`
(`keras_seq.decoding.sample`).
"""

from __future__ import annotations

import collections
import math

import keras
import numpy as np
from keras import ops

from applications import contract
from applications.char_lm import SIZES
from applications.char_lm.data import load_text, make_dataset, split_items
from keras_seq.decoding import static_step
from keras_seq.models._generation import GenerationMixin, decoding_options
from keras_seq.text import Vocabulary

CELLS = ("gru", "lstm")
_CONFIG = ("cell", "units", "num_layers", "embedding_dim", "dropout", "sequence_length")
MAX_SEQUENCE_LENGTH = 128


@contract.serializable
class CharLM(GenerationMixin, keras.Model):
    """A character language model that carries its vocabulary.

    Embedding (padding masked) -> `num_layers` GRU or LSTM layers -> Dense
    logits over the vocabulary, with dropout between the recurrent layers and
    before the output layer.

    Args:
        vocabulary: a char-level `keras_seq.text.Vocabulary` (or its config).
        cell: ``"gru"`` or ``"lstm"``.
        units: int, state size of every recurrent layer.
        num_layers: int >= 1.
        embedding_dim: int.
        dropout: float in [0, 1), after every recurrent layer (training only).
        sequence_length: int, the longest sequence (incl. `<sos>`/`<eos>`)
            `generate` produces.

    Example:

    >>> from keras_seq.text import Vocabulary
    >>> from applications.char_lm.app import CharLM
    >>> model = CharLM(Vocabulary.build(["ab", "ba"]), units=8, embedding_dim=4)
    >>> tuple(model(np.array([[2, 4, 5, 0]])).shape)
    (1, 4, 6)
    >>> len(model.generate(["", "b"], seed=0))
    2
    """

    def __init__(self, vocabulary, cell="gru", units=128, num_layers=1, embedding_dim=32, dropout=0.0,
                 sequence_length=32, **kwargs):
        super().__init__(**kwargs)
        vocabulary = contract.vocabulary(vocabulary)
        errors = []
        if not isinstance(vocabulary, Vocabulary) or vocabulary.level != "char":
            errors.append(f"`vocabulary` must be a char-level Vocabulary; received {vocabulary!r}.")
        if cell not in CELLS:
            errors.append(f'`cell` must be "gru" or "lstm"; received {cell!r}.')
        contract.check_arguments(
            errors,
            positive=dict(units=units, num_layers=num_layers, embedding_dim=embedding_dim, sequence_length=sequence_length),
            rates=dict(dropout=dropout),
        )
        self.vocabulary, self.cell, self.units, self.num_layers = vocabulary, cell, units, num_layers
        self.embedding_dim, self.dropout, self.sequence_length = embedding_dim, dropout, sequence_length
        self.embedding = keras.layers.Embedding(len(vocabulary), embedding_dim, mask_zero=True, name="embedding")
        layer = keras.layers.GRU if cell == "gru" else keras.layers.LSTM
        self.recurrent = [
            layer(units, return_sequences=True, return_state=True, name=f"{cell}_{i}") for i in range(num_layers)
        ]
        self.between = keras.layers.Dropout(dropout, name="dropout")
        self.head = keras.layers.Dense(len(vocabulary), name="logits")

    def build(self, inputs_shape=None):
        if self.built:
            return
        self.embedding.build((None, None))
        width = self.embedding_dim
        for layer in self.recurrent:
            layer.build((None, None, width))
            width = self.units
        self.head.build((None, None, self.units))
        self.built = True

    def _run(self, token_ids, states=None, training=False):
        x = self.embedding(token_ids)
        mask = ops.not_equal(token_ids, 0)
        new_states = []
        for i, layer in enumerate(self.recurrent):
            if i:
                x = self.between(x, training=training)
            initial = None if states is None else states[i]
            x, *state = layer(x, mask=mask, initial_state=initial, training=training)
            new_states.append(state)
        return self.head(self.between(x, training=training)), new_states

    def call(self, token_ids, training=False):
        return self._run(token_ids, training=training)[0]

    # -- sampling ------------------------------------------------------------

    def initial_state(self, batch_size):
        """Zero states: per layer ``[h]`` (GRU) or ``[h, c]`` (LSTM)."""
        count = 1 if self.cell == "gru" else 2
        return [[ops.zeros((batch_size, self.units))] * count for _ in range(self.num_layers)]

    @static_step
    def step_fn(self, tokens, state, index=None):
        """`keras_seq.decoding` step: feeds the character before `index` (the
        newest one), carries the RNN states."""
        if index is None:
            index = ops.shape(tokens)[1]
        logits, states = self._run(ops.expand_dims(ops.take(tokens, index - 1, axis=1), 1), states=state)
        return logits[:, 0], states

    end_id = Vocabulary.EOS

    def _decoding_start(self, tokens, max_length):
        return tokens, self.initial_state(ops.shape(tokens)[0]), max_length

    def prompts(self, prefixes):
        """``<sos> prefix`` rows, right-padded with 0."""
        rows = [[Vocabulary.SOS] + list(self.vocabulary.encode(p, pad=False)) for p in prefixes]
        longest = max(len(r) for r in rows)
        if longest >= self.sequence_length:
            raise ValueError(
                f"`prefixes` must be shorter than sequence_length - 1 = {self.sequence_length - 1} "
                f"characters; the longest has {longest - 1}."
            )
        return np.array([r + [0] * (longest - len(r)) for r in rows], "int32")

    def generate(self, prefixes, temperature=1.0, top_k=None, top_p=None, seed=None, max_length=None):
        """Samples one continuation per prefix ("" for a free sample) until
        `<eos>` or `max_length` tokens (default `sequence_length`); returns
        the full strings, prefix included. Same `seed`, same strings."""
        if isinstance(prefixes, str):
            raise ValueError(f"`prefixes` must be a list of strings; received the string {prefixes!r}.")
        prefixes = list(prefixes)
        if not prefixes:
            return []
        max_length = max_length or self.sequence_length
        # One compiled loop for every seed; without a seed the model's
        # sampling_seed_generator advances, so calls differ.
        options = decoding_options("sample", temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
        tokens = self._generate_ids(ops.convert_to_tensor(self.prompts(prefixes)), max_length, options)
        return [self.vocabulary.decode(row[1:]) for row in tokens]

    def get_config(self):
        config = super().get_config()
        config.update({name: getattr(self, name) for name in _CONFIG}, vocabulary=self.vocabulary.get_config())
        return config


load = contract.loader("char_lm", CharLM)


def encode_items(vocabulary, items, length):
    """Teacher forcing: inputs ``<sos> c_1..c_n``, targets ``c_1..c_n <eos>``,
    right-padded with 0 to `length`; items longer than ``length - 1`` are cut."""
    inputs = np.zeros((len(items), length), "int32")
    targets = np.zeros((len(items), length), "int32")
    for i, item in enumerate(items):
        ids = list(vocabulary.encode(item, pad=False))[: length - 1]
        inputs[i, : len(ids) + 1] = [Vocabulary.SOS] + ids
        targets[i, : len(ids) + 1] = ids + [Vocabulary.EOS]
    return inputs, targets


def build_model(vocabulary, size="default", sequence_length=32, decay_steps=None):
    """A compiled `CharLM` of the given size; with `decay_steps` the learning
    rate follows a cosine decay to 10% over that many steps."""
    s = contract.choose(SIZES, size)
    model = CharLM(
        vocabulary, sequence_length=sequence_length, **s.pick("cell", "units", "num_layers", "embedding_dim", "dropout")
    )
    rate = contract.schedule(s.learning_rate, decay_steps, alpha=0.1) if decay_steps else s.learning_rate
    # Clip the global gradient norm: exploding gradients (seed 4.5).
    return contract.compile_classifier(model, rate, global_clipnorm=1.0, weighted=True)


def nats_per_char(model, items, batch_size=512):
    """Mean negative log-likelihood (natural log) per predicted token of
    `items` (every character and the closing `<eos>`)."""
    inputs, targets = encode_items(model.vocabulary, items, model.sequence_length)
    total, count = 0.0, 0
    for start in range(0, len(items), batch_size):
        logits = ops.convert_to_numpy(model(inputs[start : start + batch_size])).astype("float64")
        t = targets[start : start + batch_size]
        log_probs = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
        picked = np.take_along_axis(log_probs, t[..., None], axis=-1)[..., 0]
        total -= float(picked[t != 0].sum())
        count += int((t != 0).sum())
    return total / count


def baselines(train_items, test_items):
    """Held-out nats per character of two count models over the same tokens
    (characters + `<eos>`): a unigram, and an add-one bigram conditioned on
    the previous character (`<sos>` at the start)."""
    unigram = collections.Counter()
    bigram = collections.Counter()
    context = collections.Counter()
    for item in train_items:
        chars = ["<sos>"] + list(item) + ["<eos>"]
        unigram.update(chars[1:])
        bigram.update(zip(chars[:-1], chars[1:]))
        context.update(chars[:-1])
    symbols = set(unigram) | {"<unk>"}
    total_unigram = sum(unigram.values())
    u, b, n = 0.0, 0.0, 0
    for item in test_items:
        chars = ["<sos>"] + list(item) + ["<eos>"]
        for prev, char in zip(chars[:-1], chars[1:]):
            u -= math.log((unigram[char] + 1) / (total_unigram + len(symbols)))
            b -= math.log((bigram[prev, char] + 1) / (context[prev] + len(symbols)))
            n += 1
    return {"unigram": u / n, "bigram": b / n}


def novelty(samples, train_items):
    """Share of samples that are not training items (empty samples count as
    not novel)."""
    seen = set(train_items)
    return float(np.mean([bool(s) and s not in seen for s in samples])) if samples else 0.0


def score(model, train_items, test_items, num_samples=1000, temperature=1.0, top_p=None, seed=0):
    nats = nats_per_char(model, test_items)
    samples = model.generate([""] * num_samples, temperature=temperature, top_p=top_p, seed=seed)
    return {
        "nats_per_char": nats,
        "perplexity": math.exp(nats),
        "bits_per_char": nats / math.log(2),
        "baselines": baselines(train_items, test_items),
        "novelty": novelty(samples, train_items),
        "held_out_hits": float(np.mean([s in set(test_items) for s in samples])),
        "samples": samples,
    }


def describe(result):
    """The metric line of a `train`/`evaluate` result, with a few samples."""
    b = result["baselines"]
    return (
        f"{result['nats_per_char']:.4f} nats/char (perplexity {result['perplexity']:.3f}; "
        f"unigram {b['unigram']:.3f}, bigram {b['bigram']:.3f}), "
        f"{100 * result['novelty']:.1f}% of {len(result['samples'])} samples novel; "
        f"samples: {', '.join(result['samples'][:12])}"
    )


def items_from(data=None, source="names", seed=0, mode="lines"):
    """``(train, test)`` items: a text file (`data`) or an embedded source."""
    if data:
        return split_items(load_text(data, mode=mode), 0.1, seed)
    return make_dataset(source, seed=seed)


def train(size="default", *, data=None, eval_examples=1000, source="names", mode="lines", **options):
    """Trains on census names, dinosaur names (`source`) or a text file
    (`data`, read by `mode`); reports held-out nats/char and the novelty of
    `eval_examples` samples. `options`: the common training options of
    `applications.contract.Training` (`train_examples` keeps that many
    training items)."""
    run = contract.Training(SIZES, size, **options)
    train_items, test_items = items_from(data, source, run.seed, mode)
    if run.train_examples:
        train_items = train_items[: run.train_examples]
    vocabulary = Vocabulary.build(train_items, level="char")
    length = min(MAX_SEQUENCE_LENGTH, max(len(i) for i in train_items + test_items) + 1)
    inputs, targets = encode_items(vocabulary, train_items, length)
    weights = (targets != 0).astype("float32")
    train_data, validation, steps = run.datasets(inputs, targets, weights)
    model, _ = run.fit(
        lambda: build_model(vocabulary, size=size, sequence_length=length, decay_steps=steps),
        train_data, validation_data=validation,
    )  # fmt: skip
    result = score(model, train_items, test_items, num_samples=eval_examples, seed=run.seed)
    run.save(model)
    return run.result(model, len(test_items), train_items=len(train_items), **result)


def evaluate(model_path, examples=1000, seed=0, data=None, source="names", mode="lines", top_p=None,
             temperature=1.0):
    """Held-out nats/char and the novelty of `examples` samples of a saved
    model, on the split `train` used for the same `seed` and data."""
    contract.check_count("examples", examples, allow_none=False)
    train_items, test_items = items_from(data, source, seed, mode)
    result = score(load(model_path), train_items, test_items, examples, temperature, top_p, seed)
    result["eval_examples"] = len(test_items)
    return result


def unknown_characters(vocabulary, prefixes):
    """The characters of `prefixes` the vocabulary does not hold (they would be read as `<unk>`)."""
    return sorted({c for p in prefixes for c in p if vocabulary.token_to_id(c) == Vocabulary.UNK})


def predict(model_path, prefixes, num_samples=1, temperature=1.0, top_p=None, top_k=None, seed=None):
    """Samples `num_samples` completions of every prefix ("" = a free
    sample). A prefix character the model never saw is an error (it would
    silently be read as `<unk>`)."""
    prefixes = contract.check_inputs(prefixes, "prefixes", allow_empty=True)
    contract.check_count("num_samples", num_samples, allow_none=False)
    model = load(model_path)
    unknown = unknown_characters(model.vocabulary, prefixes)
    if unknown:
        known = "".join(t for t in model.vocabulary.tokens if len(t) == 1)
        raise ValueError(
            f"`prefixes` hold characters the model never saw: {unknown} (it knows {known!r}); "
            "they would be read as <unk>."
        )
    expanded = [p for p in prefixes for _ in range(num_samples)]
    return model.generate(expanded, temperature=temperature, top_p=top_p, top_k=top_k, seed=seed)
