"""Losses: CTC with label/logit lengths, a configurable blank and real padding."""

from keras_seq.losses.ctc import CTC, ctc_loss

__all__ = ["CTC", "ctc_loss"]
