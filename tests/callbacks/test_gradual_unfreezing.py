import keras
import numpy as np
import pytest

from keras_seq.callbacks import GradualUnfreezing


def test_groups_thaw_top_down_one_stage_at_a_time(rng):
    keras.utils.set_random_seed(0)
    bottom, middle, head = keras.layers.Dense(8), keras.layers.Dense(8), keras.layers.Dense(1)
    model = keras.Sequential([keras.Input((4,)), bottom, middle, head])
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    x, y = rng.normal(size=(64, 4)), rng.normal(size=(64, 1))
    snapshots = []

    class Snapshot(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append([layer.get_weights()[0].copy() for layer in (bottom, middle, head)])

    start = [layer.get_weights()[0].copy() for layer in (bottom, middle, head)]
    callback = GradualUnfreezing([head, middle, bottom], epochs_per_stage=2)
    model.fit(x, y, epochs=6, batch_size=16, verbose=0, callbacks=[callback, Snapshot()])
    assert callback.stages == [1, 2, 3]

    def changed(epoch, index):
        previous = start if epoch == 0 else snapshots[epoch - 1]
        return not np.array_equal(previous[index], snapshots[epoch][index])

    # epochs 0-1: head only; 2-3: head + middle; 4-5: everything.
    assert [changed(e, 2) for e in range(6)] == [True] * 6
    assert [changed(e, 1) for e in range(6)] == [False, False, True, True, True, True]
    assert [changed(e, 0) for e in range(6)] == [False, False, False, False, True, True]


def test_errors():
    with pytest.raises(ValueError, match="`layer_groups` must be a non-empty list"):
        GradualUnfreezing([])
    with pytest.raises(ValueError, match="`epochs_per_stage` must be a positive integer"):
        GradualUnfreezing([keras.layers.Dense(1)], epochs_per_stage=0)
