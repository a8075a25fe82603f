"""A tampered manifest.json is one line naming the file and the field, checked against the model's shapes."""

import json
import shutil

import pytest

from kerasrnn import complete


def with_manifest(export_dir, tmp_path, change):
    copy = tmp_path / "export"
    shutil.copytree(export_dir, copy)
    path = copy / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest = change(manifest) or manifest
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return str(copy)


def setter(**fields):
    return lambda m: m.update(fields)


def longer_vocabulary(m):
    m["vocabulary"] = m["vocabulary"] + ["Ω"]
    m["vocab_size"] += 1


@pytest.mark.parametrize("change, message", [
    (lambda m: [m], "manifest.json is corrupt or incomplete: must hold a JSON object, not list"),
    (setter(files=[]), "field 'files' must be an object (got [])"),
    (lambda m: m["files"]["model.tflite"].pop("sha256") and None, "files['model.tflite']: field 'sha256' is missing"),
    (setter(unk_id=10**6), "field 'unk_id' must be from 0 to"),
    (setter(unk_id=3), "field 'unk_id' must be the index of '<unk>'"),
    (setter(start_text=5), "field 'start_text' must be a string (got 5)"),
    (setter(state_size="8"), "field 'state_size' must be an integer (got \"8\")"),
    (setter(state_size=9), "field 'state_size' is 9, but"),
    (setter(specials="<unk>"), "field 'specials' must be a list of strings"),
    (setter(vocab_size=3), "field 'vocab_size' is 3, but 'vocabulary' lists"),
    (longer_vocabulary, "field 'vocabulary' lists"),
    (setter(format="something-else"), "field 'format' must be one of kerasrnn-export"),
])
def test_a_tampered_manifest_is_one_line(tiny_export, tmp_path, capsys, change, message):
    model = with_manifest(tiny_export, tmp_path, change)
    assert complete.main([model, "ROMEO: wh"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kerasrnn.complete: error: ") and message in err and err.count("\n") == 1, err


def test_a_model_file_replaced_by_a_device_is_refused_without_reading_it(tiny_export, tmp_path, capsys):
    model = tmp_path / "export"
    shutil.copytree(tiny_export, model)
    for name in ("model.tflite", "model_int8.tflite"):  # --model float, and the default (int8)
        (model / name).unlink()
        (model / name).symlink_to("/dev/zero")  # hashing it would never end
    for argv in ([str(model), "x"], [str(model), "x", "--model", "float"]):
        assert complete.main(argv) == 2
        assert "does not match its size in manifest.json" in capsys.readouterr().err
