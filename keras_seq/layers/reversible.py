"""Reversible residual blocks and stacks (RevNet; Kitaev et al., 2020, Reformer).

A reversible block maps a pair of streams `(x1, x2)` to
`y1 = x1 + f(x2)`, `y2 = x2 + g(y1)`; its inputs are recomputed exactly from
its outputs with `x2 = y2 - g(y1)`, `x1 = y1 - f(x2)`. `ReversibleSequence`
uses this in its backward pass, so a stack of any depth keeps only its final
outputs for backpropagation instead of every block's activations.
"""

from __future__ import annotations

import contextlib
import copy
import inspect

import keras
from keras import ops

from keras_seq._private_api import tape_recording
from keras_seq._same_shape import SameShape

__all__ = ["ReversibleBlock", "ReversibleSequence"]


# -- helpers -----------------------------------------------------------------


def _accepts(layer, name):
    try:
        return name in inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False


def _hashes(layer):
    """True for LSH-style layers: `compute_buckets(x)` and `call(..., buckets=)`."""
    return callable(getattr(layer, "compute_buckets", None)) and _accepts(layer, "buckets")


def _is_shape(value):
    return isinstance(value, (tuple, list)) and all(
        d is None or isinstance(d, int) for d in value
    )


def _half_shape(inputs_shape, where):
    """The shape of one stream: inputs are a pair, or one tensor whose last
    axis holds both streams side by side."""
    if _is_shape(inputs_shape):
        width = inputs_shape[-1]
        if width is None or width % 2:
            raise ValueError(
                f"{where}: a single input tensor holds both streams side by side, "
                f"so its last axis must be even; received shape {tuple(inputs_shape)}. "
                "Pass a pair `(x1, x2)` instead."
            )
        return tuple(inputs_shape[:-1]) + (width // 2,)
    if isinstance(inputs_shape, (tuple, list)) and len(inputs_shape) == 2:
        first, second = (tuple(s) for s in inputs_shape)
        if first != second:
            raise ValueError(
                f"{where}: the two streams must have the same shape; received "
                f"{first} and {second}."
            )
        return first
    raise ValueError(
        f"{where}: `inputs` must be a pair `(x1, x2)` of equal shapes or one tensor "
        f"of even width; received shape {inputs_shape}."
    )


def _split(inputs):
    if isinstance(inputs, (tuple, list)):
        if len(inputs) != 2:
            raise ValueError(
                f"`inputs` must be a pair `(x1, x2)`; received {len(inputs)} tensors."
            )
        return inputs[0], inputs[1], True
    x1, x2 = ops.split(inputs, 2, axis=-1)
    return x1, x2, False


def _join(y1, y2, paired):
    return (y1, y2) if paired else ops.concatenate([y1, y2], axis=-1)


def _merge_masks(padding_mask, mask):
    if isinstance(mask, (tuple, list)):
        mask = next((m for m in mask if m is not None), None)
    if padding_mask is None:
        return mask
    return padding_mask


def _seed_states(layer):
    """Random-generator states of `layer` and its sublayers (dropout seeds):
    the non-trainable variables that are not weights."""
    weights = {id(w) for w in layer.non_trainable_weights}
    return [v for v in layer.non_trainable_variables if id(v) not in weights]


def _snapshot(layer):
    return [ops.convert_to_tensor(v) * 1 for v in _seed_states(layer)]


def _restored(layer, snapshot):
    """Runs `layer` with its random generators reset to `snapshot`, without
    touching the real generator variables (their updates stay in the scope)."""
    states = _seed_states(layer)
    if not states:
        return contextlib.nullcontext()
    return keras.StatelessScope(state_mapping=list(zip(states, snapshot)))


def _sublayers(layer, include_self=True):
    """`layer` (if `include_self`) and every layer nested in its attributes,
    depth first, each once: the public-API walk over what Keras tracks as
    sublayers (attributes, and lists/tuples/dicts of them)."""
    seen, found = set(), []

    def visit(obj):
        if isinstance(obj, keras.layers.Layer):
            if id(obj) in seen:
                return
            seen.add(id(obj))
            found.append(obj)
            for value in vars(obj).values():
                visit(value)
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                visit(item)
        elif isinstance(obj, dict):
            for item in obj.values():
                visit(item)

    visit(layer)
    return found if include_self else found[1:]


def _check_stateless(layer, name):
    """f and g must be functions of their inputs and weights: a trainable layer
    with non-trainable weights (BatchNormalization's moving statistics) updates
    state during the forward pass, which a recomputation would apply twice."""
    frozen = {
        id(w)
        for sub in _sublayers(layer, include_self=True)
        if not sub.trainable
        for w in sub.weights
    }
    stateful = sorted(
        {
            sub.name
            for sub in _sublayers(layer, include_self=True)
            if sub.trainable and any(id(w) not in frozen for w in sub.non_trainable_weights)
        }
    )
    if stateful:
        raise ValueError(
            f"`{name}` of a reversible block must be stateless apart from dropout seeds, "
            f"but these layers keep non-trainable state updated in the forward pass "
            f"(e.g. BatchNormalization statistics): {stateful}. Use LayerNormalization, "
            "or freeze the layer (`trainable=False`)."
        )
    if not _hashes(layer):
        nested = [sub.name for sub in _sublayers(layer, include_self=False) if _hashes(sub)]
        if nested:
            raise ValueError(
                f"`{name}` contains hashing attention layers {nested} below its top level; "
                "their buckets could not be reused in the backward pass. Make the attention "
                "layer `f` itself, or give `f` `compute_buckets(inputs, padding_mask=None)` "
                "and a `buckets` call argument that forward to it."
            )


def _call_sublayer(layer, x, padding_mask, training, buckets=None):
    kwargs = {}
    if padding_mask is not None and _accepts(layer, "padding_mask"):
        kwargs["padding_mask"] = padding_mask
    if buckets is not None:
        kwargs["buckets"] = buckets
    return layer(x, training=training, **kwargs)


def _compute_buckets(layer, x, padding_mask):
    if not _hashes(layer):
        return None
    kwargs = {}
    if padding_mask is not None and _accepts_method(layer.compute_buckets, "padding_mask"):
        kwargs["padding_mask"] = padding_mask
    return ops.stop_gradient(layer.compute_buckets(x, **kwargs))


def _accepts_method(method, name):
    try:
        return name in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def _sublayer_from_config(value, policy):
    """A serialised layer (as in `get_config`) is rebuilt under `policy`, so a
    block created with `dtype="mixed_float16"` computes in float16 throughout."""
    if not isinstance(value, dict):
        return value
    value = copy.deepcopy(value)
    if isinstance(value.get("config"), dict) and policy.name != "float32":
        value["config"]["dtype"] = keras.dtype_policies.serialize(policy)
    return keras.saving.deserialize_keras_object(value)


def _check_layer(value, name):
    if not isinstance(value, keras.layers.Layer):
        raise ValueError(
            f"`{name}` must be a `keras.layers.Layer` mapping a tensor to a tensor of "
            f"the same shape; received {value!r}."
        )


# -- ReversibleBlock -----------------------------------------------------------


@keras.saving.register_keras_serializable(package="keras_seq")
class ReversibleBlock(SameShape, keras.layers.Layer):
    """One reversible residual block: `y1 = x1 + f(x2)`, `y2 = x2 + g(y1)`.

    The block is invertible whatever `f` and `g` are: `inverse` recomputes
    `x2 = y2 - g(y1)` and `x1 = y1 - f(x2)` (seed notes 17.2; Gomez et al.,
    2017). Called on its own it is an ordinary layer (ordinary autodiff); a
    `ReversibleSequence` of blocks recomputes activations in its backward
    pass instead of storing them.

    `f` and `g` map a tensor to a tensor of the same shape. They may accept
    `padding_mask` (it is passed on) and may contain dropout. If `f` hashes
    (an `LSHSelfAttention`, or any layer with `compute_buckets(x)` and a
    `buckets` call argument), a `ReversibleSequence` hashes once in the
    forward pass and reuses those buckets when recomputing. Layers with
    non-trainable state updated in the forward pass (BatchNormalization)
    are rejected.

    Masks: an explicit `padding_mask` `[B, T]` (True = real token) or the
    implicit Keras mask is passed to `f` and `g` when they accept it.

    Args:
        f: `keras.layers.Layer`, the first residual function (e.g. attention),
            or its serialised form (rebuilt under the block's dtype policy).
        g: `keras.layers.Layer`, the second residual function (e.g.
            feed-forward), or its serialised form.

    Call arguments:
        inputs: a pair `(x1, x2)` of tensors `[..., D]`, or one tensor
            `[..., 2D]` holding `x1` and `x2` side by side.
        padding_mask: optional bool `[B, T]`.
        training: bool, for dropout.

    Returns:
        `(y1, y2)`, or their concatenation `[..., 2D]` for a single input.

    Raises:
        ValueError: `f`/`g` not layers, stateful (BatchNormalization), or
            odd-width single inputs.

    Example:
    >>> import numpy as np
    >>> import keras
    >>> from keras_seq.layers import ReversibleBlock
    >>> block = ReversibleBlock(keras.layers.Dense(4), keras.layers.Dense(4))
    >>> x1, x2 = np.ones((2, 3, 4), "float32"), np.zeros((2, 3, 4), "float32")
    >>> y1, y2 = block((x1, x2))
    >>> r1, r2 = block.inverse((y1, y2))
    >>> bool(np.allclose(r1, x1, atol=1e-5) and np.allclose(r2, x2, atol=1e-5))
    True

    References:
        Gomez et al., 2017, "The Reversible Residual Network".
        Kitaev, Kaiser & Levskaya, 2020, "Reformer: The Efficient Transformer".
    """

    def __init__(self, f, g, **kwargs):
        super().__init__(**kwargs)
        f = _sublayer_from_config(f, self.dtype_policy)
        g = _sublayer_from_config(g, self.dtype_policy)
        _check_layer(f, "f")
        _check_layer(g, "g")
        self.f = f
        self.g = g
        self.supports_masking = True

    def build(self, inputs_shape):
        half = _half_shape(inputs_shape, "ReversibleBlock")
        for name, layer in (("f", self.f), ("g", self.g)):
            if not layer.built:
                spec = layer(keras.KerasTensor(half, dtype=self.compute_dtype))
                if tuple(spec.shape) != tuple(half):
                    raise ValueError(
                        f"`{name}` must keep the shape of its input {half}; it returns "
                        f"{tuple(spec.shape)}."
                    )
            _check_stateless(layer, name)
        self.built = True

    def call(self, inputs, padding_mask=None, training=None, mask=None):
        x1, x2, paired = _split(inputs)
        padding_mask = _merge_masks(padding_mask, mask)
        y1 = x1 + _call_sublayer(self.f, x2, padding_mask, training)
        y2 = x2 + _call_sublayer(self.g, y1, padding_mask, training)
        return _join(y1, y2, paired)

    def inverse(self, outputs, padding_mask=None, training=False, buckets=None):
        """Recomputes the inputs from the outputs: `x2 = y2 - g(y1)`,
        `x1 = y1 - f(x2)`; `buckets` (for a hashing `f`) are those of the
        forward pass. Same structure in and out as `call`."""
        y1, y2, paired = _split(outputs)
        x2 = y2 - _call_sublayer(self.g, y1, padding_mask, training)
        x1 = y1 - _call_sublayer(self.f, x2, padding_mask, training, buckets)
        return _join(x1, x2, paired)

    # The two halves of the memory-saving path used by `ReversibleSequence`.

    def _forward_saving(self, x1, x2, padding_mask, training):
        """Forward pass that returns what the backward needs besides the
        outputs: the buckets of `f` and the dropout seeds of `f` and `g`."""
        buckets = _compute_buckets(self.f, x2, padding_mask)
        f_seeds = _snapshot(self.f)
        y1 = x1 + _call_sublayer(self.f, x2, padding_mask, training, buckets)
        g_seeds = _snapshot(self.g)
        y2 = x2 + _call_sublayer(self.g, y1, padding_mask, training)
        return y1, y2, (buckets, f_seeds, g_seeds)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "f": keras.saving.serialize_keras_object(self.f),
                "g": keras.saving.serialize_keras_object(self.g),
            }
        )
        return config



# -- ReversibleSequence --------------------------------------------------------


@keras.saving.register_keras_serializable(package="keras_seq")
class ReversibleSequence(SameShape, keras.layers.Layer):
    """A stack of `ReversibleBlock`s whose backward pass recomputes activations.

    The forward pass keeps only the final outputs `(y1, y2)`. The gradient
    (one custom gradient over the whole stack) walks the blocks from last to
    first, recomputing each block's inputs from its outputs
    (`x2 = y2 - g(y1)`, `x1 = y1 - f(x2)`) and backpropagating through that
    one block, so activation memory does not grow with depth.

    What it takes to make this both exact and memory-saving on TensorFlow:
    the forward pass is not recorded by the outer tape (as in
    `tf.recompute_grad`); in graphs, every recomputation, and everything
    it derives from saved state (buckets, seeds, masks), depends on the
    incoming gradient, so it cannot be scheduled early and kept alive; the layers'
    variables reach the gradient function separately and a variable shared
    by several blocks gets the sum of its gradients; each dropout's seed is
    captured in the forward pass and replayed in the recomputation (the real
    seed generators are not rewound); a hashing `f` (`LSHSelfAttention`)
    hashes once and its buckets are reused. On other backends the stack runs
    with ordinary autodiff (same values and gradients, no memory saving).
    At inference (`training=False` and no gradient tape recording, e.g.
    `predict` or a decoding loop) the blocks simply run one after another:
    same values, and a smaller graph to trace.

    Args:
        blocks: non-empty list of `ReversibleBlock` (or their serialised
            forms).

    Call arguments:
        inputs: a pair `(x1, x2)` of tensors `[B, T, D]`, or one tensor
            `[B, T, 2D]` holding both streams side by side.
        padding_mask: optional bool `[B, T]` (True = real token); the
            implicit Keras mask is used when not given.
        training: bool, for dropout.

    Returns:
        `(y1, y2)`, or their concatenation for a single input.

    Raises:
        ValueError: `blocks` empty or not `ReversibleBlock`s; stateful
            sublayers (BatchNormalization); odd-width single inputs.

    Example:
    >>> import numpy as np
    >>> import keras
    >>> from keras_seq.layers import ReversibleBlock, ReversibleSequence
    >>> stack = ReversibleSequence([
    ...     ReversibleBlock(keras.layers.Dense(4), keras.layers.Dense(4))
    ...     for _ in range(3)])
    >>> tuple(stack(np.ones((2, 5, 8), "float32")).shape)
    (2, 5, 8)

    References:
        Gomez et al., 2017, "The Reversible Residual Network".
        Kitaev, Kaiser & Levskaya, 2020, "Reformer: The Efficient Transformer".
    """

    def __init__(self, blocks, **kwargs):
        super().__init__(**kwargs)
        blocks = list(blocks) if isinstance(blocks, (list, tuple)) else blocks
        if isinstance(blocks, list):
            blocks = [_sublayer_from_config(b, self.dtype_policy) for b in blocks]
        if not isinstance(blocks, list) or not blocks:
            raise ValueError(
                f"`blocks` must be a non-empty list of `ReversibleBlock`; received {blocks!r}."
            )
        wrong = [type(b).__name__ for b in blocks if not isinstance(b, ReversibleBlock)]
        if wrong:
            raise ValueError(
                f"`blocks` must all be `ReversibleBlock` instances; received {wrong}."
            )
        self.blocks = blocks
        self.supports_masking = True

    def build(self, inputs_shape):
        _half_shape(inputs_shape, "ReversibleSequence")
        for block in self.blocks:
            if not block.built:
                block.build(inputs_shape)
        self.built = True

    def call(self, inputs, padding_mask=None, training=None, mask=None):
        x1, x2, paired = _split(inputs)
        padding_mask = _merge_masks(padding_mask, mask)
        training = False if training is None else training
        if keras.backend.backend() == "tensorflow" and (training or tape_recording()):
            from keras_seq.layers._reversible_tf import reversible_stack

            y1, y2 = reversible_stack(self.blocks, x1, x2, padding_mask, training)
        else:
            y1, y2 = x1, x2
            for block in self.blocks:
                y1, y2 = block((y1, y2), padding_mask=padding_mask, training=training)
        return _join(y1, y2, paired)

    def inverse(self, outputs, padding_mask=None, training=False):
        """Recomputes the stack's inputs from its outputs (blocks in reverse)."""
        y1, y2, paired = _split(outputs)
        for block in reversed(self.blocks):
            y1, y2 = block.inverse((y1, y2), padding_mask=padding_mask, training=training)
        return _join(y1, y2, paired)

    def get_config(self):
        config = super().get_config()
        config["blocks"] = [keras.saving.serialize_keras_object(b) for b in self.blocks]
        return config
