"""`import keras_seq`: what it loads, what it leaves for later, and that a saved
model still loads after nothing but `import keras_seq` (each in a fresh process)."""

import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np

from keras_seq.layers import MultiHeadAttention, TransformerEncoderBlock

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Every package directory and top-level public module of keras_seq.
SUBPACKAGES = sorted(
    [
        path.name
        for path in (ROOT / "keras_seq").iterdir()
        if (path / "__init__.py").exists() and path.name != "testing"
    ]
    + ["distribute", "numpy_rnn"]
)


def _run(code: str) -> str:
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def test_import_keras_seq_loads_neither_keras_hub_nor_tensorflow_text():
    code = (
        "import json, sys\n"
        "import keras_seq\n"
        "loaded = lambda name: name in sys.modules\n"
        "before = {name: loaded(name) for name in ('keras_hub', 'tensorflow_text',"
        " 'keras_seq.embeddings', 'keras_seq.callbacks', 'keras_seq.data',"
        " 'keras_seq.distribute', 'keras_seq.numpy_rnn', 'keras_seq.layers')}\n"
        "from keras_seq import embeddings\n"
        "from keras_seq.callbacks import TextSamples\n"
        "after_use = {'embeddings': loaded('keras_seq.embeddings'),"
        " 'data': keras_seq.data.padded_batches.__name__,"
        " 'keras_hub': loaded('keras_hub')}\n"
        "from keras_seq.text import train_wordpiece\n"
        "after_use['keras_hub_after_wordpiece'] = loaded('keras_hub')\n"
        "print(json.dumps({'before': before, 'after': after_use,"
        " 'dir': dir(keras_seq)}))\n"
    )
    report = json.loads(_run(code))
    assert report["before"] == {
        "keras_hub": False,
        "tensorflow_text": False,
        "keras_seq.embeddings": False,
        "keras_seq.callbacks": False,
        "keras_seq.data": False,
        "keras_seq.distribute": False,
        "keras_seq.numpy_rnn": False,
        "keras_seq.layers": True,  # registers serializable classes
    }
    assert report["after"] == {
        "embeddings": True,
        "data": "padded_batches",
        "keras_hub": False,
        # keras_seq.text imports keras-hub only inside the functions that
        # need it (vocabulary training), so predict paths skip its import.
        "keras_hub_after_wordpiece": False,
    }
    assert set(SUBPACKAGES) <= set(report["dir"])


def test_every_subpackage_is_an_attribute():
    import keras_seq

    for name in SUBPACKAGES:
        assert getattr(keras_seq, name).__name__ == f"keras_seq.{name}"
    assert keras_seq.__all__ == [*SUBPACKAGES, "__version__"]
    try:
        keras_seq.no_such_subpackage  # noqa: B018
    except AttributeError as error:
        assert "no_such_subpackage" in str(error)
    else:
        raise AssertionError("an unknown attribute must raise AttributeError")


def test_import_works_without_fcntl():
    # fcntl is POSIX-only: hide it, as on Windows, and import what uses it.
    code = (
        "import sys\n"
        "sys.modules['fcntl'] = None\n"
        "import keras_seq, keras_seq._custom_ops, keras_seq.embeddings\n"
        "print('imported')\n"
    )
    assert _run(code) == "imported"


def test_saved_model_loads_after_only_import_keras_seq(tmp_path):
    inputs = keras.Input((6, 8))
    attended = MultiHeadAttention(num_heads=2, key_dim=4)(inputs, inputs)
    outputs = TransformerEncoderBlock(num_heads=2, intermediate_dim=16, dropout=0.0)(
        attended
    )
    model = keras.Model(inputs, outputs)
    data = np.random.default_rng(0).normal(size=(3, 6, 8)).astype("float32")
    path = tmp_path / "model.keras"
    model.save(path)
    np.save(tmp_path / "inputs.npy", data)
    np.save(tmp_path / "expected.npy", model.predict(data, verbose=0))
    code = (
        "import numpy as np\n"
        "import keras_seq\n"
        "import keras\n"
        f"model = keras.saving.load_model({str(path)!r})\n"
        f"data = np.load({str(tmp_path / 'inputs.npy')!r})\n"
        f"expected = np.load({str(tmp_path / 'expected.npy')!r})\n"
        "np.testing.assert_allclose(model.predict(data, verbose=0), expected,"
        " rtol=1e-5, atol=1e-6)\n"
        "print(type(model.layers[1]).__module__)\n"
    )
    assert _run(code) == "keras_seq.layers.multi_head_attention"
