"""Captioning data: drawn scenes match their captions, held-out descriptions, loaders, scores."""

import json

import numpy as np
import pytest
import sacrebleu
from PIL import Image

from applications.captioning import data
from applications.captioning.app import baseline, scores


def test_generator_is_deterministic_for_a_seed():
    a_images, a_captions = data.generate_scenes(12, seed=3)
    b_images, b_captions = data.generate_scenes(12, seed=3)
    np.testing.assert_array_equal(a_images, b_images)
    assert a_captions == b_captions
    c_images, c_captions = data.generate_scenes(12, seed=4)
    assert c_captions != a_captions
    assert not np.array_equal(c_images, a_images)


def test_test_split_holds_out_scene_descriptions():
    _, train_captions, train_keys = data.generate_scenes(400, seed=0, split="train", return_keys=True)
    _, test_captions, test_keys = data.generate_scenes(200, seed=1000, split="test", return_keys=True)
    assert not set(train_keys) & set(test_keys)
    assert all(data.is_held_out(k) for k in test_keys)
    assert not any(data.is_held_out(k) for k in train_keys)
    # No caption of a test image is ever a caption of a training image.
    train_sentences = {c for refs in train_captions for c in refs}
    assert not train_sentences & {c for refs in test_captions for c in refs}
    # The held-out share of all descriptions is about 1 / HOLDOUT_MODULUS.
    keys = [data.scene_key(*data.random_scene(np.random.default_rng(i))) for i in range(3000)]
    share = np.mean([data.is_held_out(k) for k in keys])
    assert 0.06 < share < 0.2


def _blob(image, colour):
    """Centre and area of the pixels close to `colour`."""
    target = np.array(data.COLOURS[colour]) / 255.0
    close = np.abs(image - target).max(-1) < 0.1
    ys, xs = np.nonzero(close)
    return xs.mean(), ys.mean(), close.sum()


@pytest.mark.parametrize("relation", data.RELATIONS)
def test_drawn_scene_matches_its_relation_and_sizes(relation):
    first, second = ("large", "red", "square"), ("small", "blue", "circle")
    for seed in range(5):
        image = data.draw_scene([first, second], relation, seed=seed)
        x1, y1, area1 = _blob(image, "red")
        x2, y2, area2 = _blob(image, "blue")
        assert area1 > 2 * area2  # large vs small
        expected = {"left": x1 < x2 - 8, "right": x1 > x2 + 8, "above": y1 < y2 - 8, "below": y1 > y2 + 8}
        assert expected[relation], (relation, x1, y1, x2, y2)
        lateral = abs(y1 - y2) if relation in ("left", "right") else abs(x1 - x2)
        assert lateral <= 7


def test_references_are_paraphrases_of_one_description():
    objects = [("small", "green", "triangle"), ("large", "purple", "circle")]
    refs = data.references(objects, "left")
    assert len(refs) == len(set(refs)) == 6
    assert "a small green triangle to the left of a large purple circle" in refs
    assert "there is a large purple circle to the right of a small green triangle" in refs
    assert data.scene_key(objects, "left") == data.scene_key(objects[::-1], "right")
    with pytest.raises(ValueError, match="relation"):
        data.references(objects, "behind")
    with pytest.raises(ValueError, match="split"):
        data.generate_scenes(2, split="valid")


def _png(path, colour):
    Image.fromarray(np.full((20, 30, 3), colour, "uint8")).save(path)


def test_coco_captions_loader(tmp_path):
    (tmp_path / "images").mkdir()
    _png(tmp_path / "images" / "000000000009.jpg", (255, 0, 0))
    _png(tmp_path / "images" / "000000000025.jpg", (0, 0, 255))
    content = {
        "info": {"description": "COCO 2017 Dataset"},
        "images": [
            {"id": 25, "file_name": "000000000025.jpg", "height": 20, "width": 30},
            {"id": 9, "file_name": "000000000009.jpg", "height": 20, "width": 30},
        ],
        "annotations": [
            {"id": 1, "image_id": 9, "caption": "A red wall."},
            {"id": 2, "image_id": 25, "caption": "Blue, all blue!"},
            {"id": 3, "image_id": 9, "caption": "A plain RED picture"},
        ],
    }
    path = tmp_path / "captions_val2017.json"
    path.write_text(json.dumps(content))
    records = data.load_coco(str(path))
    assert [r[1] for r in records] == [["a red wall", "a plain red picture"], ["blue all blue"]]
    images, captions = data.load_captions(str(path))
    assert images.shape == (2, 64, 64, 3)
    np.testing.assert_allclose(images[0].reshape(-1, 3).mean(0), [1, 0, 0], atol=0.02)  # JPEG
    np.testing.assert_allclose(images[1].reshape(-1, 3).mean(0), [0, 0, 1], atol=0.02)  # JPEG
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="`path`"):
        data.load_coco(str(bad))


def test_flickr8k_token_loader(tmp_path):
    _png(tmp_path / "1000268201_693b08cb0e.jpg", (0, 255, 0))
    _png(tmp_path / "1001773457_577c3a7d70.jpg", (255, 255, 0))
    lines = [f"1000268201_693b08cb0e.jpg#{k}\tA child in a pink dress , number {k} ." for k in range(5)]
    lines += [f"1001773457_577c3a7d70.jpg#{k}\tA black dog and a spotted dog fight {k}" for k in range(5)]
    path = tmp_path / "Flickr8k.token.txt"
    path.write_text("\n".join(lines) + "\n")
    records = data.load_flickr8k(str(path))
    assert [r[0].rsplit("/", 1)[-1] for r in records] == ["1000268201_693b08cb0e.jpg", "1001773457_577c3a7d70.jpg"]
    assert records[0][1] == [f"a child in a pink dress number {k}" for k in range(5)]
    images, captions = data.load_captions(str(path))
    np.testing.assert_allclose(images[1].reshape(-1, 3).mean(0), [1, 1, 0], atol=0.02)  # JPEG
    path.write_text("no tab here\n")
    with pytest.raises(ValueError, match="line 1"):
        data.load_flickr8k(str(path))


def test_scores_match_sacrebleu_multi_reference_and_exact_rate():
    _, captions = data.generate_scenes(30, seed=5)
    rng = np.random.default_rng(0)
    hypotheses = [refs[int(rng.integers(len(refs)))] for refs in captions]
    hypotheses[:10] = [h.replace("small", "large") for h in hypotheses[:10]]
    hypotheses[10:15] = [" ".join(h.split()[:-1]) for h in hypotheses[10:15]]
    result = scores(hypotheses, captions)
    width = max(len(r) for r in captions)
    streams = [[refs[k] if k < len(refs) else None for refs in captions] for k in range(width)]
    assert result["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hypotheses, streams).score, abs=1e-9)
    exact = np.mean([h in refs for h, refs in zip(hypotheses, captions)])
    assert result["exact"] == pytest.approx(exact)
    assert scores([c[1] for c in captions], captions) == {"bleu": pytest.approx(100.0), "exact": 1.0}
    common = baseline(["a large red circle"] * 3 + ["a small red circle"], captions)
    assert common == scores(["a large red circle"] * 30, captions)
