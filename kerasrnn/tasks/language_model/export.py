"""Exporting a character language model: SavedModel and TFLite files, verified.

    export_char_model(run, tmp)
      1. builds the step model from the run's best.keras (`char_model.build_step_model`),
      2. writes a SavedModel with `keras.export.ExportArchive`: "serving_default"
         (prefix strings -> five next characters and their probabilities, the vocabulary
         lookup inside the graph) and "step" (token, state -> logits, state),
      3. converts "step" to TFLite with builtin ops only: float32 and (unless `int8=False`)
         dynamic-range int8, and the same at batch 1 for the browser (`kerasrnn.exporting.web`),
      4. checks, on the validation split: Keras, SavedModel, LiteRT float and web float logits agree
         (`PARITY_ATOL`), the web int8 file agrees with model_int8.tflite, "serving_default" agrees
         with Keras, and each int8 model loses at most `INT8_MAX_EXTRA_BPC` bits/char,
      5. returns the manifest; `kerasrnn.exporting.directory` writes it and renames the
         temporary directory into place (if anything fails, nothing is written).
"""

from __future__ import annotations

import os
import time

import keras
import numpy as np
import tensorflow as tf

from kerasrnn.core.cli import ExportFailed
from kerasrnn.core.config import Config
from kerasrnn.core.runs import read_metrics, run_data
from kerasrnn.exporting.archive import (PARITY_ATOL, add_step_endpoint, char_table, check_int8_bpc, check_parity,
                                        file_record, saved_step, write_tflite_files)
from kerasrnn.exporting.web import batch1, check_web_parity, open_web_steps, web_record, write_web_files
from kerasrnn.inference.evaluation import bits, evaluate_loss, run_steps, step_loss
from kerasrnn.inference.samplers import softmax
from kerasrnn.models.char_model import state_size
from kerasrnn.models.loading import Run
from kerasrnn.ondevice import litert
from pipelines.vocab import Vocabulary

START_TEXT = "\n"  # every prefix is read as if it followed this text (the start of a line)
TOP_CHARS = 5  # next characters returned by "serving_default"
PARITY_CHARS = 200  # characters of the fixed parity text (the start of the validation split)


def _serving_fn(model: keras.Model, vocab: Vocabulary):
    """The "serving_default" function: prefixes (batch,) string -> top characters and probabilities."""
    table = char_table(vocab)
    tokens = tf.constant(vocab.tokens)
    banned = np.zeros(len(vocab), np.float32)
    banned[[vocab.id_of(t) for t in vocab.specials]] = -np.inf

    def serve(prefix):
        text = tf.strings.join([START_TEXT, prefix])  # (batch,)
        ids = table.lookup(tf.strings.unicode_split(text, "UTF-8", errors="replace"))  # ragged (batch, None)
        ids = tf.cast(ids, tf.int32)
        logits = model(ids.to_tensor(0), training=False)  # (batch, time, vocab); padding comes after
        last = tf.gather(logits, ids.row_lengths() - 1, batch_dims=1) + banned  # (batch, vocab)
        top = tf.math.top_k(tf.nn.softmax(last), k=min(TOP_CHARS, len(vocab) - len(vocab.specials)))
        return {"next_chars": tf.gather(tokens, top.indices), "probs": top.values}

    return serve, table


def write_saved_model(model: keras.Model, config: Config, vocab: Vocabulary, path: str) -> None:
    """Writes the SavedModel with the "serving_default" and "step" signatures (see the module doc)."""
    serve, table = _serving_fn(model, vocab)
    archive = keras.export.ExportArchive()
    archive.track(table)  # the endpoints' variables are tracked by add_endpoint, once each
    archive.add_endpoint("serving_default", serve,
                         input_signature=[tf.TensorSpec([None], tf.string, name="prefix")])
    add_step_endpoint(archive, model, config)
    archive.write_out(path, verbose=False)


def verify(run: Run, tmp: str, parity_text: str, val_ids: np.ndarray, log, int8: bool = True) -> dict:
    """Runs the export's checks (`int8`: the export has an int8 file); returns each file's validation
    loss in nats/char.

    Raises:
        ExportFailed: naming the check that failed.
    """
    config, vocab, size = run.config, run.vocab, state_size(run.config)
    ids = vocab.encode(START_TEXT + parity_text)  # (time,)
    expected = run.model(ids[None], training=False).numpy()  # (1, time, vocab)
    loaded = tf.saved_model.load(os.path.join(tmp, litert.SAVED_MODEL))
    steps = {litert.SAVED_MODEL: saved_step(loaded)}
    for name in litert.tflite_files(int8).values():
        steps[name] = litert.LiteStep(os.path.join(tmp, name))
    zeros = np.zeros((1, size), np.float32)
    for name in (litert.SAVED_MODEL, litert.TFLITE_FILES["float"]):
        got = run_steps(steps[name], ids[None], zeros)
        check_parity(name, f"step logits on {len(ids)} characters", float(np.abs(got - expected).max()), log)
    steps.update({name: batch1(step) for name, step in open_web_steps(tmp, int8).items()})
    outputs = {name: run_steps(steps[name], ids[None], zeros) for name in (*litert.WEB_FILES.values(),
                                                                          litert.TFLITE_FILES["int8"]) if name in steps}
    check_web_parity(outputs, expected, f"step logits on {len(ids)} characters", log)
    serve = loaded.signatures["serving_default"](prefix=tf.constant([parity_text, parity_text[:7]]))
    for row, length in enumerate((len(ids), 8)):
        logits = expected[0, length - 1].astype(np.float64)
        logits[[vocab.id_of(t) for t in vocab.specials]] = -np.inf
        probs = softmax(logits)
        want = np.argsort(-probs)[:TOP_CHARS]
        got_chars = [c.decode("utf-8") for c in serve["next_chars"].numpy()[row]]
        err = float(np.abs(serve["probs"].numpy()[row] - probs[want]).max())
        if got_chars != [vocab.tokens[i] for i in want] or not err <= PARITY_ATOL:
            raise ExportFailed(f"check failed: serving_default disagrees with Keras (chars {got_chars}, "
                               f"max |prob diff| {err:.2e})")
    log("  check serving_default top characters and probabilities vs Keras: equal")
    losses = {"keras": evaluate_loss(run.model, val_ids, config.seq_len)}
    for name, step in steps.items():
        losses[name] = step_loss(step, val_ids, config.seq_len, size)
        log(f"  {name}: validation {losses[name]:.4f} nats/char = {bits(losses[name]):.4f} bits/char")
    check_int8_bpc(losses, "model")
    check_int8_bpc(losses, "web model", litert.WEB_FILES)
    return losses


def manifest_for(run: Run, tmp: str, corpus, losses: dict, seconds: float) -> dict:
    """The manifest.json record of an export (see `kerasrnn.ondevice.litert`)."""
    c, vocab = run.config, run.vocab
    record = read_metrics(run.path)
    files = {}
    written = (n for n in (*litert.TFLITE_FILES.values(), *litert.WEB_FILES.values()) if n in losses)
    for name in (litert.SAVED_MODEL, *written):
        files[name] = {**file_record(tmp, name), "validation_loss_nats": round(losses[name], 5),
                       "validation_bpc": round(bits(losses[name]), 5)}
    return {
        "format": "kerasrnn-export", "version": litert.MANIFEST_VERSION,
        "cell": c.cell, "units": c.units, "layers": c.layers, "embedding_dim": c.embedding_dim,
        "state_size": state_size(c), "vocab_size": len(vocab),
        "vocabulary": vocab.tokens, "specials": vocab.specials, "unk_id": vocab.unk_id,
        "start_text": START_TEXT,
        "signatures": {"step": "token int32 (batch,), state float32 (batch, state_size) -> "
                               "logits float32 (batch, vocab_size), state float32 (batch, state_size)",
                       "serving_default": f"prefix string (batch,) -> next_chars string (batch, {TOP_CHARS}), "
                                          f"probs float32 (batch, {TOP_CHARS})"},
        "training_data": {"source": corpus.source, "train_chars": len(corpus.train),
                          "validation_chars": len(corpus.validation),
                          "split": "first 90% trains, last 10% validates"},
        "training_command": record.get("command", ""), "parameters": run.model.count_params(),
        "keras_validation_loss_nats": round(losses["keras"], 5),
        "keras_validation_bpc": round(bits(losses["keras"]), 5),
        "files": files, "web": web_record(int8=litert.TFLITE_FILES["int8"] in losses),
        "config": c.to_dict(), "run": os.path.normpath(run.path),
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "export_seconds": round(seconds, 1),
    }


def write_model_files(run: Run, tmp: str, int8: bool = True) -> None:
    """Writes a language model's files in `tmp` (steps 2 and 3 above): the SavedModel, `model.tflite`
    (and with `int8` `model_int8.tflite`) and the browser's batch-1 copies (`kerasrnn.exporting.web`)."""
    write_saved_model(run.model, run.config, run.vocab, os.path.join(tmp, litert.SAVED_MODEL))
    write_tflite_files(tmp, int8=int8)
    write_web_files(tmp, lambda archive, batch: add_step_endpoint(archive, run.model, run.config, batch), int8=int8)


def export_char_model(run: Run, tmp: str, log, started: float, int8: bool = True) -> dict:
    """Writes and verifies a character language model's export in `tmp`; returns its manifest."""
    corpus = run_data(run.config, run.path, run.vocab)  # ids, streamed from a prepared corpus
    cap = run.config.max_val_chars or len(corpus.validation)
    val_ids = corpus.validation[:cap]  # (n,) int32
    write_model_files(run, tmp, int8=int8)
    losses = verify(run, tmp, run.vocab.decode(val_ids[:PARITY_CHARS]), val_ids, log, int8=int8)
    return manifest_for(run, tmp, corpus, losses, time.perf_counter() - started)
