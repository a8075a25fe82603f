"""The run directory: what a training run writes, creating it, and reading its config and vocabulary back.

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

from kerasrnn.core.cli import UsageError
from kerasrnn.core.config import Config
from pipelines.vocab import Vocabulary

CONFIG = "config.json"
VOCAB = "vocab.json"
BEST_MODEL = "best.keras"
BACKUP_DIR = "backup"
HISTORY = "history.csv"
LOGS_DIR = "logs"
METRICS = "metrics.json"
CURVES = "curves.png"


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


def check_new_run_dir(run_dir: str) -> None:
    """Raises UsageError when `run_dir` exists and is not empty (a new run never overwrites one)."""
    if os.path.exists(run_dir) and os.listdir(run_dir):
        raise UsageError(f"run directory {run_dir} already exists: pass --resume to continue it, "
                         f"or choose another --run-dir")


def create_run(config: Config, vocab: Vocabulary, run_dir: str) -> None:
    """Writes a new run's config and vocabulary (filling in `config.vocab_size`)."""
    check_new_run_dir(run_dir)
    config.vocab_size = len(vocab)
    os.makedirs(run_dir, exist_ok=True)
    config.save(os.path.join(run_dir, CONFIG))
    vocab.save(os.path.join(run_dir, VOCAB))


def reopen_run(run_dir: str) -> tuple[Config, Vocabulary, dict]:
    """The saved config, vocabulary and metrics record of an interrupted run (they win over the flags).

    Raises:
        UsageError: no run there, or it has finished.
    """
    if not os.path.exists(os.path.join(run_dir, CONFIG)):
        raise UsageError(f"nothing to resume: {run_dir} holds no {CONFIG}")
    config, vocab = load_config_and_vocab(run_dir)
    record = read_metrics(run_dir)
    if "final" in record:
        raise UsageError(f"{run_dir} has finished all {config.epochs} epochs; nothing to resume")
    return config, vocab, record
