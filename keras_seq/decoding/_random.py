"""Stateless random draws from a seed *tensor*, for compiled decoding loops.

Why this module exists: a sampling loop needs a fresh, reproducible seed at
every step inside one compiled function, and the seed of each call must be an
input of that function (not a constant baked into it, or every call draws the
same tokens). `keras.random` accepts an int or a `SeedGenerator` as `seed`,
not a seed tensor (TensorFlow backend; JAX takes a key array), so the two
backend calls that derive and consume seed tensors live here, in one place.

Draws are 24-bit integers scaled to (0, 1): TensorFlow's float
`stateless_uniform` gives different numbers with and without XLA on CPU
(TF 2.21, measured), its integer draws agree, so sampling gives the same
tokens whether or not the loop is jit-compiled.
"""

from __future__ import annotations

import keras
from keras import ops

_BITS = 2**24


def _backend():
    backend = keras.config.backend()
    if backend not in ("tensorflow", "jax"):
        raise NotImplementedError(
            f"Sampling supports the TensorFlow and JAX backends; this is {backend!r}."
        )
    return backend


def seed_tensor(seed=None):
    """A seed tensor `[2]` (int32 on TensorFlow, uint32 on JAX) from `seed`:
    an int (always the same draws), a `keras.random.SeedGenerator` (advanced
    once), a seed tensor `[2]` (used as is), or None (drawn from Keras's
    global seed generator, so every call differs)."""
    dtype = "int32" if _backend() == "tensorflow" else "uint32"
    if isinstance(seed, bool):
        raise ValueError(f"`seed` must be an int, a SeedGenerator, a seed tensor or None; received {seed!r}.")
    if isinstance(seed, int):
        return ops.convert_to_tensor([seed % 2**31, 0], dtype)
    if isinstance(seed, keras.random.SeedGenerator):
        return ops.cast(seed.next(), dtype)
    if seed is None:
        return ops.cast(keras.random.randint((2,), 0, 2**31 - 1, dtype="int32"), dtype)
    seed = ops.convert_to_tensor(seed)
    if tuple(seed.shape) != (2,):
        raise ValueError(f"A seed tensor must have shape [2]; received shape {tuple(seed.shape)}.")
    return ops.cast(seed, dtype)


def fold_in(seed, data):
    """A new seed tensor from `seed` and the integer scalar `data` (e.g. the
    step index): distinct `data` gives independent draws."""
    if _backend() == "tensorflow":
        import tensorflow as tf

        return tf.random.experimental.stateless_fold_in(seed, ops.cast(data, "int32"))
    import jax

    return jax.random.fold_in(seed, ops.cast(data, "uint32"))


def uniform(shape, seed):
    """float32 uniform draws in the open interval (0, 1)."""
    if _backend() == "tensorflow":
        import tensorflow as tf

        bits = tf.random.stateless_uniform(
            shape, seed=seed, minval=0, maxval=_BITS, dtype=tf.int32, alg="philox"
        )
    else:
        import jax

        bits = jax.random.randint(seed, shape, 0, _BITS, dtype="int32")
    return (ops.cast(bits, "float32") + 0.5) / _BITS


def categorical(logits, seed):
    """One index per row of float32 `logits` `[B, V]`, drawn from
    softmax(logits) by the Gumbel-max trick: argmax(logits - log(-log(u)))."""
    noise = -ops.log(-ops.log(uniform(ops.shape(logits), seed)))
    return ops.cast(ops.argmax(logits + noise, axis=-1), "int32")
