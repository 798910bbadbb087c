"""Perplexity: the exponential of the mean token cross-entropy.

    PPL = exp( sum_t w_t * -log p(y_t | y_<t) / sum_t w_t ),

with w_t the mask (and/or sample weight) of token t. Log-probabilities are
computed in float32 whatever the dtype policy, since a bfloat16 log-softmax over
a large vocabulary is off by whole nats.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_seq._config import AttributeConfig
from keras_seq._private_api import get_keras_mask


def _token_nll(labels, outputs, from_logits: bool):
    """Float32 negative log-likelihood of each label, shaped like `labels`."""
    outputs = ops.convert_to_tensor(outputs)
    labels = ops.convert_to_tensor(labels)
    if len(outputs.shape) != len(labels.shape) + 1:
        raise ValueError(
            "`logits` must have one more axis (the vocabulary) than `labels`; "
            f"received shapes {tuple(labels.shape)} and {tuple(outputs.shape)}."
        )
    return ops.sparse_categorical_crossentropy(
        ops.cast(labels, "int32"), ops.cast(outputs, "float32"), from_logits=from_logits
    )


def _token_weights(labels, weights):
    """Float32 weights broadcast to the labels' shape (trailing axes added)."""
    ones = ops.ones_like(labels, dtype="float32")
    if weights is None:
        return ones
    weights = ops.cast(ops.convert_to_tensor(weights), "float32")
    while len(weights.shape) < len(ones.shape):
        weights = ops.expand_dims(weights, -1)
    return ones * weights


def _exp_mean(total_nll, count):
    return ops.where(count > 0, ops.exp(ops.divide_no_nan(total_nll, count)), 0.0)


def perplexity(labels, logits, mask=None):
    """Perplexity of `labels` under `logits`: exp(masked mean cross-entropy).

    Args:
        labels: integer tensor `[B, T]` (any shape `S`) of target ids.
        logits: float tensor `[B, T, V]` (`S + [V]`) of unnormalised scores.
        mask: optional boolean or float tensor shaped like `labels` (or a
            prefix of it), True / 1 where a token counts. Defaults to all.

    Returns:
        A float32 scalar tensor; 0.0 when the mask selects no token.

    Raises:
        ValueError: if `logits` does not have one more axis than `labels`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.metrics import perplexity
    >>> logits = np.log([[[0.5, 0.5], [0.25, 0.75], [0.5, 0.5]]])
    >>> round(float(perplexity([[0, 1, 1]], logits, mask=[[1, 1, 0]])), 4)
    1.633
    """
    nll = _token_nll(labels, logits, from_logits=True)
    weights = _token_weights(labels, mask)
    return _exp_mean(ops.sum(nll * weights), ops.sum(weights))


@keras.saving.register_keras_serializable(package="keras_seq")
class Perplexity(AttributeConfig, keras.metrics.Metric):
    """Streaming perplexity: accumulates total NLL and token count in float32.

    Works inside compiled train/eval steps (pure Keras ops). Tokens are weighted
    by the product of `sample_weight`, the Keras mask carried by `y_pred` (if
    any), and `labels != mask_token_id` (if set). `result()` is
    `exp(total_nll / count)`, 0.0 before any token is seen.

    Args:
        from_logits: bool, whether `y_pred` holds logits (else probabilities).
            Defaults to `True`.
        mask_token_id: optional int, a label id (e.g. padding) to ignore.
            Defaults to `None`.
        name: str. Defaults to `"perplexity"`.
        dtype: the result dtype. Defaults to float32.

    Call arguments (`update_state`):
        y_true: integer labels `[B, T]`.
        y_pred: logits or probabilities `[B, T, V]`.
        sample_weight: optional weights `[B, T]` or `[B]`.

    Raises:
        ValueError: if `mask_token_id` is not an int or `y_pred` has the wrong rank.

    Example:
    >>> import numpy as np
    >>> from keras_seq.metrics import Perplexity
    >>> metric = Perplexity(mask_token_id=0)
    >>> metric.update_state([[3, 1, 0]], np.log([[[.1, .1, .1, .7], [.2, .6, .1, .1], [1, 1, 1, 1]]]))
    >>> round(float(metric.result()), 4)
    1.543
    """

    config_attributes = ("from_logits", "mask_token_id")

    def __init__(
        self,
        from_logits: bool = True,
        mask_token_id: int | None = None,
        name: str = "perplexity",
        dtype=None,
        **kwargs,
    ):
        if mask_token_id is not None and (
            isinstance(mask_token_id, bool) or not isinstance(mask_token_id, int)
        ):
            raise ValueError(
                f"`mask_token_id` must be an int or None; received {mask_token_id!r}."
            )
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.from_logits = from_logits
        self.mask_token_id = mask_token_id
        self.total_nll = self.add_variable(
            shape=(), initializer="zeros", dtype="float32", name="total_nll"
        )
        self.token_count = self.add_variable(
            shape=(), initializer="zeros", dtype="float32", name="token_count"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the NLL and the weighted token count of one batch."""
        keras_mask = get_keras_mask(y_pred)
        nll = _token_nll(y_true, y_pred, self.from_logits)
        weights = _token_weights(y_true, sample_weight)
        if keras_mask is not None:
            weights = weights * _token_weights(y_true, keras_mask)
        if self.mask_token_id is not None:
            keep = ops.not_equal(ops.cast(y_true, "int32"), self.mask_token_id)
            weights = weights * ops.cast(keep, "float32")
        self.total_nll.assign_add(ops.sum(nll * weights))
        self.token_count.assign_add(ops.sum(weights))

    def result(self):
        return ops.cast(_exp_mean(self.total_nll, self.token_count), self.dtype)
