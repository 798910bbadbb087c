import subprocess
import sys

import pytest
import tensorflow as tf

from keras_seq.distribute import get_strategy


def test_named_strategies():
    assert isinstance(get_strategy("cpu"), tf.distribute.OneDeviceStrategy)
    assert get_strategy("default") is tf.distribute.get_strategy()
    # No TPU, no TF_CONFIG cluster, no GPUs here: auto falls back to the default.
    assert get_strategy("auto").num_replicas_in_sync == 1


def test_errors():
    with pytest.raises(ValueError, match="`name` must be one of"):
        get_strategy("gpu-please")
    with pytest.raises(ValueError, match="`num_cpu_devices` must be a positive integer"):
        get_strategy("mirrored", num_cpu_devices=0)


def test_mirrored_over_logical_cpus_in_a_fresh_process():
    code = (
        "from keras_seq.distribute import get_strategy\n"
        "s = get_strategy('mirrored', num_cpu_devices=2)\n"
        "print(type(s).__name__, s.num_replicas_in_sync)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["MirroredStrategy", "2"]
