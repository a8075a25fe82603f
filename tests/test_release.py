"""The release models in exported/: intact, within their size budget, and as good as documented."""

import os

import numpy as np
import pytest

from kerasrnn.ondevice import litert
from kerasrnn.ondevice.autocomplete import Autocompleter
from conftest import ROOT

NANOGPT_NATS = 1.4697  # nanoGPT's shakespeare_char validation loss, its README
RELEASES = ["shakespeare-gru", "shakespeare-lstm", "shakespeare-simplernn", "korean-gru"]


@pytest.mark.parametrize("name", RELEASES)
def test_release_model_is_intact_and_small(name):
    folder = os.path.join(ROOT, "exported", name)
    manifest = litert.load_manifest(folder)
    assert manifest["cell"] == name.split("-")[1]
    for file in manifest["files"]:
        litert.verify_file(folder, manifest, file)  # raises on a checksum mismatch
    assert manifest["files"]["model.tflite"]["bytes"] <= 5_000_000
    float_bpc = manifest["files"]["model.tflite"]["validation_bpc"]
    assert manifest["files"]["model_int8.tflite"]["validation_bpc"] <= float_bpc + 0.03
    assert manifest["web"]["files"] == litert.WEB_FILES  # the browser's batch-1 copies (web/)
    for kind, name in litert.WEB_FILES.items():
        web, full = manifest["files"][name], manifest["files"][litert.TFLITE_FILES[kind]]
        assert web["bytes"] <= full["bytes"] and abs(web["validation_bpc"] - full["validation_bpc"]) <= 1e-4
    _, step = litert.open_step(folder, "float")
    logits, state = step(np.zeros(3, np.int32), step.zero_state(3))
    assert logits.shape == (3, manifest["vocab_size"]) and state.shape == (3, manifest["state_size"])


def test_best_release_model_reaches_the_target_and_completes_words():
    folder = os.path.join(ROOT, "exported", "shakespeare-gru")
    assert litert.load_manifest(folder)["files"]["model.tflite"]["validation_loss_nats"] <= NANOGPT_NATS
    completer = Autocompleter(folder)
    completer.feed("ROMEO: wh")
    assert [s.word for s in completer.suggestions(3)][0] == "what"
    completer.reset()
    completer.feed("My gracious lo")
    assert completer.suggestions(1)[0].word == "lord"


def test_best_release_model_beats_nanogpt_by_an_independent_litert_reading():
    """nanoGPT's measure, written here from scratch with the LiteRT runtime alone (none of kerasrnn's
    evaluation code): windows of 256 characters of the last 10% of the corpus, each from a zero state,
    every position predicted from the characters before it in its window."""
    import json

    from ai_edge_litert.interpreter import Interpreter

    folder = os.path.join(ROOT, "exported", "shakespeare-gru")
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    with open(os.path.join(ROOT, "pipelines", "data", "tinyshakespeare.txt"), encoding="utf-8") as f:
        text = f.read()
    validation = text[int(len(text) * 0.9):]
    index = {c: i for i, c in enumerate(manifest["vocabulary"])}
    ids = np.array([index.get(c, manifest["unk_id"]) for c in validation], np.int32)
    count = (len(ids) - 1) // 256
    windows = ids[np.arange(count)[:, None] * 256 + np.arange(257)[None, :]]  # (435, 257), 256 apart
    step = Interpreter(os.path.join(folder, "model.tflite")).get_signature_runner("step")
    state, nats = np.zeros((count, manifest["state_size"]), np.float32), 0.0
    for t in range(256):
        out = step(token=windows[:, t], state=state)
        logits, state = out["logits"].astype(np.float64), out["state"]
        top = logits.max(axis=1)
        log_z = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
        nats += float((log_z - logits[np.arange(count), windows[:, t + 1]]).sum())
    loss = nats / (count * 256)
    assert loss <= NANOGPT_NATS  # the README: 1.4447 (nanoGPT 1.4697)
    assert abs(loss - manifest["files"]["model.tflite"]["validation_loss_nats"]) <= 1e-3  # the export's own reading


def test_korean_release_model_beats_the_ngram_and_completes_hangul():
    folder = os.path.join(ROOT, "exported", "korean-gru")
    manifest = litert.load_manifest(folder)
    assert manifest["input"] == "keys-2beolsik" and len(manifest["keys"]) == 33
    files = manifest["files"]
    for split in ("validation", "test"):
        assert files["model.tflite"][f"{split}_bits_per_char"] < manifest["baseline_5gram"][split]["bits_per_char"]
        assert files["model_int8.tflite"][f"{split}_bits_per_char"] <= files["model.tflite"][f"{split}_bits_per_char"] + 0.03
    assert files["model.tflite"]["test_bits_per_char"] < 3.15  # documented: 3.1422 (the 5-gram: 3.3858)
    assert litert.size_path(folder) <= 5_000_000  # the whole folder, the web files and the manifest included
    completer = Autocompleter(folder)
    completer.feed("기")
    assert [s.word for s in completer.suggestions(3)] == ["기본", "기준", "기존"]  # as documented
    assert completer.suggestions(1, words=2)[0].word == "기본 설정"
    completer.reset()
    completer.feed("깋")  # an open syllable: ㄱ ㅣ ㅎ, then a vowel moves ㅎ on
    assert completer.suggestions(1)[0].word == "기호"


@pytest.mark.parametrize("name", ["surnames-classifier", "surnames-generator"])
def test_surname_release_models_are_intact_small_and_as_documented(name):
    import json

    folder = os.path.join(ROOT, "exported", name)
    with open(os.path.join(folder, litert.MANIFEST), encoding="utf-8") as f:
        manifest = json.load(f)
    for file, entry in manifest["files"].items():
        litert.verify_file(folder, manifest, file)
    assert litert.size_path(folder) <= 2_000_000  # the whole export, manifest included
    if name == "surnames-classifier":
        assert manifest["files"]["model.tflite"]["test_accuracy"] >= 0.82
        assert len(manifest["labels"]) == 18 and manifest["bidirectional"]
    else:
        assert manifest["conditioned"] and manifest["cell"] == "lstm"
        assert manifest["web"]["files"] == litert.WEB_FILES
        assert manifest["files"]["model.tflite"]["test_loss_nats"] < 1.95
