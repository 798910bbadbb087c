"""Keras callbacks: TensorBoard logging of sequence-model internals, and
fault-tolerant backups."""

from keras_seq.callbacks.attention_heatmap import (
    AttentionHeatmap,
    figure_to_png,
    plot_attention,
)
from keras_seq.callbacks.audio_samples import AudioSamples
from keras_seq.callbacks.backup_and_restore import BackupAndRestore, latest_backup
from keras_seq.callbacks.decoded_metric import DecodedMetric, decoded_scores
from keras_seq.callbacks.gradual_unfreezing import GradualUnfreezing
from keras_seq.callbacks.text_samples import TextSamples

__all__ = [
    "AttentionHeatmap",
    "AudioSamples",
    "BackupAndRestore",
    "DecodedMetric",
    "GradualUnfreezing",
    "TextSamples",
    "decoded_scores",
    "figure_to_png",
    "latest_backup",
    "plot_attention",
]
