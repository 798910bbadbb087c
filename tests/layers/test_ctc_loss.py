import keras
import numpy as np
import pytest

from keras_seq.layers import CTCLoss
from keras_seq.losses import ctc_loss
from keras_seq.testing import run_layer_test


def log_softmax64(logits):
    logits = np.asarray(logits, "float64")
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def test_layer_contract_with_masks(rng):
    logits = rng.normal(size=(2, 6, 5)).astype("float32")
    logits[1, 4:] = 0.0  # masked frames (Masking(0.0) in the harness)
    labels = np.array([[1, 2, 2], [3, 0, 0]])  # 0 = padding (masked id), blank = last
    run_layer_test(
        CTCLoss,
        {"blank_index": -1, "pad_value": 0},
        {"labels": labels, "logits": logits},
        expected_output_shape=(2, 6, 5),
        masked_inputs=("labels", "logits"),
        run_training=False,
    )


def test_layer_contract_with_pad_value(rng):
    run_layer_test(
        CTCLoss,
        {},
        {"labels": np.array([[1, -1], [2, 3]]), "logits": rng.normal(size=(2, 5, 4)).astype("float32")},
        expected_output_shape=(2, 5, 4),
        run_training=False,
    )


def test_added_loss_is_mean_ctc_and_masks_give_lengths(rng):
    logits = rng.normal(size=(2, 6, 5)).astype("float32")
    labels = np.array([[1, 2, 2], [3, 0, 0]])
    layer = CTCLoss(blank_index=-1, pad_value=0)
    out = layer(labels, logits, logit_lengths=np.array([6, 4]))
    np.testing.assert_array_equal(np.asarray(out), logits)
    expected = np.mean(
        np.asarray(ctc_loss(labels[:, :3], logits, np.array([3, 1]), np.array([6, 4]), blank_index=4))
    )
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-6)

    labels_in = keras.Input((None,), dtype="int32")
    logits_in = keras.Input((None, 5))
    masked = keras.layers.Masking(0.0)(logits_in)
    model = keras.Model([labels_in, logits_in], CTCLoss(blank_index=4, pad_value=-1)(labels_in, masked))
    zeroed = logits.copy()
    zeroed[1, 4:] = 0.0
    model([np.array([[1, 2, 2], [3, -1, -1]]), zeroed])
    np.testing.assert_allclose(float(model.losses[0]), expected, rtol=1e-5)


def test_model_fit_under_mixed_float16(rng):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        keras.utils.set_random_seed(0)
        features = keras.Input((None, 6), name="features")
        labels = keras.Input((None,), dtype="int32", name="labels")
        lengths = keras.Input((), dtype="int32", name="lengths")
        hidden = keras.layers.GRU(16, return_sequences=True)(features)
        logits = keras.layers.Dense(4)(hidden)
        outputs = CTCLoss(blank_index=0)(labels, logits, logit_lengths=lengths)
        model = keras.Model([features, labels, lengths], outputs)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=None)
        data = {
            "features": rng.normal(size=(8, 10, 6)).astype("float32"),
            "labels": np.tile(np.array([[1, 2, 3], [3, 3, -1]]), (4, 1)),
            "lengths": np.tile(np.array([10, 7]), 4),
        }
        history = model.fit(data, epochs=8, batch_size=4, verbose=0).history["loss"]
        assert keras.backend.standardize_dtype(model(data).dtype) == "float16"
    finally:
        keras.config.set_dtype_policy(previous)
    assert np.all(np.isfinite(history))
    assert history[-1] < history[0]


def test_errors():
    with pytest.raises(ValueError, match="`pad_value` .* must differ from `blank_index`"):
        CTCLoss(blank_index=0, pad_value=0)
    with pytest.raises(ValueError, match="`blank_index` must be an integer"):
        CTCLoss(blank_index="last")
    with pytest.raises(ValueError, match="`logits` must have rank 3"):
        CTCLoss()(np.array([[1]]), np.zeros((1, 4), "float32"))
