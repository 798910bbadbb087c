"""Beam search with length normalisation and frozen finished hypotheses."""

from __future__ import annotations

from keras import ops, tree

from keras_seq._validation import check_positive_ints
from keras_seq.decoding.greedy import _validate, token_buffer, write_column
from keras_seq.decoding.step import call_step

_DEAD = -1e30  # score of an impossible hypothesis (finite: no inf - inf = NaN)


def _repeat_state(state, beam_width):
    return tree.map_structure(lambda x: ops.repeat(x, beam_width, axis=0), state)


def _gather_state(state, indices):
    return tree.map_structure(lambda x: ops.take(x, indices, axis=0), state)


def _normalised(scores, lengths, length_penalty):
    if length_penalty == 0:
        return scores
    return scores / ops.power(ops.maximum(ops.cast(lengths, "float32"), 1.0), length_penalty)


def beam_search(
    step_fn,
    start_tokens,
    max_length,
    beam_width=5,
    end_id=None,
    length_penalty=0.0,
    num_return=1,
    state=None,
):
    """Beam search over a model's `step_fn(tokens, state) -> (logits, state)`.

    Every hypothesis carries its summed log-probability S (float32, from
    `log_softmax` of the logits), its length T (generated tokens, `end_id`
    included) and whether it has finished. Its score is the seed's length
    normalisation score = (1 / T^alpha) * S with alpha = `length_penalty`
    (alpha = 0: plain log-probability; alpha = 1: per-token average).

    Bookkeeping rule for finished hypotheses: a hypothesis that has produced
    `end_id` is frozen — it is never extended again; at each step it
    re-enters the candidate pool once, with its S, T and score unchanged
    (padding 0 is appended to its tokens). Unfinished hypotheses contribute
    one candidate per vocabulary entry, scored with T + 1. The `beam_width`
    best candidates by score survive, so finished and unfinished hypotheses
    are ranked against each other by the same normalised score and a short,
    probable hypothesis is never displaced by the continuations of itself
    (the failure of samplers that keep expanding beams after EOS). The search
    stops when every surviving hypothesis has finished or at `max_length`;
    hypotheses still unfinished then are returned with their current score.

    The state (any nested structure of tensors whose first axis is the
    batch: KV caches, encoder outputs) is repeated `beam_width` times and
    reordered along the batch axis with the surviving beams at every step.
    The loop is a `while_loop` over a fixed-size token buffer: inside a
    `tf.function` the search compiles, and with a static step
    (`keras_seq.decoding.static_step`) every shape is fixed, so it compiles
    with XLA and runs on JAX.

    Args:
        step_fn: as in `greedy_search`.
        start_tokens: int `[B, t0]` (every row the same prompt length; the
            prompt is fed through `step_fn` token by token, as in
            `greedy_search`, so cached models see all of it).
        max_length: int, total length including the prompt.
        beam_width: int >= 1. Defaults to `5`.
        end_id: optional int, the end-of-sequence id.
        length_penalty: float alpha >= 0. Defaults to `0.0`.
        num_return: how many hypotheses to return per row (<= beam_width).
        state: optional decoding state for `step_fn`.

    Returns:
        `(tokens [B, num_return, max_length], scores [B, num_return])`, best
        first; tokens include the prompt and are 0 after `end_id`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.decoding import beam_search
    >>> # After token 0: "3" (end) with p=0.4, or "1" with p=0.6 and then
    >>> # "2" or "3" with p=0.5 each. Greedy takes "1"; the best is "3".
    >>> table = np.log(np.array([[1e-9, .6, 1e-9, .4], [1e-9, 1e-9, .5, .5],
    ...                          [1e-9, 1e-9, 1e-9, 1.], [1., 1e-9, 1e-9, 1e-9]]))
    >>> step = lambda tokens, state: (table[np.asarray(tokens)[:, -1]], state)
    >>> tokens, scores = beam_search(step, [[0]], 4, beam_width=3, end_id=3)
    >>> np.asarray(tokens)[0, 0].tolist()
    [0, 3, 0, 0]
    """
    start_tokens = _validate(start_tokens, max_length)
    check_positive_ints({"beam_width": beam_width, "num_return": num_return})
    if num_return > beam_width:
        raise ValueError(f"`num_return` ({num_return}) must be <= `beam_width` ({beam_width}).")
    if not isinstance(length_penalty, (int, float)) or length_penalty < 0:
        raise ValueError(f"`length_penalty` must be a number >= 0; received {length_penalty!r}.")
    width = beam_width
    batch = ops.shape(start_tokens)[0]
    prompt_length = start_tokens.shape[1]
    tokens = token_buffer(start_tokens, max_length)
    tokens = ops.repeat(tokens, width, axis=0)  # [B*K, L]
    state = _repeat_state({} if state is None else state, width)
    first_beam = ops.cast(ops.equal(ops.arange(width), 0), "float32")
    scores = ops.tile(ops.expand_dims((1.0 - first_beam) * _DEAD, 0), (batch, 1))  # S [B, K]
    lengths = ops.zeros((batch, width), "int32")
    finished = ops.zeros((batch, width), "bool")
    offsets = ops.expand_dims(ops.arange(batch) * width, 1)  # [B, 1]

    def cond(t, tokens, scores, lengths, finished, state):
        return ops.logical_and(t < max_length, ops.logical_not(ops.all(finished)))

    def body(t, tokens, scores, lengths, finished, state):
        logits, state = call_step(step_fn, tokens, state, t)
        vocabulary = ops.shape(logits)[-1]
        log_probs = ops.reshape(ops.log_softmax(ops.cast(logits, "float32"), axis=-1), (batch, width, -1))
        # Unfinished: every continuation. Finished: itself once, via token 0.
        only_pad = ops.cast(ops.equal(ops.arange(vocabulary), 0), "float32")
        frozen = (1.0 - only_pad) * _DEAD  # 0 for the pad continuation, dead otherwise
        step = ops.where(ops.expand_dims(finished, -1), frozen[None, None, :], log_probs)
        candidate_scores = ops.expand_dims(scores, -1) + step  # [B, K, V]
        candidate_lengths = ops.expand_dims(lengths + ops.cast(ops.logical_not(finished), "int32"), -1)
        ranked = _normalised(candidate_scores, candidate_lengths, length_penalty)
        _, best = ops.top_k(ops.reshape(ranked, (batch, -1)), width)  # [B, K]
        beam = best // vocabulary
        token = ops.cast(best % vocabulary, "int32")
        new_scores = ops.take_along_axis(ops.reshape(candidate_scores, (batch, -1)), best, axis=1)
        # Prompt positions: every beam keeps itself and reads the given token
        # (so that cached models see the whole prompt), scores unchanged.
        forced = t < prompt_length
        identity = ops.tile(ops.expand_dims(ops.arange(width), 0), (batch, 1))
        beam = ops.where(forced, identity, beam)
        token = ops.where(forced, ops.reshape(ops.take(tokens, t, axis=1), (batch, width)), token)
        scores = ops.where(forced, scores, new_scores)
        was_finished = ops.take_along_axis(finished, beam, axis=1)
        grown = ops.cast(ops.logical_and(ops.logical_not(was_finished), ops.logical_not(forced)), "int32")
        lengths = ops.take_along_axis(lengths, beam, axis=1) + grown
        token = ops.where(was_finished, ops.zeros_like(token), token)
        if end_id is not None:
            ended = ops.logical_and(ops.equal(token, end_id), ops.logical_not(forced))
            finished = ops.logical_or(was_finished, ended)
        else:
            finished = was_finished
        source = ops.reshape(beam + offsets, (-1,))
        tokens = ops.take(tokens, source, axis=0)
        tokens = write_column(tokens, t, ops.reshape(token, (-1,)))
        state = _gather_state(state, source)
        return t + 1, tokens, scores, lengths, finished, state

    start = ops.convert_to_tensor(1, "int32")
    _, tokens, scores, lengths, finished, _ = ops.while_loop(
        cond, body, (start, tokens, scores, lengths, finished, state)
    )
    final = _normalised(scores, lengths, length_penalty)
    top_scores, order = ops.top_k(final, num_return)
    rows = ops.reshape(order + offsets, (-1,))
    tokens = ops.reshape(ops.take(tokens, rows, axis=0), (batch, num_return, max_length))
    return tokens, top_scores
