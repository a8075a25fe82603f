"""Where training runs: TensorFlow's `tf.distribute` strategies, and each process's role in a cluster.

    --strategy auto          mirrored when more than one GPU is visible, else one device
    --strategy one-device    one GPU, or the CPU (TensorFlow's default strategy: exactly the plain Keras path)
    --strategy mirrored      every local GPU (or every logical CPU device) of this machine: `model.fit`
    --strategy multi-worker  MultiWorkerMirroredStrategy over the hosts of the standard TF_CONFIG
                             variable: a custom train step (`kerasrnn.training.multi_worker`), since Keras 3's
                             `model.fit` does not run under it (keras-team/keras#20585)

`--batch-size` is per replica: the global batch is batch size × replicas (every replica of every
worker). The learning rate is not scaled with it: raise `--learning-rate` yourself when the global
batch grows (the linear rule, with the warm-up, is the usual start).

In a cluster the chief (the "chief" task, or worker 0 when there is none) writes the run directory;
every other worker writes its checkpoints, logs and metrics to a temporary directory removed at the
end, and reads the chief's backup when the job restarts (the run directory must be on storage all
hosts share, as it is on one machine).
"""

from __future__ import annotations

import json
import os
import re

STRATEGIES = ("auto", "one-device", "mirrored", "multi-worker")
PORT_BUSY = "could not start its gRPC server"  # in the error of a worker whose port is taken (kerasrnn.launch retries)


CLUSTER_TYPES = ("chief", "worker", "evaluator")  # the task types of a MultiWorkerMirroredStrategy cluster
TRAINING_TYPES = ("chief", "worker")  # the task types that train
ADDRESS = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.\-_]*):([0-9]{1,5})")  # host:port, [v6]:port
EXAMPLE = '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}'


def tf_config() -> dict:
    """The parsed TF_CONFIG environment variable ({} when unset), its structure checked (`check_tf_config`).

    Raises:
        ValueError: one line saying what in TF_CONFIG is wrong.
    """
    raw = os.environ.get("TF_CONFIG", "")
    if not raw.strip():
        return {}
    try:
        config = json.loads(raw)
    except ValueError as e:
        raise ValueError(f"TF_CONFIG is not JSON ({e}); expected e.g. {EXAMPLE}") from None
    check_tf_config(config)
    return config


def check_tf_config(config) -> None:
    """Checks a parsed TF_CONFIG: "cluster" maps task types to non-empty lists of distinct "host:port" strings
    (at most one chief), and "task" names a training type of that cluster and an index within its list.

    Raises:
        ValueError: one line naming the part that is wrong.
    """
    def bad(why: str) -> ValueError:
        return ValueError(f"TF_CONFIG {why}; expected e.g. {EXAMPLE}")

    if not isinstance(config, dict):
        raise bad(f"is a JSON {type(config).__name__}, not an object")
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not cluster:
        raise bad('needs "cluster": an object of task types, each a list of "host:port" addresses')
    seen = set()
    for kind, addresses in cluster.items():
        if kind not in CLUSTER_TYPES:
            raise bad(f"names the task type {kind!r} in \"cluster\" (known: {', '.join(CLUSTER_TYPES)})")
        if not isinstance(addresses, list) or not addresses:
            raise bad(f'has "cluster": {{"{kind}": ...}} that is not a non-empty list of "host:port" addresses')
        for address in addresses:
            match = ADDRESS.fullmatch(address) if isinstance(address, str) else None
            if match is None or not 1 <= int(match.group(2)) <= 65535:
                raise bad(f'lists {json.dumps(address)[:80]} under "{kind}", not a "host:port" address '
                          f'(port 1 to 65535)')
            if address in seen:
                raise bad(f"lists {address} twice")
            seen.add(address)
    if len(cluster.get("chief", [])) > 1:
        raise bad(f'lists {len(cluster["chief"])} chiefs; a cluster has at most one')
    if not any(kind in cluster for kind in TRAINING_TYPES):
        raise bad('has no "worker" (or "chief") in "cluster"')
    if not isinstance(task, dict):
        raise bad('needs "task": {"type": ..., "index": ...}, this process\'s place in the cluster')
    kind, index = task.get("type"), task.get("index")
    if kind not in TRAINING_TYPES or kind not in cluster:
        raise bad(f'has "task": {{"type": {json.dumps(kind)[:40]}}}; it must be one of the training types in '
                  f'"cluster" ({", ".join(k for k in TRAINING_TYPES if k in cluster)})')
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(cluster[kind]):
        raise bad(f'has "task": {{"index": {json.dumps(index)[:40]}}}; it must be an integer from 0 to '
                  f'{len(cluster[kind]) - 1} (the "{kind}" list has {len(cluster[kind])})')
    if not isinstance(config.get("rpc_layer", ""), str):
        raise bad('has an "rpc_layer" that is not a string')


def is_chief(config: dict | None = None) -> bool:
    """Whether this process writes the run: the chief task, or worker 0 of a cluster without one."""
    config = tf_config() if config is None else config
    if not config:
        return True
    task = config["task"]
    if task["type"] == "chief":
        return True
    return task["type"] == "worker" and int(task["index"]) == 0 and "chief" not in config["cluster"]


def make_strategy(name: str):
    """Builds the tf.distribute strategy for `--strategy name` (see the module doc).

    Raises:
        ValueError: an unknown name, or multi-worker without TF_CONFIG.
    """
    import tensorflow as tf

    if name not in STRATEGIES:
        raise ValueError(f"unknown --strategy {name!r}: choose from {', '.join(STRATEGIES)}")
    if name == "multi-worker":  # before anything starts TensorFlow's runtime: collectives are set up first
        if not tf_config():
            raise ValueError("--strategy multi-worker needs the TF_CONFIG environment variable (the cluster and "
                             "this task); python -m kerasrnn.launch sets it for a local cluster")
        from kerasrnn.core.cli import silenced_stderr

        try:
            with silenced_stderr():  # gRPC and TensorFlow log a failed start in several native lines
                return tf.distribute.MultiWorkerMirroredStrategy()
        except tf.errors.OpError as e:
            if "gRPC server" not in str(e):
                raise
            task = tf_config()["task"]
            address = tf_config()["cluster"][task["type"]][int(task["index"])]
            raise ValueError(f"this worker ({task['type']} {task['index']}, {address} in TF_CONFIG) {PORT_BUSY}: "
                             f"its port is in use by another process or not allowed; choose another port") from None
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        name = "mirrored" if len(gpus) > 1 else "one-device"
    if name == "one-device":
        return tf.distribute.get_strategy()  # TensorFlow's default: the first GPU if any, else the CPU
    devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices=devices)


def describe(strategy) -> str:
    """One line for the log, e.g. 'MultiWorkerMirroredStrategy, 2 replicas'."""
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        name = "MultiWorkerMirroredStrategy"  # its class is CollectiveAllReduceStrategy
    elif strategy is tf.distribute.get_strategy() and not tf.distribute.has_strategy():
        name = "one device"
    else:
        name = type(strategy).__name__
    n = strategy.num_replicas_in_sync
    return f"{name}, {n} replica{'s' if n != 1 else ''}"
