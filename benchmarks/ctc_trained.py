"""CTC prefix beam search vs pyctcdecode on a *trained* acoustic model's output.

`benchmarks/ctc.py` decodes simulated, deliberately noisy log-probabilities; this
script decodes the real posteriors of a `speech_ctc` model on held-out voices,
where a decoder's output can be checked against the spoken text.

    python -m applications.speech_ctc train --size default --output speech_ctc.keras
    python benchmarks/ctc_trained.py speech_ctc.keras [--examples 32] [--beam 32]

Prints, with and without the model's word 3-gram LM (our `NGramLM` written as
ARPA and read by KenLM for both decoders): median times, the ratio ours/peer,
top-path agreement and CER/WER of both against the references.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness  # noqa: E402

_harness.configure_threads()
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from pyctcdecode import build_ctcdecoder  # noqa: E402

from applications.speech_ctc import app  # noqa: E402
from applications.speech_ctc.data import ALPHABET, BLANK, make_dataset  # noqa: E402
from keras_seq.decoding import KenLMAdapter, ctc_beam_search_decode  # noqa: E402
from keras_seq.metrics import char_error_rate, word_error_rate  # noqa: E402


def tidy(text):
    return " ".join(text.split())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--examples", type=int, default=32)
    parser.add_argument("--beam", type=int, default=32)
    _harness.add_arguments(parser, rounds=30)
    args = parser.parse_args(argv)
    _harness.configure_threads(args.threads)
    logging.getLogger("pyctcdecode").setLevel(logging.ERROR)

    inference, lm, lm_weight, word_bonus = app.load(args.model)
    test = make_dataset(0, args.examples, seed=0)[1]
    waves = np.split(test["audio"].astype("float32") / 32768.0, np.cumsum(test["audio_lengths"])[:-1])
    log_probs = app.posteriors(inference, waves)
    batch, lengths = app._stack(log_probs)
    references = [tidy(t) for t in test["texts"]]
    arpa = lm.to_arpa(os.path.join(tempfile.mkdtemp(), "words.arpa"))
    adapter = KenLMAdapter(arpa)
    labels = list(ALPHABET)
    plain = build_ctcdecoder(labels)
    fused = build_ctcdecoder(labels, kenlm_model_path=arpa, alpha=lm_weight, beta=word_bonus)
    prune = {"token_min_logp": -5.0, "beam_prune_logp": 10.0}

    def ours(with_lm):
        extra = {}
        if with_lm:
            extra = dict(lm=KenLMAdapter(adapter.model, vocabulary=adapter.vocabulary), lm_weight=lm_weight,
                         word_bonus=word_bonus, alphabet=ALPHABET, unknown_word_logp=-10.0)  # fmt: skip
        paths, _ = ctc_beam_search_decode(batch, lengths, blank_index=BLANK, beam_width=args.beam, **prune, **extra)
        return [tidy("".join(ALPHABET[i] for i in p[0])) for p in paths]

    def peer(with_lm):
        decoder = fused if with_lm else plain
        return [tidy(decoder.decode(p, beam_width=args.beam, beam_prune_logp=-10.0, token_min_logp=-5.0))
                for p in log_probs]  # fmt: skip

    report = _harness.Report(
        f"CTC beam search on trained speech_ctc posteriors: B={len(log_probs)}, T<={batch.shape[1]}, "
        f"V={len(ALPHABET)}, beam={args.beam}", _harness.versions("numpy", "pyctcdecode", "kenlm"), args.json)
    lines = ["| LM | ours median ms (range) | pyctcdecode median ms (range) | ratio ours/peer (per-round range) | "
             "top-path agreement | CER ours / peer | WER ours / peer | rounds | load |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for with_lm in (False, True):
        ours_text, peer_text = ours(with_lm), peer(with_lm)
        agreement = np.mean([a == b for a, b in zip(ours_text, peer_text)])
        timing = _harness.interleave({"ours": lambda lm=with_lm: ours(lm), "peer": lambda lm=with_lm: peer(lm)},
                                     args.rounds, warmup=args.warmup, pairs=[("ours", "peer")], log=None)
        lines.append(
            f"| {'word 3-gram (KenLM)' if with_lm else 'none'} | {timing.comparison_cells()} | {agreement:.1%} | "
            f"{char_error_rate(ours_text, references):.2%} / {char_error_rate(peer_text, references):.2%} | "
            f"{word_error_rate(ours_text, references):.2%} / {word_error_rate(peer_text, references):.2%} | "
            f"{args.rounds} | {timing.load_cell()} |"
        )
    report.table("CTC on a trained model's posteriors", lines)
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
