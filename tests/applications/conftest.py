import os
import sys

import pytest

# `tiny_models` (a helper module beside the tests) is imported by name.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def trained(request, tmp_path_factory):
    """`(root, result)`: the test module's `app` trained once at the `fast`
    size, saving to `root / FAST_TRAINING["output"]` with TensorBoard logs in
    `root / "logs"`; the module's `FAST_TRAINING` holds the output file name
    and any other `train` options (e.g. `eval_examples`)."""
    module = request.module
    options = dict(module.FAST_TRAINING)
    root = tmp_path_factory.mktemp(module.__name__.rsplit(".", 1)[-1])
    output = str(root / options.pop("output"))
    result = module.app.train(
        size="fast", output=output, log_dir=str(root / "logs"), verbose=0, **options
    )
    return root, result
