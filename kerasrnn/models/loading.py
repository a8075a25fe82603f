"""Loading a trained run back: its config, vocabulary and best model, for sampling, evaluation and export."""

from __future__ import annotations

import os
from dataclasses import dataclass

from kerasrnn.core.cli import UsageError
from kerasrnn.core.config import Config
from kerasrnn.core.runs import BEST_MODEL, load_config_and_vocab
from pipelines.vocab import Vocabulary


@dataclass
class Run:
    """A loaded run: its directory, config, vocabulary and best model."""

    path: str  # the run directory
    config: Config  # how it was trained
    vocab: Vocabulary  # its characters
    model: object  # the keras.Model from best.keras


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

    import kerasrnn.models.char_model  # noqa: F401  registers the custom layers (OneHot, the fast RNN layers)

    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as e:  # a truncated or foreign file raises many kinds
        raise UsageError(f"cannot load {path}: corrupt or not a Keras model ({type(e).__name__})") from None
    return Run(run_dir, config, vocab, model)
