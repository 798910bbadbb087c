"""Compiled generation loops, cached per model and per length."""

from __future__ import annotations


def compiled(model, name, max_length, fn):
    """`tf.function` of `lambda *args: fn(*args, max_length)`, traced once per
    `(name, max_length)` and reused across calls (batch size may vary)."""
    import tensorflow as tf

    cache = model.__dict__.setdefault("_keras_seq_compiled", {})
    key = (name, max_length)
    if key not in cache:
        cache[key] = tf.function(lambda *args: fn(*args, max_length), reduce_retracing=True)
    return cache[key]
