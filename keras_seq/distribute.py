"""Choosing a `tf.distribute` strategy by name."""

from __future__ import annotations

import json
import os

from keras_seq._validation import check_positive_ints

STRATEGIES = ("auto", "default", "cpu", "mirrored", "multi_worker", "tpu")


def _configure_logical_cpus(count):
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    except RuntimeError as error:
        existing = len(tf.config.list_logical_devices("CPU"))
        if existing >= count:
            return
        raise ValueError(
            f"`num_cpu_devices={count}` must be set before TensorFlow initialises "
            f"its devices (it already runs with {existing}); call get_strategy first."
        ) from error


def get_strategy(name="auto", num_cpu_devices=None):
    """Returns a `tf.distribute.Strategy` by name.

    - `"auto"`: a TPU when `TPU_NAME` (or Colab's `COLAB_TPU_ADDR`) is set;
      multi-worker when `TF_CONFIG` names more than one worker; mirrored over
      all GPUs when there are several; otherwise the default strategy (one
      GPU, or the CPU).
    - `"default"`: TensorFlow's default (no-op) strategy.
    - `"cpu"`: `OneDeviceStrategy("/cpu:0")`.
    - `"mirrored"`: `MirroredStrategy` over all GPUs; on a machine without
      GPUs, over the CPU split into `num_cpu_devices` logical devices (for
      testing data-parallel code on a laptop or CI).
    - `"multi_worker"`: `MultiWorkerMirroredStrategy` over the workers named
      in `TF_CONFIG` (see the README's "Scaling out"); without `TF_CONFIG`,
      one local worker. It is `keras_seq.distribute.MultiWorkerMirroredStrategy`,
      TensorFlow's strategy with a fix that lets Keras 3 `model.fit` run on
      several workers (keras-team/keras#20585; see `keras_seq._multi_worker`).
    - `"tpu"`: `TPUStrategy` on the TPU named by `TPU_NAME` (or local).

    Args:
        name: one of `STRATEGIES`. Defaults to `"auto"`.
        num_cpu_devices: optional int >= 1; split the CPU into this many
            logical devices (must be called before TensorFlow initialises).

    Raises:
        ValueError: unknown `name`, bad `num_cpu_devices`, or devices
            already initialised.

    Example:
    >>> from keras_seq.distribute import get_strategy
    >>> strategy = get_strategy("cpu")
    >>> strategy.num_replicas_in_sync
    1
    """
    import tensorflow as tf

    if name not in STRATEGIES:
        raise ValueError(f"`name` must be one of {STRATEGIES}; received {name!r}.")
    if num_cpu_devices is not None:
        check_positive_ints({"num_cpu_devices": num_cpu_devices})
        _configure_logical_cpus(num_cpu_devices)
    if name == "auto":
        name = _auto_name()
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "cpu":
        return tf.distribute.OneDeviceStrategy("/cpu:0")
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        if gpus:
            return tf.distribute.MirroredStrategy()
        cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(
            devices=cpus, cross_device_ops=tf.distribute.ReductionToOneDevice()
        )
    if name == "multi_worker":
        from keras_seq._multi_worker import MultiWorkerMirroredStrategy

        _tf_config()  # a clear error for malformed JSON before TensorFlow's
        return MultiWorkerMirroredStrategy()
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=os.environ.get("TPU_NAME", ""))
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def shard_by_data(dataset):
    """`dataset` with `tf.data` auto-sharding by DATA: under a multi-worker
    strategy every worker reads the whole input and keeps its share of each
    global batch (the input is batched by the *global* batch size, per-replica
    batch x replicas). The right policy for in-memory or generated data; the
    default (AUTO) tries to shard by file first and warns when it falls back.

    >>> import tensorflow as tf
    >>> from keras_seq.distribute import shard_by_data
    >>> options = shard_by_data(tf.data.Dataset.range(4)).options()
    >>> options.experimental_distribute.auto_shard_policy.name
    'DATA'
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def _auto_name():
    import tensorflow as tf

    if os.environ.get("TPU_NAME") or os.environ.get("COLAB_TPU_ADDR"):
        return "tpu"
    cluster = _tf_config().get("cluster", {})
    if len(cluster.get("worker", [])) + len(cluster.get("chief", [])) > 1:
        return "multi_worker"
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return "mirrored"
    return "default"


def _tf_config():
    try:
        config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON: {error}") from error
    if not isinstance(config, dict):
        raise ValueError(
            "TF_CONFIG must be a JSON object such as "
            '{"cluster": {"worker": ["host1:port", "host2:port"]}, '
            f'"task": {{"type": "worker", "index": 0}}}}; received {config!r}.'
        )
    return config


def __getattr__(name):
    # Lazy, so that importing keras_seq.distribute (e.g. for an application's
    # `--help`) does not start TensorFlow.
    if name == "MultiWorkerMirroredStrategy":
        from keras_seq._multi_worker import MultiWorkerMirroredStrategy

        return MultiWorkerMirroredStrategy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
