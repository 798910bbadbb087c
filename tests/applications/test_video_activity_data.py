"""The generated clips of `video_activity` (deterministic, labels that need
more than one frame, a held-out split that holds out the appearances it
claims) and the folder-per-class video loader on real video files."""

import colorsys

import numpy as np
import pytest
from PIL import Image

from applications.video_activity import data


def test_generation_is_deterministic_and_prefix_stable():
    clips, labels = data.generate_clips(18, frames=6, image_size=16, seed=3)
    again, again_labels = data.generate_clips(18, frames=6, image_size=16, seed=3)
    np.testing.assert_array_equal(clips, again)
    np.testing.assert_array_equal(labels, again_labels)
    shorter, _ = data.generate_clips(7, frames=6, image_size=16, seed=3)
    np.testing.assert_array_equal(shorter, clips[:7])  # clip i depends on (seed, split, i) only
    other, _ = data.generate_clips(18, frames=6, image_size=16, seed=4)
    assert not np.array_equal(other, clips)
    test, _ = data.generate_clips(18, frames=6, image_size=16, seed=3, split="test")
    assert not np.array_equal(test, clips)
    # Balanced: every action twice.
    assert np.bincount(labels, minlength=len(data.ACTIONS)).tolist() == [2] * len(data.ACTIONS)
    assert clips.shape == (18, 6, 16, 16, 3) and clips.dtype == np.uint8


@pytest.mark.parametrize("frames", [8, 16])
def test_labels_follow_the_motion_and_reversal_flips_the_direction_pairs(frames):
    _, labels, infos = data.generate_clips(270, frames=frames, image_size=16, seed=1, return_info=True)
    for label, info in zip(labels, infos):
        action = data.ACTIONS[label]
        assert info["action"] == action
        states = info["states"]
        assert data.action_of(states) == action, (action, states)
        # Played backwards: the other member of a direction pair, the same
        # action for the time-symmetric ones.
        assert data.action_of(data.reverse_trajectory(states)) == data.REVERSED[action]
        x, y, _, radius = states.T
        assert (x - 0.9 * radius > -0.05).all() and (x + 0.9 * radius < 1.05).all(), action  # stays in view
        assert (y - 0.9 * radius > -0.05).all() and (y + 0.9 * radius < 1.05).all(), action
    for first, second in data.DIRECTION_PAIRS:
        assert data.REVERSED[first] == second and data.REVERSED[second] == first


def test_the_frames_of_a_direction_pair_are_the_same_set():
    # A clip is drawn frame by frame from its states over a static background
    # with independent noise, so the reversed clip is exactly the clip drawn
    # from the reversed states (a clip of the other member of the pair):
    # only the order of the frames tells the two apart.
    rng = np.random.default_rng(0)
    background = Image.fromarray(rng.integers(0, 60, (64, 64, 3), dtype="uint8"))
    noise = rng.normal(0, 5, (8, 32, 32, 1)).astype("float32")
    for action in ("move_left", "rotate_cw", "grow"):
        states = data.trajectory(action, np.random.default_rng(5), 8)
        clip = data.render(states, "arrow", (250, 40, 40), background, noise, 32)
        reversed_clip = data.render(data.reverse_trajectory(states), "arrow", (250, 40, 40), background,
                                    noise[::-1], 32)
        np.testing.assert_array_equal(reversed_clip, clip[::-1])
        assert data.action_of(data.reverse_trajectory(states)) == data.REVERSED[action]
        assert not np.array_equal(clip[0], clip[-1])  # the actor really moves


def _symmetry_order(shape):
    """The largest k for which turning the outline by 360/k degrees maps its
    vertices onto themselves (1: no rotational symmetry), by brute force."""
    points = np.asarray(data.SHAPES[shape], "float64")
    points = points - points.mean(0)  # the centroid of the vertices: a symmetric outline turns about it
    for k in range(12, 1, -1):
        theta = 2 * np.pi / k
        turned = points @ np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
        if all(np.min(np.linalg.norm(points - p, axis=1)) < 1e-6 for p in turned):
            return k
    return 1


@pytest.mark.parametrize("frames", [8, 16])
def test_a_turning_actor_shows_its_direction(frames):
    # The direction of a turn is visible only if no shape looks the same after
    # a step the other way: every step is under half the angle of the
    # outline's rotational symmetry, and the held-out shapes have none.
    orders = {shape: _symmetry_order(shape) for shape in data.SHAPES}
    assert orders["square"] == 4 and orders["cross"] == 4 and orders["bar"] == 2  # the check finds symmetry
    assert all(orders[shape] == 1 for shape in data.HELD_OUT_SHAPES), orders
    limit = 180 / max(orders.values())
    rng = np.random.default_rng(7)
    for action in ("rotate_cw", "rotate_ccw"):
        for _ in range(100):
            steps = np.abs(np.diff(data.trajectory(action, rng, frames)[:, 2]))
            assert 5 < steps.min() and steps.max() < 0.7 * limit, (action, steps)


def _circular_distance(a, b):
    return min(abs(a - b), 1 - abs(a - b))


def test_held_out_split_holds_out_shapes_and_hues():
    _, _, train = data.generate_clips(180, frames=4, image_size=16, seed=2, return_info=True)
    clips, _, test = data.generate_clips(90, frames=4, image_size=32, seed=2, split="test", return_info=True)
    for info in train:
        assert info["shape"] in data.TRAIN_SHAPES and not data.is_held_out_hue(info["hue"])
        for shape, hue in info["clutter"]:  # not even the clutter shows a held-out appearance
            assert shape in data.TRAIN_SHAPES and not data.is_held_out_hue(hue)
    for info in test:
        assert info["shape"] in data.HELD_OUT_SHAPES and data.is_held_out_hue(info["hue"])
    assert set(data.TRAIN_SHAPES).isdisjoint(data.HELD_OUT_SHAPES)
    assert set(data.TRAIN_SHAPES) | set(data.HELD_OUT_SHAPES) == set(data.SHAPES)
    assert {info["shape"] for info in test} == set(data.HELD_OUT_SHAPES)
    assert {info["shape"] for info in train} == set(data.TRAIN_SHAPES)
    # Both held-out hue bands occur, and the pixels show them: the brightest
    # pixels of the first frame belong to the actor and have its hue.
    bands = {next(i for i, (lo, hi) in enumerate(data.HELD_OUT_HUES) if lo <= info["hue"] < hi) for info in test}
    assert bands == set(range(len(data.HELD_OUT_HUES)))
    for clip, info in zip(clips, test):
        frame = clip[0].reshape(-1, 3).astype("float64") / 255
        brightest = frame[np.argsort(frame.max(1))[-5:]]
        hues = [colorsys.rgb_to_hsv(*pixel)[0] for pixel in brightest]
        assert _circular_distance(float(np.median(hues)), info["hue"]) < 0.04, (info["hue"], hues)


def test_training_hues_cover_the_rest_of_the_circle():
    rng = np.random.default_rng(0)
    hues = np.array([data._hue(rng, "train") for _ in range(4000)])
    assert not any(data.is_held_out_hue(h) for h in hues)
    held = sum(hi - lo for lo, hi in data.HELD_OUT_HUES)
    # Uniform over what is left: every tenth of the allowed circle gets its share.
    histogram, _ = np.histogram(hues, bins=50, range=(0, 1))
    allowed = [h for h, (lo, hi) in zip(histogram, zip(np.arange(50) / 50, np.arange(1, 51) / 50))
               if not any(a < hi and lo < b for a, b in data.HELD_OUT_HUES)]
    expected = 4000 / (1 - held) / 50
    assert min(allowed) > 0.6 * expected and max(allowed) < 1.4 * expected


def test_bad_generator_arguments():
    with pytest.raises(ValueError, match="`split` must be one of"):
        data.generate_clips(2, split="validation")
    with pytest.raises(ValueError, match="`frames` must be"):
        data.generate_clips(2, frames=1)
    with pytest.raises(ValueError, match="`action` must be one of"):
        data.trajectory("jump", np.random.default_rng(0), 8)


# -- real video files -------------------------------------------------------------


def _moving_block_video(frames, height, width, colour, seed):
    """Smooth frames (what lossy codecs keep well): a bright block that moves
    right one step per frame over a dark field whose brightness counts the
    frames."""
    video = np.zeros((frames, height, width, 3), "uint8")
    rng = np.random.default_rng(seed)
    top = int(rng.integers(0, height // 2))
    for t in range(frames):
        video[t] += np.uint8(10 * t)
        left = (t * (width - 16)) // max(1, frames - 1)
        video[t, top : top + 16, left : left + 16] = colour
    return video


def test_sample_indices_and_resize():
    assert data.sample_indices(100, 4).tolist() == [12, 37, 62, 87]
    assert data.sample_indices(16, 16).tolist() == list(range(16))
    assert data.sample_indices(3, 6).tolist() == [0, 0, 1, 1, 2, 2]
    with pytest.raises(ValueError, match="at least one frame"):
        data.sample_indices(0, 4)
    # Centre crop of a wide frame: the left and right margins go.
    frame = np.zeros((1, 20, 40, 3), "uint8")
    frame[:, :, :10] = 255  # only in the cropped-away left margin
    frame[:, :, 10:30, 1] = 100
    resized = data.resize_frames(frame, 10)
    assert resized.shape == (1, 10, 10, 3)
    np.testing.assert_array_equal(resized[..., 0], 0)
    np.testing.assert_array_equal(resized[..., 1], 100)
    # Area averaging: a 2x2 checkerboard of 0/200 becomes 100 everywhere.
    board = np.kron(np.ones((4, 4)), [[0, 200], [200, 0]]).astype("uint8")[None, ..., None].repeat(3, -1)
    np.testing.assert_array_equal(data.resize_frames(board, 4), 100)
    grey = data.resize_frames(np.full((2, 8, 8), 50, "uint8"), 4)  # greyscale frames become RGB
    assert grey.shape == (2, 4, 4, 3) and (grey == 50).all()


def test_loader_reads_a_folder_per_class_of_real_videos(tmp_path):
    root = tmp_path / "UCF-mini"
    originals = {}
    colours = {"JumpingJack": (230, 60, 40), "PushUps": (40, 200, 80), "Typing": (60, 90, 240)}
    for c, (name, colour) in enumerate(colours.items()):
        (root / name).mkdir(parents=True)
        for g, extension in enumerate((".avi", ".mp4", ".gif")):
            frames = 12 + 5 * g
            video = _moving_block_video(frames, 48, 64, colour, seed=10 * c + g)
            path = root / name / f"v_{name}_g0{g + 1}_c01{extension}"
            data.write_video(path, video)
            originals[str(path)] = video
    (root / "notes.txt").write_text("not a class")
    (root / "Typing" / "readme.txt").write_text("ignored")
    clips, labels, classes = data.load_video_folder(root, frames=6, image_size=32)
    assert classes == ["JumpingJack", "PushUps", "Typing"]
    assert clips.shape == (9, 6, 32, 32, 3) and clips.dtype == np.uint8
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    items, _ = data.list_video_folder(root)
    for clip, (path, _) in zip(clips, items):
        original = originals[path]
        expected = data.resize_frames(original[data.sample_indices(len(original), 6)], 32)
        error = np.abs(clip.astype("float64") - expected).mean()
        assert error < 6, (path, error)  # lossy codecs: close, not equal
        # The right frames, in order: the field below the block brightens by
        # 10 grey levels a frame, and the sampled frames are >= 2 frames apart.
        field = clip[:, -2:].astype("float64").mean((1, 2, 3))
        assert (np.diff(field) > 10).all(), (path, field)
    # The single-file reader gives what the folder loader gave.
    np.testing.assert_array_equal(data.read_video(items[4][0], 6, 32), clips[4])
    # Every frame decoded as imageio's PyAV reader decodes it (the peer the
    # reader stood on before it called PyAV itself).
    import imageio.v3 as iio

    for path, _ in items:
        np.testing.assert_array_equal(data._decode_frames(path), iio.imread(path, **({} if path.endswith(".gif") else {"plugin": "pyav"})))


def test_loader_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        data.load_video_folder(tmp_path / "missing")
    (tmp_path / "only").mkdir()
    data.write_video(tmp_path / "only" / "a.avi", _moving_block_video(4, 32, 32, (200, 0, 0), 0))
    with pytest.raises(ValueError, match="at least two class sub-folders"):
        data.load_video_folder(tmp_path)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "b.avi").write_bytes(b"this is not a video")
    with pytest.raises(ValueError, match=r"b\.avi could not be read as a video"):
        data.load_video_folder(tmp_path, frames=4, image_size=16)
    with pytest.raises(ValueError, match="must be a folder"):
        data.load_video_folder(tmp_path / "only" / "a.avi")
