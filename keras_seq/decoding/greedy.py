"""Greedy search driven by a model's step function."""

from __future__ import annotations

from keras import ops

from keras_seq._validation import check_positive_ints
from keras_seq.decoding.step import call_step
from keras_seq.ops._gather import take


def _validate(start_tokens, max_length):
    start_tokens = ops.convert_to_tensor(start_tokens, "int32")
    if len(start_tokens.shape) != 2:
        raise ValueError(
            "`start_tokens` must be integer ids of rank 2 [batch, prompt_length]; "
            f"received shape {tuple(start_tokens.shape)}."
        )
    prompt_length = start_tokens.shape[1]
    check_positive_ints({"max_length": max_length})
    if prompt_length is not None and max_length < prompt_length:
        raise ValueError(
            f"`max_length` ({max_length}) is the total length and must be at least "
            f"the prompt length ({prompt_length})."
        )
    return start_tokens


def token_buffer(start_tokens, max_length):
    """`start_tokens` `[B, t0]` right-padded with 0 to `[B, max_length]`."""
    batch, prompt_length = ops.shape(start_tokens)[0], ops.shape(start_tokens)[1]
    padding = ops.zeros((batch, max_length - prompt_length), "int32")
    return ops.concatenate([start_tokens, padding], axis=1)


def write_column(tokens, t, column):
    """`tokens` `[B, L]` with column `t` replaced by `column` `[B]`.

    A select against the column index rather than `ops.slice_update`, which
    on TensorFlow is an XLA op: outside `jit_compile` every process would
    compile it with XLA the first time it decodes (~0.1 s on CPU).
    """
    here = ops.expand_dims(ops.equal(ops.arange(ops.shape(tokens)[1], dtype="int32"), t), 0)
    return ops.where(here, ops.expand_dims(column, 1), tokens)


def greedy_search(step_fn, start_tokens, max_length, end_id=None, state=None, return_state=False):
    """Extends `start_tokens` with the most probable token, one step at a time.

    `step_fn(tokens, state) -> (logits, state)` receives the tokens so far
    `[B, t]` (the last column is the newest token; a cached model feeds only
    that one, at position `t - 1`) and returns the logits `[B, V]` of
    position `t`. A step marked with `keras_seq.decoding.static_step`
    receives the whole fixed-size buffer and the index instead,
    `step_fn(tokens [B, max_length], state, t)`: then every shape in the loop
    is static and the search compiles with XLA (`jit_compile=True`, TPUs)
    and runs on the JAX backend. The loop runs as a `while_loop` over the
    buffer, so calling this inside a `tf.function` compiles the whole
    search; it stops early once every row has produced `end_id`.

    Prompts: `start_tokens` `[B, t0]` is right-padded with 0 for prompts of
    different lengths; its non-zero positions are kept as given (the model
    still reads them, step by step, to fill its cache) and generation takes
    over after each row's prompt (its tokens up to the first 0).

    Args:
        step_fn: callable, see above.
        start_tokens: int `[B, t0]`, at least one token per row (e.g. `<sos>`).
        max_length: int, total length of the returned sequences.
        end_id: optional int; after it a row only produces 0 (padding).
        state: optional nested structure of tensors carried through
            `step_fn` (caches, encoder outputs); shapes must not change.
        return_state: bool, also return the final state.

    Returns:
        int32 tokens `[B, max_length]` (and the state if requested).

    Example:
    >>> import numpy as np
    >>> from keras_seq.decoding import greedy_search
    >>> table = np.log(np.array([[.1, .9, 0, 0], [0, .1, .8, .1],
    ...                          [0, 0, .1, .9], [1, 0, 0, 0]]) + 1e-9)
    >>> step = lambda tokens, state: (table[np.asarray(tokens)[:, -1]], state)
    >>> np.asarray(greedy_search(step, [[0]], max_length=6, end_id=3)).tolist()
    [[0, 1, 2, 3, 0, 0]]
    """
    choose = lambda logits, t: ops.cast(ops.argmax(logits, axis=-1), "int32")  # noqa: E731
    return extend(step_fn, start_tokens, max_length, choose, end_id, state, return_state)


def extend(step_fn, start_tokens, max_length, choose, end_id=None, state=None, return_state=False):
    """The token-by-token loop shared by greedy search and sampling:
    `choose(logits [B, V], t) -> int32 [B]` picks each new token. The
    buffer `[B, max_length]` and every loop variable keep their shapes."""
    start_tokens = _validate(start_tokens, max_length)
    state = {} if state is None else state
    batch = ops.shape(start_tokens)[0]
    tokens = token_buffer(start_tokens, max_length)
    # A row's prompt is its tokens up to the first padding 0.
    forced = ops.cast(ops.cumprod(ops.cast(ops.not_equal(tokens, 0), "int32"), axis=1), "bool")
    finished = ops.zeros((batch,), "bool")

    def cond(t, tokens, finished, state):
        return ops.logical_and(t < max_length, ops.logical_not(ops.all(finished)))

    def body(t, tokens, finished, state):
        logits, state = call_step(step_fn, tokens, state, t)
        chosen = choose(logits, t)
        keep = take(forced, t, axis=1)
        chosen = ops.where(keep, take(tokens, t, axis=1), chosen)
        chosen = ops.where(finished, ops.zeros_like(chosen), chosen)
        tokens = write_column(tokens, t, chosen)
        if end_id is not None:
            done = ops.logical_and(ops.equal(chosen, end_id), ops.logical_not(keep))
            finished = ops.logical_or(finished, done)
        return t + 1, tokens, finished, state

    start = ops.convert_to_tensor(1, "int32")
    _, tokens, _, state = ops.while_loop(cond, body, (start, tokens, finished, state))
    if return_state:
        return tokens, state
    return tokens
