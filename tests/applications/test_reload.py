"""Every application's saved model reloads in a fresh process after nothing
but `import applications.<name>`: with `keras.saving.load_model(path,
safe_mode=True)` and with `applications.<name>.load(path)`, giving the same
outputs as the model that was saved."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import tiny_models

# Runs in a fresh interpreter. Before each application, Keras's registry of
# custom objects is reset to what keras_seq registers, so an application's
# model can only load through the classes its own import registers; and each
# application package is imported first at its own turn (the cases come in an
# order where the packages other applications import come first).
RELOAD = r"""
import importlib, os, pickle, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras
import keras_seq.audio, keras_seq.layers, keras_seq.losses, keras_seq.models  # the library's classes
import tiny_models

registry = keras.saving.get_custom_objects()
library = dict(registry)
cases, results = pickle.load(open(sys.argv[1], "rb")), {}
for name, path, inputs, through in cases:
    registry.clear()
    registry.update(library)
    module = "applications." + tiny_models.package(name)
    first = module not in sys.modules
    package = importlib.import_module(module)
    results[name] = {"first_import": first}
    if name != "word_vectors":
        model = keras.saving.load_model(path, safe_mode=True)
        results[name]["load_model"] = tiny_models.outputs(name, model, inputs, through)
    results[name]["load"] = tiny_models.loaded_outputs(name, package.load(path), inputs, through)
pickle.dump(results, open(sys.argv[2], "wb"))
"""


def _close(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    return np.allclose(a, b, atol=1e-5, rtol=1e-5)


@pytest.fixture(scope="module")
def reloaded(tmp_path_factory):
    root = tmp_path_factory.mktemp("reload")
    tiny = {}
    for name in tiny_models.BUILDERS:
        directory = root / name
        directory.mkdir()
        tiny[name] = tiny_models.build(name, str(directory))
    imported_by_others = ["qa", "qa_span", "dates_nmt", "transformer_nmt", "word_vectors"]  # text_to_text, sentiment, ...
    order = imported_by_others + [name for name in tiny if name not in imported_by_others]
    cases = [(tiny[n].name, tiny[n].path, tiny[n].inputs, tiny[n].through) for n in order]
    with open(root / "cases.pkl", "wb") as handle:
        pickle.dump(cases, handle)
    done = subprocess.run(
        [sys.executable, "-c", RELOAD, str(root / "cases.pkl"), str(root / "results.pkl")],
        capture_output=True, text=True, timeout=900, cwd=str(root),
        env={**__import__("os").environ, "PYTHONPATH": ":".join(sys.path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    with open(root / "results.pkl", "rb") as handle:
        return tiny, pickle.load(handle)


@pytest.mark.parametrize("name", list(tiny_models.BUILDERS))
def test_saved_model_reloads_with_the_same_outputs(reloaded, name):
    tiny, results = reloaded
    expected = tiny[name].expected
    first_import = results[name].pop("first_import")
    assert first_import or name == "qa_span", f"applications.{name} was imported before its turn"
    for way, outputs in results[name].items():
        assert _close(expected, outputs), f"{name} via {way}"
    assert set(results[name]) == ({"load"} if name == "word_vectors" else {"load", "load_model"})


def test_every_application_has_a_tiny_model():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "applications"
    packages = {p.name for p in root.iterdir() if (p / "app.py").exists()}
    assert packages == {tiny_models.package(name) for name in tiny_models.BUILDERS}
