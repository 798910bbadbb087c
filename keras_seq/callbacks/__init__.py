"""Keras callbacks that log sequence-model internals to TensorBoard."""

from keras_seq.callbacks.attention_heatmap import (
    AttentionHeatmap,
    figure_to_png,
    plot_attention,
)

__all__ = ["AttentionHeatmap", "figure_to_png", "plot_attention"]
