"""Exporting a trained run: SavedModel and TFLite files, verified, then renamed into place.

    export_run(run_dir, out)
      1. builds the step model from the run's best.keras (`models.build_step_model`),
      2. writes a SavedModel with `keras.export.ExportArchive`: "serving_default"
         (prefix strings -> five next characters and their probabilities, the vocabulary
         lookup inside the graph) and "step" (token, state -> logits, state),
      3. converts "step" to TFLite with builtin ops only: float32 and (unless `int8=False`)
         dynamic-range int8,
      4. checks, on the validation split: Keras, SavedModel and LiteRT float logits agree
         (`PARITY_ATOL`), "serving_default" agrees with Keras, and the int8 model loses at most
         `INT8_MAX_EXTRA_BPC` bits/char,
      5. writes manifest.json, and renames the temporary directory to `out`.
    If anything fails, the temporary directory is removed and `out` is left as it was.
    Surname runs export the same way, with their own signatures (`kerasrnn.export_surnames`).
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from kerasrnn import litert
from kerasrnn.callbacks import bits
from kerasrnn.cli import ExportFailed, UsageError
from kerasrnn.config import SURNAME_TASKS, Config
from kerasrnn.evaluate import evaluate_loss
from kerasrnn.models import build_step_model, state_size
from kerasrnn.runs import Run, load_run, read_metrics
from kerasrnn.samplers import log_softmax, softmax
from pipelines.io import atomic_write_json, public_mode
from pipelines.text import load_corpus, make_windows
from pipelines.vocab import Vocabulary

START_TEXT = "\n"  # every prefix is read as if it followed this text (the start of a line)
TOP_CHARS = 5  # next characters returned by "serving_default"
PARITY_CHARS = 200  # characters of the fixed parity text (the start of the validation split)
PARITY_ATOL = 1e-4  # max absolute logit difference allowed between Keras, SavedModel and TFLite
INT8_MAX_EXTRA_BPC = 0.03  # the int8 model may lose at most this many bits/char to the float one
LOSS_BATCH = 1024  # windows per step call when measuring a file's validation loss


def char_table(vocab: Vocabulary) -> tf.lookup.StaticHashTable:
    """The in-graph character -> id lookup: every character of the vocabulary, anything else -> the unknown id."""
    chars = [t for t in vocab.tokens if t not in vocab.specials]
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(chars), tf.constant([vocab.id_of(c) for c in chars], tf.int64)),
        default_value=vocab.unk_id)


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


def add_step_endpoint(archive, model: keras.Model, config: Config) -> None:
    """Adds the "step" signature of `model` (see `kerasrnn.litert`) to an ExportArchive."""
    step_model = build_step_model(model, config)

    def step(token, state):
        out = step_model({"token": token, "state": state}, training=False)
        return {"logits": out["logits"], "state": out["state"]}

    archive.add_endpoint(litert.STEP, step, input_signature=[
        tf.TensorSpec([None], tf.int32, name="token"),
        tf.TensorSpec([None, state_size(config)], tf.float32, name="state")])


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


def run_steps(step, ids: np.ndarray, state: np.ndarray) -> np.ndarray:
    """Feeds id columns through a step function carrying the state.

    Args:
        step: (tokens (batch,), state (batch, S)) -> (logits (batch, vocab), state).
        ids: (batch, time) ids.
        state: (batch, S) start state.
    Returns:
        Logits (batch, time, vocab).
    """
    out = []
    for t in range(ids.shape[1]):
        logits, state = step(ids[:, t], state)
        out.append(np.asarray(logits))
    return np.stack(out, axis=1)


def step_loss(step, ids: np.ndarray, seq_len: int, size: int) -> float:
    """Validation loss in nats/char through a step function, on the windows `evaluate_loss` uses.

    Each window starts from a zero state, as in training and in `evaluate_loss`, so the
    figure is directly comparable with the Keras model's.
    """
    windows = make_windows(ids, min(seq_len, len(ids) - 1))  # (windows, seq_len + 1)
    total, count = 0.0, 0
    for start in range(0, len(windows), LOSS_BATCH):
        chunk = windows[start:start + LOSS_BATCH]
        log_probs = log_softmax(run_steps(step, chunk[:, :-1], np.zeros((len(chunk), size), np.float32)))
        picked = np.take_along_axis(log_probs, chunk[:, 1:, None].astype(np.int64), axis=-1)
        total -= float(picked.sum())
        count += picked.size
    return total / count


def _saved_step(loaded):
    fn = loaded.signatures[litert.STEP]

    def step(tokens, state):
        out = fn(token=tf.constant(tokens, tf.int32), state=tf.constant(state, tf.float32))
        return out["logits"].numpy(), out["state"].numpy()

    return step


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
    steps = {litert.SAVED_MODEL: _saved_step(loaded)}
    for name in litert.tflite_files(int8).values():
        steps[name] = litert.LiteStep(os.path.join(tmp, name))
    for name in (litert.SAVED_MODEL, litert.TFLITE_FILES["float"]):
        got = run_steps(steps[name], ids[None], np.zeros((1, size), np.float32))
        err = float(np.abs(got - expected).max())
        log(f"  check {name} step logits vs Keras on {len(ids)} characters: max |diff| {err:.2e}")
        if not err <= PARITY_ATOL:
            raise ExportFailed(f"check failed: {name} logits differ from Keras by {err:.2e} "
                               f"(> {PARITY_ATOL:g}) on the parity text")
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
    return losses


def check_int8_bpc(losses: dict, noun: str) -> None:
    """Raises ExportFailed when the int8 file's loss (nats/char) exceeds the float file's by more than
    INT8_MAX_EXTRA_BPC bits/char (nothing to check without an int8 file)."""
    if litert.TFLITE_FILES["int8"] not in losses:
        return
    extra = bits(losses[litert.TFLITE_FILES["int8"]]) - bits(losses[litert.TFLITE_FILES["float"]])
    if not extra <= INT8_MAX_EXTRA_BPC:
        raise ExportFailed(f"check failed: the int8 {noun} loses {extra:.4f} bits/char to the float one "
                           f"(> {INT8_MAX_EXTRA_BPC})")


def file_record(tmp: str, name: str) -> dict:
    """An exported file's (or the SavedModel folder's) bytes and sha256, for the manifest."""
    path = os.path.join(tmp, name)
    return {"bytes": litert.size_path(path), "sha256": litert.sha256_path(path)}


def manifest_for(run: Run, tmp: str, corpus, losses: dict, seconds: float) -> dict:
    """The manifest.json record of an export (see `kerasrnn.litert`)."""
    c, vocab = run.config, run.vocab
    record = read_metrics(run.path)
    files = {}
    for name in (litert.SAVED_MODEL, *(n for n in litert.TFLITE_FILES.values() if n in losses)):  # those written
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
        "files": files, "config": c.to_dict(), "run": os.path.normpath(run.path),
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "export_seconds": round(seconds, 1),
    }


def _partial_prefix(out: str) -> str:
    return os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.partial-")


def write_tflite_files(tmp: str, signatures: tuple[str, ...] = (litert.STEP,), source: str | None = None,
                       int8: bool = True) -> None:
    """Converts the SavedModel in `tmp` (or `source`) to the float and (with `int8`) int8 `.tflite` files in `tmp`."""
    for kind, name in litert.tflite_files(int8).items():
        data = convert_tflite(source or os.path.join(tmp, litert.SAVED_MODEL), int8=kind == "int8",
                              signatures=signatures)
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)


def export_char_model(run: Run, tmp: str, log, started: float, int8: bool = True) -> dict:
    """Writes and verifies a character language model's export in `tmp`; returns its manifest."""
    corpus = load_corpus(run.config.dataset, run.config.text, run.config.data_dir)
    val_ids = run.vocab.encode(corpus.validation)
    write_saved_model(run.model, run.config, run.vocab, os.path.join(tmp, litert.SAVED_MODEL))
    write_tflite_files(tmp, int8=int8)
    losses = verify(run, tmp, corpus.validation[:PARITY_CHARS], val_ids, log, int8=int8)
    return manifest_for(run, tmp, corpus, losses, time.perf_counter() - started)


def export_run(run_dir: str, out: str, force: bool = False, log=print, int8: bool = True) -> dict:
    """Exports a run to `out` (see the module doc; surname runs: `kerasrnn.export_surnames`).

    Args:
        int8: also write and check `model_int8.tflite` (off: the float `.tflite` only, a smaller export).

    Returns:
        The manifest.
    Raises:
        UsageError: a bad run directory, or `out` exists and `force` is off.
        ExportFailed: a conversion or a check failed; nothing was written.
    """
    out = os.path.abspath(out)
    if os.path.exists(out) and not force:
        raise UsageError(f"{out} already exists: pass --force to replace it")
    run = load_run(run_dir)
    if run.config.task in SURNAME_TASKS:
        from kerasrnn.export_surnames import export_surname_model as write
    else:
        write = export_char_model
    os.makedirs(os.path.dirname(out), exist_ok=True)
    for stale in glob.glob(glob.escape(_partial_prefix(out)) + "*"):  # left by a killed export
        shutil.rmtree(stale, ignore_errors=True)
    tmp = tempfile.mkdtemp(prefix=os.path.basename(_partial_prefix(out)), dir=os.path.dirname(out))
    public_mode(tmp)
    started = time.perf_counter()
    try:
        log(f"exporting {run_dir} ({run.config.task}: {run.config.cell}, {run.config.layers}x{run.config.units}) "
            f"to {out}")
        manifest = write(run, tmp, log, started, int8=int8)
        atomic_write_json(os.path.join(tmp, litert.MANIFEST), manifest)
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _replace_dir(tmp: str, out: str) -> None:
    """Renames `tmp` to `out`; an existing `out` is moved aside first and removed after."""
    if not os.path.exists(out):
        os.rename(tmp, out)
        return
    old = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.old-", dir=os.path.dirname(out))
    os.rmdir(old)
    os.rename(out, old)
    os.rename(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
