"""Exporting surname runs (called by `kerasrnn.tasks.registry.export_run`; `kerasrnn.exporting` writes the directory).

    classifier (--task surnames):
      saved_model/   "serving_default": surname string (batch,) -> probs float32 (batch, classes),
                     labels string (batch, 3) (the three likeliest nationalities);
                     "classify": tokens int32 (batch, max_len), 0-padded -> probs (batch, classes)
      model.tflite, model_int8.tflite   "classify", builtin ops (model_int8 unless int8=False)
    generator (--task surname-generation):
      saved_model/   "start": nationality int32 (batch,) -> state float32 (batch, S) (zeros when
                     unconditioned); "step": token, state -> logits, state (as the character models)
      model.tflite, model_int8.tflite   "start" and "step"
      model_web.tflite, model_web_int8.tflite   the same at batch 1, every shape fixed (LiteRT.js in the
                     browser: `kerasrnn.exporting.web`)
    manifest.json    labels, vocabulary (pad 0, unk, <s>, </s>), max_len, state size, and each
                     file's test figures

Checks before anything is written: SavedModel, LiteRT float and web float outputs equal Keras' within
`PARITY_ATOL` on the test names (the web int8 file's equal model_int8.tflite's), and each file's test figures are measured (the int8 classifier
may lose at most `INT8_MAX_ACCURACY_DROP` accuracy, the int8 generator `INT8_MAX_EXTRA_BPC`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from kerasrnn.core.cli import ExportFailed
from kerasrnn.core.runs import read_metrics
from kerasrnn.exporting.archive import (add_step_endpoint, char_table, check_int8_bpc, check_parity, file_record,
                                        saved_step, write_tflite_files)
from kerasrnn.exporting.web import batch1, check_web_parity, open_web_steps, web_record, write_web_files
from kerasrnn.inference.evaluation import bits, run_steps
from kerasrnn.inference.samplers import softmax
from kerasrnn.models.char_model import state_size
from kerasrnn.models.loading import Run
from kerasrnn.models.surname_models import STATE_LAYER, build_classifier, start_state
from kerasrnn.ondevice import litert
from kerasrnn.tasks.surnames.inference import names_to_ids
from kerasrnn.tasks.surnames.metrics import classification_report, next_char_counts
from kerasrnn.tasks.surnames.training import load_data
from pipelines import surnames as S
from pipelines.vocab import BOS, EOS

CLASSIFY, START = "classify", "start"  # signature names
TOP_LABELS = 3  # nationalities returned by the classifier's "serving_default"
INT8_MAX_ACCURACY_DROP = 0.01  # the int8 classifier may lose at most this much test accuracy


def _saved_model_path(tmp: str) -> str:
    return os.path.join(tmp, litert.SAVED_MODEL)


def _classify_fn(model: keras.Model):
    def classify(tokens):  # (batch, max_len) int32
        return {"probs": tf.nn.softmax(model(tokens, training=False), axis=-1)}  # (batch, classes)

    return classify


def write_classifier(run: Run, path: str) -> None:
    """Writes the classifier's SavedModel ("serving_default" on strings, "classify" on ids)."""
    config = run.config
    table, labels = char_table(run.vocab), tf.constant(config.labels)
    classify = _classify_fn(run.model)

    def serve(surname):  # (batch,) string
        chars = tf.strings.unicode_split(tf.strings.strip(surname), "UTF-8", errors="replace")
        ids = tf.cast(table.lookup(chars), tf.int32)[:, :config.max_len]  # ragged (batch, <= max_len)
        probs = classify(ids.to_tensor(0, shape=[None, config.max_len]))["probs"]
        top = tf.math.top_k(probs, k=min(TOP_LABELS, len(config.labels)))
        return {"probs": probs, "labels": tf.gather(labels, top.indices)}

    archive = keras.export.ExportArchive()
    archive.track(table)
    archive.add_endpoint("serving_default", serve, input_signature=[tf.TensorSpec([None], tf.string, name="surname")])
    archive.add_endpoint(CLASSIFY, classify,
                         input_signature=[tf.TensorSpec([None, config.max_len], tf.int32, name="tokens")])
    archive.write_out(path, verbose=False)


def write_unrolled_classifier(run: Run, path: str) -> None:
    """Writes a SavedModel with only "classify", unrolled over max_len steps: the source of the `.tflite`
    files (TFLite's builtin ops cannot loop over a dynamic batch; unrolled, the same weights compute the same)."""
    model = build_classifier(run.config, unroll=True)
    model.set_weights(run.model.get_weights())
    archive = keras.export.ExportArchive()
    archive.add_endpoint(CLASSIFY, _classify_fn(model),
                         input_signature=[tf.TensorSpec([None, run.config.max_len], tf.int32, name="tokens")])
    archive.write_out(path, verbose=False)


def add_generator_endpoints(archive, run: Run, batch: int | None = None) -> None:
    """Adds the generator's "start" (nationality -> state) and "step" signatures to an ExportArchive,
    for any batch (`batch` None) or exactly `batch` rows."""
    model, config = run.model, run.config
    size = state_size(config)

    def start(nationality):  # (batch,) int32
        if config.conditioned:
            return {"state": model.get_layer(STATE_LAYER)(nationality)}  # (batch, S)
        return {"state": tf.zeros([tf.shape(nationality)[0], size], tf.float32)}

    archive.add_endpoint(START, start, input_signature=[tf.TensorSpec([batch], tf.int32, name="nationality")])
    add_step_endpoint(archive, model, config, batch)


def write_generator(run: Run, path: str) -> None:
    """Writes the generator's SavedModel ("start": nationality -> state, "step")."""
    archive = keras.export.ExportArchive()
    add_generator_endpoints(archive, run)
    archive.write_out(path, verbose=False)


def _lite_runner(path: str, signature: str):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_path=path).get_signature_runner(signature)


def verify_classifier(run: Run, tmp: str, test_pairs, log, int8: bool = True) -> dict:
    """Checks every file against Keras on the test names; returns each file's test accuracy and macro-F1."""
    config = run.config
    names = [name for name, _ in test_pairs]
    ids = names_to_ids(names, run.vocab, config.max_len, warn=lambda line: None, pad_to=config.max_len)
    expected = softmax(np.asarray(run.model(ids, training=False)))  # (names, classes)
    loaded = tf.saved_model.load(_saved_model_path(tmp))
    served = loaded.signatures["serving_default"](surname=tf.constant(names))
    probs = {litert.SAVED_MODEL: served["probs"].numpy()}
    err = float(np.abs(probs[litert.SAVED_MODEL] - expected).max())
    check_parity(litert.SAVED_MODEL, "serving_default probabilities", err, log)
    first = [row[0].decode() for row in served["labels"].numpy()]
    if first != [config.labels[i] for i in expected.argmax(axis=-1)]:
        raise ExportFailed("check failed: serving_default's first label differs from Keras' prediction")
    for kind, name in litert.tflite_files(int8).items():
        probs[name] = _lite_runner(os.path.join(tmp, name), CLASSIFY)(tokens=ids)["probs"]
        if kind == "float":
            check_parity(name, "probabilities", float(np.abs(probs[name] - expected).max()), log)
    truth = S.class_ids(test_pairs, config.labels)
    figures = {}
    for name, p in {"keras": expected, **probs}.items():
        report = classification_report(truth, np.argmax(p, axis=-1), config.labels)
        figures[name] = {"test_accuracy": report["accuracy"], "test_macro_f1": report["macro_f1"]}
        log(f"  {name}: test accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f}")
    int8_name = litert.TFLITE_FILES["int8"]
    drop = figures["keras"]["test_accuracy"] - figures[int8_name]["test_accuracy"] if int8_name in figures else 0.0
    if not drop <= INT8_MAX_ACCURACY_DROP:
        raise ExportFailed(f"check failed: the int8 classifier loses {drop:.4f} test accuracy "
                           f"(> {INT8_MAX_ACCURACY_DROP})")
    return figures


def _loss(logits: np.ndarray, targets: np.ndarray) -> float:
    """Nats per character over the non-padding targets."""
    nll, _, count = next_char_counts(logits, targets)
    return nll / count


def verify_generator(run: Run, tmp: str, test_pairs, log, int8: bool = True) -> dict:
    """Checks every file's start states and step logits against Keras; returns each file's test loss."""
    config = run.config
    x, targets = next(iter(S.generation_dataset(test_pairs, run.vocab, config.labels, len(test_pairs),
                                                max_len=config.max_len)))  # one batch: every test name
    inputs, nationality, targets = x["ids"].numpy(), x["nationality"].numpy(), targets.numpy()
    feed = {"tokens": inputs, "nationality": nationality} if config.conditioned else {"tokens": inputs}
    expected = np.asarray(run.model(feed, training=False))  # (names, time, vocab)
    states = start_state(run.model, config, nationality)
    loaded = tf.saved_model.load(_saved_model_path(tmp))
    starts = {litert.SAVED_MODEL: loaded.signatures[START](nationality=tf.constant(nationality))["state"].numpy()}
    steps = {litert.SAVED_MODEL: saved_step(loaded)}
    for name in litert.tflite_files(int8).values():
        steps[name] = litert.LiteStep(os.path.join(tmp, name))
        starts[name] = steps[name].interpreter.get_signature_runner(START)(nationality=nationality)["state"]
    for name, step in open_web_steps(tmp, int8).items():  # batch 1: one name at a time
        start = step.interpreter.get_signature_runner(START)
        starts[name] = np.concatenate([start(nationality=nationality[i:i + 1])["state"] for i in range(len(inputs))])
        steps[name] = batch1(step)
    losses = {"keras": _loss(expected, targets)}
    real = targets > 0
    logits = {}
    for name, step in steps.items():
        logits[name] = run_steps(step, inputs, starts[name])  # (names, time, vocab)
        losses[name] = _loss(logits[name], targets)
    for name in (litert.SAVED_MODEL, litert.TFLITE_FILES["float"]):
        check_parity(name, "start states", float(np.abs(starts[name] - states).max()), log)
        check_parity(name, "step logits (test names)", float(np.abs(logits[name] - expected)[real].max()), log)
    check_web_parity(starts, states, "start states", log)
    check_web_parity(logits, expected, "step logits (test names)", log, mask=real)
    for name, nats in losses.items():
        log(f"  {name}: test {nats:.4f} nats/char = {bits(nats):.4f} bits/char")
    check_int8_bpc(losses, "generator")
    check_int8_bpc(losses, "web generator", litert.WEB_FILES)
    return {name: {"test_loss_nats": round(n, 5), "test_bpc": round(bits(n), 5)} for name, n in losses.items()}


SIGNATURES = {
    "surnames": {"serving_default": "surname string (batch,) -> probs float32 (batch, classes), "
                                    "labels string (batch, 3)",
                 CLASSIFY: "tokens int32 (batch, max_len), 0-padded -> probs float32 (batch, classes)"},
    "surname-generation": {START: "nationality int32 (batch,) -> state float32 (batch, state_size)",
                           litert.STEP: "token int32 (batch,), state float32 (batch, state_size) -> "
                                        "logits float32 (batch, vocab_size), state float32 (batch, state_size)"},
}


def export_surname_model(run: Run, tmp: str, log, started: float, int8: bool = True) -> dict:
    """Writes and verifies a surname run's export in `tmp`; returns its manifest."""
    c, vocab = run.config, run.vocab
    classifier = c.task == "surnames"
    if classifier and c.bidirectional and c.layers > 1:
        raise ExportFailed("a bidirectional classifier exports with one recurrent layer only: Keras' unrolled "
                           "backward layers (the TFLite form) misplace padded sequence outputs between layers")
    test_pairs = load_data(c)["test"]
    if classifier:
        write_classifier(run, _saved_model_path(tmp))
        unrolled = tempfile.mkdtemp(dir=tmp, prefix=".unrolled-")  # removed with tmp on failure
        write_unrolled_classifier(run, unrolled)
        write_tflite_files(tmp, (CLASSIFY,), source=unrolled, int8=int8)
        shutil.rmtree(unrolled)
    else:
        write_generator(run, _saved_model_path(tmp))
        write_tflite_files(tmp, (START, litert.STEP), int8=int8)
        write_web_files(tmp, lambda archive, batch: add_generator_endpoints(archive, run, batch),
                        (START, litert.STEP), int8=int8)
    figures = (verify_classifier if classifier else verify_generator)(run, tmp, test_pairs, log, int8=int8)
    files = {name: {**file_record(tmp, name), **figures[name]} for name in figures if name != "keras"}  # all written
    return {
        "format": "kerasrnn-export", "version": litert.MANIFEST_VERSION, "task": c.task,
        "cell": c.cell, "units": c.units, "layers": c.layers, "embedding_dim": c.embedding_dim,
        "bidirectional": c.bidirectional, "conditioned": c.conditioned, "labels": c.labels,
        "max_len": c.max_len, "state_size": 0 if classifier else state_size(c), "vocab_size": len(vocab),
        "vocabulary": vocab.tokens, "specials": vocab.specials, "unk_id": vocab.unk_id, "pad_id": vocab.pad_id,
        "bos_id": vocab.id_of(BOS), "eos_id": vocab.id_of(EOS),
        "input_note": "names are NFC-normalised and stripped in training; the classifier's serving_default "
                      "strips but does not normalise",
        "signatures": SIGNATURES[c.task],
        "test_data": {"names": len(test_pairs), "split": "pipelines/data/surnames_split.json (test)"},
        "training_command": read_metrics(run.path).get("command", ""), "parameters": run.model.count_params(),
        "keras_test": figures["keras"], "files": files,
        **({} if classifier else {"web": web_record((START, litert.STEP), int8)}),
        "config": c.to_dict(), "run": os.path.normpath(run.path),
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "export_seconds": round(time.perf_counter() - started, 1),
    }
