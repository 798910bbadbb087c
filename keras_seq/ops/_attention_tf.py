"""The TensorFlow path of `keras_seq.layers.MultiHeadAttention` (rank-3
inputs): projections written straight into the head-major `[B, H, T, d]`
layout the batched matmuls of attention need, so the queries, keys and
values are never transposed in the forward pass.

Each projection is one broadcast batched matmul `[B, 1, T, C] x [1, H, C, d]`
(oneDNN runs it as B*H GEMMs of `[T, C] x [C, d]`); its backward pass
transposes the incoming gradient once to `[B*T, H*d]` and uses 2-D GEMMs,
so the kernel gradient is one product (automatic differentiation of the
broadcast matmul would compute a `[B, H, C, d]` product per example and sum
it over the batch). Same values as `inputs @ kernel + bias` up to float
rounding.
"""

from __future__ import annotations

import tensorflow as tf


def head_projection(inputs, kernel, bias=None, add_bias=True):
    """`[B, T, C]` x kernel `[C, H, d]` (+ bias `[H, d]`) -> `[B, H, T, d]`.

    With `add_bias=False` the bias is left out of the result and its gradient
    is zero: for the keys' bias, whose term q . b_k is the same for every key
    of a query row, so the softmax over the row removes it (the attention's
    output does not depend on it and its exact gradient is zero).
    """
    channels, heads, depth = kernel.shape
    width = heads * depth

    def forward(inputs, kernel):
        return tf.matmul(inputs[:, None], tf.transpose(kernel, (1, 0, 2))[None])

    def backward(d_heads, inputs, kernel):
        flat = tf.reshape(tf.transpose(d_heads, (0, 2, 1, 3)), (-1, width))
        d_inputs = tf.reshape(
            tf.matmul(flat, tf.reshape(kernel, (channels, width)), transpose_b=True),
            tf.shape(inputs),
        )
        d_kernel = tf.reshape(
            tf.matmul(tf.reshape(inputs, (-1, channels)), flat, transpose_a=True),
            (channels, heads, depth),
        )
        return flat, d_inputs, d_kernel

    if bias is not None and not add_bias:

        @tf.custom_gradient
        def project_without_bias(inputs, kernel, bias):
            def grad(d_heads):
                _, d_inputs, d_kernel = backward(d_heads, inputs, kernel)
                return d_inputs, d_kernel, tf.zeros_like(bias)

            return forward(inputs, kernel), grad

        return project_without_bias(inputs, kernel, bias)

    if bias is None:

        @tf.custom_gradient
        def project(inputs, kernel):
            def grad(d_heads):
                _, d_inputs, d_kernel = backward(d_heads, inputs, kernel)
                return d_inputs, d_kernel

            return forward(inputs, kernel), grad

        return project(inputs, kernel)

    @tf.custom_gradient
    def project_with_bias(inputs, kernel, bias):
        def grad(d_heads):
            flat, d_inputs, d_kernel = backward(d_heads, inputs, kernel)
            # The column sum as a [1, N] x [N, H*d] matmul: a fraction of the
            # time of the generic reduction.
            ones = tf.ones((1, tf.shape(flat)[0]), flat.dtype)
            d_bias = tf.reshape(tf.matmul(ones, flat), (heads, depth))
            return d_inputs, d_kernel, d_bias

        return forward(inputs, kernel) + bias[:, None, :], grad

    return project_with_bias(inputs, kernel, bias)


def merge_heads(heads):
    """`[B, H, T, d]` -> `[B*T, H*d]` (the input of the output projection)."""
    width = heads.shape[1] * heads.shape[3]
    return tf.reshape(tf.transpose(heads, (0, 2, 1, 3)), (-1, width))


def attention_heads(query, key, value, probabilities, mask=None, return_scores=False,
                    dropout_fn=None):
    """softmax(Q K^T) V over head-major `[B, H, T, d]` / `[B, H, S, d]` tensors.

    `query` is scaled already; `probabilities(logits, mask)` is the masked
    softmax (in float32 for 16-bit inputs). Without dropout and scores the
    backward pass is hand-written: it uses rowsum(dP * P) = rowsum(dO * O)
    (O = P V), so the softmax gradient takes two passes over the
    `[B, H, T, S]` weights instead of four, and every product is a batched
    matmul with transpose flags (no transposed copies). Returns
    `(outputs [B, H, T, dv], scores or None)` in the dtype of `value`.
    """
    dtype = value.dtype
    if return_scores or dropout_fn is not None:
        weights = probabilities(tf.matmul(query, key, transpose_b=True), mask)
        scores = tf.cast(weights, dtype)
        dropped = scores if dropout_fn is None else dropout_fn(scores)
        return tf.matmul(dropped, value), scores

    @tf.custom_gradient
    def attend(query, key, value):
        weights = probabilities(tf.matmul(query, key, transpose_b=True), mask)
        cast_weights = tf.cast(weights, dtype)
        outputs = tf.matmul(cast_weights, value)

        def grad(d_outputs):
            d_value = tf.matmul(cast_weights, d_outputs, transpose_a=True)
            d_weights = tf.matmul(d_outputs, value, transpose_b=True)
            stats = weights.dtype
            rows = tf.reduce_sum(
                tf.cast(d_outputs, stats) * tf.cast(outputs, stats), axis=-1, keepdims=True
            )
            d_logits = weights * (tf.cast(d_weights, stats) - rows)
            if mask is not None:
                d_logits = tf.where(mask, d_logits, tf.zeros((), stats))
            d_logits = tf.cast(d_logits, dtype)
            d_query = tf.matmul(d_logits, key)
            d_key = tf.matmul(d_logits, query, transpose_a=True)
            return d_query, d_key, d_value

        return outputs, grad

    return attend(query, key, value), None


def dense_2d(inputs, kernel, bias=None, relu=False):
    """`relu?(inputs @ kernel + bias)` for 2-D `inputs`, in one fused kernel.

    The forward pass is MatMul -> BiasAdd (-> Relu), which TensorFlow's
    graph optimiser runs as one fused oneDNN matmul (the `[N, units]`
    product is written once, not re-read by a separate add and activation);
    the backward pass takes the ReLU's gradient from the output (`y > 0`
    exactly where the pre-activation is), the bias gradient as a
    `[1, N] x [N, units]` matmul, and 2-D GEMMs with transpose flags.
    """
    if bias is None and not relu:
        return tf.matmul(inputs, kernel)

    def forward(inputs, kernel, bias):
        outputs = tf.matmul(inputs, kernel)
        if bias is not None:
            outputs = tf.nn.bias_add(outputs, bias)
        return tf.nn.relu(outputs) if relu else outputs

    def backward(d_outputs, outputs, inputs, kernel):
        if relu:
            d_outputs = tf.raw_ops.ReluGrad(gradients=d_outputs, features=outputs)
        d_inputs = tf.matmul(d_outputs, kernel, transpose_b=True)
        d_kernel = tf.matmul(inputs, d_outputs, transpose_a=True)
        return d_outputs, d_inputs, d_kernel

    if bias is None:

        @tf.custom_gradient
        def project(inputs, kernel):
            outputs = forward(inputs, kernel, None)

            def grad(d_outputs):
                return backward(d_outputs, outputs, inputs, kernel)[1:]

            return outputs, grad

        return project(inputs, kernel)

    @tf.custom_gradient
    def project_with_bias(inputs, kernel, bias):
        outputs = forward(inputs, kernel, bias)

        def grad(d_outputs):
            d_pre, d_inputs, d_kernel = backward(d_outputs, outputs, inputs, kernel)
            ones = tf.ones((1, tf.shape(d_pre)[0]), d_pre.dtype)
            d_bias = tf.reshape(tf.matmul(ones, d_pre), tf.shape(bias))
            return d_inputs, d_kernel, d_bias

        return outputs, grad

    return project_with_bias(inputs, kernel, bias)


def layer_norm(inputs, gamma, beta, epsilon):
    """Layer normalisation over the last axis, as Keras's
    `LayerNormalization` (center and scale), in fewer element-wise passes.

    `(x - mean) * (rsqrt(var + eps) * gamma) + beta`, with the variance
    from `SquaredDifference(x, stop_gradient(mean))` as `tf.nn.moments`
    (its derivative with respect to the mean is zero, so the gradient is
    the same). Keras computes `x * inv + (beta - mean * inv)`, which
    TensorFlow's graph optimiser turns into more full-size passes (a Neg,
    an AddN and two adds); this form is one Sub, two Muls and one Add over
    `[..., D]` besides the two reductions. Statistics and arithmetic run in
    float32 for 16-bit inputs, as Keras; `gamma`/`beta` may be None.
    """
    dtype = inputs.dtype
    x = tf.cast(inputs, tf.float32) if dtype in (tf.float16, tf.bfloat16) else inputs
    mean = tf.reduce_mean(x, axis=-1, keepdims=True)
    variance = tf.reduce_mean(
        tf.math.squared_difference(x, tf.stop_gradient(mean)), axis=-1, keepdims=True
    )
    scale = tf.math.rsqrt(variance + tf.constant(epsilon, x.dtype))
    if gamma is not None:
        scale = scale * tf.cast(gamma, x.dtype)
    outputs = (x - mean) * scale
    if beta is not None:
        outputs = outputs + tf.cast(beta, x.dtype)
    return tf.cast(outputs, dtype)
