"""The TensorFlow path of `keras_seq.ops.lsh.lsh_attention`: hash rounds run
one at a time in a `tf.while_loop` under a custom gradient that recomputes
each round in the backward pass, so one round's chunk-sized tensors are
alive at a time.
"""

from __future__ import annotations

from keras_seq.ops.lsh_rounds import _merge_round, _statistics_dtype


def combine_rounds_recomputed(query_key, value, round_fn, num_hashes, indices):
    """TensorFlow: the rounds in a loop under a custom gradient that recomputes.

    The forward pass runs the rounds one at a time (`tf.while_loop`, one
    iteration in flight) and keeps only the combined output and each row's
    running max and log-normaliser over the rounds; the backward pass runs
    the rounds again one at a time, recomputing each round under a tape and
    backpropagating through it alone. So only one round's chunk-sized
    tensors are alive at any time, in the forward and in the backward pass
    (XLA cannot merge the recomputation with the forward either: the loop
    bodies are separate computations).

    Gradients: with `out = sum_r w_r o_r`, `w_r = exp(lse_r - LSE)`,
    `d o_r = w_r d_out` and `d lse_r = w_r (d_out . o_r - d_out . out)`.
    `LSE` is kept as `max + log(normaliser)`, so rows whose logsumexps are
    all the huge negative self-mask value still get exact weights.

    `round_fn(query_key, value, r, indices)`; in the backward pass `indices`
    (the sort permutations and the padding mask) are passed through
    identities that wait for the incoming gradient: otherwise a graph
    runtime computes everything that depends only on them (the sorted
    positions, the causal and self masks of every round) as soon as the
    forward pass has produced them, and keeps it until the backward pass
    of this layer runs.
    """
    import tensorflow as tf

    from keras_seq._private_api import stop_recording

    stats_dtype = _statistics_dtype(value.dtype)

    def loop(body, initial):
        return tf.while_loop(
            lambda r, *_: r < num_hashes, body, initial, parallel_iterations=1
        )

    def forward(query_key, value):
        # One copy of the round in the graph (no peeled first round): the
        # running max starts at -inf, which the first round replaces
        # (logsumexps are finite: masked logits are finite).
        rows = tf.shape(value)[:-1]
        initial = (
            tf.zeros(tf.shape(value), stats_dtype),
            tf.fill(rows, tf.constant(-float("inf"), stats_dtype)),
            tf.zeros(rows, stats_dtype),
        )

        def body(r, *state):
            return (r + 1,) + tuple(_merge_round(state, *round_fn(query_key, value, r)))

        _, *state = loop(body, (tf.constant(0, "int32"),) + initial)
        total, running_max, normaliser = state
        return total / normaliser[..., None], running_max, tf.math.log(normaliser)

    @tf.custom_gradient
    def combined(query_key, value):
        with stop_recording():
            output, running_max, log_normaliser = forward(query_key, value)

        def grad(upstream):
            return _recomputed_gradients(
                query_key, value, round_fn, num_hashes, indices, upstream,
                output, running_max, log_normaliser, loop,
            )

        return tf.cast(output, value.dtype), grad

    return combined(query_key, value)


def _recomputed_gradients(
    query_key, value, round_fn, num_hashes, indices, upstream, output, running_max,
    log_normaliser, loop,
):
    """The backward pass of `combine_rounds_recomputed`: the rounds again,
    one at a time, each recomputed under a tape and backpropagated alone."""
    import tensorflow as tf

    stats_dtype = _statistics_dtype(value.dtype)
    upstream = tf.cast(upstream, stats_dtype)
    with tf.control_dependencies([upstream]):
        gated = tuple(None if t is None else tf.identity(t) for t in indices)

    def body(r, query_key_grad, value_grad):
        # Identities inside the body: the tape watches the body's own
        # tensors, not the loop's captured inputs.
        qk, v = tf.identity(query_key), tf.identity(value)
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch([qk, v])
            round_output, lse = round_fn(qk, v, r, gated)
        weight = tf.exp(lse - running_max - log_normaliser)
        round_output_stats = tf.cast(round_output, stats_dtype)
        output_grad = weight[..., None] * upstream
        lse_grad = weight * tf.reduce_sum(
            upstream * (round_output_stats - output), axis=-1
        )
        # Accumulated by subtracting the gradients of the negated
        # outputs: Grappler rewrites `sum + gradient` (an add tree
        # with the tape's own sums) into an accumulation with a
        # full-size zeros constant per loop body, resident for the
        # graph's lifetime (2 x 8 MiB per layer at L=8192).
        qk_grad, v_grad = tape.gradient(
            [round_output, lse],
            [qk, v],
            output_gradients=[
                tf.cast(-output_grad, round_output.dtype), -lse_grad
            ],
        )
        return r + 1, query_key_grad - qk_grad, value_grad - v_grad

    _, query_key_grad, value_grad = loop(
        body,
        (tf.constant(0, "int32"), tf.zeros_like(query_key), tf.zeros_like(value)),
    )
    return query_key_grad, value_grad
