"""Compatibility fix: Keras 3 `model.fit` under `MultiWorkerMirroredStrategy`.

Why this module exists. Keras 3 (checked up to 3.15.1 with TensorFlow 2.21)
cannot train under `tf.distribute.MultiWorkerMirroredStrategy` when there is
more than one worker (keras-team/keras issue #20585; the TensorFlow
multi-worker Keras tutorial fails the same way). Its TensorFlow trainer
calls `Strategy.reduce` in two ways that `Strategy.reduce` does not
support, and only the multi-worker code path reaches them:

1. `fit`/`evaluate` build the model symbolically from the first batch:
   `TensorFlowTrainer._maybe_symbolic_build` reduces the whole *data batch*,
   a nest such as `(x, y)` of per-replica values, in one
   `strategy.reduce("MEAN", batch, axis=None)` call. `Strategy.reduce`
   takes one distributed value, not a nest ("TODO: support `value` being a
   nest" in TensorFlow's `distribute_lib.py`), so multi-worker collectives
   fail with "Attempt to convert a value (PerReplica...) to a Tensor".
2. Every train/test step reduces its logs with `reduce_per_replica`, which
   for a multi-worker collective strategy calls
   `strategy.reduce("MEAN", value, axis=0)` on each *scalar* log (loss,
   metric results): there is no axis 0 to reduce over.

The fix is a subclass of `tf.distribute.MultiWorkerMirroredStrategy` whose
`reduce` accepts those two inputs with the meaning Keras intends, and
otherwise behaves exactly like TensorFlow's: a nest is reduced leaf by leaf,
and a scalar reduced "along axis 0" is treated as a batch of one (so MEAN is
the mean over replicas, SUM the sum, as Keras's single-worker code path
computes with `tf.reduce_mean(local_results, axis=0)`). Nothing in Keras is
patched, and the strategy is still a `tf.distribute.MultiWorkerMirroredStrategy`
(Keras chooses its multi-worker code paths by that `isinstance` check).

`KERAS_CODE_ADAPTED` records hashes of the Keras source this adapts;
`tests/test_distribute.py` fails when a Keras release changes it, which is
the moment to check whether the fix is still needed (and to drop it if
Keras has fixed #20585).
"""

from __future__ import annotations

import hashlib
import inspect
import sys

import tensorflow as tf

# sha256 of the source of the Keras functions whose calls to
# `Strategy.reduce` this module accommodates (Keras 3.15.1).
KERAS_CODE_ADAPTED = {
    "TensorFlowTrainer._maybe_symbolic_build": (
        "92a504f5eba9b29f81f1bf26180bdd5bf5186b06b7bda426534b90d2d02bc1c2"
    ),
    "reduce_per_replica": (
        "2e7d54b1e6edc29a8c6a7e6b66cd4c8be3ba7842412c93753ac3afe169fa7fb8"
    ),
}


def keras_code_hashes():
    """sha256 of the installed Keras functions named in `KERAS_CODE_ADAPTED`."""
    import keras

    build = keras.Model._maybe_symbolic_build
    trainer_module = sys.modules[build.__module__]
    sources = {
        "TensorFlowTrainer._maybe_symbolic_build": inspect.getsource(build),
        "reduce_per_replica": inspect.getsource(trainer_module.reduce_per_replica),
    }
    return {
        name: hashlib.sha256(source.encode("utf-8")).hexdigest()
        for name, source in sources.items()
    }


class MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """`tf.distribute.MultiWorkerMirroredStrategy` that Keras 3 can `fit` with.

    Identical to TensorFlow's strategy except that `reduce` also accepts a
    nest of distributed values (reduced leaf by leaf) and scalars with an
    `axis` (a scalar is a batch of one along that axis). Both are what
    Keras 3's trainer passes it; see this module's docstring.
    `keras_seq.distribute.get_strategy("multi_worker")` returns one.
    """

    def reduce(self, reduce_op, value, axis):
        if tf.nest.is_nested(value):
            return tf.nest.map_structure(
                lambda leaf: self.reduce(reduce_op, leaf, axis), value
            )
        if axis is not None and _all_scalars(self.experimental_local_results(value)):
            axis = None
        return super().reduce(reduce_op, value, axis)


def _all_scalars(values):
    return all(getattr(v, "shape", None) is not None and v.shape.rank == 0 for v in values)
