"""One `generate` for every keras_seq model that decodes token by token.

`GenerationMixin` holds the whole generation path of `TransformerLM`,
`Transformer`, `ReformerLM` and `AttentionSeq2Seq` (and of applications'
models): option checks, the sampling seed, the compiled decoding loop (one per
strategy and length, shared by every seed and batch size; XLA when the model's
`jit_compile` is on; `jax.jit` on the JAX backend) and the search itself. A
model supplies three things:

- `step_fn(tokens, state, index=None)`, marked `keras_seq.decoding.static_step`:
  the logits of position `index` from the fixed-size token buffer (called with
  the prefix `[B, t]` and no index, it follows the prefix contract too);
- `_decoding_start(inputs, max_length) -> (start_tokens, state, total_length)`:
  the first tokens `[B, t0]`, the initial decoding state and the buffer length
  (`max_length`, plus one when a start token is prepended and dropped from
  the output);
- `end_id`.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import keras
from keras import ops

from keras_seq._validation import check_positive_ints

STRATEGIES = ("greedy", "beam", "sample")


class DecodingOptions(NamedTuple):
    strategy: str = "greedy"
    beam_width: int = 5
    length_penalty: float = 0.0
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    seed: object = None

    @property
    def loop_key(self):
        """What the compiled loop depends on (never the seed: it is an input)."""
        if self.strategy == "greedy":
            return ("greedy",)
        if self.strategy == "beam":
            return ("beam", self.beam_width, float(self.length_penalty))
        return ("sample", float(self.temperature), self.top_k, self.top_p)


def decoding_options(strategy="greedy", beam_width=5, length_penalty=0.0, temperature=1.0, top_k=None, top_p=None, seed=None):
    """Validated `DecodingOptions` (every bad argument raises before any work)."""
    from keras_seq.decoding.sampling import _check

    if strategy not in STRATEGIES:
        raise ValueError(f"`strategy` must be one of {STRATEGIES}; received {strategy!r}.")
    if strategy == "beam":
        check_positive_ints({"beam_width": beam_width})
        if not isinstance(length_penalty, (int, float)) or length_penalty < 0:
            raise ValueError(f"`length_penalty` must be a number >= 0; received {length_penalty!r}.")
    if strategy == "sample":
        _check(temperature, top_k, top_p)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"`seed` must be an integer or None; received {seed!r}.")
        seed = None if seed is None else int(seed)
    return DecodingOptions(strategy, beam_width, length_penalty, temperature, top_k, top_p, seed)


def check_max_length(max_length, upper, bound):
    """`max_length` must be an int in [1, upper]; `bound` names the upper end."""
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not 0 < max_length <= upper:
        raise ValueError(f"`max_length` must be an integer in [1, {bound}]; received {max_length!r}.")


def search(options, step_fn, start_tokens, total_length, end_id, state, seed=None):
    """Runs the search named by `options`; returns `(tokens [B, total_length],
    final state)` (the best hypothesis for beam search, whose final state is
    `None`: it belongs to the beams, not to the rows)."""
    from keras_seq.decoding import beam_search, sample
    from keras_seq.decoding.greedy import greedy_search

    if options.strategy == "greedy":
        return greedy_search(step_fn, start_tokens, total_length, end_id=end_id, state=state, return_state=True)
    if options.strategy == "beam":
        tokens, _ = beam_search(
            step_fn, start_tokens, total_length, beam_width=options.beam_width, end_id=end_id,
            length_penalty=options.length_penalty, state=state,
        )
        return tokens[:, 0], None
    tokens = sample(
        step_fn, start_tokens, total_length, temperature=options.temperature, top_k=options.top_k,
        top_p=options.top_p, end_id=end_id, seed=seed, state=state,
    )
    return tokens, None


def compile_loop(model, fn, jit_compile):
    """`fn(*tensors)` compiled for the backend: a `tf.function` (XLA when
    `jit_compile`) or, on JAX, `jax.jit` with the model's variables passed in
    as arguments (so later training is seen and nothing is baked in)."""
    backend = keras.config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # The loops are `while_loop`s already: no AutoGraph conversion needed.
        return tf.function(fn, jit_compile=bool(jit_compile), reduce_retracing=True, autograph=False)
    if backend != "jax":
        return fn
    import jax

    def stateless(values, *args):
        with keras.StatelessScope(state_mapping=list(zip(model.variables, values))):
            return fn(*args)

    jitted = jax.jit(stateless)
    return lambda *args: jitted([v.value for v in model.variables], *args)


class GenerationMixin:
    """The shared `generate` machinery (see the module docstring).

    Owns `sampling_seed_generator`, a `keras.random.SeedGenerator` advanced by
    every sampling call without a `seed`, so such calls differ;
    `keras.utils.set_random_seed` before building the model makes the whole
    sequence of calls repeatable. A `seed` gives the same tokens every time.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sampling_seed_generator = keras.random.SeedGenerator(name="sampling_seed_generator")

    def _decoding_start(self, inputs, max_length):
        raise NotImplementedError

    def _decoding_results(self, state):
        """Extra outputs from the final greedy state (none by default)."""
        return {}

    def _generate_ids(self, inputs, max_length, options, return_results=False):
        """Tokens `[B, max_length]` as NumPy (and the `_decoding_results` of
        greedy decoding as NumPy when `return_results`)."""
        from keras_seq.decoding._random import seed_tensor

        if not self.built:
            self.build()
        seed = options.seed if options.seed is not None else self.sampling_seed_generator
        base = seed_tensor(seed if options.strategy == "sample" else 0)
        jit_compile = bool(getattr(self, "jit_compile", False))
        cache = self.__dict__.setdefault("_keras_seq_generate", {})
        key = (options.loop_key, max_length, jit_compile)
        if key not in cache:
            cache[key] = compile_loop(self, self._decoding_graph(options, max_length), jit_compile)
        tokens, results = cache[key](inputs, base)
        tokens = ops.convert_to_numpy(tokens)
        if return_results:
            return tokens, {name: ops.convert_to_numpy(value) for name, value in results.items()}
        return tokens

    def _decoding_graph(self, options, max_length):
        def run(inputs, seed):
            start, state, total = self._decoding_start(inputs, max_length)
            tokens, state = search(options, self.step_fn, start, total, self.end_id, state, seed)
            results = self._decoding_results(state) if state is not None else {}
            return tokens[:, total - max_length :], results

        return run
