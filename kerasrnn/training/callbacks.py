"""Keras callbacks of our own: per-epoch metrics.json, an atomic best-model saver, the loss curves."""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time

import keras

from kerasrnn.core.plots import new_figure, save_figure
from kerasrnn.inference.evaluation import bits
from pipelines.io import atomic_write_json, atomic_write_text, public_mode


class MetricsLogger(keras.callbacks.Callback):
    """Writes metrics.json after every epoch: losses in nats (and bits) per character,
    training characters per second, cumulative wall time, and the command line.

    Args:
        path: the metrics.json to write (atomically).
        chars_per_step: target characters in one training batch (batch * seq_len).
        record: the record to extend (from an earlier, interrupted run when resuming).
        unit: what the loss is averaged over and the speed counts: "chars" (losses also in bits
            per character), or for example "names" (a classifier: losses in nats per name, and accuracy).
    """

    def __init__(self, path: str, chars_per_step: float, record: dict, unit: str = "chars"):
        super().__init__()
        self.path = path
        self.chars_per_step = chars_per_step
        self.unit = unit
        self.record = record
        self.record.setdefault("epochs", [])
        self._wall_before = self.record["epochs"][-1]["wall_s"] if self.record["epochs"] else 0.0

    def on_train_begin(self, logs=None):
        self._train_start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._steps = 0
        self._train_s = 0.0

    def on_train_batch_end(self, batch, logs=None):
        self._steps = batch + 1
        self._train_s = time.perf_counter() - self._epoch_start

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        row = {"epoch": epoch + 1}
        for key, name in (("loss", "train"), ("val_loss", "val")):
            if key in logs:
                value = float(logs[key])
                finite = math.isfinite(value)  # JSON has no NaN: a diverged loss is null
                row[f"{name}_loss_nats"] = round(value, 5) if finite else None
                if self.unit == "chars":
                    row[f"{name}_bpc"] = round(bits(value), 5) if finite else None
        for key in ("accuracy", "val_accuracy"):
            if key in logs:
                row[key] = round(float(logs[key]), 5)
        row["steps"] = self._steps
        row[f"{self.unit}_per_s"] = round(self._steps * self.chars_per_step / max(self._train_s, 1e-9))
        row["epoch_s"] = round(time.perf_counter() - self._epoch_start, 2)
        row["wall_s"] = round(self._wall_before + time.perf_counter() - self._train_start, 2)
        if "learning_rate" in logs:
            row["learning_rate"] = float(logs["learning_rate"])
        # an epoch run again after a resume replaces its earlier, interrupted record
        self.record["epochs"] = [r for r in self.record["epochs"] if r["epoch"] < epoch + 1] + [row]
        atomic_write_json(self.path, self.record)


class EpochCSVLogger(keras.callbacks.CSVLogger):
    """Keras' `CSVLogger` (history.csv) with epochs counted from 1, as in metrics.json and the progress bar.
    On a resume, the rows of the epochs that will be trained again (after the backup's epoch: a run killed
    before its backup recorded them) are dropped first, so every epoch has one row."""

    def on_train_begin(self, logs=None):
        if self.append and os.path.isfile(self.filename):
            trim_history(self.filename, getattr(self.model, "_initial_epoch", None) or 0)
        super().on_train_begin(logs)

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch + 1, logs)


class Backup(keras.callbacks.BackupAndRestore):
    """Keras' `BackupAndRestore` (weights, optimizer, epoch; a previous copy kept), safe to kill at any moment.

    Every file is written to a temporary name and renamed, so a kill (SIGKILL, SIGTERM) in the middle
    of a backup leaves the last complete one; an unreadable backup falls back to the previous copy.
    In a cluster, `chief=False` workers restore from the chief's backup but never write or remove it.
    """

    def __init__(self, backup_dir: str, chief: bool = True, **kwargs):
        super().__init__(backup_dir, **kwargs)
        self.chief = chief

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)  # it falls back to the previous copy on OSError only
        except ValueError:  # a torn training_metadata.json (written by an older version)
            for prev, path in ((self._prev_weights_path, self._weights_path),
                               (self._prev_training_metadata_path, self._training_metadata_path)):
                if not os.path.exists(prev):
                    raise
                os.replace(prev, path)
            self._load_model()

    def _save_model(self):
        if not self.chief:
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for path, prev in ((self._weights_path, self._prev_weights_path),
                               (self._training_metadata_path, self._prev_training_metadata_path)):
                if os.path.exists(path):
                    shutil.copyfile(path, prev + ".tmp")
                    os.replace(prev + ".tmp", prev)
        tmp = os.path.join(self.backup_dir, ".tmp-latest.weights.h5")
        self.model.save_weights(tmp, overwrite=True)
        os.replace(tmp, self._weights_path)
        atomic_write_json(self._training_metadata_path, {"epoch": self._current_epoch, "batch": self._last_batch_seen})

    def on_train_end(self, logs=None):
        if self.chief:
            super().on_train_end(logs)


def trim_history(path: str, last_epoch: int) -> None:
    """Keeps the header of the history.csv `path` and its rows of epochs 1 .. `last_epoch` (atomically)."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().splitlines(keepends=True)
    kept = lines[:1]
    for line in lines[1:]:
        epoch = line.split(",", 1)[0].strip()
        if epoch.isdigit() and int(epoch) <= last_epoch and not any(k.startswith(f"{epoch},") for k in kept[1:]):
            kept.append(line)
    if kept != lines:
        atomic_write_text(path, "".join(kept))


class EpochEndBackup(keras.callbacks.Callback):
    """Writes the resume backup as soon as an epoch has been recorded (placed after metrics.json and
    history.csv): a run killed after an epoch ended resumes with the next epoch, not that one again.

    Args:
        backup: the run's `Backup` (its steps' checkpoints stay as they are).
        swap: the `SwapEMAWeights` callback with --ema (the live weights are what the backup keeps).
    """

    def __init__(self, backup: Backup, swap=None):
        super().__init__()
        self.backup, self.swap = backup, swap

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 >= self.params.get("epochs", 0):
            return  # the last epoch: the backup is removed when training ends
        swapped = self.swap is not None and self.swap._ema_weights_in_model
        if swapped:
            self.swap._swap_variables()  # the live weights back into the model for the backup
        try:
            self.backup._current_epoch, self.backup._last_batch_seen = epoch + 1, 0
            self.backup._save_model()
        finally:
            if swapped:
                self.swap._swap_variables()


class BestModelSaver(keras.callbacks.Callback):
    """Saves the whole model (`.keras`) whenever the validation loss improves.

    Unlike `ModelCheckpoint` it writes to a temporary file and renames it, so a run
    killed while saving never leaves a corrupt best model behind.

    Args:
        path: the `.keras` file to keep.
        monitor: the logged value to watch (None: save after every epoch, so the last one is kept).
        best: the value to beat (the earlier best when resuming; default: the worst possible).
        model: the model to save (default: the one being trained).
        mode: "min" (a loss) or "max" (an accuracy).
    """

    def __init__(self, path: str, monitor: str = "val_loss", best: float | None = None, model=None,
                 mode: str = "min"):
        super().__init__()
        self.path = path
        self.monitor = monitor
        self.sign = 1.0 if mode == "min" else -1.0
        self.best = self.sign * math.inf if best is None else best
        self.to_save = model

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor is None:
            save_model_atomically(self.to_save or self.model, self.path)
            return
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(value) or self.sign * value >= self.sign * self.best:
            return
        self.best = float(value)
        save_model_atomically(self.to_save or self.model, self.path)


def save_model_atomically(model, path: str) -> None:
    """Saves a `.keras` file through a temporary file and a rename: a kill never leaves half a model."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".keras")
    os.close(fd)
    try:
        model.save(tmp, overwrite=True)
        public_mode(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def plot_curves(epochs: list[dict], path: str, title: str) -> None:
    """Draws train and validation loss (nats/char) per epoch into a PNG, atomically."""
    fig, ax = new_figure(figsize=(6, 4), dpi=100)
    xs = [r["epoch"] for r in epochs]
    for key, label in (("train_loss_nats", "train"), ("val_loss_nats", "validation")):
        ys = [r.get(key) for r in epochs]
        if any(y is not None for y in ys):
            ax.plot(xs, ys, marker="o", label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (nats/char)")
    ax.set_title(title)
    save_figure(fig, path, [ax])


class StatefulValidation(keras.callbacks.Callback):
    """For stateful (truncated-BPTT) training: resets the carried state at each epoch's start, and
    measures the validation loss with a stateless twin that receives the trained weights.

    Args:
        twin: a stateless model of the same architecture (it is what gets saved and evaluated).
        evaluate: twin -> validation loss in nats/char.
    """

    def __init__(self, twin, evaluate):
        super().__init__()
        self.twin, self.evaluate = twin, evaluate

    def on_epoch_begin(self, epoch, logs=None):
        for layer in self.model.layers:
            if getattr(layer, "stateful", False):
                layer.reset_state()

    def on_epoch_end(self, epoch, logs=None):
        self.twin.set_weights(self.model.get_weights())
        if logs is not None:
            logs["val_loss"] = self.evaluate(self.twin)
