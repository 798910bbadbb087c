"""The decoding loops and core layers on the JAX backend.

The static-shape decoding loops (fixed token buffer, loop index, stateless
per-step seeds) need nothing TensorFlow-specific, so they run on JAX too. The
backend is chosen when Keras is imported, hence a subprocess; it runs
backend-portable tests of this suite (written with `keras.ops` and NumPy).
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PORTABLE = [
    "tests/decoding/test_static_loops.py",
    "tests/models/test_generation.py::test_sampling_without_seed_differs_and_with_seed_repeats[TransformerLM]",
    "tests/layers/test_sinusoidal_position_encoding.py",
    "tests/layers/test_token_and_position_embedding.py",
]


def test_decoding_and_core_layers_pass_on_jax():
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *PORTABLE]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout
    # The run really was on JAX: Keras reports its backend in the children.
    probe = subprocess.run(
        [sys.executable, "-c", "import keras; print(keras.config.backend())"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert probe.stdout.strip() == "jax"
