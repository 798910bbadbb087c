"""Procedurally drawn scenes with paraphrased captions, and caption-file loaders.

A scene is a black 64x64 RGB image holding one or two shapes (`SHAPES`) in a
colour (`COLOURS`) and a size (`SIZES`, small or large). Two shapes stand in a
clear spatial relation: side by side (one in the left half, one in the right
half, centres at most 6 pixels apart vertically) or one above the other. Every
scene has several reference captions, all equally right (`references`):

* one shape: ``"a large red circle"``, ``"there is a large red circle"``,
  ``"a single large red circle"``;
* two shapes, either shape first, three phrasings: ``"a small blue square to
  the left of a large red circle"``, ``"a large red circle is to the right of
  a small blue square"``, ``"there is a small blue square to the left of a
  large red circle"``, ... (``above``/``below`` for vertical pairs).

Held-out split: a scene's *description* (`scene_key`: its objects and their
relation, independent of pixel positions and caption order) falls into the
test split when a stable hash of it is 0 mod `HOLDOUT_MODULUS`. Training scenes
never have a test description, so a test image shows a combination of
objects and relation the model has not seen captioned, although each object
and relation has been seen in other combinations.

Loaders read the two common public formats: COCO captions JSON
(`load_coco`) and the Flickr8k token file (`load_flickr8k`); `load_images`
reads and resizes the images they name.

Example:

>>> from applications.captioning.data import generate_scenes
>>> images, captions = generate_scenes(2, seed=0)
>>> images.shape, images.dtype.name
((2, 64, 64, 3), 'float32')
>>> captions[0][0]
'a large green circle to the left of a small red circle'
"""

from __future__ import annotations

import collections
import json
import os
import re
import zlib

import numpy as np

from applications import contract

IMAGE_SIZE = 64
SHAPES = ("circle", "square", "triangle")
COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 190, 60),
    "blue": (60, 90, 240),
    "yellow": (235, 220, 40),
    "purple": (170, 60, 210),
}
SIZES = {"small": (5, 7), "large": (10, 13)}  # radius range in pixels
RELATIONS = ("left", "right", "above", "below")
HOLDOUT_MODULUS = 8
MAX_CAPTION_WORDS = 16

_OPPOSITE = {"left": "right", "right": "left", "above": "below", "below": "above"}
_RELATION_WORDS = {
    "left": "to the left of",
    "right": "to the right of",
    "above": "above",
    "below": "below",
}


def describe(obj):
    """`("large", "red", "circle")` -> ``"a large red circle"``."""
    return "a " + " ".join(obj)


def references(objects, relation=None):
    """Every reference caption of a scene.

    `objects` is one `(size, colour, shape)` triple, or two with `relation`
    in `RELATIONS` saying where the first stands relative to the second.

    >>> references([("small", "red", "square")])
    ['a small red square', 'there is a small red square', 'a single small red square']
    >>> len(references([("small", "red", "square"), ("large", "blue", "circle")], "above"))
    6
    """
    if len(objects) == 1:
        a = describe(objects[0])
        return [a, f"there is {a}", "a single " + " ".join(objects[0])]
    if len(objects) != 2 or relation not in RELATIONS:
        raise ValueError(
            "`objects` must hold one triple, or two with `relation` in "
            f"{RELATIONS}; received {len(objects)} objects and relation {relation!r}."
        )
    captions = []
    for first, second, rel in (
        (objects[0], objects[1], relation),
        (objects[1], objects[0], _OPPOSITE[relation]),
    ):
        a, b, words = describe(first), describe(second), _RELATION_WORDS[rel]
        captions += [f"{a} {words} {b}", f"{a} is {words} {b}", f"there is {a} {words} {b}"]
    return captions


def scene_key(objects, relation=None):
    """A canonical description: the same for every caption order and position.

    >>> scene_key([("small", "red", "square"), ("large", "blue", "circle")], "right")
    'large blue circle|left|small red square'
    """
    if len(objects) == 1:
        return " ".join(objects[0])
    first, second = objects
    if relation in ("right", "below"):
        first, second, relation = second, first, _OPPOSITE[relation]
    return f"{' '.join(first)}|{relation}|{' '.join(second)}"


def is_held_out(key):
    """Whether a `scene_key` belongs to the test split."""
    return zlib.crc32(key.encode("utf-8")) % HOLDOUT_MODULUS == 0


def _draw(image, shape, colour, cx, cy, radius, rng):
    size = image.shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype("float32")
    dx, dy = xx - cx, yy - cy
    if shape == "circle":
        inside = dx**2 + dy**2 <= radius**2
    elif shape == "square":
        half = radius * 0.85
        inside = (np.abs(dx) <= half) & (np.abs(dy) <= half)
    else:  # an upward triangle inscribed in the circle of `radius`
        top, bottom = cy - radius, cy + 0.6 * radius
        width = (yy - top) / (bottom - top) * radius
        inside = (yy >= top) & (yy <= bottom) & (np.abs(dx) <= width)
    rgb = np.clip(np.array(colour, "float32") + rng.uniform(-20, 20, 3), 0, 255) / 255.0
    image[inside] = rgb


def _place(rng, relation, radii):
    """Centres `(x, y)` for two shapes with `relation` of the first to the second."""
    r1, r2 = radii
    margin = 1
    if relation in ("left", "right"):
        lo_r, hi_r = (r1, r2) if relation == "left" else (r2, r1)
        lx = rng.uniform(lo_r + margin, IMAGE_SIZE / 2 - lo_r - 1)
        rx = rng.uniform(IMAGE_SIZE / 2 + hi_r + 1, IMAGE_SIZE - hi_r - margin)
        big = max(r1, r2)
        y = rng.uniform(big + 4, IMAGE_SIZE - big - 4)
        ly, ry = y + rng.uniform(-3, 3), y + rng.uniform(-3, 3)
        first, second = ((lx, ly), (rx, ry)) if relation == "left" else ((rx, ry), (lx, ly))
        return first, second
    (a, b), (c, d) = _place(rng, "left" if relation == "above" else "right", radii)
    return (b, a), (d, c)  # transpose: left/right becomes above/below


def draw_scene(objects, relation=None, seed=0):
    """Draws one scene; returns a float32 image `[64, 64, 3]` in [0, 1]."""
    rng = np.random.default_rng(seed)
    image = rng.uniform(0.0, 0.06, (IMAGE_SIZE, IMAGE_SIZE, 3)).astype("float32")
    radii = [rng.uniform(*SIZES[size]) for size, _, _ in objects]
    if len(objects) == 1:
        r = radii[0]
        centres = [(rng.uniform(r + 1, IMAGE_SIZE - r - 1), rng.uniform(r + 1, IMAGE_SIZE - r - 1))]
    else:
        centres = _place(rng, relation, radii)
    for (_, colour, shape), (cx, cy), r in zip(objects, centres, radii):
        _draw(image, shape, COLOURS[colour], cx, cy, r, rng)
    return image


def random_scene(rng, two_object_rate=0.8):
    """Random `(objects, relation)`."""
    def obj():
        return (
            str(rng.choice(list(SIZES))),
            str(rng.choice(list(COLOURS))),
            str(rng.choice(SHAPES)),
        )

    if rng.random() < two_object_rate:
        return [obj(), obj()], str(rng.choice(RELATIONS))
    return [obj()], None


def generate_scenes(count, seed=0, split="train", return_keys=False):
    """`count` scenes of a split: images `[count, 64, 64, 3]` float32 and, per
    image, its list of reference captions (first: the canonical phrasing).

    `split="train"` draws only scenes whose description is not held out,
    `"test"` only held-out ones, `"all"` either.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f'`split` must be "train", "test" or "all"; received {split!r}.')
    if not isinstance(count, int) or count < 0:
        raise ValueError(f"`count` must be a non-negative integer; received {count!r}.")
    rng = np.random.default_rng([seed, {"train": 0, "test": 1, "all": 2}[split]])
    images = np.zeros((count, IMAGE_SIZE, IMAGE_SIZE, 3), "float32")
    captions, keys = [], []
    with contract.progress(total=count, desc=f"drawing {split} scenes", unit="scene") as bar:
        while len(captions) < count:
            objects, relation = random_scene(rng)
            key = scene_key(objects, relation)
            if split != "all" and is_held_out(key) != (split == "test"):
                continue
            images[len(captions)] = draw_scene(objects, relation, seed=int(rng.integers(2**31)))
            captions.append(references(objects, relation))
            keys.append(key)
            bar.update(1)
    return (images, captions, keys) if return_keys else (images, captions)


def make_dataset(train_examples, test_examples, seed=0):
    """`((train_images, train_captions), (test_images, test_captions))`: the
    test scenes come from held-out descriptions and another seed stream."""
    return (
        generate_scenes(train_examples, seed=seed, split="train"),
        generate_scenes(test_examples, seed=seed + 1000, split="test"),
    )


def sample_captions(captions, seed=0):
    """One reference per image, drawn uniformly (the training target)."""
    rng = np.random.default_rng(seed)
    return [refs[int(rng.integers(len(refs)))] for refs in captions]


# -- real data -----------------------------------------------------------------

_PUNCT = re.compile(r"[^a-z0-9' ]+")


def normalize_caption(text):
    """Lower-cases and keeps words only: ``"A dog, running."`` -> ``"a dog running"``."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def load_coco(path):
    """Reads a COCO captions file (``captions_train2017.json`` layout).

    Returns a list of `(image_path, [captions])` in image-id order; image
    paths are the ``file_name`` entries, resolved against the JSON file's
    directory (and its ``images/`` subdirectory when they are found there).
    """
    with open(path, encoding="utf-8") as handle:
        content = json.load(handle)
    if not isinstance(content, dict) or "images" not in content or "annotations" not in content:
        raise ValueError(f"`path` must be a COCO captions JSON with 'images' and 'annotations'; {path} is not.")
    root = os.path.dirname(os.path.abspath(path))
    captions = collections.defaultdict(list)
    for annotation in content["annotations"]:
        captions[annotation["image_id"]].append(normalize_caption(annotation["caption"]))
    records = []
    for image in sorted(content["images"], key=lambda i: i["id"]):
        if not captions.get(image["id"]):
            continue
        name = image["file_name"]
        nested = os.path.join(root, "images", name)
        records.append((nested if os.path.exists(nested) else os.path.join(root, name), captions[image["id"]]))
    return records


def load_flickr8k(path, image_dir=None):
    """Reads the Flickr8k token file (``Flickr8k.token.txt``): lines
    ``<image>.jpg#<k>\\t<caption>``. Returns `(image_path, [captions])` in
    file order; images are looked up in `image_dir` (default: the token
    file's directory)."""
    root = image_dir or os.path.dirname(os.path.abspath(path))
    captions = collections.OrderedDict()
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if "\t" not in line or "#" not in line.split("\t", 1)[0]:
                raise ValueError(f"`path` line {number} is not '<image>#<k>\\t<caption>': {line!r}.")
            name, caption = line.split("\t", 1)
            captions.setdefault(name.rsplit("#", 1)[0], []).append(normalize_caption(caption))
    return [(os.path.join(root, name), refs) for name, refs in captions.items()]


def load_images(paths, size=IMAGE_SIZE):
    """Reads images, resized to `size` x `size` RGB, as float32 in [0, 1]."""
    from PIL import Image

    images = np.zeros((len(paths), size, size, 3), "float32")
    for i, path in enumerate(paths):
        with Image.open(path) as image:
            images[i] = np.asarray(image.convert("RGB").resize((size, size)), "float32") / 255.0
    return images


def load_captions(path):
    """COCO JSON (``.json``) or Flickr8k token file (anything else):
    `(images, [captions])`."""
    records = load_coco(path) if path.endswith(".json") else load_flickr8k(path)
    if not records:
        raise ValueError(f"`path` {path} holds no captioned images.")
    return load_images([r[0] for r in records]), [r[1] for r in records]
