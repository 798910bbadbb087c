"""A mixin for layers whose outputs have the shape of their inputs."""

from __future__ import annotations


class SameShape:
    """For a Keras layer whose output has its input's shape and carries its
    input's mask: gives `compute_output_shape` (so Keras never traces the
    layer to learn the shape) and `compute_mask` once, for every such layer."""

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape)
