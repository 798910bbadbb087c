"""The only place keras_seq touches Keras/TensorFlow internals.

Each function here wraps one private API for which Keras 3 / TensorFlow
offer no public equivalent (checked against Keras 3.15, TensorFlow 2.21).
`tests/test_private_api.py` exercises every one of them against the
installed versions, so an upstream change fails there, loudly and in one
place, instead of deep inside a layer.

- `get_keras_mask`: Keras keeps a tensor's implicit mask in the private
  attribute `_keras_mask` (its accessor `keras.src.backend.get_keras_mask`
  is not exported). Layers receive masks through their `mask` /
  `<argument>_mask` call arguments, which is public and what keras_seq
  layers use; losses and metrics get no such argument, so `CTC` and
  `Perplexity` read the attribute of `y_pred` here, exactly as Keras's own
  `Loss.__call__` does.
- `without_keras_mask`: a mask-free view of a tensor, so a sublayer that
  does not support masking neither warns nor strips the caller's mask.
- `stop_recording`: TensorFlow's `record.stop_recording()` pauses every
  active gradient tape (what `tf.recompute_grad` uses internally);
  `tf.GradientTape.stop_recording` only pauses one tape the caller holds.
  The reversible stack and LSH attention recompute activations in their
  backward pass and must not let outer tapes record the forward pass.
- `tape_recording`: TensorFlow's `record.could_possibly_record()`, whether
  any gradient tape could record an op now. With none, the reversible stack
  runs its blocks plainly (the recomputing custom gradient only matters to
  a tape), which keeps inference graphs, e.g. a decoding loop, smaller.
"""

from __future__ import annotations

from keras import ops

_MASK_ATTRIBUTE = "_keras_mask"


def get_keras_mask(tensor):
    """The implicit Keras mask attached to `tensor`, or `None`."""
    return getattr(tensor, _MASK_ATTRIBUTE, None)


def without_keras_mask(tensor):
    """`tensor` if it carries no Keras mask, else a mask-free copy."""
    if get_keras_mask(tensor) is None:
        return tensor
    return ops.copy(tensor)


def stop_recording():
    """Context manager that pauses all active gradient tapes (TensorFlow)."""
    from tensorflow.python.eager import record

    return record.stop_recording()


def tape_recording():
    """Whether a gradient tape could record operations now (TensorFlow)."""
    from tensorflow.python.eager import record

    return bool(record.could_possibly_record())
