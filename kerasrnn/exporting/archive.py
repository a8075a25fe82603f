"""The pieces every export is made of: SavedModel endpoints, TFLite conversion, the parity and int8
checks, and the file records of the manifest.

    char_table(vocab)                  in-graph character -> id lookup (unknown characters -> <unk>)
    add_step_endpoint(archive, ...)    the "step" signature: token, state -> logits, state (any batch, or a fixed one)
    write_tflite_files(tmp, ...)       SavedModel signatures -> model.tflite (+ model_int8.tflite), or other names
    saved_step(loaded)                 a loaded SavedModel's "step" as a numpy function
    check_parity(name, what, err)      raises ExportFailed above PARITY_ATOL (against Keras or another file)
    check_int8_bpc(losses, noun)       raises ExportFailed when int8 loses more than INT8_MAX_EXTRA_BPC
    file_record(tmp, name)             bytes and sha256 of an exported file (or folder)
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf

from kerasrnn.core.cli import ExportFailed
from kerasrnn.core.config import Config
from kerasrnn.inference.evaluation import bits
from kerasrnn.models.char_model import build_step_model, state_size
from kerasrnn.ondevice import litert
from pipelines.vocab import Vocabulary

PARITY_ATOL = 1e-4  # max absolute output difference allowed between Keras, SavedModel and TFLite
INT8_MAX_EXTRA_BPC = 0.03  # the int8 model may lose at most this many bits/char to the float one


def char_table(vocab: Vocabulary) -> tf.lookup.StaticHashTable:
    """The in-graph character -> id lookup: every character of the vocabulary, anything else -> the unknown id."""
    chars = [t for t in vocab.tokens if t not in vocab.specials]
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(chars), tf.constant([vocab.id_of(c) for c in chars], tf.int64)),
        default_value=vocab.unk_id)


def add_step_endpoint(archive, model: keras.Model, config: Config, batch: int | None = None) -> None:
    """Adds the "step" signature of `model` (see `kerasrnn.ondevice.litert`) to an ExportArchive, for any
    batch (`batch` None) or for exactly `batch` rows (the browser's files, `kerasrnn.exporting.web`)."""
    step_model = build_step_model(model, config)

    def step(token, state):
        out = step_model({"token": token, "state": state}, training=False)
        return {"logits": out["logits"], "state": out["state"]}

    archive.add_endpoint(litert.STEP, step, input_signature=[
        tf.TensorSpec([batch], tf.int32, name="token"),
        tf.TensorSpec([batch, state_size(config)], tf.float32, name="state")])


def convert_tflite(saved_model: str, int8: bool, signatures: tuple[str, ...] = (litert.STEP,)) -> bytes:
    """Converts SavedModel signatures (by default "step") to TFLite with builtin ops only.

    Args:
        saved_model: the SavedModel directory.
        int8: quantize the weights to int8 (dynamic range); activations stay float.
        signatures: the signatures the `.tflite` file keeps.
    Raises:
        ExportFailed: the converter failed (for example an op outside the builtin set).
    """
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model, signature_keys=list(signatures))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    try:
        return converter.convert()
    except Exception as e:  # the converter raises ConverterError and others
        raise ExportFailed(f"TFLite conversion failed: {str(e).splitlines()[0]}") from None


def write_tflite_files(tmp: str, signatures: tuple[str, ...] = (litert.STEP,), source: str | None = None,
                       int8: bool = True, names: dict[str, str] = litert.TFLITE_FILES) -> None:
    """Converts the SavedModel in `tmp` (or `source`) to the float and (with `int8`) int8 `.tflite` files in
    `tmp`, named by `names` (kind -> file name)."""
    for kind, name in litert.tflite_files(int8, names).items():
        data = convert_tflite(source or os.path.join(tmp, litert.SAVED_MODEL), int8=kind == "int8",
                              signatures=signatures)
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)


def saved_step(loaded):
    """The "step" signature of a loaded SavedModel as (tokens, state) -> (logits, state) in numpy."""
    fn = loaded.signatures[litert.STEP]

    def step(tokens, state):
        out = fn(token=tf.constant(tokens, tf.int32), state=tf.constant(state, tf.float32))
        return out["logits"].numpy(), out["state"].numpy()

    return step


def check_parity(name: str, what: str, err: float, log, against: str = "Keras") -> None:
    """Logs one parity figure; raises ExportFailed when it exceeds PARITY_ATOL."""
    log(f"  check {name} {what} vs {against}: max |diff| {err:.2e}")
    if not err <= PARITY_ATOL:
        raise ExportFailed(f"check failed: {name} {what} differ from {against} by {err:.2e} (> {PARITY_ATOL:g})")


def check_int8_bpc(losses: dict, noun: str, names: dict[str, str] = litert.TFLITE_FILES) -> None:
    """Raises ExportFailed when the int8 file's loss (nats/char) exceeds the float file's by more than
    INT8_MAX_EXTRA_BPC bits/char (nothing to check without an int8 file); `names`: kind -> file name."""
    if names["int8"] not in losses:
        return
    extra = bits(losses[names["int8"]]) - bits(losses[names["float"]])
    if not extra <= INT8_MAX_EXTRA_BPC:
        raise ExportFailed(f"check failed: the int8 {noun} loses {extra:.4f} bits/char to the float one "
                           f"(> {INT8_MAX_EXTRA_BPC})")


def file_record(tmp: str, name: str) -> dict:
    """An exported file's (or the SavedModel folder's) bytes and sha256, for the manifest."""
    path = os.path.join(tmp, name)
    return {"bytes": litert.size_path(path), "sha256": litert.sha256_path(path)}
