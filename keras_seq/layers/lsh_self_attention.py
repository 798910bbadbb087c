"""Reformer LSH self-attention: O(L log L) attention by hashing shared queries/keys."""

from __future__ import annotations

import random

import keras
from keras import ops

from keras_seq._private_api import without_keras_mask as _without_mask

# EinsumDense does not support masking; a mask-free view keeps Keras from warning
# and from stripping the mask off the caller's tensor (shared with MultiHeadAttention).
from keras_seq._same_shape import SameShape
from keras_seq._validation import positive_int_error as _positive_int
from keras_seq._validation import raise_errors, rate_error
from keras_seq.ops.lsh import (
    bucket_factors,
    check_num_buckets,
    lsh_attention,
    lsh_hash,
)


@keras.saving.register_keras_serializable(package="keras_seq")
class LSHSelfAttention(SameShape, keras.layers.Layer):
    """Locality-sensitive-hashing self-attention (the Reformer's attention).

    Each head projects the inputs to one shared query/key vector x and a
    value. Angular LSH assigns x a bucket per hash round, argmax over
    [xR; -xR] for a random Gaussian rotation R. Per round the tokens are
    sorted by (bucket, position) and cut into chunks of `bucket_size`; every
    chunk attends to itself and the chunk before it, with logits
    q . k_hat / sqrt(d) where k_hat is the length-normalised key (scaled
    once, as trax and HF). A token attends to itself only when nothing else
    is available; with `causal=True` only to original positions <= its own.
    Each round's output is unsorted and the `num_hashes` rounds are combined
    with weights softmax over the rounds of each round's logsumexp. Cost is
    O(L log L) time and O(L * bucket_size) memory instead of O(L^2). On
    TensorFlow the rounds are computed one at a time and recomputed in the
    backward pass, so one round's intermediates are alive at a time (see
    `keras_seq.ops.lsh.lsh_attention`).

    Any length works: the layer pads to a multiple of `bucket_size`
    internally (padding never receives attention) and slices back. The bucket
    count defaults, as in HF `transformers`, to `2 * padded_length //
    bucket_size` rounded down to a power of two (at least 2), so the average
    bucket holds about half a chunk; for long inputs (more than
    `2 * max(bucket_size, sqrt(padded_length / bucket_size))` buckets) the
    hash is factorised into two smaller rotations, which keeps hashing
    O(L sqrt(L)).

    Rotations: a fixed function of `seed` and the bucket count, like HF with
    `hash_seed` set (trax and HF by default redraw them every forward pass).
    Repeated calls, a saved and reloaded model, and a reversible backward
    pass therefore all hash alike. With `seed=None` a seed is drawn once at
    construction and recorded in `get_config`. `compute_buckets` returns the
    buckets of a forward pass and `call(..., buckets=...)` reuses them
    without hashing again; buckets never carry gradients.

    Under mixed policies the shared query/key projection, the hashing and the
    softmax statistics run in float32; values and outputs in the compute
    dtype.

    Masks: `padding_mask` `[B, T]` (True = real token) and the implicit Keras
    mask are merged with `&`; masked tokens are never attended to and are
    hashed into an extra bucket sorted after all real tokens, so changing
    them leaves the real tokens' outputs unchanged. The Keras mask passes
    through to the output.

    Args:
        num_heads: int, number of heads H.
        key_dim: int, size d of each head's shared query/key and value.
        bucket_size: int, chunk length. Defaults to `64`.
        num_hashes: int, hash rounds. Defaults to `4`.
        causal: bool, attend only to earlier or equal positions. Defaults
            to `False`.
        dropout: float in `[0, 1)`, dropout on the attention weights.
            Defaults to `0.0`.
        seed: optional int, seed of the rotations and of dropout. Defaults
            to `None` (drawn once at construction).
        num_buckets: optional even int >= 2, or a list of them for a
            factorised hash with their product as bucket count; `None`
            derives it from the padded length with
            `keras_seq.ops.lsh.bucket_factors` (as HF `transformers`).
            Defaults to `None`.

    Call arguments:
        inputs: `[B, T, D]`.
        padding_mask: optional boolean `[B, T]`, True for real tokens.
        training: bool, whether dropout is active.
        buckets: optional int32 `[B, H, num_hashes * T_padded]` from
            `compute_buckets` on the same inputs; skips hashing.

    Returns:
        `[B, T, D]`.

    Raises:
        ValueError: on invalid constructor arguments, inputs that are not
            rank 3, or masks/buckets of the wrong shape.

    Example:
    >>> import numpy as np
    >>> from keras_seq.layers import LSHSelfAttention
    >>> attention = LSHSelfAttention(num_heads=2, key_dim=4, bucket_size=4,
    ...                              num_hashes=2, causal=True, seed=0)
    >>> x = np.random.rand(3, 10, 8).astype("float32")
    >>> tuple(attention(x).shape)
    (3, 10, 8)
    >>> tuple(attention.compute_buckets(x).shape)  # 2 rounds x 12 padded steps
    (3, 2, 24)

    References:
        Kitaev, Kaiser and Levskaya, "Reformer: The Efficient Transformer",
        ICLR 2020.
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        bucket_size=64,
        num_hashes=4,
        causal=False,
        dropout=0.0,
        seed=None,
        num_buckets=None,
        **kwargs,
    ):
        errors = [
            _positive_int("num_heads", num_heads),
            _positive_int("key_dim", key_dim),
            _positive_int("bucket_size", bucket_size),
            _positive_int("num_hashes", num_hashes),
        ]
        if not isinstance(causal, bool):
            errors.append(f"`causal` must be a bool; received {causal!r}.")
        errors.append(rate_error("dropout", dropout))
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            errors.append(f"`seed` must be an int or None; received {seed!r}.")
        if num_buckets is not None:
            try:
                check_num_buckets(num_buckets)
            except ValueError as error:
                errors.append(str(error))
        raise_errors(errors)
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.bucket_size = bucket_size
        self.num_hashes = num_hashes
        self.causal = causal
        self.dropout = float(dropout)
        self.seed = seed if seed is not None else random.randrange(2**31 - 1)
        self.num_buckets = num_buckets
        self.supports_masking = True
        self._dropout_layer = keras.layers.Dropout(
            self.dropout, seed=self.seed, dtype=self.dtype_policy
        )

    def build(self, inputs_shape):
        if len(inputs_shape) != 3:
            raise ValueError(
                "`inputs` must have rank 3 [batch, time, features]; received shape "
                f"{tuple(inputs_shape)}."
            )
        if inputs_shape[-1] is None:
            raise ValueError("The last dimension of `inputs` must be known.")
        width = inputs_shape[-1]
        heads_shape = (None, self.num_heads, self.key_dim)
        # Under mixed policies the shared QK projection runs in float32: the
        # buckets are a discontinuous function of it, and float16 rounding
        # (and its thread-dependent summation order) would flip near-ties.
        mixed = self.dtype_policy.compute_dtype != self.dtype_policy.variable_dtype
        self.query_key_dense = keras.layers.EinsumDense(
            "abc,cde->abde",
            heads_shape,
            dtype="float32" if mixed else self.dtype_policy,
            name="query_key",
        )
        self.query_key_dense.build(inputs_shape)
        self.value_dense = keras.layers.EinsumDense(
            "abc,cde->abde", heads_shape, dtype=self.dtype_policy, name="value"
        )
        self.value_dense.build(inputs_shape)
        self.output_dense = keras.layers.EinsumDense(
            "abcd,cde->abe", (None, width), dtype=self.dtype_policy, name="attention_output"
        )
        self.output_dense.build(
            (inputs_shape[0], inputs_shape[1], self.num_heads, self.key_dim)
        )

    # -- helpers --------------------------------------------------------------

    def _lengths(self, inputs):
        length = inputs.shape[1]
        if length is None:
            length = ops.shape(inputs)[1]
            padded = -(-length // self.bucket_size) * self.bucket_size
        else:
            padded = -(-length // self.bucket_size) * self.bucket_size
        return length, padded

    def bucket_factors(self, padded_length):
        """The hash's bucket factors `(n1, ...)` for a padded length (ints or tensors)."""
        if self.num_buckets is None:
            return bucket_factors(padded_length, self.bucket_size)
        if isinstance(self.num_buckets, (list, tuple)):
            return tuple(self.num_buckets)
        return (self.num_buckets,)

    def rotations(self, factors):
        """The random rotations `[H, key_dim, num_hashes, sum(n_i // 2)]`."""
        columns = 0
        for n in factors:
            columns = columns + n // 2
        shape = (self.num_heads, self.key_dim, self.num_hashes, columns)
        return keras.random.normal(shape, dtype="float32", seed=self.seed)

    def _hash(self, query_key, valid, factors):
        return lsh_hash(query_key, self.rotations(factors), valid, num_buckets=factors)

    def _valid_mask(self, inputs, padding_mask, mask):
        masks = []
        for name, m in (("padding_mask", padding_mask), ("mask", mask)):
            if m is None:
                continue
            if len(m.shape) != 2:
                raise ValueError(
                    f"`{name}` must have rank 2 [batch, time]; received shape "
                    f"{tuple(m.shape)}."
                )
            masks.append(ops.cast(m, "bool"))
        if not masks:
            return None
        merged = masks[0]
        for m in masks[1:]:
            merged = ops.logical_and(merged, m)
        return merged

    def _project_padded(self, inputs, valid):
        """Shared QK and values `[B, H, T_padded, d]`, plus the padded mask."""
        length, padded = self._lengths(inputs)
        inputs = _without_mask(inputs)
        query_key = ops.transpose(self.query_key_dense(inputs), (0, 2, 1, 3))
        value = ops.transpose(self.value_dense(inputs), (0, 2, 1, 3))
        extra = padded - length
        needs_padding = not isinstance(extra, int) or extra > 0
        if needs_padding:
            pad = [[0, 0], [0, 0], [0, extra], [0, 0]]
            query_key = ops.pad(query_key, pad)
            value = ops.pad(value, pad)
            if valid is None:
                valid = ops.ones(ops.shape(inputs)[:2], dtype="bool")
            valid = ops.pad(valid, [[0, 0], [0, extra]], constant_values=False)
        return query_key, value, valid, length, padded

    def _dropout_fn(self):
        """Dropout on attention weights as `lsh_attention` wants it.

        On TensorFlow the masks are a stateless function of one seed drawn
        per call from the dropout layer's seed generator and of the
        round/half index, so the recomputation in the backward pass drops
        the same weights (a `ReversibleSequence` replays the generator's
        state the same way). Other backends use the dropout layer directly.
        """
        rate = self.dropout
        if keras.backend.backend() != "tensorflow":
            return lambda weights, index: self._dropout_layer(weights, training=True)
        import tensorflow as tf

        seed = self._dropout_layer.seed_generator.next()
        seed = tf.cast(tf.math.floormod(tf.cast(seed, "int64"), 2**31 - 1), "int32")

        def dropout_fn(weights, index):
            index_seed = seed + tf.stack([tf.constant(0, "int32"), tf.cast(index, "int32")])
            keep = tf.random.stateless_uniform(tf.shape(weights), index_seed) >= rate
            return tf.where(keep, weights / tf.cast(1.0 - rate, weights.dtype), 0)

        return dropout_fn

    def compute_buckets(self, inputs, padding_mask=None):
        """Bucket ids of `inputs`, as `call` would compute them.

        Returns:
            int32 `[B, num_heads, num_hashes * T_padded]`: round r occupies
            `[r * T_padded, (r + 1) * T_padded)`; ids are in
            `[0, num_buckets)` for real tokens and `num_buckets` for padding
            (internal or masked). `T_padded` is `T` rounded up to a multiple
            of `bucket_size`. Pass the result to `call(..., buckets=...)`.
        """
        inputs = ops.convert_to_tensor(inputs)
        if not self.built:
            self.build(tuple(inputs.shape))
        valid = self._valid_mask(inputs, padding_mask, None)
        query_key, _, valid, _, padded = self._project_padded(inputs, valid)
        buckets = self._hash(query_key, valid, self.bucket_factors(padded))
        return ops.reshape(buckets, (ops.shape(buckets)[0], self.num_heads, -1))

    def call(self, inputs, padding_mask=None, training=None, buckets=None, mask=None):
        if len(inputs.shape) != 3:
            raise ValueError(
                "`inputs` must have rank 3 [batch, time, features]; received shape "
                f"{tuple(inputs.shape)}."
            )
        valid = self._valid_mask(inputs, padding_mask, mask)
        query_key, value, valid, length, padded = self._project_padded(inputs, valid)
        factors = self.bucket_factors(padded)
        num_buckets = 1
        for n in factors:
            num_buckets = num_buckets * n
        if buckets is None:
            buckets = self._hash(query_key, valid, factors)
        else:
            expected = self.num_hashes * padded if isinstance(padded, int) else None
            if (
                len(buckets.shape) != 3
                or buckets.shape[1] != self.num_heads
                or (
                    None not in (expected, buckets.shape[2])
                    and buckets.shape[2] != expected
                )
            ):
                raise ValueError(
                    "`buckets` must have shape [batch, num_heads="
                    f"{self.num_heads}, num_hashes * padded_length="
                    f"{expected if expected is not None else '?'}] as returned by "
                    f"`compute_buckets`; received shape {tuple(buckets.shape)}."
                )
            buckets = ops.stop_gradient(ops.cast(buckets, "int32"))
            buckets = ops.reshape(
                buckets, (ops.shape(buckets)[0], self.num_heads, self.num_hashes, -1)
            )

        attended = lsh_attention(
            query_key,
            value,
            buckets,
            self.bucket_size,
            causal=self.causal,
            padding_mask=valid,
            dropout_fn=self._dropout_fn() if training and self.dropout > 0 else None,
            num_buckets=num_buckets,
        )
        attended = ops.transpose(attended, (0, 2, 1, 3))
        if not isinstance(padded, int) or padded != length:
            attended = attended[:, :length]
        return self.output_dense(attended)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "bucket_size": self.bucket_size,
                "num_hashes": self.num_hashes,
                "causal": self.causal,
                "dropout": self.dropout,
                "seed": self.seed,
                "num_buckets": (
                    list(self.num_buckets)
                    if isinstance(self.num_buckets, (list, tuple))
                    else self.num_buckets
                ),
            }
        )
        return config
