"""What every `model.fit` run of a task shares: the optimiser and its schedule, the callbacks, the
device it runs on, and the NaN check."""

from __future__ import annotations

import math
import os
import shutil

import keras
import tensorflow as tf

from kerasrnn.core import runs
from kerasrnn.core.cli import TrainingFailed
from kerasrnn.core.config import CORPUS_TASKS, Config
from kerasrnn.training.callbacks import Backup, BestModelSaver, EpochCSVLogger, EpochEndBackup, MetricsLogger


def learning_rate_schedule(config: Config, total_steps: int):
    """Linear warm-up to `config.learning_rate`, then cosine decay to `min_lr_ratio` of it."""
    warmup = min(config.warmup_steps, total_steps // 5)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate * 0.1 if warmup else config.learning_rate,
        decay_steps=max(total_steps - warmup, 1),
        alpha=config.min_lr_ratio,
        warmup_target=config.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def optimizer_for(config: Config, total_steps: int) -> keras.optimizers.Optimizer:
    """Adam (AdamW with `config.weight_decay`, biases left undecayed) on the learning-rate schedule, with
    gradient clipping and, with `config.ema`, a moving average of the weights."""
    common = {"learning_rate": learning_rate_schedule(config, total_steps), "clipnorm": config.clipnorm or None,
              "use_ema": bool(config.ema), "ema_momentum": config.ema or 0.99}
    if not config.weight_decay:
        return keras.optimizers.Adam(**common)
    optimizer = keras.optimizers.AdamW(weight_decay=config.weight_decay, **common)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    return optimizer


def uses_xla(config: Config) -> bool:
    """Whether the training step is compiled with XLA: a corpus language model (fixed-shape batches) without
    dropout, trained on the CPU by one device, unless `--no-jit-compile`. XLA fuses each step's element-wise
    work into code for this CPU (TensorFlow's own CPU kernels are built for AVX alone) and is 1.3-1.4x faster
    for every cell here; but its CPU random numbers made a dropout of 0.1 cost 3.3x the step (GRU-384), so
    a model with dropout keeps TensorFlow's kernels. On a GPU Keras keeps the cuDNN kernels, and padded
    batches of varying length (the surname tasks) would compile again for every length."""
    return (config.jit_compile and config.task in CORPUS_TASKS and config.dropout == 0
            and not tf.config.list_logical_devices("GPU") and not tf.distribute.has_strategy())


def compile_model(model: keras.Model, config: Config, total_steps: int, metrics=None) -> None:
    """Compiles with `optimizer_for(config)`, cross-entropy on logits, and XLA where `uses_xla`."""
    optimizer = optimizer_for(config, total_steps)
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=metrics, jit_compile=True if uses_xla(config) else "auto")


def fit_callbacks(config: Config, run_dir: str, record: dict, model: keras.Model, per_step: float,
                  resume: bool, unit: str = "chars", monitor: str | None = "val_loss", backup=None) -> list:
    """The callbacks of every run: resumable backups, NaN stop, atomic best model, metrics.json,
    history.csv and TensorBoard.

    Args:
        model: the model to save as best.keras (may differ from the one fitted: --tbptt).
        per_step: `unit`s in one training batch, for the speed figure.
        unit: what the loss is averaged over ("chars": also in bits per character).
        monitor: what picks best.keras: "val_loss" (lowest), "val_accuracy" (highest) or None (the last epoch).
        backup: the resume callback (default: `training.callbacks.Backup` in the run's backup/).
    """
    key, mode = ("val_loss_nats", "min") if monitor == "val_loss" else (monitor, "max")
    seen = [r[key] for r in record["epochs"] if r.get(key) is not None]
    best_so_far = (min(seen) if mode == "min" else max(seen)) if seen else None
    backup = backup or Backup(os.path.join(run_dir, runs.BACKUP_DIR), save_freq=config.checkpoint_every,
                              double_checkpoint=True)
    # with --ema the average is what is validated, saved as best.keras and measured (the live weights train on)
    swap = keras.callbacks.SwapEMAWeights(swap_on_epoch=True) if config.ema else None
    return [
        backup,
        keras.callbacks.TerminateOnNaN(),
        *([swap] if swap else []),
        BestModelSaver(os.path.join(run_dir, runs.BEST_MODEL), monitor=monitor, best=best_so_far, model=model,
                       mode=mode),
        MetricsLogger(os.path.join(run_dir, runs.METRICS), per_step, record, unit=unit),
        EpochCSVLogger(os.path.join(run_dir, runs.HISTORY), append=resume),
        keras.callbacks.TensorBoard(os.path.join(run_dir, runs.LOGS_DIR), profile_batch=0),
        EpochEndBackup(backup, swap),  # last: once the epoch is recorded everywhere, resuming starts after it
    ]


def device_name() -> str:
    """"GPU" when TensorFlow sees one (training runs there), else "CPU"."""
    return "GPU" if tf.config.list_physical_devices("GPU") else "CPU"


def check_finite(history, run_dir: str, record: dict, config: Config) -> None:
    """Raises TrainingFailed (and drops the backup, which holds NaN weights) when the loss diverged."""
    losses = history.history.get("loss", [])
    if losses and not math.isfinite(losses[-1]):
        shutil.rmtree(os.path.join(run_dir, runs.BACKUP_DIR), ignore_errors=True)
        epoch = record["epochs"][-1]["epoch"] if record["epochs"] else 1
        raise TrainingFailed(f"the loss became NaN in epoch {epoch}; "
                             f"try a lower --learning-rate (now {config.learning_rate:g})")
