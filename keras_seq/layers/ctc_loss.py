"""A pass-through layer that adds the CTC loss of its logits to the model."""

from __future__ import annotations

import keras
from keras import ops

from keras_seq._config import AttributeConfig
from keras_seq.losses.ctc import check_blank_and_pad, ctc_loss


@keras.saving.register_keras_serializable(package="keras_seq")
class CTCLoss(AttributeConfig, keras.layers.Layer):
    """Adds the CTC loss of `logits` against `labels` and returns `logits`.

    Computes -log p(labels | logits), summing softmax(logits) over every
    frame alignment that collapses to the labels (merge repeats not separated
    by the blank, then drop blanks), with `keras_seq.losses.ctc_loss`, in
    float32 whatever the dtype policy, and registers the batch mean with
    `add_loss`: compile the model with `loss=None` and `fit` on inputs that
    include the labels, no custom training loop needed. At inference, feed
    the logits of this layer's input (or keep the layer: it is the identity).

    Lengths and masks: explicit `label_lengths` / `logit_lengths` win; else
    the implicit Keras masks of `labels` / `logits` (True = real) give them;
    else labels count the entries different from `pad_value` and every frame
    counts. Padding is never read as a blank, and the output keeps the mask
    of `logits`.

    Args:
        blank_index: int, the blank class; negative counts from the end
            (`-1` = last class). Defaults to `0`.
        pad_value: int label padding value, different from the blank.
            Defaults to `-1`.
        zero_infinity: bool, rows that no alignment fits (too few frames for
            the labels) add 0 instead of `inf`, as PyTorch's option.
            Defaults to `False`.

    Call arguments:
        labels: int `[B, L]`, padded after the real labels.
        logits: float `[B, T, V]` unnormalised scores.
        label_lengths: optional int `[B]` or `[B, 1]`.
        logit_lengths: optional int `[B]` or `[B, 1]`.

    Returns:
        `logits`, unchanged (in the compute dtype).

    Raises:
        ValueError: for a non-integer `blank_index`/`pad_value`, equal blank
            and padding, wrong-rank inputs, or (eager calls) labels equal to
            the blank or outside the classes. Labels that no alignment fits
            give an infinite loss (see `zero_infinity`).

    Example:
    >>> import numpy as np
    >>> from keras_seq.layers import CTCLoss
    >>> layer = CTCLoss(blank_index=0)
    >>> logits = np.zeros((2, 5, 4), "float32")
    >>> out = layer(np.array([[1, 2], [3, -1]]), logits, logit_lengths=np.array([5, 3]))
    >>> out.shape, len(layer.losses)
    (TensorShape([2, 5, 4]), 1)

    References:
        Graves, Fernandez, Gomez and Schmidhuber, "Connectionist Temporal
        Classification: Labelling Unsegmented Sequence Data with Recurrent
        Neural Networks", ICML 2006.
    """

    config_attributes = ("blank_index", "pad_value", "zero_infinity")

    def __init__(self, blank_index=0, pad_value=-1, zero_infinity=False, **kwargs):
        super().__init__(**kwargs)
        check_blank_and_pad(blank_index, pad_value)
        self.blank_index = blank_index
        self.pad_value = pad_value
        self.zero_infinity = bool(zero_infinity)
        self.supports_masking = True

    def call(
        self,
        labels,
        logits,
        label_lengths=None,
        logit_lengths=None,
        labels_mask=None,
        logits_mask=None,
    ):
        loss = ctc_loss(
            labels,
            logits,
            label_lengths=label_lengths,
            logit_lengths=logit_lengths,
            blank_index=self.blank_index,
            pad_value=self.pad_value,
            label_mask=labels_mask if label_lengths is None else None,
            logit_mask=logits_mask if logit_lengths is None else None,
            zero_infinity=self.zero_infinity,
        )
        self.add_loss(ops.mean(loss))
        return logits

    def compute_mask(self, labels, logits=None, *args, logits_mask=None, **kwargs):
        return logits_mask

    def compute_output_shape(self, labels_shape, logits_shape, *args, **kwargs):
        return logits_shape
