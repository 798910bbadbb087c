"""The two step-function contracts of the decoding loops.

Every search keeps a fixed-size token buffer `[B, max_length]` and a loop
index `t`; at step `t` it needs the logits `[B, V]` of position `t` given the
tokens before it. A model hands it over in one of two ways:

- a *prefix step* `step_fn(tokens, state)` receives the tokens so far
  `[B, t]` (the documented contract; convenient, but the slice grows inside
  the loop, so the loop cannot be compiled with XLA or run on JAX);
- a *static step*, marked with `static_step`, `step_fn(tokens, state, index)`
  receives the whole buffer `[B, max_length]` and `index = t`, the position
  to predict (its input token is `tokens[:, index - 1]`; positions from
  `index` on hold padding or the rest of a prompt). Every shape stays fixed,
  so the whole loop compiles with XLA (TPUs) and runs on JAX.
"""

from __future__ import annotations

_MARK = "_keras_seq_static_step"


def static_step(step_fn):
    """Marks `step_fn(tokens, state, index) -> (logits, state)` as a static
    step (see the module docstring); returns `step_fn` itself.

    Works on functions and on methods (decorate the method in the class).

    Example:
    >>> import numpy as np
    >>> from keras import ops
    >>> from keras_seq.decoding import greedy_search, static_step
    >>> table = ops.log(ops.convert_to_tensor(
    ...     [[.1, .9, 0, 0], [0, .1, .8, .1], [0, 0, .1, .9], [1, 0, 0, 0]]) + 1e-9)
    >>> @static_step
    ... def step(tokens, state, index):
    ...     return ops.take(table, ops.take(tokens, index - 1, axis=1), axis=0), state
    >>> np.asarray(greedy_search(step, [[0]], max_length=6, end_id=3)).tolist()
    [[0, 1, 2, 3, 0, 0]]
    """
    try:
        setattr(step_fn, _MARK, True)
    except AttributeError:  # a bound method: mark the function it wraps
        setattr(step_fn.__func__, _MARK, True)
    return step_fn


def is_static_step(step_fn):
    """Whether `step_fn` was marked with `static_step`."""
    return bool(getattr(step_fn, _MARK, False))


def call_step(step_fn, tokens, state, index):
    """Logits of position `index` from the buffer `tokens`, whichever
    contract `step_fn` follows."""
    if is_static_step(step_fn):
        return step_fn(tokens, state, index)
    return step_fn(tokens[:, :index], state)
