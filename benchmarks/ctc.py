"""CTC prefix beam search: keras_seq vs pyctcdecode and tf.nn.ctc_beam_search_decoder.

All decoders read the same log-probabilities, B=32 utterances x T=200 frames x
V=30 classes (blank, a-z, space, apostrophe, hyphen), beam 32. The posteriors
are simulated like a trained acoustic model's: each utterance is a sentence of
words from a small grammar, every character lasts 1-4 frames with blanks in
between, and Gaussian noise on the logits makes the greedy path err (a few
percent character error) so that the beam and the LM have work to do.

Compared in one process through the shared harness (`benchmarks/_harness.py`:
interleaved rounds, a warm-up call each, medians and per-round ranges):
- no LM: ours vs pyctcdecode (`build_ctcdecoder(labels)`), and ours without
  pruning vs TF's `ctc_beam_search_decoder` (blank moved to the last class);
- word 3-gram LM (our Kneser-Ney `NGramLM`, written as ARPA and loaded by
  KenLM): ours with `KenLMAdapter` vs pyctcdecode with the same KenLM model,
  alpha = 0.5, beta = 1.0.
Both ours and pyctcdecode prune with token_min_logp = -5 and beam_prune_logp
= 10 (pyctcdecode's defaults); with the LM ours also uses
`unknown_word_logp=-10` (pyctcdecode's `unk_score_offset`). Reported: time
ratio ours/peer (< 1 = ours faster), agreement of the top paths (same text),
where they differ which output has the higher exact p(text | x) (CTC forward
algorithm), and the CER of each against the true transcripts (jiwer).

    make bench   # installs pyctcdecode with --no-deps (it pins numpy<2)
    python benchmarks/ctc.py [--quick] [--rounds 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness  # noqa: E402

_harness.configure_threads()

import logging  # noqa: E402

import jiwer  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from pyctcdecode import build_ctcdecoder  # noqa: E402

from keras_seq.decoding import KenLMAdapter, NGramLM, ctc_beam_search_decode  # noqa: E402
from keras_seq.losses import ctc_loss  # noqa: E402

ALPHABET = [""] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + [" ", "'", "-"]
SUBJECTS = "the cat|a dog|my friend|the old man|our team|this robot|her brother".split("|")
VERBS = "sees|likes|finds|moves|takes|wants|opens|turns".split("|")
OBJECTS = "the red door|a small box|the light|my phone|the window|a green apple|the big map".split("|")
PLACES = "today|at home|in the park|near the river|after dinner|right now".split("|")


def sentence(rng):
    return " ".join(
        [rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS), rng.choice(PLACES)]
    )


def simulate(rng, batch, time, noise):
    """Log-probabilities [B, T, V] whose noisy best path spells a sentence."""
    index = {c: i for i, c in enumerate(ALPHABET)}
    logits = np.zeros((batch, time, len(ALPHABET)))
    truths = []
    for b in range(batch):
        text = sentence(rng)
        while True:
            frames = []
            for char in text:
                frames += [0] * int(rng.integers(0, 2)) + [index[char]] * int(rng.integers(1, 4))
            if len(frames) <= time:
                break
            text = " ".join(text.split()[:-1])
        frames += [0] * (time - len(frames))
        truths.append(text)
        logits[b, np.arange(time), frames] = 6.0
    logits += rng.normal(scale=noise, size=logits.shape)
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True)), truths


def log_likelihood(log_probs, texts):
    """Exact log p(text | frames), summed over all alignments (CTC forward)."""
    index = {c: i for i, c in enumerate(ALPHABET)}
    width = max(1, max(len(t) for t in texts))
    labels = np.full((len(texts), width), -1)
    for b, text in enumerate(texts):
        labels[b, : len(text)] = [index[c] for c in text]
    return -np.asarray(ctc_loss(labels, log_probs.astype("float32")))


def text_of(path):
    return "".join(ALPHABET[i] for i in path)


def tidy(text):
    return " ".join(text.split())


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--time", type=int, default=200)
    parser.add_argument("--beam", type=int, default=32)
    parser.add_argument("--noise", type=float, default=1.3)
    _harness.add_arguments(parser, rounds=10)
    args = parser.parse_args(argv)
    _harness.configure_threads(args.threads)
    if args.quick:
        args.batch, args.rounds = 8, 3
    logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
    rng = np.random.default_rng(0)
    log_probs, truths = simulate(rng, args.batch, args.time, args.noise)
    corpus = [sentence(rng) for _ in range(3000)]
    lm = NGramLM(order=3).fit(corpus)
    arpa = lm.to_arpa(os.path.join(tempfile.mkdtemp(), "words.arpa"))
    adapter = KenLMAdapter(arpa)
    alpha, beta = 0.5, 1.0
    prune = {"token_min_logp": -5.0, "beam_prune_logp": 10.0}
    plain = build_ctcdecoder(ALPHABET)
    fused = build_ctcdecoder(ALPHABET, kenlm_model_path=arpa, alpha=alpha, beta=beta)
    rows = [log_probs[b].astype("float32") for b in range(args.batch)]

    def ours_plain():
        paths, _ = ctc_beam_search_decode(log_probs, beam_width=args.beam, **prune)
        return [text_of(p[0]) for p in paths]

    def ours_lm():
        paths, _ = ctc_beam_search_decode(
            log_probs, beam_width=args.beam, alphabet=ALPHABET, lm_weight=alpha, word_bonus=beta,
            lm=KenLMAdapter(adapter.model, vocabulary=adapter.vocabulary),
            unknown_word_logp=-10.0, **prune,
        )
        return [text_of(p[0]) for p in paths]

    def peer_plain():
        return [plain.decode(r, beam_width=args.beam, beam_prune_logp=-10.0, token_min_logp=-5.0) for r in rows]

    def peer_lm():
        return [fused.decode(r, beam_width=args.beam, beam_prune_logp=-10.0, token_min_logp=-5.0) for r in rows]

    order = list(range(1, len(ALPHABET))) + [0]  # TF's blank is the last class
    tf_inputs = tf.constant(np.transpose(log_probs[..., order], (1, 0, 2)).astype("float32"))
    tf_lengths = tf.fill([args.batch], args.time)

    def ours_exact():
        paths, _ = ctc_beam_search_decode(log_probs, beam_width=args.beam)
        return [text_of(p[0]) for p in paths]

    def peer_tf():
        decoded, _ = tf.nn.ctc_beam_search_decoder(tf_inputs, tf_lengths, beam_width=args.beam)
        dense = tf.sparse.to_dense(decoded[0], default_value=-1).numpy()
        return ["".join(ALPHABET[order[i]] for i in row if i >= 0) for row in dense]

    # pyctcdecode returns whitespace-normalised text, so its rows compare
    # normalised texts; the TF row compares the raw label sequences.
    pairs = [
        ("no LM, pyctcdecode", ours_plain, peer_plain, tidy),
        ("no LM, tf.nn.ctc_beam_search_decoder", ours_exact, peer_tf, str),
        ("word 3-gram KenLM, pyctcdecode", ours_lm, peer_lm, tidy),
    ]
    report = _harness.Report(
        f"CTC beam search, B={args.batch}, T={args.time}, V={len(ALPHABET)}, beam={args.beam}, noise={args.noise}",
        _harness.versions("tensorflow", "numpy", "pyctcdecode", "kenlm"), args.json,
    )
    lines = ["| comparison | ours median ms (range) | peer median ms (range) | time ratio ours/peer (per-round range) | "
             "top-path agreement | where they differ, ours has higher p(text\\|x) | CER ours | CER peer | rounds | load |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, ours, peer, norm in pairs:
        ours_text, peer_text = ours(), peer()  # outputs (and a first call each)
        same = np.array([norm(a) == norm(b) for a, b in zip(ours_text, peer_text)])
        agreement = same.mean()
        ours_ll = log_likelihood(log_probs, [norm(t) for t in ours_text])
        peer_ll = log_likelihood(log_probs, [norm(t) for t in peer_text])
        better = f"{int(np.sum(ours_ll[~same] > peer_ll[~same]))}/{int(np.sum(~same))}"
        if "LM" in name and "no LM" not in name:
            better = "n/a (LM objective)"
        cer_ours = jiwer.cer(truths, [tidy(t) for t in ours_text])
        cer_peer = jiwer.cer(truths, [tidy(t) for t in peer_text])
        timing = _harness.interleave({"ours": ours, "peer": peer}, args.rounds, warmup=args.warmup,
                                     pairs=[("ours", "peer")], label=f"{name}: ")
        lines.append(
            f"| {name} | {timing.comparison_cells()} | {agreement:.1%} | {better} | "
            f"{cer_ours:.2%} | {cer_peer:.2%} | {args.rounds} | {timing.load_cell()} |"
        )
    greedy_cer = jiwer.cer(truths, [tidy(text_of(_collapse(r))) for r in log_probs])
    report.table("CTC prefix beam search", lines + ["", f"greedy CER: {greedy_cer:.2%}"])
    report.finish()
    return 0


def _collapse(row):
    best = row.argmax(-1)
    keep = (best != 0) & np.concatenate([[True], best[1:] != best[:-1]])
    return best[keep]


if __name__ == "__main__":
    sys.exit(main())
