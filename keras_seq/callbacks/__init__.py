"""Keras callbacks that log sequence-model internals to TensorBoard."""

from keras_seq.callbacks.attention_heatmap import (
    AttentionHeatmap,
    figure_to_png,
    plot_attention,
)
from keras_seq.callbacks.decoded_metric import DecodedMetric, decoded_scores
from keras_seq.callbacks.gradual_unfreezing import GradualUnfreezing

__all__ = [
    "AttentionHeatmap",
    "DecodedMetric",
    "GradualUnfreezing",
    "decoded_scores",
    "figure_to_png",
    "plot_attention",
]
