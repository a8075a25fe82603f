"""The browser's batch-1 files: every shape fixed, the same outputs as model.tflite row by row, checked
before anything is written."""

import json
import os

import numpy as np
import pytest

from kerasrnn import export
from kerasrnn.core.cli import ExportFailed
from kerasrnn.exporting import web
from kerasrnn.inference.evaluation import run_steps
from kerasrnn.ondevice import litert


@pytest.mark.parametrize("exported", ["tiny_export", "korean_export"])  # a character model, a Korean key model
def test_web_files_are_batch_one_and_compute_what_the_tflite_files_compute(exported, request):
    from ai_edge_litert.interpreter import Interpreter

    folder = request.getfixturevalue(exported)
    manifest = json.load(open(os.path.join(folder, "manifest.json"), encoding="utf-8"))
    assert manifest["web"]["files"] == litert.WEB_FILES and manifest["web"]["batch"] == 1
    rng = np.random.default_rng(3)
    ids = rng.integers(0, manifest["vocab_size"], (3, 40)).astype(np.int32)  # three rows, unknown ids included
    for kind, name in litert.WEB_FILES.items():
        path = os.path.join(folder, name)
        web.check_static(path, (litert.STEP,))
        details = Interpreter(path).get_signature_runner("step").get_input_details()
        assert {k: list(v["shape_signature"]) for k, v in details.items()} == {
            "token": [1], "state": [1, manifest["state_size"]]}
        full = litert.LiteStep(os.path.join(folder, litert.TFLITE_FILES[kind]))
        want = run_steps(full, ids, full.zero_state(3))  # (3, 40, vocab), one batched call per character
        got = run_steps(web.batch1(litert.LiteStep(path)), ids, full.zero_state(3))  # the rows one at a time
        np.testing.assert_allclose(got, want, atol=1e-5)
        entry, reference = manifest["files"][name], manifest["files"][litert.TFLITE_FILES[kind]]
        assert entry["sha256"] == litert.sha256_path(path) and entry["bytes"] == os.path.getsize(path)
        assert entry["validation_loss_nats"] == pytest.approx(reference["validation_loss_nats"], abs=1e-4)


def test_the_static_check_refuses_a_dynamic_batch(tiny_export):
    with pytest.raises(ExportFailed, match=r"model.tflite step/\w+ has shape \[-1"):
        web.check_static(os.path.join(tiny_export, "model.tflite"), (litert.STEP,))
    with pytest.raises(ExportFailed, match="has signatures"):
        web.check_static(os.path.join(tiny_export, "model_web.tflite"), ("start", litert.STEP))


def test_an_export_whose_web_file_keeps_a_dynamic_batch_writes_nothing(tiny_run, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(web, "WEB_BATCH", None)  # the endpoints then take any batch, as model.tflite's
    assert export.main([tiny_run, "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("kerasrnn.export: error: check failed: model_web.tflite step/") and "\n" not in err
    assert os.listdir(tmp_path) == []


def test_no_int8_leaves_out_the_web_int8_file(tiny_run, tmp_path):
    out = str(tmp_path / "out")
    assert export.main([tiny_run, "--out", out, "--no-int8"]) == 0
    manifest = json.load(open(os.path.join(out, "manifest.json"), encoding="utf-8"))
    assert sorted(manifest["files"]) == ["model.tflite", "model_web.tflite", "saved_model"]
    assert manifest["web"]["files"] == {"float": "model_web.tflite"}
    assert not os.path.exists(os.path.join(out, "model_web_int8.tflite"))
