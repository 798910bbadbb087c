"""Test utilities for keras_seq layers and for users' own layers, and a local
multi-worker cluster for rehearsing distributed training."""

from keras_seq.testing.layer_test import run_layer_test
from keras_seq.testing.multi_worker import LocalCluster, free_ports, tf_config

__all__ = ["LocalCluster", "free_ports", "run_layer_test", "tf_config"]
