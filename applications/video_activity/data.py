"""Generated clips of shapes performing actions, and a loader of folder-per-class
video files (the UCF101 layout).

A clip is `frames` RGB frames of `image_size` x `image_size` pixels (uint8)
showing one *actor*, a polygon of one of `SHAPES` in one colour, performing one
of `ACTIONS` over a dark gradient background with static clutter (2-5 smaller
shapes) and per-frame pixel noise. Speed, extent, start position, orientation,
size and colour vary from clip to clip. The actions come in groups whose
members cannot be told apart from one frame:

* ``move_left`` / ``move_right``: the actor slides horizontally; the frames of
  a clip played backwards are a clip of the other class (`reverse_trajectory`).
* ``rotate_cw`` / ``rotate_ccw``: it turns about its centre (image
  coordinates: clockwise on screen).
* ``grow`` / ``shrink``: its size changes geometrically.
* ``bounce`` / ``slide``: it moves vertically, bouncing off a floor (speed
  changes and reverses) or at constant speed in one direction.
* ``wave``: it rocks back and forth about the bottom of its outline.

The geometry of every pair is drawn from the same distribution for both
members (the path of `move_left` is a path of `move_right` walked the other
way), so the *set* of frames says nothing about which member it is: only
their order does. `action_of(trajectory)` reads the action back from the
per-frame states, which the tests use to check every generated label.

Held-out split by appearance: test clips' actors have a shape in
`HELD_OUT_SHAPES` and a hue in one of `HELD_OUT_HUES`; training clips never
show either, as actor or as clutter. The test split therefore measures
recognising the actions of objects never seen in training.

`load_video_folder(path)` reads a folder with one sub-folder of video files
per class (`UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi`, ...) with
`imageio` + PyAV, samples `frames` frames evenly over each video, centre-crops
them square and resizes them.

Example:

>>> from applications.video_activity.data import generate_clips
>>> clips, labels = generate_clips(3, frames=8, image_size=32, seed=0)
>>> clips.shape, clips.dtype.name, [ACTIONS[i] for i in labels]
((3, 8, 32, 32, 3), 'uint8', ['move_left', 'move_right', 'rotate_cw'])
"""

from __future__ import annotations

import colorsys
import math
import os

import numpy as np

from applications import contract

ACTIONS = (
    "move_left", "move_right", "rotate_cw", "rotate_ccw", "grow", "shrink", "bounce", "slide", "wave",
)  # fmt: skip
#: Each action's counterpart when the clip is played backwards.
REVERSED = {
    "move_left": "move_right", "move_right": "move_left", "rotate_cw": "rotate_ccw", "rotate_ccw": "rotate_cw",
    "grow": "shrink", "shrink": "grow", "bounce": "bounce", "slide": "slide", "wave": "wave",
}  # fmt: skip
#: The pairs told apart only by the direction of time.
DIRECTION_PAIRS = (("move_left", "move_right"), ("rotate_cw", "rotate_ccw"), ("grow", "shrink"))

# Outlines in units of the actor's radius, centred on the origin, y down.
SHAPES = {
    "square": [(-0.75, -0.75), (0.75, -0.75), (0.75, 0.75), (-0.75, 0.75)],
    "triangle": [(0.0, -1.0), (0.87, 0.5), (-0.87, 0.5)],
    "bar": [(-1.0, -0.35), (1.0, -0.35), (1.0, 0.35), (-1.0, 0.35)],
    "arrow": [(-1.0, -0.3), (0.2, -0.3), (0.2, -0.7), (1.0, 0.0), (0.2, 0.7), (0.2, 0.3), (-1.0, 0.3)],
    "ell": [(-0.7, -1.0), (-0.2, -1.0), (-0.2, 0.5), (0.8, 0.5), (0.8, 1.0), (-0.7, 1.0)],
    "cross": [(-0.3, -1.0), (0.3, -1.0), (0.3, -0.3), (1.0, -0.3), (1.0, 0.3), (0.3, 0.3), (0.3, 1.0),
              (-0.3, 1.0), (-0.3, 0.3), (-1.0, 0.3), (-1.0, -0.3), (-0.3, -0.3)],
    "trapezoid": [(-1.0, 0.6), (1.0, 0.6), (0.45, -0.6), (-0.45, -0.6)],
    "chevron": [(-1.0, -0.6), (0.0, 0.2), (1.0, -0.6), (1.0, 0.1), (0.0, 0.9), (-1.0, 0.1)],
    "house": [(-0.8, 1.0), (0.8, 1.0), (0.8, -0.1), (0.0, -1.0), (-0.8, -0.1)],
    "half_disc": [(math.cos(a), -math.sin(a) + 0.4) for a in np.linspace(0, math.pi, 12)],
    "tee": [(-1.0, -0.9), (1.0, -0.9), (1.0, -0.35), (0.3, -0.35), (0.3, 1.0), (-0.3, 1.0), (-0.3, -0.35),
            (-1.0, -0.35)],
    "kite": [(0.0, -1.0), (0.6, -0.3), (0.0, 1.0), (-0.6, -0.3)],
}  # fmt: skip
HELD_OUT_SHAPES = ("tee", "kite", "half_disc")
TRAIN_SHAPES = tuple(name for name in SHAPES if name not in HELD_OUT_SHAPES)
#: Hue bands (fractions of the colour circle) no training object has.
HELD_OUT_HUES = ((0.10, 0.18), (0.50, 0.58))
SPLITS = ("train", "test")
VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".gif")
SUPERSAMPLE = 2  # drawn at twice the size and averaged down: smooth sub-pixel motion


def _hue(rng, split):
    """A hue of the split: in a held-out band for "test", outside all for "train"."""
    if split == "test":
        low, high = HELD_OUT_HUES[int(rng.integers(len(HELD_OUT_HUES)))]
        return float(rng.uniform(low, high))
    width = sum(high - low for low, high in HELD_OUT_HUES)
    hue = float(rng.uniform(0.0, 1.0 - width))
    for low, high in sorted(HELD_OUT_HUES):  # skip over the held-out bands
        if hue >= low:
            hue += high - low
    return hue


def is_held_out_hue(hue):
    """Whether `hue` lies in a held-out band.

    >>> is_held_out_hue(0.12), is_held_out_hue(0.3)
    (True, False)
    """
    return any(low <= hue < high for low, high in HELD_OUT_HUES)


def _rgb(hue, saturation, value):
    return tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(hue, saturation, value))


def trajectory(action, rng, frames):
    """Per-frame states of the actor: a float array `[frames, 4]` of centre x,
    centre y (fractions of the frame), angle (degrees, clockwise on screen)
    and radius (fraction of the frame); and the pivot offset of `wave` (the
    actor turns about a point below its centre, as a waving hand does)."""
    t = np.linspace(0.0, 1.0, frames)
    angle0 = float(rng.uniform(0, 360))
    radius = float(rng.uniform(0.13, 0.19))
    x = np.full(frames, rng.uniform(radius + 0.05, 0.95 - radius))
    y = np.full(frames, rng.uniform(radius + 0.05, 0.95 - radius))
    angle = np.full(frames, angle0)
    radii = np.full(frames, radius)
    if action in ("move_left", "move_right"):
        travel = rng.uniform(0.3, 0.55)
        start = rng.uniform(radius + 0.02, 0.98 - radius - travel)
        path = start + travel * t
        x = path[::-1] if action == "move_left" else path
        y = y + rng.uniform(-0.06, 0.06) * t  # a slight slope
    elif action in ("rotate_cw", "rotate_ccw"):
        turn = rng.uniform(150.0, 270.0) * min(1.0, (frames - 1) / 10)  # < 30 degrees a frame: no aliasing
        angle = angle0 + (turn if action == "rotate_cw" else -turn) * t
    elif action in ("grow", "shrink"):
        small, ratio = rng.uniform(0.07, 0.11), rng.uniform(1.8, 2.6)
        path = small * ratio**t
        radii = path if action == "grow" else path[::-1]
        x = np.full(frames, rng.uniform(small * ratio + 0.02, 0.98 - small * ratio))
        y = np.full(frames, rng.uniform(small * ratio + 0.02, 0.98 - small * ratio))
    elif action == "bounce":
        floor = rng.uniform(0.7, 0.95 - radius)
        height = rng.uniform(0.3, min(0.5, floor - radius - 0.02))
        bounces, phase = rng.uniform(1.0, 2.0), rng.uniform(0, 1)
        y = floor - height * np.abs(np.sin(np.pi * (bounces * t + phase)))
    elif action == "slide":
        travel = rng.uniform(0.3, 0.55)
        start = rng.uniform(radius + 0.02, 0.98 - radius - travel)
        path = start + travel * t
        y = path if rng.random() < 0.5 else path[::-1]
    elif action == "wave":
        amplitude, cycles, phase = rng.uniform(30, 50), rng.uniform(1.0, 1.75), rng.uniform(0, 2 * np.pi)
        angle = angle0 + amplitude * np.sin(2 * np.pi * cycles * t + phase)
        # Turning about the pivot moves the centre on an arc around it.
        pivot_x = x[0] - 0.8 * radius * math.sin(math.radians(angle0))
        pivot_y = y[0] + 0.8 * radius * math.cos(math.radians(angle0))
        x = pivot_x + 0.8 * radius * np.sin(np.radians(angle))
        y = pivot_y - 0.8 * radius * np.cos(np.radians(angle))
    else:
        raise ValueError(f"`action` must be one of {ACTIONS}; received {action!r}.")
    return np.stack([x, y, angle, radii], axis=1).astype("float64")


def reverse_trajectory(states):
    """The states of the clip played backwards."""
    return np.asarray(states)[::-1]


def action_of(states, tolerance=1e-9):
    """The action a trajectory shows, read from its states alone (the rule
    the generated labels follow).

    >>> rng = np.random.default_rng(0)
    >>> action_of(trajectory("grow", rng, 8)), action_of(reverse_trajectory(trajectory("grow", rng, 8)))
    ('grow', 'shrink')
    """
    states = np.asarray(states, "float64")
    dx, dy, da, dr = (np.diff(states[:, i]) for i in range(4))
    moving = lambda d: np.abs(d) > tolerance  # noqa: E731
    if moving(dr).any():
        return "grow" if (dr > 0).all() else "shrink" if (dr < 0).all() else "mixed"
    if moving(da).any():
        if moving(dx).any():  # only `wave` turns about a point other than the centre
            return "wave" if (da > 0).any() and (da < 0).any() else "mixed"
        return "rotate_cw" if (da > 0).all() else "rotate_ccw" if (da < 0).all() else "mixed"
    if np.abs(dy).sum() > np.abs(dx).sum():
        signs = np.sign(dy[moving(dy)])
        return "slide" if len(set(signs)) == 1 else "bounce"
    return "move_right" if (dx > 0).all() else "move_left" if (dx < 0).all() else "mixed"


def _outline(shape, cx, cy, angle, radius, size):
    """Polygon vertices in pixels of a canvas `size` wide."""
    points = np.asarray(SHAPES[shape], "float64") * radius
    theta = math.radians(angle)
    c, s = math.cos(theta), math.sin(theta)
    rotated = points @ np.array([[c, s], [-s, c]])  # clockwise on screen (y down)
    return [(float(px), float(py)) for px, py in (rotated + (cx, cy)) * size]


def _background(rng, size, split):
    """A dark vertical/horizontal gradient with 2-5 static clutter shapes."""
    from PIL import Image, ImageDraw

    hue = float(rng.uniform(0, 1))
    top = np.array(_rgb(hue, rng.uniform(0.2, 0.6), rng.uniform(0.02, 0.15)), "float32")
    bottom = np.array(_rgb(hue, rng.uniform(0.2, 0.6), rng.uniform(0.1, 0.28)), "float32")
    ramp = np.linspace(0, 1, size, dtype="float32")[:, None, None]
    canvas = top + (bottom - top) * ramp * np.ones((1, size, 1), "float32")
    if rng.random() < 0.5:
        canvas = canvas.transpose(1, 0, 2)
    image = Image.fromarray(np.round(canvas).astype("uint8"))
    draw = ImageDraw.Draw(image)
    clutter = []
    shapes = TRAIN_SHAPES if split == "train" else tuple(SHAPES)
    for _ in range(int(rng.integers(2, 6))):
        shape = str(shapes[int(rng.integers(len(shapes)))])
        hue = _hue(rng, "train") if split == "train" else float(rng.uniform(0, 1))
        radius = float(rng.uniform(0.04, 0.08))
        cx, cy = rng.uniform(radius, 1 - radius, 2)
        colour = _rgb(hue, rng.uniform(0.3, 0.9), rng.uniform(0.3, 0.65))
        draw.polygon(_outline(shape, cx, cy, rng.uniform(0, 360), radius, size), fill=colour)
        clutter.append((shape, hue))
    return image, clutter


def render(states, shape, colour, background, noise, image_size):
    """Frames `[len(states), image_size, image_size, 3]` uint8: the actor
    (`shape` in RGB `colour`) at each state over a `background` PIL image of
    `SUPERSAMPLE * image_size` pixels, averaged down, plus `noise` (float
    `[frames, image_size, image_size, 1]`, in grey levels)."""
    from PIL import ImageDraw

    canvas = background.size[0]
    frames = np.empty((len(states), image_size, image_size, 3), "uint8")
    for index, (x, y, angle, radius) in enumerate(states):
        image = background.copy()
        ImageDraw.Draw(image).polygon(_outline(shape, x, y, angle, radius, canvas), fill=colour)
        image = image.reduce(canvas // image_size)
        frames[index] = np.clip(np.asarray(image, "float32") + noise[index], 0, 255).round().astype("uint8")
    return frames


def make_clip(action, seed, frames=16, image_size=64, split="train"):
    """One clip and what it shows: `(frames uint8, info)`, where `info` holds
    the actor's `shape`, `hue`, `states` and the `clutter` `(shape, hue)`s.
    Fully determined by its arguments."""
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}; received {split!r}.")
    rng = np.random.default_rng(seed)
    shapes = TRAIN_SHAPES if split == "train" else HELD_OUT_SHAPES
    shape = str(shapes[int(rng.integers(len(shapes)))])
    hue = _hue(rng, split)
    colour = _rgb(hue, rng.uniform(0.55, 1.0), rng.uniform(0.75, 1.0))
    states = trajectory(action, rng, frames)
    background, clutter = _background(rng, SUPERSAMPLE * image_size, split)
    sigma = float(rng.uniform(0.0, 10.0))
    noise = sigma * rng.standard_normal((frames, image_size, image_size, 1), dtype="float32")
    clip = render(states, shape, colour, background, noise, image_size)
    return clip, {"action": action, "shape": shape, "hue": hue, "states": states, "clutter": clutter}


def generate_clips(count, frames=16, image_size=64, seed=0, split="train", return_info=False, progress=False):
    """`count` clips of a split, classes in turn (balanced): `(clips uint8
    [count, frames, image_size, image_size, 3], labels int32 [count])`, plus
    each clip's `info` (see `make_clip`) with `return_info`.

    Clip `i` depends only on `(seed, split, i)`, so a longer set starts with
    the clips of a shorter one.
    """
    count = contract.check_count("count", count, allow_none=False, minimum=0)
    frames = contract.check_count("frames", frames, allow_none=False, minimum=2)
    image_size = contract.check_count("image_size", image_size, allow_none=False, minimum=8)
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}; received {split!r}.")
    clips = np.empty((count, frames, image_size, image_size, 3), "uint8")
    labels = np.arange(count, dtype="int32") % len(ACTIONS)
    infos = []
    steps = range(count)
    if progress:
        steps = contract.progress(steps, total=count, desc=f"drawing {split} clips", unit="clip")
    for i in steps:
        clips[i], info = make_clip(ACTIONS[labels[i]], [seed, SPLITS.index(split), i], frames, image_size, split)
        infos.append(info)
    return (clips, labels, infos) if return_info else (clips, labels)


def make_dataset(train_examples, eval_examples, frames=16, image_size=64, seed=0):
    """`((train clips, labels), (test clips, labels))`: training clips of
    training appearances, test clips of held-out shapes and hues."""
    return (
        generate_clips(train_examples, frames, image_size, seed, "train", progress=True),
        generate_clips(eval_examples, frames, image_size, seed, "test", progress=True),
    )


# -- real video files -----------------------------------------------------------------


def _imageio():
    try:
        import av  # noqa: F401  (the plugin imageio reads video with)
        import imageio.v3 as iio
    except ImportError as error:
        raise ImportError(f"reading video files needs imageio and av ({error})") from error
    return iio


def _decode_frames(path):
    """Every frame of a video file as RGB uint8 `[T, H, W, 3]`: PyAV's decoder
    for video files (what imageio's "pyav" plugin returns, without the two
    `gc.collect()` calls its reader makes on closing: ~0.4 s in a process
    that holds TensorFlow), imageio (Pillow) for GIFs."""
    iio = _imageio()
    if path.lower().endswith(".gif"):
        return iio.imread(path)
    import av

    with av.open(path) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    return np.stack(frames) if frames else np.zeros((0,), "uint8")


def sample_indices(available, frames):
    """`frames` frame indices spread evenly over `available` frames (repeating
    frames of a video shorter than `frames`).

    >>> sample_indices(10, 4).tolist(), sample_indices(2, 4).tolist()
    ([1, 3, 6, 8], [0, 0, 1, 1])
    """
    if available < 1:
        raise ValueError("a video must hold at least one frame.")
    # The middle frame of each of `frames` equal segments (as TSN samples them).
    return np.floor((np.arange(frames) + 0.5) * available / frames).astype("int64")


def resize_frames(frames, image_size):
    """Centre-crops frames `[T, H, W, 3]` to squares and resizes them to
    `image_size` (PIL, area averaging when shrinking); uint8 out."""
    from PIL import Image

    frames = np.asarray(frames)
    if frames.ndim == 3:  # greyscale video
        frames = np.repeat(frames[..., None], 3, axis=-1)
    frames = frames[..., :3]
    height, width = frames.shape[1:3]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    out = np.empty((len(frames), image_size, image_size, 3), "uint8")
    for index, frame in enumerate(frames[:, top : top + side, left : left + side]):
        image = Image.fromarray(np.ascontiguousarray(frame).astype("uint8"))
        out[index] = np.asarray(image.resize((image_size, image_size), Image.Resampling.BOX))
    return out


def read_video(path, frames=16, image_size=64):
    """`frames` frames sampled evenly over a video file, centre-cropped and
    resized: uint8 `[frames, image_size, image_size, 3]`."""
    path = os.fspath(contract.check_exists(path, "video file"))
    try:
        video = _decode_frames(path)
    except Exception as error:  # PyAV and imageio raise many kinds of decoding errors
        raise ValueError(f"{path} could not be read as a video: {str(error).splitlines()[0] if str(error) else type(error).__name__}") from error
    video = np.asarray(video)
    if video.ndim not in (3, 4) or len(video) == 0:
        raise ValueError(f"{path} holds no video frames (shape {video.shape}).")
    return resize_frames(video[sample_indices(len(video), frames)], image_size)


def list_video_folder(path):
    """`[(video path, class name)]` of a folder with one sub-folder per class
    (sorted), and the class names; other files are ignored."""
    path = os.fspath(contract.check_exists(path, "`data`"))
    if not os.path.isdir(path):
        raise ValueError(f"{path} must be a folder with one sub-folder of videos per class.")
    classes, items = [], []
    for name in sorted(os.listdir(path)):
        folder = os.path.join(path, name)
        if name.startswith(".") or not os.path.isdir(folder):
            continue
        videos = sorted(f for f in os.listdir(folder) if f.lower().endswith(VIDEO_EXTENSIONS) and not f.startswith("."))
        if videos:
            classes.append(name)
            items += [(os.path.join(folder, f), name) for f in videos]
    if len(classes) < 2:
        raise ValueError(
            f"{path} must hold at least two class sub-folders of video files ({', '.join(VIDEO_EXTENSIONS)}); "
            f"found {len(classes)}."
        )
    return items, classes


def load_video_folder(path, frames=16, image_size=64):
    """Every video of a folder-per-class layout (UCF101 style): `(clips uint8
    [N, frames, image_size, image_size, 3], labels int32 [N], class names)`."""
    items, classes = list_video_folder(path)
    clips = np.empty((len(items), frames, image_size, image_size, 3), "uint8")
    for index, (video, _) in enumerate(contract.progress(items, desc="reading videos", unit="video")):
        clips[index] = read_video(video, frames, image_size)
    labels = np.array([classes.index(name) for _, name in items], "int32")
    return clips, labels, classes


def write_video(path, frames, fps=8):
    """Writes uint8 frames `[T, H, W, 3]` as a video file (codec chosen by the
    extension: MPEG-4 part 2 for .avi, H.264 for .mp4/.mkv, GIF for .gif)."""
    iio = _imageio()
    path = os.fspath(path)
    frames = np.asarray(frames, "uint8")
    if path.lower().endswith(".gif"):
        iio.imwrite(path, frames, duration=1000 / fps, loop=0)
        return path
    codec = "mpeg4" if path.lower().endswith(".avi") else "libx264"
    iio.imwrite(path, frames, plugin="pyav", codec=codec, fps=fps)
    return path
