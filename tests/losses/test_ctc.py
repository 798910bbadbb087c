import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.losses import CTC, ctc_loss


def log_softmax64(logits):
    logits = np.asarray(logits, "float64")
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def forward_nll(labels, log_probs, blank):
    """Float64 CTC forward algorithm (Graves 2006) over the blank-extended labels."""
    extended = [blank]
    for label in labels:
        extended += [int(label), blank]
    size = len(extended)
    alpha = np.full(size, -np.inf)
    alpha[0] = log_probs[0, blank]
    if size > 1:
        alpha[1] = log_probs[0, extended[1]]
    for t in range(1, len(log_probs)):
        new = np.full(size, -np.inf)
        for s in range(size):
            terms = [alpha[s]]
            if s >= 1:
                terms.append(alpha[s - 1])
            if s >= 2 and extended[s] != blank and extended[s] != extended[s - 2]:
                terms.append(alpha[s - 2])
            new[s] = np.logaddexp.reduce(terms) + log_probs[t, extended[s]]
        alpha = new
    tail = alpha[-1] if size == 1 else np.logaddexp(alpha[-1], alpha[-2])
    return -tail


def random_case(rng, batch, max_time, classes, blank, max_label):
    logits = (rng.normal(size=(batch, max_time, classes)) * 2).astype("float32")
    label_lengths = rng.integers(0, max_label + 1, size=batch)
    label_lengths[0] = max_label
    logit_lengths = rng.integers(1, max_time + 1, size=batch)
    logit_lengths[0] = max_time
    non_blank = [c for c in range(classes) if c != blank]
    labels = np.full((batch, max_label), -1)
    for b in range(batch):
        row = rng.choice(non_blank, size=label_lengths[b])
        if label_lengths[b] >= 2 and b % 2 == 0:
            row[1] = row[0]  # a repeat: needs a blank between the two frames
        labels[b, : label_lengths[b]] = row
        # Room for the labels plus a blank between repeats.
        repeats = int(np.sum(row[1:] == row[:-1])) if len(row) > 1 else 0
        logit_lengths[b] = max(logit_lengths[b], label_lengths[b] + repeats, 1)
    return labels, logits, label_lengths, logit_lengths


@pytest.mark.parametrize("blank", [0, 4, 2])
def test_equals_forward_algorithm_and_tf(rng, blank):
    labels, logits, label_lengths, logit_lengths = random_case(rng, 6, 9, 5, blank, 4)
    ours = np.asarray(ctc_loss(labels, logits, blank_index=blank))
    ours_with_lengths = np.asarray(
        ctc_loss(labels, logits, label_lengths, logit_lengths, blank_index=blank)
    )
    log_probs = log_softmax64(logits)
    reference = [
        forward_nll(labels[b, : label_lengths[b]], log_probs[b, : logit_lengths[b]], blank)
        for b in range(len(labels))
    ]
    np.testing.assert_allclose(ours_with_lengths, reference, rtol=1e-5, atol=1e-4)
    full = [
        forward_nll(labels[b, : label_lengths[b]], log_probs[b], blank)
        for b in range(len(labels))
    ]
    np.testing.assert_allclose(ours, full, rtol=1e-5, atol=1e-4)
    peer = tf.nn.ctc_loss(
        np.maximum(labels, 0),
        logits,
        label_lengths,
        logit_lengths,
        logits_time_major=False,
        blank_index=blank,
    )
    np.testing.assert_allclose(ours_with_lengths, peer.numpy(), rtol=1e-6, atol=1e-5)


def test_negative_blank_index_is_last_class(rng):
    labels, logits, _, _ = random_case(rng, 3, 6, 4, 3, 2)
    np.testing.assert_allclose(
        np.asarray(ctc_loss(labels, logits, blank_index=-1)),
        np.asarray(ctc_loss(labels, logits, blank_index=3)),
    )


def test_padding_is_never_a_blank(rng):
    logits = rng.normal(size=(2, 6, 5)).astype("float32")
    truth = np.asarray(ctc_loss(np.array([[1, 2, 1], [3, 3, -1]]), logits))
    # Padding with a class id, and with the blank id when lengths say where it starts.
    padded = np.array([[1, 2, 1, 4, 4], [3, 3, 4, 4, 4]])
    np.testing.assert_allclose(np.asarray(ctc_loss(padded, logits, pad_value=4)), truth, rtol=1e-6)
    blank_padded = np.array([[1, 2, 1, 0], [3, 3, 0, 0]])
    np.testing.assert_allclose(
        np.asarray(ctc_loss(blank_padded, logits, label_lengths=np.array([3, 2]))), truth, rtol=1e-6
    )
    mask = np.array([[True, True, True, False], [True, True, False, False]])
    np.testing.assert_allclose(
        np.asarray(ctc_loss(blank_padded, logits, label_mask=mask)), truth, rtol=1e-6
    )
    # The blank-padded row [3, 3, 0, 0] is scored as the two labels [3, 3].
    log_probs = log_softmax64(logits)
    np.testing.assert_allclose(truth[1], forward_nll([3, 3], log_probs[1], 0), rtol=1e-5)


def test_gradients_finite_and_match_finite_differences(rng):
    labels = np.array([[1, 1, 2], [2, -1, -1]])
    logits = tf.constant(rng.normal(size=(2, 7, 3)), "float32")
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = tf.reduce_sum(ctc_loss(labels, logits, logit_lengths=np.array([7, 4])))
    grad = tape.gradient(loss, logits).numpy()
    assert np.all(np.isfinite(grad))
    np.testing.assert_array_equal(grad[1, 4:], 0.0)  # frames past the length

    def total(x):
        lp = log_softmax64(x)
        return forward_nll([1, 1, 2], lp[0], 0) + forward_nll([2], lp[1, :4], 0)

    x = logits.numpy().astype("float64")
    eps = 1e-5
    numeric = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        numeric[index] = (total(up) - total(down)) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, atol=2e-3)


def test_float32_under_float16_inputs(rng):
    labels, logits, _, _ = random_case(rng, 3, 8, 5, 0, 3)
    loss16 = ctc_loss(labels, logits.astype("float16"))
    assert keras.backend.standardize_dtype(loss16.dtype) == "float32"
    np.testing.assert_allclose(
        np.asarray(loss16), np.asarray(ctc_loss(labels, logits)), rtol=1e-2
    )


def test_loss_class_lengths_from_mask_constant_and_padding(rng):
    features = rng.normal(size=(4, 7, 3)).astype("float32")
    features[1, 5:] = 0.0
    features[2, 3:] = 0.0
    labels = np.array([[1, 2], [2, -1], [1, -1], [3, 3]])
    inputs = keras.Input((None, 3))
    logits = keras.layers.Dense(4)(keras.layers.Masking(0.0)(inputs))
    model = keras.Model(inputs, logits)
    model.compile(optimizer="sgd", loss=CTC())
    raw = np.asarray(model(features))
    log_probs = log_softmax64(raw)
    lengths = [7, 5, 3, 7]
    per_row = [forward_nll(labels[b][labels[b] >= 0], log_probs[b, : lengths[b]], 0) for b in range(4)]
    np.testing.assert_allclose(model.evaluate(features, labels, verbose=0), np.mean(per_row), rtol=1e-4)
    # A NumPy array carries no mask: every frame counts.
    full = [forward_nll(labels[b][labels[b] >= 0], log_probs[b], 0) for b in range(4)]
    weights = np.array([1.0, 0.0, 2.0, 1.0])
    np.testing.assert_allclose(
        float(CTC()(labels, raw, sample_weight=weights)), np.dot(full, weights) / 4, rtol=1e-4
    )
    fixed = CTC(logit_length=5, reduction="none")(labels, raw)
    reference = [forward_nll(labels[b][labels[b] >= 0], log_probs[b, :5], 0) for b in range(4)]
    np.testing.assert_allclose(np.asarray(fixed), reference, rtol=1e-4)
    history = model.fit(features, labels, epochs=3, batch_size=4, verbose=0).history["loss"]
    assert np.all(np.isfinite(history)) and history[-1] < history[0]


def test_loss_config_round_trip():
    loss = CTC(blank_index=-1, pad_value=0, logit_length=9, name="speech")
    revived = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(revived, CTC)
    assert (revived.blank_index, revived.pad_value, revived.logit_length) == (-1, 0, 9)


def test_errors(rng):
    with pytest.raises(ValueError, match="`pad_value`.*must differ"):
        CTC(blank_index=0, pad_value=0)
    with pytest.raises(ValueError, match="`blank_index` must be an integer"):
        CTC(blank_index=0.5)
    with pytest.raises(ValueError, match="`logit_length` must be a positive integer"):
        CTC(logit_length=0)
    logits = rng.normal(size=(1, 4, 3)).astype("float32")
    with pytest.raises(ValueError, match="`pad_value`.*must differ from the blank"):
        ctc_loss(np.array([[1]]), logits, blank_index=-1, pad_value=2)
    with pytest.raises(ValueError, match="`logits` must have rank 3"):
        ctc_loss(np.array([[1]]), logits[0])
    with pytest.raises(ValueError, match="`labels` must have rank 2"):
        ctc_loss(np.array([1]), logits)
    with pytest.raises(ValueError, match=r"`blank_index` must lie in \[-3, 3\)"):
        ctc_loss(np.array([[1]]), logits, blank_index=3)


def test_compiles_under_xla(rng):
    features = rng.normal(size=(4, 6, 3)).astype("float32")
    labels = np.array([[1, 2], [2, -1], [1, 1], [3, -1]])
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 3)), keras.layers.Dense(4)])
    model.compile(optimizer="sgd", loss=CTC(), jit_compile=True)
    expected = np.mean(np.asarray(ctc_loss(labels, np.asarray(model(features)))))
    np.testing.assert_allclose(model.evaluate(features, labels, verbose=0), expected, rtol=1e-5)
