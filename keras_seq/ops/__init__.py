"""Functional building blocks shared by keras_seq layers."""

from keras_seq.ops.attention import (
    masked_fill_value,
    merge_masks,
    scaled_dot_product_attention,
)

__all__ = ["masked_fill_value", "merge_masks", "scaled_dot_product_attention"]
