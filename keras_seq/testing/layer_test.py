"""`run_layer_test`: one call checks everything a Keras layer must honour.

Modelled on keras-hub's `TestCase.run_layer_test`, written for keras_seq.
"""

from __future__ import annotations

import json
import os
import tempfile

import keras
import numpy as np
from keras import tree

_MIXED_TOLERANCES = {"mixed_float16": 2e-2, "mixed_bfloat16": 1e-1}


def _as_numpy(x):
    return keras.ops.convert_to_numpy(x)


def _float_leaves(structure):
    return [
        _as_numpy(x)
        for x in tree.flatten(structure)
        if x is not None and np.issubdtype(_as_numpy(x).dtype, np.floating)
    ]


def _is_shape(value):
    return isinstance(value, (tuple, list)) and all(
        d is None or isinstance(d, int) for d in value
    )


def _normalise_shapes(value):
    if _is_shape(value):
        return tuple(value)
    if isinstance(value, dict):
        return {k: _normalise_shapes(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return tuple(_normalise_shapes(v) for v in value)
    return value


def _primary(structure, output_index):
    flat = [x for x in tree.flatten(structure) if x is not None]
    return flat[output_index]


def _assert_close(actual, expected, atol, rtol, what):
    actual = [np.asarray(a, dtype="float32") for a in _float_leaves(actual)]
    expected = [np.asarray(e, dtype="float32") for e in _float_leaves(expected)]
    if len(actual) != len(expected):
        raise AssertionError(f"{what}: {len(actual)} outputs vs {len(expected)}")
    for i, (a, e) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(
            a, e, atol=atol, rtol=rtol, err_msg=f"{what}: output {i} differs"
        )


def _symbolic_inputs(input_data, dynamic_length):
    symbolic = {}
    for name, array in input_data.items():
        shape = list(array.shape[1:])
        if dynamic_length and len(shape) >= 1:
            shape[0] = None
        symbolic[name] = keras.Input(
            shape=tuple(shape), dtype=str(array.dtype), name=name
        )
    return symbolic


def _mask_inputs(symbolic, masked_inputs):
    """Attach implicit Keras masks (all-zero feature rows / id 0 are padding)."""
    result = dict(symbolic)
    for name in masked_inputs:
        tensor = symbolic[name]
        if len(tensor.shape) == 2:  # integer ids: mask id 0, keep the ids.
            result[name] = _IdMask()(tensor)
        else:
            result[name] = keras.layers.Masking(0.0)(tensor)
    return result


@keras.saving.register_keras_serializable(package="keras_seq_testing")
class _IdMask(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_mask(self, inputs, mask=None):
        return keras.ops.not_equal(inputs, 0)


def _functional_model(layer, input_data, call_kwargs, dynamic_length, masked_inputs):
    symbolic = _symbolic_inputs(input_data, dynamic_length)
    feeds = _mask_inputs(symbolic, masked_inputs)
    outputs = layer(**feeds, **call_kwargs)
    return keras.Model(symbolic, outputs)


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_data,
    call_kwargs=None,
    expected_output_shape=None,
    output_index=0,
    dynamic_length=True,
    masked_inputs=(),
    run_training=True,
    run_mixed_precision=True,
    run_saving=True,
    mixed_precision_tolerances=None,
    output_dtype=None,
):
    """Checks a layer end to end; raises `AssertionError` on the first failure.

    The checks, in order:
    1. `get_config` -> `from_config` round trip, and a JSON round trip through
       `keras.saving.serialize_keras_object` / `deserialize_keras_object`.
    2. An eager call (finite outputs; `expected_output_shape` if given).
    3. A symbolic call in a functional model with dynamic batch and, when
       `dynamic_length`, dynamic time axis: the model reproduces the eager
       outputs with the same weights, and runs on a smaller batch and a
       shorter sequence.
    4. `masked_inputs`: the named inputs get implicit Keras masks (feature
       rows of zeros, or id 0) and the model still runs, trains and saves.
    5. A compiled `model.fit` step on the primary output (`output_index`-th
       non-None output) with MSE: loss finite, trainable weights change.
    6. `mixed_float16` and `mixed_bfloat16`: the layer built under the policy
       with the float32 weights gives outputs in the compute dtype within
       tolerance of float32.
    7. `.keras` save and `keras.models.load_model`: identical outputs.

    Args:
        layer_cls: the layer class.
        init_kwargs: dict of constructor arguments.
        input_data: a NumPy array (passed as the first positional argument,
            named `inputs`) or a dict of call-argument name -> array.
        call_kwargs: dict of non-tensor call arguments
            (e.g. `{"return_attention_scores": True}`).
        expected_output_shape: shape (or nested structure of shapes) of the
            eager outputs.
        output_index: which flattened output the training step fits.
        dynamic_length: whether axis 1 of every input may vary.
        masked_inputs: names of inputs to give implicit Keras masks.
        run_training, run_mixed_precision, run_saving: switch checks off for
            layers that have no trainable weights / float outputs / state.
        mixed_precision_tolerances: dict policy -> absolute tolerance.
        output_dtype: dtype the primary output must have under the mixed
            policies; defaults to the policy's compute dtype (set `"float32"`
            for layers that deliberately return float32 logits).

    Example:
    >>> import numpy as np
    >>> from keras_seq.layers import TransformerEncoderBlock
    >>> from keras_seq.testing import run_layer_test
    >>> run_layer_test(
    ...     TransformerEncoderBlock, {"num_heads": 2, "intermediate_dim": 8},
    ...     np.random.rand(2, 4, 8).astype("float32"), run_mixed_precision=False)
    """
    call_kwargs = dict(call_kwargs or {})
    if not isinstance(input_data, dict):
        input_data = {"inputs": input_data}
    input_data = {k: np.asarray(v) for k, v in input_data.items()}
    tolerances = dict(_MIXED_TOLERANCES, **(mixed_precision_tolerances or {}))

    layer = layer_cls(**init_kwargs)
    config = _check_config_round_trips(layer_cls, layer)
    eager = _check_eager_call(layer_cls, layer, config, input_data, call_kwargs, expected_output_shape)
    model = _check_symbolic_call(layer_cls, layer, config, input_data, call_kwargs, eager, dynamic_length)
    if masked_inputs or run_training:
        _check_masks_and_fit(
            layer_cls, config, input_data, call_kwargs, dynamic_length, masked_inputs,
            output_index, run_training, run_saving,
        )  # fmt: skip
    if run_mixed_precision:
        _check_mixed_precision(
            layer_cls, init_kwargs, layer, input_data, call_kwargs, eager, tolerances,
            output_index, output_dtype,
        )  # fmt: skip
    if run_saving:
        _check_saving(model, input_data)


def _check_config_round_trips(layer_cls, layer):
    """1. `get_config` -> `from_config` and a JSON round trip; the config."""
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config, "get_config/from_config round trip differs"
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(layer)))
    revived = keras.saving.deserialize_keras_object(serialized)
    assert isinstance(revived, layer_cls), f"JSON round trip gave {type(revived)}"
    assert revived.get_config() == config, "JSON round trip changed the config"
    return config


def _check_eager_call(layer_cls, layer, config, input_data, call_kwargs, expected_output_shape):
    """2. An eager call: finite outputs of the expected shape, and a layer
    rebuilt from the config computes the same function. Returns the outputs."""
    eager = layer(**input_data, **call_kwargs)
    for leaf in _float_leaves(eager):
        assert np.all(np.isfinite(leaf)), "eager outputs contain NaN or inf"
    if expected_output_shape is not None:
        actual = tree.map_structure(lambda x: tuple(x.shape), eager)
        assert _normalise_shapes(expected_output_shape) == _normalise_shapes(actual), (
            f"output shape {actual} != expected {expected_output_shape}"
        )
    clone = layer_cls.from_config(config)
    clone(**input_data, **call_kwargs)
    clone.set_weights(layer.get_weights())
    _assert_close(
        clone(**input_data, **call_kwargs),
        eager,
        1e-6,
        1e-6,
        "get_config/from_config round trip changes the outputs",
    )
    return eager


def _check_symbolic_call(layer_cls, layer, config, input_data, call_kwargs, eager, dynamic_length):
    """3. A functional model with dynamic shapes and the eager layer's weights
    reproduces the eager outputs and runs on a smaller batch (and length).
    Returns the model."""
    sym_layer = layer_cls.from_config(config)
    model = _functional_model(sym_layer, input_data, call_kwargs, dynamic_length, ())
    sym_layer.set_weights(layer.get_weights())
    _assert_close(model(input_data), eager, 1e-5, 1e-5, "functional vs eager")
    smaller = {k: v[:1] for k, v in input_data.items()}
    if dynamic_length:
        smaller = {
            k: (v[:, : max(1, v.shape[1] - 1)] if v.ndim >= 2 else v)
            for k, v in smaller.items()
        }
    for leaf in _float_leaves(model(smaller)):
        assert np.all(np.isfinite(leaf)), "outputs on a smaller batch/length not finite"
    return model


def _check_masks_and_fit(
    layer_cls, config, input_data, call_kwargs, dynamic_length, masked_inputs,
    output_index, run_training, run_saving,
):  # fmt: skip
    """4./5. Masked inputs, and a compiled fit step on the primary output."""
    fit_layer = layer_cls.from_config(config)
    full = _functional_model(fit_layer, input_data, call_kwargs, dynamic_length, masked_inputs)
    fit_model = keras.Model(full.inputs, _primary(full.outputs, output_index))
    fit_model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    if run_training and fit_layer.trainable_weights:
        before = [_as_numpy(w).copy() for w in fit_layer.trainable_weights]
        target = np.random.default_rng(0).normal(
            size=_primary(fit_model(input_data), 0).shape
        ).astype("float32")
        try:
            history = fit_model.fit(
                input_data, target, epochs=1, batch_size=len(target), verbose=0
            )
        except ValueError as error:
            if "No gradients" not in str(error):
                raise
            raise AssertionError(
                f"no trainable weight changed in a fit step: {error}"
            ) from error
        assert np.isfinite(history.history["loss"][0]), "fit loss is not finite"
        after = [_as_numpy(w) for w in fit_layer.trainable_weights]
        changed = sum(not np.array_equal(b, a) for b, a in zip(before, after))
        assert changed > 0, "no trainable weight changed in a fit step"
    if masked_inputs and run_saving:
        _check_saving(fit_model, input_data)


def _check_mixed_precision(
    layer_cls, init_kwargs, layer, input_data, call_kwargs, eager, tolerances,
    output_index, output_dtype,
):  # fmt: skip
    """6. Under each mixed policy, with the float32 weights: outputs in the
    compute dtype (or `output_dtype`) within tolerance of float32."""
    reference = _float_leaves(eager)
    for policy, atol in tolerances.items():
        mp_layer = layer_cls(**init_kwargs, dtype=policy)
        mp_layer(**input_data, **call_kwargs)
        mp_layer.set_weights(layer.get_weights())
        mixed = mp_layer(**input_data, **call_kwargs)
        compute = output_dtype or keras.dtype_policies.get(policy).compute_dtype
        primary = _primary(mixed, output_index)
        assert keras.backend.standardize_dtype(primary.dtype) == compute, (
            f"under {policy} the output dtype is {primary.dtype}, not {compute}"
        )
        for i, (m, r) in enumerate(zip(_float_leaves(mixed), reference)):
            np.testing.assert_allclose(
                np.asarray(m, "float32"),
                r,
                atol=atol,
                rtol=atol,
                err_msg=f"{policy}: output {i} too far from float32",
            )


def _check_saving(model, input_data):
    expected = model(input_data)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        restored = keras.models.load_model(path)
    _assert_close(restored(input_data), expected, 0.0, 0.0, ".keras save/load")
