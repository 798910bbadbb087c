"""Compiled generation loops, cached per model, length and decoding options."""

from __future__ import annotations

STRATEGIES = ("greedy", "beam", "sample")


def compiled(model, name, max_length, fn):
    """`tf.function` of `lambda *args: fn(*args, max_length)`, traced once per
    `(name, max_length)` and reused across calls (batch size may vary)."""
    import tensorflow as tf

    cache = model.__dict__.setdefault("_keras_seq_compiled", {})
    key = (name, max_length)
    if key not in cache:
        # The loops are `while_loop`s already: no AutoGraph conversion needed.
        cache[key] = tf.function(lambda *args: fn(*args, max_length), reduce_retracing=True, autograph=False)
    return cache[key]


def decoding_options(strategy="greedy", beam_width=5, length_penalty=0.0, temperature=1.0, top_k=None, top_p=None, seed=None):
    """Validated decoding options, as a hashable key for `compiled`."""
    if strategy not in STRATEGIES:
        raise ValueError(f"`strategy` must be one of {STRATEGIES}; received {strategy!r}.")
    if strategy == "greedy":
        return ("greedy",)
    if strategy == "beam":
        return ("beam", beam_width, float(length_penalty))
    return ("sample", float(temperature), top_k, top_p, seed)


def search(options, step_fn, start_tokens, max_length, end_id, state):
    """Runs the decoding strategy named in `options` (see `decoding_options`);
    returns tokens `[B, max_length]` (the best hypothesis for beam search)."""
    from keras_seq.decoding import beam_search, greedy_search, sample

    if options[0] == "greedy":
        return greedy_search(step_fn, start_tokens, max_length, end_id=end_id, state=state)
    if options[0] == "beam":
        tokens, _ = beam_search(
            step_fn, start_tokens, max_length, beam_width=options[1], end_id=end_id,
            length_penalty=options[2], state=state,
        )
        return tokens[:, 0]
    _, temperature, top_k, top_p, seed = options
    return sample(
        step_fn, start_tokens, max_length, temperature=temperature, top_k=top_k, top_p=top_p,
        end_id=end_id, seed=seed, state=state,
    )
