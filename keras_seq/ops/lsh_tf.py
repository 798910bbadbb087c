"""The TensorFlow path of `keras_seq.ops.lsh.lsh_attention`: hash rounds run
one at a time in a `tf.while_loop` under a custom gradient whose backward
pass goes through the rounds again one at a time with a hand-written
gradient, so one round's chunk-sized tensors are alive at a time.
"""

from __future__ import annotations

from keras_seq.ops.lsh_rounds import _merge_round, _statistics_dtype


def _rotate(per_round):
    """The per-round arrays `(sort, undo, last chunks)` moved one round to the
    left (round r + 1 in slot 0)."""
    import tensorflow as tf

    return tuple(tf.concat([t[:, :, 1:], t[:, :, :1]], axis=2) for t in per_round)


def combine_rounds_recomputed(query_key, value, round_fn, num_hashes, indices):
    """TensorFlow: the rounds in a loop under a custom gradient that recomputes.

    The forward pass runs the rounds one at a time (`tf.while_loop`, one
    iteration in flight) and keeps only the combined output and each row's
    running max and log-normaliser over the rounds; the backward pass runs
    the rounds again one at a time with the hand-written gradient of
    `_round_gradients` (which recomputes the round's logits). So only one
    round's chunk-sized tensors are alive at any time, in the forward and in
    the backward pass (XLA cannot merge the two either: the loop bodies are
    separate computations).

    The loops carry the per-round permutations rotated by one round per
    iteration and read slot 0: a round picked by the loop counter would be a
    dynamic slice, which XLA fuses into every element-wise pass over the
    logits (they then run ~4x slower on CPU).

    `round_fn(query_key, value, r, indices, slot)`; in the backward pass
    `indices` (the sort permutations and the padding mask) are passed
    through identities that wait for the incoming gradient: otherwise a
    graph runtime computes everything that depends only on them (the sorted
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
        # (logsumexps are finite: masked logits are finite). Each round's
        # row statistics are appended to `per_round` `[B, H, R, L, 2]` (the
        # oldest dropped), so after the loop slot r holds round r.
        rows = tf.shape(value)[:-1]
        initial = (
            tf.zeros(tf.shape(value), stats_dtype),
            tf.fill(rows, tf.constant(-float("inf"), stats_dtype)),
            tf.zeros(rows, stats_dtype),
            tf.zeros(
                tf.concat([rows[:2], [num_hashes], rows[2:], [2]], 0), stats_dtype
            ),
        )

        def body(r, rotated, total, running_max, normaliser, per_round):
            output, lse, statistics = round_fn(
                query_key, value, r, rotated + indices[-1:], 0
            )
            state = _merge_round((total, running_max, normaliser), output, lse)
            per_round = tf.concat([per_round[:, :, 1:], statistics[:, :, None]], axis=2)
            return (r + 1, _rotate(rotated)) + tuple(state) + (per_round,)

        _, _, *state = loop(body, (tf.constant(0, "int32"), indices[:-1]) + initial)
        total, running_max, normaliser, per_round = state
        return total / normaliser[..., None], running_max, tf.math.log(normaliser), per_round

    @tf.custom_gradient
    def combined(query_key, value):
        with stop_recording():
            output, running_max, log_normaliser, per_round = forward(query_key, value)

        def grad(upstream):
            return _recomputed_gradients(
                query_key, value, round_fn.options, indices, upstream,
                output, running_max, log_normaliser, per_round, loop,
            )

        return tf.cast(output, value.dtype), grad

    return combined(query_key, value)


def _recomputed_gradients(
    query_key, value, options, indices, upstream, output, running_max, log_normaliser,
    per_round, loop,
):
    """The backward pass of `combine_rounds_recomputed`: the rounds again,
    one at a time, each with the hand-written gradient of `_round_gradients`.

    The weight of a key in the combined output is `exp(S - m_r) / t_r` (its
    round's softmax, `m_r` the row max, `t_r` the row sum) times the
    round's weight `exp(lse_r - M) / N` (`lse_r = m_r + log t_r`, `M` and
    `N` the running max and normaliser over the rounds), as the forward
    pass computes it, i.e. `exp((S - m_r) - bias_r)` with `bias_r = log t_r
    - (lse_r - M - log N)`. This is `exp(S - LSE)` with the combined
    log-normaliser `LSE = M + log N`, but it is evaluated in this order: for
    a row that sees only itself `m_r` is about half the dtype's most
    negative value, which absorbs `log t_r` and `log N` (adding `log 2`
    changes nothing), and `exp(S - LSE)` would then not sum to one over
    the row when the token meets itself twice in a window (a causal row
    whose chunk attends to a copy of it from the previous round).
    """
    import tensorflow as tf

    stats_dtype = _statistics_dtype(value.dtype)
    upstream = tf.cast(upstream, stats_dtype)
    with tf.control_dependencies([upstream]):
        gated = tuple(None if t is None else tf.identity(t) for t in indices)
    row_max, log_total = per_round[..., 0], per_round[..., 1]
    round_log_weight = ((row_max + log_total) - running_max[:, :, None]) - log_normaliser[
        :, :, None
    ]
    per_round = tf.stack([row_max, log_total - round_log_weight], axis=-1)
    # Everything a round gathers in sorted order, side by side (one gather):
    # the query/key vectors, the values, the upstream gradient and per
    # token `delta = d_out . out`.
    rows = tf.concat(
        [
            tf.cast(query_key, stats_dtype),
            tf.cast(value, stats_dtype),
            upstream,
            tf.reduce_sum(upstream * output, axis=-1, keepdims=True),
        ],
        axis=-1,
    )
    widths = (query_key.shape[-1], value.shape[-1])

    def body(r, rotated, gradients):
        return r + 1, _rotate(rotated), gradients + _round_gradients(
            rows, widths, rotated + gated[-1:], r, options
        )

    zeros = tf.zeros(tf.concat([tf.shape(value)[:-1], [sum(widths)]], 0), stats_dtype)
    _, _, gradients = loop(
        body, (tf.constant(0, "int32"), gated[:-1] + (per_round,), zeros)
    )
    return (
        tf.cast(gradients[..., : widths[0]], query_key.dtype),
        tf.cast(gradients[..., widths[0] :], value.dtype),
    )


def _key_scale_gradient(vectors, scales, key_grad):
    """Gradient with respect to `x` of the keys `k_hat = x * s(x)` given
    theirs `g`: `s * (g - x (g . x) s^2)`, since `ds/dx = -s^3 x`."""
    import tensorflow as tf

    scales = scales[..., None]
    dot = tf.reduce_sum(key_grad * vectors, axis=-1, keepdims=True)
    return scales * (key_grad - vectors * dot * scales * scales)


def _round_gradients(rows, widths, rotated, r, options):
    """Gradients `[B, H, L, d + d_v]` (query/key vectors, then values; the
    statistics dtype) of the combined output through hash round `r`, whose
    permutations and row statistics `(m_r, bias_r)` (see
    `_recomputed_gradients`) are in slot 0 of `rotated` (the padding mask
    last). `rows` `[B, H, L, d + 2 d_v + 1]` holds per token the vectors,
    values, upstream gradient and `delta`.

    Combining the rounds with weights softmax_r(lse_r) is one softmax over
    every (round, key) pair of a row, normalised by the combined
    log-normaliser `LSE`. So with the round's logits `S` (recomputed),
    `P = exp(S - LSE)` (evaluated as `exp((S - m_r) - bias_r)`), dropout's scaled keep mask `M` (ones without
    dropout), the upstream gradient `dO` and `delta = dO . out` per row:
    `dV = (M P)^T dO`, `dS = P (M (dO V^T) - delta)` where `S` depends on the
    inputs (zero at masked logits, which are constants), `dQ = dS K_hat`,
    `dK_hat = dS^T Q`, then through the key normalisation
    (`_key_scale_gradient`). The keys of a chunk's previous half belong to
    the chunk before it, or for the first chunk to the last chunk of the
    previous round (`previous`), whose gradients are scattered back.
    """
    import tensorflow as tf

    from keras_seq.ops.lsh import _round_indices
    from keras_seq.ops.lsh_rounds import (
        _after_first,
        _gather_rows,
        _half_logits,
        _key_validity,
        _scaled_keys,
    )

    num_hashes, bucket_size, causal, mask_self, dropout_fn = options
    sort_r, undo_r, previous, valid = _round_indices(
        rotated[:3] + rotated[-1:], 0, num_hashes
    )
    depth, value_depth = widths
    stats_dtype = rows.dtype
    shape = tf.shape(rows)
    batch, length = shape[0], shape[2]
    heads = rows.shape[1]

    sorted_rows = tf.reshape(
        _gather_rows(rows, sort_r), [batch, heads, -1, bucket_size, rows.shape[-1]]
    )
    queries = sorted_rows[..., :depth]
    keys, scales = _scaled_keys(queries)
    values = sorted_rows[..., depth : depth + value_depth]
    out_grad = sorted_rows[..., depth + value_depth : depth + 2 * value_depth]
    total_width = rows.shape[-1]
    delta = sorted_rows[..., total_width - 1 :]
    statistics = tf.reshape(
        _gather_rows(rotated[3][:, :, 0], sort_r), [batch, heads, -1, bucket_size, 2]
    )
    positions = tf.reshape(sort_r, [batch, heads, -1, bucket_size])
    first = _gather_rows(rows[..., : depth + value_depth], previous)[:, :, None]
    first_x = first[..., :depth]
    first_keys, first_scales = _scaled_keys(first_x)
    halves = (
        (
            _after_first(first_keys, keys),
            _after_first(first[..., depth:], values),
            _after_first(previous[:, :, None], positions),
        ),
        (keys, values, positions),
    )
    query_pos = positions[..., :, None]
    key_valid_fn = _key_validity(valid, batch, length)

    query_grad = None
    key_grads, value_grads = [], []
    for half, (half_keys, half_values, _) in enumerate(halves):
        logits, live = _half_logits(
            queries, halves[half], query_pos, causal, key_valid_fn, mask_self, stats_dtype
        )
        probabilities = tf.exp((logits - statistics[..., :1]) - statistics[..., 1:])
        keep = None
        if dropout_fn is not None:
            keep = dropout_fn(tf.ones_like(probabilities), 2 * r + half)
        dropped = probabilities if keep is None else probabilities * keep
        value_grads.append(tf.einsum("bhcij,bhcid->bhcjd", dropped, out_grad))
        weight_grad = tf.einsum("bhcid,bhcjd->bhcij", out_grad, half_values)
        if keep is not None:
            weight_grad = weight_grad * keep
        logit_grad = probabilities * (weight_grad - delta)
        if live is not None:
            logit_grad = tf.where(live, logit_grad, tf.zeros_like(logit_grad))
        term = tf.einsum("bhcij,bhcjd->bhcid", logit_grad, half_keys)
        query_grad = term if query_grad is None else query_grad + term
        key_grads.append(tf.einsum("bhcij,bhcid->bhcjd", logit_grad, queries))

    def shift_back(previous_half):
        # The previous half's gradient of chunk c + 1 belongs to chunk c.
        rest = previous_half[:, :, 1:]
        return tf.concat([rest, tf.zeros_like(previous_half[:, :, :1])], axis=2)

    key_grad = key_grads[1] + shift_back(key_grads[0])
    sorted_grads = tf.concat(
        [
            query_grad + _key_scale_gradient(queries, scales, key_grad),
            value_grads[1] + shift_back(value_grads[0]),
        ],
        axis=-1,
    )
    first_grads = tf.concat(
        [
            _key_scale_gradient(first_x, first_scales, key_grads[0][:, :, :1]),
            value_grads[0][:, :, :1],
        ],
        axis=-1,
    )
    width = depth + value_depth
    grads = _gather_rows(tf.reshape(sorted_grads, [batch, heads, -1, width]), undo_r)
    flat = tf.reshape(
        previous + tf.reshape(tf.range(batch * heads) * length, (-1, heads, 1)), (-1, 1)
    )
    grads = tf.tensor_scatter_nd_add(
        tf.reshape(grads, (-1, width)), flat, tf.reshape(first_grads, (-1, width))
    )
    return tf.reshape(grads, [batch, heads, length, width])
