"""Loading a trained run back: its config, vocabulary and best model, for sampling, evaluation and export."""

from __future__ import annotations

import os
from dataclasses import dataclass

from kerasrnn.core.cli import UsageError
from kerasrnn.core.config import Config
from kerasrnn.core.files import check_model_file
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
    if not os.path.lexists(path):
        raise UsageError(f"{run_dir} has no {BEST_MODEL} yet (has training finished an epoch?)")
    model = load_keras_file(path)
    check_structure(model, config, path)
    check_outputs(model, config, vocab, path)
    return Run(run_dir, config, vocab, model)


def load_keras_file(path: str):
    """A `.keras` model file, checked first (`core.files.check_model_file`: a regular file of sane size, no zip
    bomb) and loaded in Keras' safe mode (no code from the file runs).

    Raises:
        UsageError: naming the real cause (not a file, unreadable, a Lambda layer, corrupt).
    """
    check_model_file(path)
    import keras

    import kerasrnn.models.char_model  # noqa: F401  registers the custom layers (OneHot, the fast RNN layers)

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except PermissionError:
        raise UsageError(f"cannot read {path}: permission denied") from None
    except Exception as e:  # a truncated or foreign file raises many kinds
        text = str(e)
        if "safe_mode" in text or "Lambda" in text:
            raise UsageError(f"refusing to load {path}: it holds a Lambda layer (Python code), which safe mode "
                             f"never runs; kerasrnn models have none") from None
        raise UsageError(f"cannot load {path}: corrupt or not a Keras model ({type(e).__name__})") from None


def _rnn_layers(model) -> list[tuple[str, object]]:
    """The model's recurrent layers in order, as (name, layer); a Bidirectional wrapper ("BiGRU_1") stands for
    its forward layer, under the wrapped layer's name ("GRU_1")."""
    found = []
    for layer in getattr(model, "layers", []):
        inner = getattr(layer, "forward_layer", layer)
        if hasattr(inner, "cell") and hasattr(inner, "units"):
            found.append((layer.name.removeprefix("Bi") if inner is not layer else layer.name, inner))
    return found


def check_structure(model, config: Config, path: str) -> None:
    """Checks that the model is the one config.json describes: its recurrent layers (cell, count, units, names)
    and its input layer.

    Raises:
        DataError: one line naming what disagrees.
    """
    from kerasrnn.models.char_model import LAYER_NAMES, input_layer_name, rnn_layer_name

    config_path = os.path.join(os.path.dirname(path), CONFIG)
    named = _rnn_layers(model)
    layers = [layer for _, layer in named]
    found = ", ".join(f"{type(layer).__name__.removeprefix('Fast')} of {layer.units}" for layer in layers) or "none"
    expected = [rnn_layer_name(config, i) for i in range(config.layers)]
    names = [name for name, _ in named]
    kinds = {type(layer).__name__.removeprefix("Fast") for layer in layers}
    if names != expected or kinds != {LAYER_NAMES[config.cell]} or \
            any(layer.units != config.units for layer in layers):
        raise DataError(f"{config_path} disagrees with {path}: the config says {config.layers} "
                        f"{LAYER_NAMES[config.cell]} layer(s) of {config.units} units, the model has {found} "
                        f"(edited, or a best.keras from another run)")
    wanted = input_layer_name(config)
    try:
        first = model.get_layer(wanted)
    except ValueError:
        raise DataError(f"{config_path} disagrees with {path}: the config's embedding_dim "
                        f"{config.embedding_dim} means a layer {wanted!r}, which the model lacks") from None
    if config.embedding_dim and getattr(first, "output_dim", config.embedding_dim) != config.embedding_dim:
        raise DataError(f"{config_path} disagrees with {path}: embedding_dim is {config.embedding_dim} in the "
                        f"config, {first.output_dim} in the model")


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
