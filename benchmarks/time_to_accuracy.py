"""Time to accuracy of the flagship: `dates_nmt` vs the course's model in plain Keras.

Both learn human-readable dates -> ISO `YYYY-MM-DD` from the same training
pairs (`applications.dates_nmt.data.generate_pairs`) and are scored on the
same held-out set (`applications.dates_nmt.app.held_out_set`, none of whose
sources is a training source) by exact match of the whole date.

- **ours**: `applications.dates_nmt` as `make demo` trains it
  (`build_model(size)`, its batches and schedule; greedy decoding through
  `AttentionSeq2Seq.translate`).
- **reference**: the course's date-translation model written with
  `keras.layers` only, at the course's size: one-hot characters (lowercased,
  padded to the longest source), a Bi-LSTM of 32 units per direction, for
  each of the 10 output characters an attention step (the previous post-
  attention state repeated over the source, concatenated with the
  annotations, Dense(10, tanh), Dense(1, relu), softmax over the source, dot
  product), a post-attention LSTM of 64 units and a Dense softmax over the 11
  target characters; Adam(0.005, beta_1 0.9, beta_2 0.999) with the course's
  decay 0.01 (lr / (1 + 0.01 * step)), batches of 100, categorical
  cross-entropy on every output. `--references course constant` also
  trains it at a constant 0.005 (no decay), which learns faster here.

Both train with Keras's own compiled train step (`model.train_function`,
what `fit` calls per batch) on a repeated, reshuffled `tf.data` pipeline. The
two trainings are interleaved: chunks of about `--chunk-seconds` of training,
ours then the reference then ours ..., each followed by an untimed
evaluation on the held-out set, until each reaches `--target` exact match or
`--budget` seconds of training. Reported: seconds of training (evaluation
excluded) to the first checkpoint at or above the target, the exact match at
each checkpoint, and the load average around every chunk.

    python benchmarks/time_to_accuracy.py [--size default] [--budget 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness  # noqa: E402

TARGET_CHARS = list("0123456789-")


def reference_model(source_length, source_vocabulary, n_a=32, n_s=64, target_length=10, decay=0.01):
    """The course's attention model for dates, `keras.layers` only."""
    import keras
    from keras import layers

    x = keras.Input((source_length, source_vocabulary), name="one_hot_source")
    s0 = keras.Input((n_s,), name="s0")
    c0 = keras.Input((n_s,), name="c0")
    annotations = layers.Bidirectional(layers.LSTM(n_a, return_sequences=True))(x)
    repeat = layers.RepeatVector(source_length)
    concatenate = layers.Concatenate(axis=-1)
    dense1 = layers.Dense(10, activation="tanh")
    dense2 = layers.Dense(1, activation="relu")
    softmax = layers.Softmax(axis=1)
    dot = layers.Dot(axes=1)
    post_lstm = layers.LSTM(n_s, return_state=True)
    output_layer = layers.Dense(len(TARGET_CHARS), activation="softmax")
    s, c, outputs = s0, c0, []
    for _ in range(target_length):
        energies = dense2(dense1(concatenate([annotations, repeat(s)])))
        context = dot([softmax(energies), annotations])
        s, _, c = post_lstm(context, initial_state=[s, c])
        outputs.append(output_layer(s))
    model = keras.Model([x, s0, c0], outputs)
    schedule = keras.optimizers.schedules.InverseTimeDecay(0.005, decay_steps=1, decay_rate=decay) if decay else 0.005
    model.compile(
        optimizer=keras.optimizers.Adam(schedule, beta_1=0.9, beta_2=0.999),
        loss=["sparse_categorical_crossentropy"] * target_length,
    )
    return model


class Reference:
    """The course's model with its one-hot input pipeline."""

    def __init__(self, sources, targets, eval_sources, eval_targets, seed, decay=0.01):
        import numpy as np
        import tensorflow as tf

        chars = sorted({ch for s in sources for ch in s.lower()})
        self.index = {ch: i + 2 for i, ch in enumerate(chars)}  # 0 pad, 1 unknown
        self.vocabulary = len(chars) + 2
        self.length = max(len(s) for s in sources + eval_sources)
        self.n_s = 64
        self.model = reference_model(self.length, self.vocabulary, n_s=self.n_s, decay=decay)
        ids = self.encode(sources)
        target_ids = np.array([[TARGET_CHARS.index(ch) for ch in t] for t in targets], "int32")
        dataset = tf.data.Dataset.from_tensor_slices((ids, tuple(target_ids.T)))
        dataset = dataset.shuffle(len(ids), seed=seed, reshuffle_each_iteration=True).repeat().batch(100)
        zeros = tf.zeros((self.n_s,))
        self.dataset = dataset.map(
            lambda x, y: ((tf.one_hot(x, self.vocabulary), _batch_zeros(zeros, x), _batch_zeros(zeros, x)), y)
        ).prefetch(tf.data.AUTOTUNE)
        self.eval_ids = self.encode(eval_sources)
        self.eval_targets = eval_targets

    def encode(self, texts):
        import numpy as np

        ids = np.zeros((len(texts), self.length), "int32")
        for row, text in enumerate(texts):
            ids[row, : len(text)] = [self.index.get(ch, 1) for ch in text.lower()]
        return ids

    def exact_match(self):
        import numpy as np
        import tensorflow as tf

        correct = 0
        for start in range(0, len(self.eval_ids), 500):
            x = tf.one_hot(self.eval_ids[start : start + 500], self.vocabulary)
            zeros = tf.zeros((x.shape[0], self.n_s))
            outputs = self.model([x, zeros, zeros], training=False)
            predicted = np.stack([np.asarray(o).argmax(-1) for o in outputs], 1)
            for row, target in zip(predicted, self.eval_targets[start : start + 500]):
                correct += "".join(TARGET_CHARS[i] for i in row) == target
        return correct / len(self.eval_ids)


def _batch_zeros(zeros, x):
    import tensorflow as tf

    return tf.broadcast_to(zeros, (tf.shape(x)[0], zeros.shape[0]))


class Ours:
    """`applications.dates_nmt` with its own size, batches and schedule."""

    def __init__(self, sources, targets, eval_sources, eval_targets, seed, size):
        from applications.contract import batched
        from applications.dates_nmt import app

        self.app = app
        vocabularies = app.build_vocabularies(sources)
        inputs, target_ids = app.encode_pairs(vocabularies, sources, targets)
        self.model = app.build_model(*vocabularies, size=size)
        batch_size = app.SIZES[size].batch_size
        self.dataset = batched(inputs, target_ids, batch_size, seed).repeat()
        self.eval_sources, self.eval_targets = eval_sources, eval_targets

    def exact_match(self):
        return self.app.exact_match(self.model, self.eval_sources, self.eval_targets)[0]


class Trainer:
    """Runs Keras's compiled train step on a persistent iterator, timed."""

    def __init__(self, name, system):
        self.name, self.system = name, system
        model = system.model
        model.make_train_function()
        self.iterator = iter(system.dataset)
        self.seconds, self.steps, self.checkpoints, self.reached = 0.0, 0, [], None

    def train_for(self, seconds):
        train = self.system.model.train_function
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            train(self.iterator)
            self.steps += 1
        self.seconds += time.perf_counter() - start

    def evaluate(self, target):
        accuracy = self.system.exact_match()
        self.checkpoints.append((self.seconds, self.steps, accuracy))
        if self.reached is None and accuracy >= target:
            self.reached = (self.seconds, self.steps, accuracy)
        return accuracy


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="default")
    parser.add_argument("--train-examples", type=int, help="default: the size's")
    parser.add_argument("--eval-examples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--budget", type=float, default=300.0, help="training seconds per model at most")
    parser.add_argument("--chunk-seconds", type=float, default=5.0)
    parser.add_argument("--only", choices=["ours", "reference"])
    parser.add_argument("--references", nargs="+", choices=["course", "constant"], default=["course"],
                        help="reference learning rates: the course's decay 0.01 per step, or constant 0.005")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    _harness.configure_threads(args.threads)
    import keras

    from applications.dates_nmt import app
    from applications.dates_nmt.data import generate_pairs

    _harness.apply_thread_settings()
    report = _harness.Report("Time to accuracy: dates_nmt vs the course's model in plain Keras",
                             _harness.versions("tensorflow", "keras"), args.json)
    keras.utils.set_random_seed(args.seed)
    size = app.SIZES[args.size]
    pairs = generate_pairs(args.train_examples or size.train_examples, seed=args.seed)
    sources, targets = [p[0] for p in pairs], [p[1] for p in pairs]
    eval_sources, eval_targets = app.held_out_set(args.eval_examples, args.seed, exclude=sources)
    report.note(f"{len(sources):,} training pairs, {len(eval_sources):,} held-out; ours: size {args.size!r} {size}")
    trainers = []
    if args.only != "reference":
        trainers.append(Trainer("ours (dates_nmt)", Ours(sources, targets, eval_sources, eval_targets, args.seed, args.size)))
    if args.only != "ours":
        for kind in args.references:
            keras.utils.set_random_seed(args.seed)
            decay = 0.01 if kind == "course" else 0.0
            name = "reference (course model, plain Keras" + (")" if decay else ", constant lr)")
            trainers.append(Trainer(name, Reference(sources, targets, eval_sources, eval_targets, args.seed, decay)))
    for trainer in trainers:  # untimed: tracing and compiling the train step
        trainer.system.model.train_function(trainer.iterator)
        trainer.steps += 1
    rounds = 0
    while any(t.reached is None and t.seconds < args.budget for t in trainers):
        order = trainers if rounds % 2 == 0 else trainers[::-1]
        for trainer in order:
            if trainer.reached is not None or trainer.seconds >= args.budget:
                continue
            load_before = _harness.load_average()
            trainer.train_for(args.chunk_seconds)
            load_after = _harness.load_average()
            accuracy = trainer.evaluate(args.target)
            print(f"{trainer.name}: {trainer.seconds:6.1f} s, {trainer.steps} steps: exact match {accuracy:.4f} "
                  f"(load {load_before:.2f}->{load_after:.2f})", flush=True)
        rounds += 1
    lines = ["| model | seconds of training to the target | steps | exact match there | best | checkpoints |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for trainer in trainers:
        best = max(a for _, _, a in trainer.checkpoints)
        if trainer.reached:
            seconds, steps, accuracy = trainer.reached
            lines.append(f"| {trainer.name} | **{seconds:.1f}** | {steps} | {accuracy:.4f} | {best:.4f} | "
                         f"{len(trainer.checkpoints)} |")
        else:
            lines.append(f"| {trainer.name} | not reached in {trainer.seconds:.0f} s | {trainer.steps} | - | "
                         f"{best:.4f} | {len(trainer.checkpoints)} |")
    ours = trainers[0] if args.only != "reference" else None
    for other in trainers[1:] if ours else []:
        if ours.reached and other.reached:
            lines += ["", f"ours / {other.name}: **{ours.reached[0] / other.reached[0]:.2f}** of the time"]
        elif ours.reached:
            lines += ["", f"{other.name} did not reach {args.target} in {other.seconds:.0f} s "
                          f"(ours: {ours.reached[0]:.1f} s, i.e. < {ours.reached[0] / other.seconds:.2f} of the time)"]
    lines += ["", f"checkpoints every ~{args.chunk_seconds:g} s of training (the figures are upper bounds "
              f"by up to one chunk); target exact match {args.target}"]
    report.table("time to accuracy", lines, extra={t.name: t.checkpoints for t in trainers})
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
