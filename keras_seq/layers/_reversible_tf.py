"""TensorFlow's reversible stack: the forward pass of every block under one
custom gradient whose backward pass recomputes each block's inputs from its
outputs (`x2 = y2 - g(y1)`, `x1 = y1 - f(x2)`), last block first, so no
block's activations are kept between the passes."""

from __future__ import annotations

import keras

from keras_seq.layers.reversible import _call_sublayer, _restored


def reversible_stack(blocks, x1, x2, padding_mask, training):
    """`(y1, y2)` of the `ReversibleBlock`s `blocks` on TensorFlow."""
    # `tf.recompute_grad` stops the outer tapes the same way: without it, an
    # eager tape records (and keeps alive) every activation of the forward.
    from keras_seq._private_api import stop_recording

    @keras.ops.custom_gradient
    def stack(x1, x2):
        saved = []
        with stop_recording():
            for block in blocks:
                x1, x2, state = block._forward_saving(x1, x2, padding_mask, training)
                saved.append(state)
        outputs = (x1, x2)

        def grad(dy1, dy2, variables=None):
            return _backward(
                blocks, saved, outputs, dy1, dy2, variables, padding_mask, training
            )

        return outputs, grad

    return stack(x1, x2)


def _backward(blocks, saved, outputs, dy1, dy2, variables, padding_mask, training):
    """The gradients `((dx1, dx2), variable gradients)` of the stack, given
    the forward's `saved` (buckets, f seeds, g seeds) per block."""
    import tensorflow as tf

    variables = list(variables or [])
    totals = [None] * len(variables)

    def accumulate(grads):
        for i, g in enumerate(grads):
            if g is not None:
                g = tf.convert_to_tensor(g)
                totals[i] = g if totals[i] is None else totals[i] + g
                done.append(totals[i])

    def recompute(sublayer, seeds, inputs, output_gradients, mask, *buckets):
        """`sublayer(inputs)` again (same dropout seeds), its weight
        gradients accumulated; returns it and its input gradient."""
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(inputs)
            tape.watch(variables)
            with _restored(sublayer, seeds):
                result = _call_sublayer(sublayer, inputs, mask, training, *buckets)
        grads = tape.gradient(
            result, [inputs] + variables, output_gradients=output_gradients
        )
        del tape
        accumulate(grads[1:])
        return result, grads[0]

    y1, y2 = outputs
    done = []  # the previous block's weight gradients
    for block, (buckets, f_seeds, g_seeds) in zip(reversed(blocks), reversed(saved)):
        # Recompute only once the gradients of the block above exist
        # (input and weight gradients), or the graph runtime may
        # recompute blocks early, or defer weight gradients and keep
        # their activations alive.
        # The saved buckets and seeds too: whatever depends only on
        # them (LSH sort permutations, causal and self masks) would
        # otherwise be computed for every block as soon as the
        # forward pass ends and kept alive until that block's turn
        # (Grappler may also merge it with the forward's copy).
        with tf.control_dependencies([dy1, dy2] + done):
            y1, y2 = tf.identity(y1), tf.identity(y2)
            if buckets is not None:
                buckets = tf.identity(buckets)
            f_seeds = [tf.identity(s) for s in f_seeds]
            g_seeds = [tf.identity(s) for s in g_seeds]
            mask = None if padding_mask is None else tf.identity(padding_mask)
        done = []
        # y2 = x2 + g(y1): recompute g(y1), recover x2, add g's
        # input gradient to dy1; then likewise y1 = x1 + f(x2).
        gy1, input_grad = recompute(block.g, g_seeds, y1, dy2, mask)
        x2 = y2 - gy1
        if input_grad is not None:
            dy1 = dy1 + input_grad
        fx2, input_grad = recompute(block.f, f_seeds, x2, dy1, mask, buckets)
        x1 = y1 - fx2
        if input_grad is not None:
            dy2 = dy2 + input_grad
        y1, y2 = x1, x2
    variable_grads = [
        tf.zeros_like(v) if g is None else g for v, g in zip(variables, totals)
    ]
    return (dy1, dy2), variable_grads

