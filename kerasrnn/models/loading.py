"""Loading a trained run back: its config, vocabulary and best model, for sampling, evaluation and export."""

from __future__ import annotations

import os
from dataclasses import dataclass

from kerasrnn.core.cli import UsageError
from kerasrnn.core.config import Config
from kerasrnn.core.runs import BEST_MODEL, CONFIG, VOCAB, load_config_and_vocab
from pipelines.io import DataError
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
    check_outputs(model, config, vocab, path)
    return Run(run_dir, config, vocab, model)


def check_outputs(model, config: Config, vocab: Vocabulary, path: str) -> None:
    """Checks that the model's outputs match the run's files: one logit per vocabulary token (a classifier:
    one per label).

    Raises:
        DataError: naming the file that disagrees with the model.
    """
    outputs = getattr(model, "outputs", None) or []
    width = outputs[0].shape[-1] if len(outputs) == 1 and outputs[0].shape else None
    if config.task == "surnames":
        if width != len(config.labels):
            raise DataError(f"{os.path.join(os.path.dirname(path), CONFIG)}: field 'labels' lists "
                            f"{len(config.labels)} classes, but {path} predicts {width}")
    elif width != len(vocab):
        raise DataError(f"{os.path.join(os.path.dirname(path), VOCAB)}: field 'tokens' lists {len(vocab)} tokens, "
                        f"but {path} predicts {width}")
