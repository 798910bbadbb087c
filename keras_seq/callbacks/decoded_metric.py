"""Decode a validation set at epoch end and log BLEU / ROUGE / exact match."""

from __future__ import annotations

import numpy as np

from keras_seq.callbacks._periodic import PeriodicSummaries

_METRICS = ("bleu", "rouge1", "rouge2", "rougeL", "exact_match")


def decoded_scores(hypotheses, references, metrics=_METRICS):
    """Corpus BLEU (0-100), mean ROUGE F1 and exact match of decoded strings."""
    from keras_seq.metrics import corpus_bleu, rouge_l, rouge_n

    scores = {}
    for name in metrics:
        if name == "bleu":
            scores[name] = corpus_bleu(list(hypotheses), [list(references)]).score
        elif name == "exact_match":
            scores[name] = float(np.mean([h == r for h, r in zip(hypotheses, references)]))
        elif name == "rougeL":
            scores[name] = float(np.mean([rouge_l(h, r)[2] for h, r in zip(hypotheses, references)]))
        else:
            n = int(name[-1])
            scores[name] = float(np.mean([rouge_n(h, r, n=n)[2] for h, r in zip(hypotheses, references)]))
    return scores


class DecodedMetric(PeriodicSummaries):
    """Decodes fixed validation inputs every epoch and logs sequence metrics.

    Token accuracy under teacher forcing overstates what a model does when
    it must feed back its own outputs; this callback measures the decoded
    output instead. `decode_fn(model, sources) -> list[str]` (e.g. a
    model's greedy or beam `generate` followed by detokenisation) runs at
    the end of every `every_n_epochs`-th epoch; the scores are written to
    TensorBoard under `log_dir/validation` as `decoded_<metric>` and added to
    the epoch's `logs` (so `History` and early stopping see
    `val_decoded_<metric>`).

    Args:
        decode_fn: callable `(model, sources) -> list of str`.
        sources: validation inputs passed to `decode_fn`.
        references: reference strings.
        log_dir: optional TensorBoard directory.
        metrics: any of `"bleu"`, `"rouge1"`, `"rouge2"`, `"rougeL"`,
            `"exact_match"`. Defaults to all.
        every_n_epochs: int. Defaults to `1`.

    Example:
    >>> import keras, numpy as np
    >>> from keras_seq.callbacks import DecodedMetric
    >>> callback = DecodedMetric(lambda model, xs: ["a b c d"] * len(xs),
    ...                          ["x", "y"], ["a b c d", "a b c e"],
    ...                          metrics=("exact_match",))
    >>> logs = {}
    >>> callback.on_epoch_end(0, logs)
    >>> logs["val_decoded_exact_match"]
    0.5
    """

    subdirectory = "validation"

    def __init__(self, decode_fn, sources, references, log_dir=None, metrics=_METRICS, every_n_epochs=1):
        super().__init__(log_dir, every_n_epochs)
        if not callable(decode_fn):
            raise ValueError("`decode_fn` must be callable: (model, sources) -> list of strings.")
        if len(sources) != len(references):
            raise ValueError(
                f"`sources` and `references` must have the same length; received {len(sources)} and {len(references)}."
            )
        unknown = [m for m in metrics if m not in _METRICS]
        if unknown:
            raise ValueError(f"`metrics` must be drawn from {_METRICS}; received unknown {unknown}.")
        self.decode_fn = decode_fn
        self.sources = sources
        self.references = list(references)
        self.metrics = tuple(metrics)
        self.history = []

    def on_epoch_end(self, epoch, logs=None):
        if not self._due(epoch):
            return
        hypotheses = list(self.decode_fn(self.model, self.sources))
        if len(hypotheses) != len(self.references):
            raise ValueError(
                f"`decode_fn` returned {len(hypotheses)} strings for {len(self.references)} references."
            )
        scores = decoded_scores(hypotheses, self.references, self.metrics)
        self.history.append(scores)
        if logs is not None:
            logs.update({f"val_decoded_{k}": v for k, v in scores.items()})
        if self.log_dir:
            import tensorflow as tf

            with self._summary_writer().as_default():
                for name, value in scores.items():
                    tf.summary.scalar(f"decoded_{name}", value, step=epoch)
            self._writer.flush()
