"""An export's loss measured with LiteRT alone: its `.tflite` step function fed the validation split
(or any text), in windows from a zero state or with the state carried through (numpy + LiteRT only).

This is the independent check of the figures the Keras model reports (`kerasrnn.inference.evaluation`).
"""

from __future__ import annotations

import sys

import numpy as np

from kerasrnn.core.cli import UsageError
from kerasrnn.inference.evaluation import carried_step_loss, loss_record, step_loss
from kerasrnn.ondevice.litert import Encoder, open_step
from pipelines.io import read_text


def export_text(manifest: dict, text_file: str | None) -> tuple[str, str]:
    """(text, what it is): `text_file`, or the validation split of the corpus the export was trained on."""
    if text_file:
        return read_text(text_file), text_file
    from pipelines.text import load_corpus

    config = manifest.get("config", {})
    if config.get("data") or (config.get("text") and config.get("task", "shakespeare") == "shakespeare"):
        return prepared_validation(config), "validation split"
    corpus = load_corpus(config.get("dataset", "shakespeare"), config.get("text"), config.get("data_dir"))
    return corpus.validation, "validation split"


def prepared_validation(config: dict) -> str:
    """The validation text of an export trained on a prepared corpus (--data, or --text prepared in the cache),
    decoded from its ids (its first --max-val-chars when the run capped it)."""
    from pipelines.prepare import prepare_cached
    from pipelines.shards import open_prepared

    data = open_prepared(config["data"]) if config.get("data") else \
        prepare_cached(config["text"], int(config.get("max_vocab") or 0))
    cap = int(config.get("max_val_chars") or 0) or len(data.validation)
    return data.vocab.decode(data.validation[:cap])


def evaluate_export(model_dir: str, text_file: str | None = None, carried: bool = False,
                    window: int | None = None, model: str = "float") -> dict:
    """Loss of an export's `.tflite` file (`model` "float" or "int8") in nats and bits per character.

    Args:
        carried: the state carried through the text in 16 streams, instead of windows.
        window: characters per window, each from a zero state (default: the training seq_len).
    Returns:
        The record of `kerasrnn.inference.evaluation.loss_record`, with "run" the export folder.
    """
    manifest, step = open_step(model_dir, model)
    if manifest["task"] != "shakespeare":
        raise UsageError(f"{model_dir} is a {manifest['task']} export: evaluate measures character language models "
                         f"(its figures are in its manifest.json)")
    text, data = export_text(manifest, text_file)
    encoder = Encoder(manifest)
    ids = np.asarray(encoder(text), np.int32)
    unknown = sorted({c for c, i in zip(text, ids) if i == encoder.unk_id})
    if unknown:
        print(f"warning: {len(unknown)} character(s) not in the vocabulary mapped to <unk>: "
              f"{''.join(unknown[:20])!r}", file=sys.stderr)
    seq_len = int(manifest.get("config", {}).get("seq_len", 100))
    window = window or seq_len
    size = step.state_size
    nats = carried_step_loss(step, ids, size, seq_len) if carried else step_loss(step, ids, window, size)
    return loss_record(f"{model_dir} ({model} .tflite, LiteRT)", data, text, nats, carried, window)
