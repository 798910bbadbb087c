"""The activity recogniser: the fast LRCN beats the single-frame baseline on
held-out appearances, the baseline is blind to the order of frames (so it
cannot tell the direction pairs apart) while the sequence models' per-frame
CNN sees each frame with its difference to the one before, scores equal scikit-learn's, the
confusion matrix reaches TensorBoard, and a saved model predicts on video
files after reloading."""

import os

import keras
import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, recall_score

from applications.video_activity import app, data
from applications.video_activity.__main__ import main
from keras_seq.testing import run_layer_test

FAST = app.SIZES["fast"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("video_activity")
    lrcn = app.train("fast", output=str(root / "lrcn.keras"), log_dir=str(root / "logs"), eval_examples=450,
                     verbose=0)
    baseline = app.train("fast", architecture="single_frame", eval_examples=450, log_dir=None, verbose=0)
    return root, lrcn, baseline


def _reversal_closed_pairs(count_per_class, seed):
    """Held-out clips of each direction pair together with every clip played
    backwards, labelled as the other member of its pair."""
    clips, labels = data.generate_clips(count_per_class * len(data.ACTIONS), FAST.frames, FAST.image_size,
                                        seed=seed, split="test")
    pairs = {}
    for first, second in data.DIRECTION_PAIRS:
        a, b = data.ACTIONS.index(first), data.ACTIONS.index(second)
        chosen = np.isin(labels, [a, b])
        flipped = np.where(labels[chosen] == a, b, a)
        pairs[(first, second)] = (
            np.concatenate([clips[chosen], clips[chosen][:, ::-1]]),
            np.concatenate([labels[chosen], flipped]),
        )
    return pairs


def test_fast_lrcn_beats_the_single_frame_baseline_on_held_out_appearances(trained):
    _, lrcn, baseline = trained
    assert lrcn["eval_examples"] == 450
    assert lrcn["accuracy"] > baseline["accuracy"] + 0.15, (app.describe(lrcn), app.describe(baseline))
    assert lrcn["accuracy"] > 0.75, app.describe(lrcn)
    # Per direction pair (shares of its two classes' clips), the LRCN is
    # well above the baseline, which sits near chance (1/2 within the pair).
    for first, second in data.DIRECTION_PAIRS:
        lrcn_pair = (lrcn["per_class"][first] + lrcn["per_class"][second]) / 2
        base_pair = (baseline["per_class"][first] + baseline["per_class"][second]) / 2
        assert base_pair < 0.65, (first, app.describe(baseline))
        if first in ("move_left", "grow"):  # turning is too fine for the fast size's 32x32 frames
            assert lrcn_pair > 0.85, app.describe(lrcn)
    assert lrcn["history"]["val_loss"][-1] < lrcn["history"]["val_loss"][0]
    assert set(lrcn["per_class"]) == set(data.ACTIONS)


def test_only_the_order_of_frames_separates_the_direction_pairs(trained):
    _, lrcn, baseline = trained
    for (first, _second), (clips, labels) in _reversal_closed_pairs(20, seed=11).items():
        half = len(labels) // 2
        # The baseline averages per-frame predictions: the same for a clip and
        # the clip played backwards, so on these pairs it is right at most half the time.
        probabilities = baseline["model"].probabilities(clips)
        np.testing.assert_allclose(probabilities[:half], probabilities[half:], atol=1e-5)
        assert (probabilities.argmax(-1) == labels).mean() <= 0.5
        if first == "move_left":
            # The LRCN reads the order: backwards, a leftward clip is rightward to it.
            predictions = lrcn["model"].probabilities(clips).argmax(-1)
            assert (predictions == labels).mean() > 0.85, (first, predictions, labels)


def test_frame_differences_are_each_frame_minus_the_one_before():
    rng = np.random.default_rng(0)
    clips = rng.uniform(0, 1, (2, 5, 6, 6, 3)).astype("float32")
    out = np.asarray(app.FrameDifferences()(clips))
    assert out.shape == (2, 5, 6, 6, 6)
    np.testing.assert_array_equal(out[..., :3], clips)
    np.testing.assert_array_equal(out[:, 0, ..., 3:], 0.0)  # nothing before the first frame
    np.testing.assert_allclose(out[:, 1:, ..., 3:], np.diff(clips, axis=1), atol=1e-7)
    # Config round trip, symbolic call with dynamic batch and length,
    # mixed precision and .keras saving (no weights to train).
    run_layer_test(app.FrameDifferences, {}, clips, expected_output_shape=(2, 5, 6, 6, 6), run_training=False)


def test_the_sequence_models_see_neighbouring_frames_and_the_baseline_one_frame():
    # Changing frame 2 changes the per-frame features of frames 2 and 3 of a
    # motion model (frame 3's difference is to frame 2), and only frame 2's
    # of the single-frame baseline, which has no difference channel.
    clips = np.random.default_rng(1).integers(0, 256, (1, 5, 16, 16, 3)).astype("uint8")
    changed = clips.copy()
    changed[:, 2] = 255 - changed[:, 2]
    for architecture, touched in (("lrcn", {2, 3}), ("attention", {2, 3}), ("single_frame", {2})):
        model = app.ActivityRecognizer(["a", "b"], architecture, image_size=16, filters=4, units=8)
        assert model.motion == (architecture != "single_frame")
        before, after = (np.asarray(model.features(c)) for c in (clips, changed))
        differs = {t for t in range(5) if not np.allclose(before[:, t], after[:, t])}
        assert differs == touched, architecture
    assert app.ActivityRecognizer(["a", "b"], "lrcn", image_size=16, filters=4, units=8, motion=False).motion is False
    with pytest.raises(ValueError, match="`motion` must be False for the single_frame baseline"):
        app.ActivityRecognizer(["a", "b"], "single_frame", motion=True)
    with pytest.raises(ValueError, match="`motion` must be True, False or None"):
        app.ActivityRecognizer(["a", "b"], motion="yes")
    # The config keeps `motion`; a config saved before it existed means none.
    config = app.ActivityRecognizer(["a", "b"], image_size=16, filters=4, units=8).get_config()
    assert config["motion"] is True and app.ActivityRecognizer.from_config(config).motion is True
    del config["motion"]
    assert app.ActivityRecognizer.from_config(config).motion is False


def test_scores_equal_scikit_learn():
    rng = np.random.default_rng(0)
    labels, predictions = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    names = ["a", "b", "c", "d"]
    result = app.scores(labels, predictions, names)
    np.testing.assert_array_equal(result["confusion"], confusion_matrix(labels, predictions, labels=range(4)))
    np.testing.assert_allclose(list(result["per_class"].values()), recall_score(labels, predictions, average=None))
    assert result["accuracy"] == pytest.approx((labels == predictions).mean())
    # A class with no clips has no per-class accuracy (rather than 0/0).
    assert "d" not in app.scores([0, 1], [0, 0], names)["per_class"]


def test_confusion_matrix_and_per_class_accuracy_reach_tensorboard(trained):
    import tensorflow as tf

    root, lrcn, _ = trained
    folder = root / "logs" / "evaluation"
    tags, steps = {}, set()  # tag -> [(step, value)]; one events file per write
    for name in os.listdir(folder):
        for event in tf.compat.v1.train.summary_iterator(str(folder / name)):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append((event.step, value))
                steps.add(event.step)
    tags = {tag: [value for _, value in sorted(values, key=lambda pair: pair[0])] for tag, values in tags.items()}
    assert "confusion_matrix" in tags and "held_out_accuracy" in tags
    assert {f"per_class_accuracy/{name}" for name in data.ACTIONS} <= set(tags)
    assert steps == set(range(FAST.epochs + 1))  # every epoch, then the full held-out set
    image = tf.io.decode_png(tf.make_ndarray(tags["confusion_matrix"][-1].tensor)[2])
    assert image.shape[0] > 200 and image.shape[1] > 200
    last = tf.make_ndarray(tags["held_out_accuracy"][-1].tensor)
    assert float(last) == pytest.approx(lrcn["accuracy"], abs=1e-6)


def test_predict_after_reload_and_cli(trained, tmp_path, capsys):
    root, lrcn, _ = trained
    path = str(root / "lrcn.keras")
    restored = keras.saving.load_model(path, safe_mode=True)
    clips, labels = data.generate_clips(9, FAST.frames, FAST.image_size, seed=5, split="test")
    np.testing.assert_allclose(restored.probabilities(clips), lrcn["model"].probabilities(clips), atol=1e-5)
    assert restored.class_names == list(data.ACTIONS) and restored.frames == FAST.frames
    videos = [data.write_video(tmp_path / f"clip{i}.avi", clip) for i, clip in enumerate(clips[:3])]
    assert main(["predict", *videos, "--model", path]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    loaded = np.stack([data.read_video(v, FAST.frames, FAST.image_size) for v in videos])
    probabilities = restored.probabilities(loaded)
    expected = [f"{v}\t{data.ACTIONS[p.argmax()]} ({p.max():.2f})" for v, p in zip(videos, probabilities)]
    assert lines == expected
    evaluation = app.evaluate(path, examples=45, seed=3)
    assert evaluation["eval_examples"] == 45 and 0 <= evaluation["accuracy"] <= 1
    assert evaluation["confusion"].sum() == 45


def test_train_and_evaluate_on_a_folder_of_videos(tmp_path):
    root = tmp_path / "videos"
    clips, labels = data.generate_clips(24, 12, 48, seed=0)
    for index, (clip, label) in enumerate(zip(clips, labels)):
        if data.ACTIONS[label] in ("move_left", "move_right", "grow"):
            folder = root / data.ACTIONS[label]
            folder.mkdir(parents=True, exist_ok=True)
            data.write_video(folder / f"v_{index:02d}.mp4", clip)
    result = app.train("fast", data=str(root), epochs=1, eval_examples=2, output=str(tmp_path / "m.keras"),
                       log_dir=None, verbose=0)
    assert result["class_names"] == ["grow", "move_left", "move_right"]
    assert result["eval_examples"] == 1  # a tenth of the 9 videos
    assert result["model"].class_names == ["grow", "move_left", "move_right"]
    evaluation = app.evaluate(str(tmp_path / "m.keras"), data=str(root))
    assert evaluation["eval_examples"] == 9
    with pytest.raises(ValueError, match="evaluate it with --data"):
        app.evaluate(str(tmp_path / "m.keras"))


def test_probabilities_of_one_batch_equal_those_of_predict():
    # Up to `batch_size` clips are one direct call, more go through `predict`.
    clips = np.random.default_rng(2).integers(0, 256, (5, 4, 16, 16, 3)).astype("uint8")
    for architecture in ("lrcn", "attention", "single_frame"):
        model = app.ActivityRecognizer(["a", "b", "c"], architecture, frames=4, image_size=16, filters=4, units=8)
        direct, batched = model.probabilities(clips, batch_size=8), model.probabilities(clips, batch_size=2)
        np.testing.assert_allclose(direct, batched, atol=1e-6)
        np.testing.assert_allclose(direct.sum(-1), 1.0, atol=1e-5)
        assert not np.allclose(direct, direct[:1]), "distinct clips give distinct probabilities"


def test_attention_pooling_saves_and_reloads(tmp_path):
    model = app.ActivityRecognizer(["a", "b", "c"], "attention", frames=5, image_size=16, filters=4, units=8)
    clips = np.random.default_rng(0).integers(0, 255, (3, 5, 16, 16, 3)).astype("uint8")
    logits, weights = model(clips, return_attention_scores=True)
    assert logits.shape == (3, 3) and weights.shape == (3, 5)
    np.testing.assert_allclose(np.sum(weights, -1), 1.0, atol=1e-5)
    app.contract.compile_classifier(model, 1e-3)
    model.fit(clips, np.array([0, 1, 2]), epochs=1, verbose=0)
    model.save(tmp_path / "a.keras")
    restored = keras.saving.load_model(tmp_path / "a.keras")
    np.testing.assert_allclose(restored(clips), model(clips), atol=1e-5)
    # Any number of frames.
    assert tuple(restored(clips[:, :3]).shape) == (3, 3)


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="`architecture` must be one of"):
        app.ActivityRecognizer(["a", "b"], "gru")
    with pytest.raises(ValueError, match="`class_names` must be at least two"):
        app.ActivityRecognizer(["a"])
    with pytest.raises(ValueError, match="`class_names` must be distinct"):
        app.ActivityRecognizer(["a", "a"])
    with pytest.raises(ValueError, match="`units` must be a positive integer"):
        app.ActivityRecognizer(["a", "b"], units=0)
    model = app.ActivityRecognizer(["a", "b"], image_size=16, filters=4, units=8)
    with pytest.raises(ValueError, match=r"`clips` must have shape \[batch, frames, 16, 16, 3\]"):
        model.probabilities(np.zeros((1, 4, 32, 32, 3), "uint8"))
    with pytest.raises(ValueError, match="`architecture` must be one of"):
        app.train("fast", architecture="cnn")
    with pytest.raises(ValueError, match="`size` must be one of"):
        app.build_model(size="huge")
