"""Training under MultiWorkerMirroredStrategy, where Keras 3's `model.fit` does not run.

`fit_distributed` is a small stand-in for `model.fit`: a `tf.function` train step run on every
replica with `strategy.run` over `strategy.experimental_distribute_dataset` (sharded by DATA: each
global batch is split across the replicas of all workers), the loss averaged over the global batch
with `tf.nn.compute_average_loss`, and the model's own compiled optimizer (gradients are summed
across replicas by it). It drives the same Keras callbacks as `model.fit` (metrics.json, best
model, CSV, TensorBoard, NaN stop) through a `CallbackList`, so nothing of the single-host path is
written twice. Backups: `training.callbacks.Backup`, which every worker restores from but only the chief writes.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import keras
import numpy as np
import tensorflow as tf


def distribute_dataset(strategy, ds: tf.data.Dataset):
    """The dataset (batched by the global batch) split across the replicas of every worker."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(ds.with_options(options))


def fit_distributed(model: keras.Model, strategy, train_ds: tf.data.Dataset, val_ds: tf.data.Dataset | None,
                    epochs: int, callbacks: list, global_batch: int, verbose: int = 1, log=print,
                    train_fn=None, steps: int | None = None) -> SimpleNamespace:
    """Trains a compiled sequence model like `model.fit`, under a multi-worker strategy.

    Args:
        model: built and compiled inside `strategy.scope()` (its optimizer and loss are used).
        strategy: the tf.distribute strategy.
        train_ds: (tokens, targets) batches of the global batch size, (batch, time) each.
        val_ds: validation batches (every worker measures all of them), or None.
        epochs: the last epoch to reach (a restored backup starts later).
        callbacks: Keras callbacks, called as `model.fit` calls them.
        global_batch: examples in one batch of `train_ds` (per-replica batch × replicas).
        verbose: 0 silent; otherwise one line per epoch.
        train_fn: each worker's own input (an input context -> per-replica batches, read from its own files),
            used instead of sharding `train_ds` by DATA.
        steps: training steps per epoch (default: `train_ds`'s batches).
    Returns:
        An object with `.history` ({"loss": [...], "val_loss": [...]}), like fit's History.
    """
    per_char = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    optimizer = model.optimizer

    def replica_step(tokens, targets):  # (batch / replicas, time) each
        with tf.GradientTape() as tape:
            logits = model(tokens, training=True)  # (batch / replicas, time, vocab)
            per_example = tf.reduce_mean(per_char(targets, logits), axis=-1)  # (batch / replicas,)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def train_step(batch):
        return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(replica_step, args=batch), axis=None)

    @tf.function
    def val_step(tokens, targets):
        loss = per_char(targets, model(tokens, training=False))  # (batch, time)
        return tf.reduce_sum(loss), tf.cast(tf.size(loss), tf.float32)

    if train_fn is not None:
        options = tf.distribute.InputOptions(experimental_fetch_to_device=True)
        dist = strategy.distribute_datasets_from_function(train_fn, options)
    else:
        dist = distribute_dataset(strategy, train_ds)
    steps = steps or int(train_ds.cardinality())
    callback_list = keras.callbacks.CallbackList(callbacks, model=model, epochs=epochs, steps=steps, verbose=0)
    history = {"loss": [], "val_loss": []}
    model.stop_training = False
    with strategy.scope():  # a restored backup loads optimizer slots, which live in the strategy
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        callback_list.on_train_begin()
    for epoch in range(getattr(model, "_initial_epoch", 0) or 0, epochs):  # BackupAndRestore sets it
        callback_list.on_epoch_begin(epoch)
        started, total, step = time.perf_counter(), 0.0, -1
        for step, batch in enumerate(dist):
            callback_list.on_train_batch_begin(step)
            total += float(train_step(batch))
            callback_list.on_train_batch_end(step, {"loss": total / (step + 1)})
            if model.stop_training:
                break
        logs = {"loss": total / max(step + 1, 1)}
        if val_ds is not None:
            sums = np.array([[float(v) for v in val_step(x, y)] for x, y in val_ds]).sum(axis=0)
            logs["val_loss"] = float(sums[0] / sums[1])
        logs["learning_rate"] = float(optimizer.learning_rate)
        callback_list.on_epoch_end(epoch, logs)
        for key in history:
            if key in logs:
                history[key].append(logs[key])
        if verbose:
            val = f", val_loss {logs['val_loss']:.4f}" if "val_loss" in logs else ""
            log(f"epoch {epoch + 1}/{epochs}: loss {logs['loss']:.4f}{val} ({time.perf_counter() - started:.1f} s)")
        if model.stop_training:
            break
    callback_list.on_train_end()
    return SimpleNamespace(history=history)
