"""Test utilities for keras_seq layers and for users' own layers."""

from keras_seq.testing.layer_test import run_layer_test

__all__ = ["run_layer_test"]
