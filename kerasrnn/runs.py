"""The run directory: what a training run writes, and loading it back for sampling or evaluation.

    runs/<name>/
      config.json     the Config the run was trained with
      vocab.json      the character vocabulary (ids in order, unknown id)
      best.keras      the model with the lowest validation loss so far
      backup/         the checkpoint that --resume continues from (removed when training ends)
      history.csv     Keras' per-epoch log
      logs/           TensorBoard logs
      metrics.json    per-epoch figures and, under "final", the run's result
      curves.png      train and validation loss per epoch
      confusion.png   surname classifiers: the test confusion matrix, rows normalised
      confusion.json  (its counts and shares; the per-class figures are in metrics.json)
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass

from kerasrnn.cli import UsageError
from kerasrnn.config import Config
from pipelines.vocab import Vocabulary

CONFIG = "config.json"
VOCAB = "vocab.json"
BEST_MODEL = "best.keras"
BACKUP_DIR = "backup"
HISTORY = "history.csv"
LOGS_DIR = "logs"
METRICS = "metrics.json"
CURVES = "curves.png"


@dataclass
class Run:
    """A loaded run: its directory, config, vocabulary and best model."""

    path: str  # the run directory
    config: Config  # how it was trained
    vocab: Vocabulary  # its characters
    model: object  # the keras.Model from best.keras


def new_run_dir(root: str = "runs", prefix: str = "run") -> str:
    """A fresh, not yet existing directory name under `root`, e.g. runs/gru-20261123-101500."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = os.path.join(root, f"{prefix}-{stamp}")
    n = 1
    while os.path.exists(path):
        n += 1
        path = os.path.join(root, f"{prefix}-{stamp}-{n}")
    return path


def read_metrics(run_dir: str) -> dict:
    """The run's metrics.json, or an empty record when there is none yet."""
    path = os.path.join(run_dir, METRICS)
    if not os.path.exists(path):
        return {"epochs": []}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_config_and_vocab(run_dir: str) -> tuple[Config, Vocabulary]:
    """Reads config.json and vocab.json of a run.

    Raises:
        UsageError: not a run directory, or its files are unreadable.
    """
    if not os.path.isdir(run_dir):
        raise UsageError(f"no such run directory: {run_dir}")
    for name in (CONFIG, VOCAB):
        if not os.path.exists(os.path.join(run_dir, name)):
            raise UsageError(f"{run_dir} is not a kerasrnn run (no {name})")
    try:
        config = Config.load(os.path.join(run_dir, CONFIG))
        vocab = Vocabulary.load(os.path.join(run_dir, VOCAB))
    except (ValueError, KeyError, TypeError) as e:
        raise UsageError(f"{run_dir}: unreadable {CONFIG} or {VOCAB} ({e})") from None
    return config, vocab


def load_run(run_dir: str) -> Run:
    """Loads a run's config, vocabulary and best model.

    Raises:
        UsageError: missing or corrupt files.
    """
    config, vocab = load_config_and_vocab(run_dir)
    path = os.path.join(run_dir, BEST_MODEL)
    if not os.path.exists(path):
        raise UsageError(f"{run_dir} has no {BEST_MODEL} yet (has training finished an epoch?)")
    import keras

    import kerasrnn.models  # noqa: F401  registers the custom layers

    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as e:  # a truncated or foreign file raises many kinds
        raise UsageError(f"cannot load {path}: corrupt or not a Keras model ({type(e).__name__})") from None
    return Run(run_dir, config, vocab, model)
