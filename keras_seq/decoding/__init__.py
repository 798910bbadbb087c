"""Decoding: search and sampling driven by a model's `step_fn(tokens, state)`."""

from keras_seq.decoding.greedy import greedy_search

__all__ = ["greedy_search"]
