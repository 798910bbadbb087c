"""Model, training, evaluation and improvisation for `jazz`."""

from __future__ import annotations

import os
import re

import keras
import numpy as np
from keras import ops

from applications import contract
from applications.jazz import SIZES
from applications.jazz.data import (
    BAR,
    LOW,
    MELODY_RANGE,
    PROGRESSIONS,
    QUALITIES,
    ROLES,
    UNITS_PER_BEAT,
    bach_chorales,
    detokenize,
    harmonic_share,
    load_pieces,
    make_dataset,
    parse_token,
    tokenize,
    write_midi,
)
from keras_seq.text import Vocabulary

WINDOW = 64
SAMPLE_RATE = 16_000


@contract.serializable
class JazzLM(keras.Model):
    """An LSTM language model over music tokens that carries its vocabulary.

    Training reads windows of tokens and predicts each next token;
    `improvise` samples new lines over a chord progression one token at a
    time with the LSTM state carried (see `improvise`).

    Example:
    >>> import numpy as np
    >>> from keras_seq.text import Vocabulary
    >>> from applications.jazz.app import JazzLM
    >>> model = JazzLM(Vocabulary(["chord:7+0", "C0.1/12"], level="word"), units=8)
    >>> tuple(model(np.ones((2, 5), "int32")).shape)
    (2, 5, 6)
    """

    def __init__(self, vocabulary, units=128, num_layers=1, embedding_dim=64, dropout=0.1, **kwargs):
        super().__init__(**kwargs)
        vocabulary = contract.vocabulary(vocabulary)
        errors = []
        if not isinstance(vocabulary, Vocabulary):
            errors.append(f"`vocabulary` must be a keras_seq Vocabulary; received {type(vocabulary).__name__}.")
        contract.check_arguments(
            errors, positive=dict(units=units, num_layers=num_layers, embedding_dim=embedding_dim),
            rates=dict(dropout=dropout),
        )
        self.vocabulary, self.units, self.num_layers = vocabulary, units, num_layers
        self.embedding_dim, self.dropout = embedding_dim, float(dropout)
        self.embedding = keras.layers.Embedding(len(vocabulary), embedding_dim, name="embedding")
        self.lstms = [
            keras.layers.LSTM(units, return_sequences=True, return_state=True, name=f"lstm_{i}")
            for i in range(num_layers)
        ]
        self.drop = keras.layers.Dropout(self.dropout)
        self.output_projection = keras.layers.Dense(len(vocabulary), dtype="float32", name="output_projection")

    def _run(self, x, states, training=False):
        new_states = []
        for lstm, state in zip(self.lstms, states):
            x, h, c = lstm(x, initial_state=state, training=training)
            x = self.drop(x, training=training)
            new_states.append([h, c])
        return self.output_projection(x), new_states

    def call(self, tokens, training=False):
        x = self.embedding(tokens)
        logits, _ = self._run(x, [None] * self.num_layers, training)
        return logits

    def initial_states(self, batch):
        return [[ops.zeros((batch, self.units)), ops.zeros((batch, self.units))] for _ in self.lstms]

    def step(self, token_ids, states):
        """One token per row `[B]` -> `(logits [B, V], states)`."""
        if "_step" not in self.__dict__:
            import tensorflow as tf

            def run(ids, states):
                logits, states = self._run(self.embedding(ids[:, None]), states)
                return logits[:, 0], states

            self.__dict__["_step"] = tf.function(run, reduce_retracing=True)
        return self.__dict__["_step"](ops.convert_to_tensor(token_ids, "int32"), states)

    def get_config(self):
        config = super().get_config()
        config.update(vocabulary=self.vocabulary.get_config(), units=self.units, num_layers=self.num_layers,
                      embedding_dim=self.embedding_dim, dropout=self.dropout)
        return config


load = contract.loader("jazz", JazzLM)


def chord_tokens(progression):
    """The chord-change tokens of a progression [(root, quality, units)]."""
    tokens, previous = [], None
    for root, quality, _ in progression:
        tokens.append(f"chord:{quality}+{0 if previous is None else (root - previous) % 12}")
        previous = root
    return tokens


def improvise(model, progression, count=1, temperature=0.8, seed=0):
    """Samples `count` solos over `progression` [(root, quality, units)].

    Each chord's token is forced at its change; in between, note and rest
    tokens are sampled with `temperature` among those whose duration fits in
    what is left of the chord (so the line always lines up with the
    harmony) and whose pitch lies in `MELODY_RANGE`. Returns a list of
    `Piece`.
    """
    if not progression:
        raise ValueError("`progression` must hold at least one chord.")
    vocabulary = model.vocabulary
    kinds = [parse_token(t) if t not in Vocabulary.RESERVED_TOKENS else ("special", None, None, None)
             for t in vocabulary.tokens]
    durations = np.array([k[3] if k[0] not in ("chord", "special") else 10**9 for k in kinds])
    # Pitch above LOW + chord root per token (rests: 0, always in range).
    heights = np.array([k[1] + 12 * k[2] if k[0] in ROLES else None for k in kinds], dtype=object)
    is_note = np.array([h is not None for h in heights])
    heights = np.where(is_note, heights, 0).astype(int)
    forced = chord_tokens(progression)
    rng = np.random.default_rng(seed)
    states = model.initial_states(count)
    feed = np.full(count, vocabulary.sos_id, "int32")
    lines = [[] for _ in range(count)]
    chord = np.zeros(count, int)
    remaining = np.zeros(count, int)
    done = np.zeros(count, bool)
    pending = np.ones(count, bool)  # the next token is the forced chord change
    while not done.all():
        logits, states = model.step(feed, states)
        logits = ops.convert_to_numpy(logits).astype("float64") / temperature
        for i in range(count):
            if done[i]:
                feed[i] = 0
                continue
            if pending[i]:
                token = forced[chord[i]]
                remaining[i] = progression[chord[i]][2]
                pending[i] = False
            else:
                pitches = LOW + progression[chord[i]][0] + heights
                in_range = ~is_note | ((pitches >= MELODY_RANGE[0]) & (pitches <= MELODY_RANGE[1]))
                allowed = (durations <= remaining[i]) & in_range
                if not allowed.any():
                    token = f"R/{remaining[i]}"
                else:
                    scores = np.where(allowed, logits[i], -np.inf)
                    p = np.exp(scores - scores.max())
                    token = vocabulary.tokens[int(rng.choice(len(p), p=p / p.sum()))]
                remaining[i] -= parse_token(token)[3]
                if remaining[i] == 0:
                    chord[i] += 1
                    pending[i] = chord[i] < len(progression)
                    done[i] = not pending[i]
            lines[i].append(token)
            feed[i] = vocabulary.token_to_id(token)
    return [detokenize(line, progression) for line in lines]


# -- data to tensors --------------------------------------------------------------


def sequences(vocabulary, pieces):
    """One id stream: `<sos> tokens <eos>` per piece, concatenated."""
    ids = []
    for piece in pieces:
        ids.append(vocabulary.sos_id)
        ids.extend(vocabulary.token_to_id(t) for t in tokenize(piece))
        ids.append(vocabulary.eos_id)
    return np.asarray(ids, "int32")


def windows(stream, length=WINDOW, stride=None):
    """Inputs and next-token targets `[N, length]` cut from an id stream."""
    stride = stride or length
    starts = range(0, max(1, len(stream) - length - 1) + 1, stride)
    rows = np.stack([stream[s : s + length + 1] for s in starts if s + length + 1 <= len(stream)])
    return rows[:, :-1], rows[:, 1:]


def build_vocabulary(pieces):
    return Vocabulary.build([" ".join(tokenize(p)) for p in pieces], level="word")


def build_model(vocabulary, size="default", steps=None):
    """A `JazzLM` of `size`, compiled with Adam, warm-up and cosine decay over `steps`."""
    s = contract.choose(SIZES, size)
    model = JazzLM(vocabulary, units=s.units, num_layers=s.num_layers)
    steps = steps or s.epochs * contract.steps_per_epoch(1000, s.batch_size)
    rate = contract.schedule(s.learning_rate, steps, warmup_steps=min(100, steps // 10))
    return contract.compile_classifier(model, rate, clipnorm=1.0)


def next_token_accuracy(model, vocabulary, pieces):
    """Held-out next-token accuracy (every position of non-overlapping windows)."""
    inputs, targets = windows(sequences(vocabulary, pieces))
    predictions = np.argmax(model.predict(inputs, verbose=0), -1)
    return float(np.mean(predictions == targets))


def majority_baseline(vocabulary, train_pieces, test_pieces):
    """Accuracy of always predicting the most frequent training token."""
    train_ids = sequences(vocabulary, train_pieces)[1:]
    common = np.bincount(train_ids).argmax()
    _, targets = windows(sequences(vocabulary, test_pieces))
    return float(np.mean(targets == common))


def harmonic_score(pieces):
    """Pooled share of notes that are chord or scale tones."""
    from applications.jazz.data import roles

    labels = [r for piece in pieces for r in roles(piece)]
    return sum(r in "CS" for r in labels) / max(1, len(labels))


def evaluate_model(model, train_pieces, test_pieces, solos=12, seed=0):
    vocabulary = model.vocabulary
    accuracy = next_token_accuracy(model, vocabulary, test_pieces)
    baseline = majority_baseline(vocabulary, train_pieces, test_pieces) if train_pieces else None
    generated = []
    for i, piece in enumerate(test_pieces[:solos]):
        generated += improvise(model, list(piece.chords), count=1, seed=seed + i)
    return {
        "accuracy": accuracy,
        "baseline": baseline,
        "harmonic_share": harmonic_score(generated),
        "data_harmonic_share": harmonic_score(test_pieces),
        "generated": generated,
        "examples": [],
    }


# -- audio -----------------------------------------------------------------------


def render_audio(piece, tempo_bpm=160, sample_rate=SAMPLE_RATE):
    """A simple NumPy synth: melody as decaying harmonics, chords quieter.
    Returns float32 samples in [-1, 1]."""
    seconds_per_unit = 60.0 / tempo_bpm / UNITS_PER_BEAT
    total = int(sum(d for _, d in piece.notes) * seconds_per_unit * sample_rate) + 1
    audio = np.zeros(total, "float32")

    def add(pitch, start_units, units, gain):
        start = int(start_units * seconds_per_unit * sample_rate)
        n = max(1, int(units * seconds_per_unit * sample_rate))
        t = np.arange(n) / sample_rate
        f = 440.0 * 2 ** ((pitch - 69) / 12)
        tone = sum(np.sin(2 * np.pi * k * f * t) / k for k in (1, 2, 3))
        envelope = np.exp(-3.0 * t) * np.minimum(1.0, (n - np.arange(n)) / (0.01 * sample_rate))
        audio[start : start + n] += (gain * tone * envelope)[: total - start]

    now = 0
    for pitch, units in piece.notes:
        if pitch is not None:
            add(pitch, now, units, 0.3)
        now += units
    now = 0
    for root, quality, units in piece.chords:
        for interval in QUALITIES[quality]:
            add(48 + root + interval, now, units, 0.06)
        now += units
    peak = float(np.abs(audio).max()) or 1.0
    return (audio / max(peak, 1.0)).astype("float32")


def log_samples(log_dir, pieces, step=0):
    """Writes improvised solos to TensorBoard as audio and token text."""
    import tensorflow as tf

    writer = tf.summary.create_file_writer(os.path.join(log_dir, "samples"))
    with writer.as_default():
        for i, piece in enumerate(pieces):
            audio = render_audio(piece)
            tf.summary.audio(f"improvisation_{i}", audio[None, :, None], SAMPLE_RATE, step=step)
            tf.summary.text(f"tokens_{i}", " ".join(tokenize(piece)), step=step)
    writer.close()


# -- train / evaluate / predict --------------------------------------------------


def _pieces(data, train_examples, eval_examples, seed):
    if not data:
        return make_dataset(train_examples, eval_examples, seed=seed)
    pieces = bach_chorales(count=train_examples) if data == "bach" else load_pieces(data)
    return contract.held_out_split(pieces, eval_examples, seed)


def train(size="default", *, data=None, eval_examples=100, **options):
    """Trains on generated solos (`data=None`), Bach chorales (`data="bach"`)
    or MIDI/MusicXML files, then reports held-out next-token accuracy against
    the majority baseline and the harmonic share of improvised solos.
    `options`: the common training options of `applications.contract.Training`."""
    run = contract.Training(SIZES, size, **options)
    train_pieces, test_pieces = _pieces(data, run.train_examples, eval_examples, run.seed)
    vocabulary = build_vocabulary(train_pieces)
    stream = sequences(vocabulary, train_pieces)
    cut = int(len(stream) * 0.95)
    inputs, targets = windows(stream[:cut], stride=WINDOW // 2)
    val_inputs, val_targets = windows(stream[cut:])
    steps = run.epochs * contract.steps_per_epoch(len(inputs), run.batch_size)
    model, _ = run.fit(
        lambda: build_model(vocabulary, size=size, steps=steps),
        contract.batched(inputs, targets, run.batch_size, run.seed),
        validation_data=contract.batched(val_inputs, val_targets, run.batch_size),
    )
    result = evaluate_model(model, train_pieces, test_pieces, seed=run.seed)
    if run.log_dir:
        log_samples(run.log_dir, result["generated"][:2], step=run.epochs)
    run.save(model)
    return run.result(model, len(test_pieces), **result)


def describe(result):
    """The metric line of a `train`/`evaluate` result."""
    baseline = "" if result["baseline"] is None else f" (majority baseline {100 * result['baseline']:.2f}%)"
    return (
        f"next-token accuracy {100 * result['accuracy']:.2f}%{baseline}, "
        f"chord/scale tones in improvised solos {100 * result['harmonic_share']:.1f}%"
    )


def evaluate(model_path, examples=100, seed=0, data=None):
    """Held-out accuracy and harmonic share of a saved model (generated solos
    in the held-out keys, or `data`); the baseline is the test split's own
    majority token when no training data is at hand."""
    contract.check_count("examples", examples, allow_none=False)
    model = load(model_path)
    if data:
        test = bach_chorales(count=examples) if data == "bach" else load_pieces(data)
        train_pieces = []
    else:
        train_pieces, test = make_dataset(min(examples, 200), examples, seed=seed)
    result = evaluate_model(model, train_pieces, test, seed=seed)
    result["eval_examples"] = len(test)
    return result


_NOTE_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SYMBOL = re.compile(r"^([A-G])([#b]?)(.*)$")


def parse_progression(text):
    """`"blues:F"`, `"ii-V-I:Bb"` or chord symbols one bar each
    (`"Dm7 G7 Cmaj7 Cmaj7"`) -> [(root, quality, units)].

    >>> parse_progression("Dm7 G7 Cmaj7")
    [(2, 'm7', 48), (7, '7', 48), (0, 'maj7', 48)]
    >>> parse_progression("ii-V-I:Bb")[0]
    (0, 'm7', 48)
    """

    def root(symbol):
        match = _SYMBOL.match(symbol)
        if not match:
            raise ValueError(f"`text` has a chord symbol that does not start with A-G: {symbol!r}.")
        letter, accidental, quality = match.groups()
        shift = {"#": 1, "b": -1, "": 0}[accidental]
        return (_NOTE_NAMES[letter] + shift) % 12, quality

    if ":" in text:
        name, key = text.split(":", 1)
        if name not in PROGRESSIONS:
            raise ValueError(f"`text` must name a progression in {sorted(PROGRESSIONS)}; received {name!r}.")
        return PROGRESSIONS[name](root(key)[0])
    chords = []
    for symbol in text.split():
        pc, quality = root(symbol)
        quality = quality or "maj"
        if quality not in QUALITIES:
            raise ValueError(f"`text` chord quality must be one of {sorted(QUALITIES)}; received {symbol!r}.")
        chords.append((pc, quality, BAR))
    if not chords:
        raise ValueError("`text` must hold a progression name or chord symbols.")
    return chords


def predict(model_path, progressions, seed=0):
    """Improvises over each progression and writes `<model>_<i>.mid`
    beside the model; returns one line per solo."""
    progressions = contract.check_inputs(progressions, "progressions")
    model = load(model_path)
    lines = []
    for i, text in enumerate(progressions):
        piece = improvise(model, parse_progression(text), seed=seed + i)[0]
        path = f"{os.path.splitext(model_path)[0]}_{i}.mid"
        write_midi(piece, path)
        lines.append(f"{text}\t{path}\tharmonic share {100 * harmonic_share(piece):.1f}%\t"
                     + " ".join(tokenize(piece)))
    return lines


