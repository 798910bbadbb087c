"""Connectionist temporal classification (CTC) loss with lengths and padding."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_seq._config import AttributeConfig
from keras_seq._private_api import get_keras_mask
from keras_seq._validation import check_positive_ints, concrete_values


def _check_index(value, name):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"`{name}` must be an integer, got {value!r}")


def check_blank_and_pad(blank_index, pad_value):
    """Both integers, and padding never the blank class."""
    _check_index(blank_index, "blank_index")
    _check_index(pad_value, "pad_value")
    if blank_index >= 0 and pad_value == blank_index:
        raise ValueError(
            f"`pad_value` ({pad_value}) must differ from `blank_index` "
            f"({blank_index}): padding is not a blank"
        )


def resolve_blank_index(blank_index, num_classes):
    """Maps a negative `blank_index` (e.g. -1 = last class) to `[0, num_classes)`."""
    if num_classes is None:
        if blank_index < 0:
            raise ValueError(
                "`blank_index` must be non-negative when the number of classes "
                f"is not known statically, got {blank_index}"
            )
        return blank_index
    index = blank_index + num_classes if blank_index < 0 else blank_index
    if not 0 <= index < num_classes:
        raise ValueError(
            f"`blank_index` must lie in [-{num_classes}, {num_classes}) for logits "
            f"with {num_classes} classes, got {blank_index}"
        )
    return index


def _lengths_from_mask(mask):
    return ops.sum(ops.cast(mask, "int32"), axis=-1)


def _check_label_values(labels, label_lengths, blank, num_classes):
    """Eager check: real labels (within their lengths) are classes other than
    the blank. Symbolic labels pass (their values are not known)."""
    values = concrete_values(labels)
    lengths = concrete_values(label_lengths)
    if values is None or lengths is None or values.size == 0:
        return
    real = np.arange(values.shape[1])[None, :] < lengths.reshape(-1, 1)
    real_values = values[real]
    if np.any(real_values == blank):
        row = int(np.nonzero(np.any((values == blank) & real, axis=1))[0][0])
        raise ValueError(
            f"`labels` must not contain the blank index {blank} (the blank is not "
            f"a label); row {row} does: {values[row][real[row]].tolist()}."
        )
    if num_classes is not None and real_values.size and (
        real_values.min() < 0 or real_values.max() >= num_classes
    ):
        raise ValueError(
            f"`labels` must be class ids in [0, {num_classes}) (the logits' last "
            f"axis); received labels from {real_values.min()} to {real_values.max()}."
        )


def _frames_needed(labels, label_lengths):
    """The fewest frames an alignment of each row needs: one per label plus
    a blank between each pair of equal neighbours."""
    width = ops.shape(labels)[1]
    positions = ops.arange(width, dtype="int32")[None, :]
    repeats = ops.logical_and(
        ops.equal(labels[:, 1:], labels[:, :-1]),
        positions[:, 1:] < label_lengths[:, None],
    )
    return label_lengths + ops.sum(ops.cast(repeats, "int32"), axis=-1)


def ctc_loss(
    labels,
    logits,
    label_lengths=None,
    logit_lengths=None,
    blank_index=0,
    pad_value=-1,
    label_mask=None,
    logit_mask=None,
    zero_infinity=False,
):
    """Per-example CTC negative log-likelihood, computed in float32.

    -log p(labels | logits) where p sums softmax(logits) over every alignment
    that collapses to `labels` (repeats merged unless separated by the blank,
    then blanks removed). Runs on `keras.ops.ctc_loss` (`tf.nn.ctc_loss` on the
    TensorFlow backend) after resolving lengths, so padding never acts as a blank.

    Lengths, in order of precedence: explicit `label_lengths` / `logit_lengths`;
    else the masks (`True` = a real label / frame; lengths = number of `True`);
    else labels count the entries different from `pad_value` and logits use
    every frame. Padding must come after the real labels of a row.

    A row whose labels cannot be aligned in its frames (fewer frames than
    labels plus the blanks needed between repeated labels) has probability
    0: its loss is `inf` (`tf.nn.ctc_loss` alone returns a large finite
    number there), or `0` with `zero_infinity=True`, as in PyTorch, so that
    such rows contribute neither loss nor gradient. Labels equal to the blank
    raise a `ValueError` in eager calls.

    Args:
        labels: int `[B, L]`, padded with `pad_value` (or any value when
            lengths or a mask are given).
        logits: unnormalised scores `[B, T, V]` (any float dtype).
        label_lengths, logit_lengths: optional int `[B]`.
        blank_index: int, the blank class; negative counts from the end.
            Defaults to `0`.
        pad_value: int, the label padding value; must differ from the blank.
            Defaults to `-1`.
        label_mask, logit_mask: optional boolean `[B, L]` / `[B, T]`.
        zero_infinity: bool, return 0 instead of `inf` for rows that no
            alignment fits. Defaults to `False`.

    Returns:
        float32 `[B]`, `inf` (or 0) where no alignment fits in the frames.

    Example:
    >>> import numpy as np
    >>> from keras_seq.losses import ctc_loss
    >>> logits = np.zeros((1, 3, 3), "float32")  # uniform over {blank, a, b}
    >>> loss = ctc_loss(np.array([[1, -1]]), logits)
    >>> # alignments of "a" in 3 frames: aaa, aa_, a__, _aa, _a_, __a -> 6 of 27
    >>> np.allclose(np.asarray(loss), -np.log(6 / 27))
    True
    """
    _check_index(blank_index, "blank_index")
    _check_index(pad_value, "pad_value")
    logits = ops.convert_to_tensor(logits)
    if len(logits.shape) != 3:
        raise ValueError(f"`logits` must have rank 3 [B, T, V], got shape {logits.shape}")
    labels = ops.convert_to_tensor(labels)
    if len(labels.shape) != 2:
        raise ValueError(f"`labels` must have rank 2 [B, L], got shape {labels.shape}")
    blank = resolve_blank_index(blank_index, logits.shape[-1])
    if pad_value == blank:
        raise ValueError(
            f"`pad_value` ({pad_value}) must differ from the blank index ({blank}): "
            "padding is not a blank"
        )
    labels = ops.cast(labels, "int32")
    logits = ops.cast(logits, "float32")
    if label_lengths is None:
        if label_mask is not None:
            label_lengths = _lengths_from_mask(label_mask)
        else:
            label_lengths = _lengths_from_mask(ops.not_equal(labels, pad_value))
    if logit_lengths is None:
        if logit_mask is not None:
            logit_lengths = _lengths_from_mask(logit_mask)
        else:
            shape = ops.shape(logits)
            logit_lengths = ops.full((shape[0],), shape[1], dtype="int32")
    label_lengths = ops.cast(ops.reshape(label_lengths, (-1,)), "int32")
    logit_lengths = ops.cast(ops.reshape(logit_lengths, (-1,)), "int32")
    _check_label_values(labels, label_lengths, blank, logits.shape[-1])
    # Entries past a row's length are ignored by the op but must be valid ids.
    positions = ops.arange(ops.shape(labels)[1], dtype="int32")[None, :]
    labels = ops.where(positions < label_lengths[:, None], labels, blank)
    loss = ops.ctc_loss(labels, logits, label_lengths, logit_lengths, mask_index=blank)
    impossible = ops.less(logit_lengths, _frames_needed(labels, label_lengths))
    return ops.where(impossible, 0.0 if zero_infinity else float("inf"), loss)


@keras.saving.register_keras_serializable(package="keras_seq")
class CTC(AttributeConfig, keras.losses.Loss):
    """CTC loss for `model.compile`, with lengths, a free blank and real padding.

    Unlike `keras.losses.CTC`, the blank and the padding are different
    things: `y_true` is `[B, L]` integer labels padded with `pad_value`
    (label lengths = entries != `pad_value`), and frame counts come from
    `y_pred`'s Keras mask (e.g. a `Masking` layer upstream, propagated by
    GRU/Dense), else from `logit_length` (a constant, e.g. after a fixed
    downsampling), else every frame counts. The loss is computed in float32
    whatever the dtype policy. To pass per-example frame counts that are not a
    mask, use the `keras_seq.layers.CTCLoss` layer instead.

    Args:
        blank_index: int, the blank class (negative counts from the end).
            Defaults to `0`.
        pad_value: int label padding value, different from the blank.
            Defaults to `-1`.
        logit_length: optional int, the number of valid frames of every row
            when `y_pred` carries no mask.
        zero_infinity: bool, a row whose labels no alignment fits in its
            frames gets loss 0 (and no gradient) instead of `inf`, as
            PyTorch's option. Defaults to `False`.
        reduction, name, dtype: as for `keras.losses.Loss`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.losses import CTC
    >>> loss = CTC(blank_index=0, pad_value=-1)  # model.compile(opt, loss=loss)
    >>> logits = np.zeros((2, 3, 3), "float32")  # uniform over {blank, a, b}
    >>> # "a" has 6 of 27 alignments in 3 frames, "ab" 5 (ab_, a_b, _ab, aab, abb)
    >>> round(float(loss(np.array([[1, -1], [1, 2]]), logits)), 3)
    1.595
    """

    config_attributes = ("blank_index", "pad_value", "logit_length", "zero_infinity")

    def __init__(
        self,
        blank_index=0,
        pad_value=-1,
        logit_length=None,
        zero_infinity=False,
        reduction="sum_over_batch_size",
        name="ctc",
        dtype=None,
    ):
        check_blank_and_pad(blank_index, pad_value)
        check_positive_ints({"logit_length": logit_length}, allow_none=True)
        super().__init__(name=name, reduction=reduction, dtype=dtype or "float32")
        self.blank_index = blank_index
        self.pad_value = pad_value
        self.logit_length = logit_length
        self.zero_infinity = bool(zero_infinity)

    def __call__(self, y_true, y_pred, sample_weight=None):
        losses = self._per_example(y_true, y_pred, get_keras_mask(y_pred))
        return self._reduce(losses, sample_weight)

    def call(self, y_true, y_pred):
        return self._per_example(y_true, y_pred, get_keras_mask(y_pred))

    def _per_example(self, y_true, y_pred, mask):
        logit_lengths = None
        if mask is None and self.logit_length is not None:
            logit_lengths = ops.full(
                (ops.shape(y_pred)[0],), self.logit_length, dtype="int32"
            )
        return ctc_loss(
            y_true,
            y_pred,
            logit_lengths=logit_lengths,
            blank_index=self.blank_index,
            pad_value=self.pad_value,
            logit_mask=mask,
            zero_infinity=self.zero_infinity,
        )

    def _reduce(self, losses, sample_weight):
        if sample_weight is not None:
            sample_weight = ops.cast(ops.reshape(sample_weight, (-1,)), "float32")
            losses = losses * sample_weight
        if self.reduction in (None, "none"):
            return losses
        total = ops.sum(losses)
        if self.reduction == "sum":
            return total
        if self.reduction == "mean_with_sample_weight" and sample_weight is not None:
            return total / ops.maximum(ops.sum(sample_weight), 1e-12)
        return total / ops.cast(ops.shape(losses)[0], "float32")
