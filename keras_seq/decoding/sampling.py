"""Random sampling with temperature, top-k and nucleus (top-p) filtering."""

from __future__ import annotations

from keras import ops

from keras_seq._validation import positive_int_errors, raise_errors
from keras_seq.decoding._random import categorical, fold_in, seed_tensor
from keras_seq.decoding.greedy import extend
from keras_seq.ops.attention import masked_fill_value


def filter_logits(logits, temperature=1.0, top_k=None, top_p=None):
    """Float32 logits divided by `temperature`, with everything outside the
    `top_k` most probable tokens and outside the nucleus (the smallest set of
    most probable tokens whose probability reaches `top_p`) set to the most
    negative float32.

    Example:
    >>> import numpy as np
    >>> from keras_seq.decoding import filter_logits
    >>> logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]))
    >>> kept = np.asarray(filter_logits(logits, top_p=0.7)) > -1e30
    >>> kept.tolist()
    [[True, True, False, False]]
    """
    logits = ops.cast(ops.convert_to_tensor(logits), "float32") / float(temperature)
    floor = masked_fill_value("float32")
    if top_k is not None:
        kth = ops.top_k(logits, top_k)[0][:, -1:]
        logits = ops.where(logits < kth, floor, logits)
    if top_p is not None:
        order = ops.argsort(-logits, axis=-1)
        sorted_logits = ops.take_along_axis(logits, order, axis=-1)
        cumulative = ops.cumsum(ops.softmax(sorted_logits, axis=-1), axis=-1)
        # Keep a token if the probability mass before it is below top_p.
        keep_sorted = (cumulative - ops.softmax(sorted_logits, axis=-1)) < top_p
        threshold = ops.min(ops.where(keep_sorted, sorted_logits, -floor), axis=-1, keepdims=True)
        logits = ops.where(logits < threshold, floor, logits)
    return logits


def _check(temperature, top_k, top_p):
    errors = []
    if not isinstance(temperature, (int, float)) or temperature < 0:
        errors.append(f"`temperature` must be a number >= 0; received {temperature!r}.")
    errors += positive_int_errors({"top_k": top_k}, allow_none=True)
    if top_p is not None and (not isinstance(top_p, (int, float)) or not 0 < top_p <= 1):
        errors.append(f"`top_p` must be in (0, 1] or None; received {top_p!r}.")
    raise_errors(errors)


def sample(
    step_fn,
    start_tokens,
    max_length,
    temperature=1.0,
    top_k=None,
    top_p=None,
    end_id=None,
    seed=None,
    state=None,
):
    """Extends `start_tokens` by sampling from softmax(logits / temperature).

    Same contract as `greedy_search` (prompts, `end_id`, prefix or static
    `step_fn`, compiled loop). `top_k` keeps the k most probable tokens;
    `top_p` keeps the nucleus, the smallest set of most probable tokens whose
    probability reaches `top_p`; both may be combined. `temperature=0` is
    greedy search.

    Randomness: the call turns `seed` into one seed tensor (an int: always
    the same; a `keras.random.SeedGenerator`: advanced once per call, so
    calls differ; a seed tensor `[2]`: used as is, e.g. an input of a
    compiled function; None: drawn from Keras's global seed generator, so
    calls differ and `keras.utils.set_random_seed` makes them repeatable).
    Step `t` draws with the seed folded with `t` (stateless draws, Gumbel-max),
    so the loop holds no random state and gives the same tokens with and
    without XLA.

    Returns:
        int32 tokens `[B, max_length]`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.decoding import sample
    >>> step = lambda tokens, state: (np.log([[0.2, 0.8]] * 3), state)
    >>> a = sample(step, [[1], [1], [1]], max_length=4, seed=0)
    >>> tuple(np.asarray(a).shape)
    (3, 4)
    >>> bool(np.all(np.asarray(a) == np.asarray(sample(step, [[1]] * 3, 4, seed=0))))
    True
    """
    _check(temperature, top_k, top_p)
    if temperature == 0:
        from keras_seq.decoding.greedy import greedy_search

        return greedy_search(step_fn, start_tokens, max_length, end_id=end_id, state=state)
    base = seed_tensor(seed)

    def choose(logits, t):
        filtered = filter_logits(logits, temperature, top_k, top_p)
        return categorical(filtered, fold_in(base, t))

    return extend(step_fn, start_tokens, max_length, choose, end_id, state)
