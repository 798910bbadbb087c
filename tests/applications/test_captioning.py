"""The captioner: fast training beats the most-frequent-caption baseline,
beam/greedy decoding, attention maps, TensorBoard images, reload and CLI."""

import os

import keras
import numpy as np
import pytest
from PIL import Image

from applications.captioning import app, data
from applications.captioning.__main__ import main
from keras_seq.text import Vocabulary

# `trained` (tests/applications/conftest.py) trains `app` once with these options.
FAST_TRAINING = {"output": "c.keras", "eval_examples": 200}


def test_fast_size_beats_the_most_frequent_caption(trained):
    _, result = trained
    # Baseline: the most frequent training caption for every image (BLEU ~2, exact 0).
    assert result["baseline"]["bleu"] < 10
    assert result["bleu"] > result["baseline"]["bleu"] + 40, result["examples"][:3]
    assert result["exact"] > max(0.15, result["baseline"]["exact"] + 0.1)
    assert result["history"]["val_loss"][-1] < result["history"]["val_loss"][0]


def test_beam_search_of_width_one_is_greedy_and_beams_score_well(trained):
    _, result = trained
    model = result["model"]
    images, references = data.generate_scenes(40, seed=77, split="test")
    greedy = model.caption(images)
    assert model.caption(images, strategy="beam", beam_width=1) == greedy
    beam = model.caption(images, strategy="beam", beam_width=3)
    assert app.scores(beam, references)["bleu"] > 40
    # Beam captions are sentences of the caption grammar: no padding or
    # special tokens inside them.
    assert all(c and "<" not in c for c in beam)


def test_attention_maps_cover_the_grid_and_are_logged(trained):
    root, result = trained
    model = result["model"]
    images, _ = data.generate_scenes(2, seed=5, split="test")
    tokens = model.generate(images)
    inputs = np.concatenate([np.full((2, 1), model.vocabulary.sos_id), tokens], 1)[:, :-1]
    maps = model.attention_maps(images, inputs)
    assert maps.shape == (2, tokens.shape[1], 8, 8)
    np.testing.assert_allclose(maps.sum((2, 3)), 1.0, atol=1e-5)
    events = os.listdir(root / "logs" / "attention")
    assert any(name.startswith("events.out") for name in events)
    import tensorflow as tf

    tags = {
        value.tag
        for name in events
        for event in tf.compat.v1.train.summary_iterator(str(root / "logs" / "attention" / name))
        for value in event.summary.value
    }
    assert "attention" in tags


def test_predict_after_reload_and_cli(trained, tmp_path, capsys):
    root, result = trained
    restored = keras.models.load_model(root / "c.keras")
    images, _ = data.generate_scenes(3, seed=9, split="test")
    assert restored.caption(images) == result["model"].caption(images)
    paths = []
    for i, image in enumerate(images):
        paths.append(str(tmp_path / f"scene{i}.png"))
        Image.fromarray(np.round(image * 255).astype("uint8")).save(paths[-1])
    assert main(["predict", *paths, "--model", str(root / "c.keras")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    expected = restored.caption(data.load_images(paths))
    assert lines == [f"{p}\t{c}" for p, c in zip(paths, expected)]
    evaluation = app.evaluate(str(root / "c.keras"), examples=50, seed=3)
    assert evaluation["eval_examples"] == 50 and 0 <= evaluation["exact"] <= 1


def test_transformer_variant_and_backbones_save_and_reload(tmp_path):
    vocabulary = Vocabulary.build(["a large red circle", "a small blue square"], level="word")
    images = np.random.default_rng(0).uniform(size=(2, 64, 64, 3)).astype("float32")
    tokens = np.array([[2, 4, 5, 6, 7], [2, 4, 8, 9, 0]], "int32")
    for kwargs in ({"decoder": "transformer", "num_layers": 1}, {"backbone": "MobileNetV2"}):
        model = app.Captioner(vocabulary, units=16, **kwargs)
        logits = model({"images": images, "tokens": tokens})
        assert logits.shape == (2, 5, len(vocabulary))
        path = tmp_path / f"{kwargs.get('decoder', 'attention')}.keras"
        model.save(path)
        restored = keras.models.load_model(path)
        np.testing.assert_allclose(restored({"images": images, "tokens": tokens}), logits, atol=1e-5)
        assert restored.generate(images).shape == (2, app.MAX_LENGTH)
        assert restored.generate(images, strategy="beam", beam_width=2).shape == (2, app.MAX_LENGTH)
    # The Transformer's cross-attention maps are distributions over the grid too.
    transformer = app.Captioner(vocabulary, decoder="transformer", units=16, num_layers=1)
    maps = transformer.attention_maps(images, tokens)
    np.testing.assert_allclose(maps.sum((2, 3)), 1.0, atol=1e-5)


def test_bad_arguments_raise_value_errors():
    vocabulary = Vocabulary.build(["a red circle"], level="word")
    with pytest.raises(ValueError, match="`decoder`"):
        app.Captioner(vocabulary, decoder="gru")
    with pytest.raises(ValueError, match="`units`"):
        app.Captioner(vocabulary, units=0)
    with pytest.raises(ValueError, match="`backbone`"):
        app.Captioner(vocabulary, backbone="NoSuchNet")
    with pytest.raises(ValueError, match="`backbone_weights`"):
        app.Captioner(vocabulary, backbone="MobileNetV2", backbone_weights="imagenet")
    model = app.Captioner(vocabulary, units=8)
    with pytest.raises(ValueError, match="`images`"):
        model.generate(np.zeros((1, 32, 32, 3)))
    with pytest.raises(ValueError, match="`size`"):
        app.build_model(vocabulary, size="huge")
