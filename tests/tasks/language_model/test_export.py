"""Export: SavedModel and TFLite files that match Keras, load without kerasrnn, and fail safely."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from kerasrnn import export
from kerasrnn.exporting import archive
from kerasrnn.inference.evaluation import run_steps
from kerasrnn.ondevice import litert
from kerasrnn.tasks.registry import export_run
from kerasrnn.core.config import Config
from kerasrnn.models.char_model import build_model
from kerasrnn.models.loading import load_run
from pipelines.text import load_corpus
from pipelines.vocab import Vocabulary
from conftest import BLOCK_IMPORTS



def make_run(path, text_file, cell="gru", layers=1, units=16, embedding_dim=8) -> str:
    """An untrained run directory (random weights give distinct logits to compare)."""
    config = Config(cell=cell, layers=layers, units=units, embedding_dim=embedding_dim, seq_len=32,
                    text=text_file, seed=7)
    vocab = Vocabulary.build(load_corpus(text_file=text_file).train)
    config.vocab_size = len(vocab)
    os.makedirs(path)
    config.save(os.path.join(path, "config.json"))
    vocab.save(os.path.join(path, "vocab.json"))
    build_model(config).save(os.path.join(path, "best.keras"))
    return str(path)


@pytest.mark.parametrize("cell,layers,embedding_dim", [
    ("simplernn", 1, 8), ("simplernn", 2, 8), ("lstm", 1, 8), ("lstm", 2, 0), ("gru", 1, 0), ("gru", 2, 8)])
def test_tflite_and_saved_model_steps_match_keras(tmp_path, tiny_text, cell, layers, embedding_dim):
    run_dir = make_run(tmp_path / "run", tiny_text, cell, layers, embedding_dim=embedding_dim)
    # int8 files (two more conversions and checks) for the two-layer models only: each cell's still passes its check
    manifest = export_run(run_dir, str(tmp_path / "out"), log=lambda *_: None, int8=layers == 2)
    assert ("model_int8.tflite" in manifest["files"]) == (layers == 2)
    run = load_run(run_dir)
    ids = run.vocab.encode("First Citizen:\nBefore we proceed any further, hear me speak.")
    expected = run.model(ids[None], training=False).numpy()  # (1, time, vocab)
    import tensorflow as tf

    saved = tf.saved_model.load(str(tmp_path / "out" / "saved_model"))
    tflite = litert.LiteStep(str(tmp_path / "out" / "model.tflite"))
    for step in (archive.saved_step(saved), tflite):
        got = run_steps(step, ids[None], np.zeros((1, manifest["state_size"]), np.float32))
        np.testing.assert_allclose(got, expected, atol=1e-4)
    batch = run_steps(tflite, np.stack([ids, ids[::-1]]), tflite.zero_state(2))  # a dynamic batch
    np.testing.assert_allclose(batch[:1], expected, atol=1e-4)
    per_layer = 2 if cell == "lstm" else 1
    assert manifest["state_size"] == layers * per_layer * 16 == tflite.state_size


def test_manifest_describes_every_file(tiny_export, tiny_run):
    manifest = json.load(open(os.path.join(tiny_export, "manifest.json")))
    mask = os.umask(0)
    os.umask(mask)
    for path in (tiny_export, os.path.join(tiny_export, "manifest.json"), os.path.join(tiny_run, "best.keras")):
        want = (0o777 if os.path.isdir(path) else 0o666) & ~mask
        assert os.stat(path).st_mode & 0o777 == want, path  # readable by others, as the umask allows
    vocab = json.load(open(os.path.join(tiny_run, "vocab.json")))
    assert manifest["vocabulary"] == vocab["tokens"] and manifest["unk_id"] == vocab["unk_id"]
    assert sorted(manifest["files"]) == ["model.tflite", "model_int8.tflite", "model_web.tflite",
                                         "model_web_int8.tflite", "saved_model"]
    for name, entry in manifest["files"].items():
        path = os.path.join(tiny_export, name)
        assert entry["sha256"] == litert.sha256_path(path) and entry["bytes"] == litert.size_path(path)
    files = manifest["files"]
    keras_loss = json.load(open(os.path.join(tiny_run, "metrics.json")))["final"]["val_loss_nats"]
    assert files["model.tflite"]["validation_loss_nats"] == pytest.approx(keras_loss, abs=1e-3)
    assert files["model_int8.tflite"]["bytes"] < files["model.tflite"]["bytes"]
    weights = os.path.join(tiny_export, "saved_model", "variables", "variables.data-00000-of-00001")
    assert os.path.getsize(weights) < 4 * manifest["parameters"] + 4096  # each weight saved once
    assert files["model_int8.tflite"]["validation_bpc"] - files["model.tflite"]["validation_bpc"] <= 0.03


def test_saved_model_serves_strings_without_kerasrnn_or_keras(tiny_export, tmp_path):
    script = BLOCK_IMPORTS.format(names=["keras", "tf_keras", "kerasrnn", "pipelines"]) + f"""
import json
import tensorflow as tf
m = tf.saved_model.load({os.path.join(tiny_export, "saved_model")!r})
out = m.signatures["serving_default"](prefix=tf.constant(["ROMEO: wh", "", "caf\\u00e9 \\u2603"]))
print(out["next_chars"].shape, out["probs"].shape)
print(json.dumps([[c.decode() for c in out["next_chars"].numpy()[0]], out["probs"].numpy()[0].tolist()]))
print(sorted(m for m in sys.modules if m.split(".")[0] in ("keras", "kerasrnn", "pipelines") and sys.modules[m]))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    shapes, (chars, probs), keras_loaded = proc.stdout.splitlines()[0], json.loads(proc.stdout.splitlines()[1]), \
        proc.stdout.splitlines()[2]
    assert shapes == "(3, 5) (3, 5)" and keras_loaded == "[]"  # TensorFlow alone serves it
    assert len(chars) == 5 and all(len(c) == 1 for c in chars)
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6


def test_failed_check_writes_nothing(tiny_run, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(archive, "INT8_MAX_EXTRA_BPC", -1.0)  # no int8 model can pass this
    assert export.main([tiny_run, "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("kerasrnn.export: error: check failed: the int8 model") and "\n" not in err
    assert os.listdir(tmp_path) == []


def test_interrupted_export_leaves_nothing_behind(tiny_run, tmp_path, monkeypatch):
    real = archive.convert_tflite

    def interrupted(saved_model, int8, **kwargs):
        if int8:
            raise KeyboardInterrupt
        return real(saved_model, int8, **kwargs)

    monkeypatch.setattr(archive, "convert_tflite", interrupted)
    assert export.main([tiny_run, "--out", str(tmp_path / "out")]) == 130
    assert os.listdir(tmp_path) == []


def test_export_refuses_to_overwrite_without_force(tiny_export, tiny_run, capsys):
    before = litert.sha256_path(os.path.join(tiny_export, "manifest.json"))
    assert export.main([tiny_run, "--out", tiny_export]) == 2
    assert "already exists" in capsys.readouterr().err
    assert litert.sha256_path(os.path.join(tiny_export, "manifest.json")) == before


def test_export_of_a_missing_run_is_one_line(tmp_path, capsys):
    assert export.main([str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == f"kerasrnn.export: error: no such run directory: {tmp_path / 'nope'}"
