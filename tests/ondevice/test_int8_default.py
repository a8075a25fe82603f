"""int8 by default on devices: `complete`, the `Autocompleter`, `classify` and the page's index run an export's
int8 file where its manifest shows it within 0.01 bits/char of the float one; `--model float` asks for float."""

import copy
import json
import os
import shutil

import pytest

from kerasrnn import classify, complete
from kerasrnn.ondevice import litert
from kerasrnn.ondevice.autocomplete import Autocompleter
from kerasrnn.ondevice.classifier import ExportedClassifier
from kerasrnn.ondevice.web_server import model_index
from conftest import ROOT

RELEASES = os.path.join(ROOT, "exported")
LANGUAGE_MODELS = ["korean-gru", "shakespeare-gru", "shakespeare-lstm", "shakespeare-simplernn"]


def manifest_with(float_bits: dict, int8_bits: dict | None, names=litert.TFLITE_FILES) -> dict:
    files = {names["float"]: {"bytes": 1, "sha256": "0" * 64, **float_bits}}
    if int8_bits is not None:
        files[names["int8"]] = {"bytes": 1, "sha256": "0" * 64, **int8_bits}
    return {"files": files}


@pytest.mark.parametrize("float_bits, int8_bits, kind", [
    ({"validation_bpc": 2.0843}, {"validation_bpc": 2.0847}, "int8"),
    ({"validation_bpc": 2.0}, {"validation_bpc": 2.01}, "int8"),  # the bound itself
    ({"validation_bpc": 2.0}, {"validation_bpc": 2.0101}, "float"),  # just beyond it
    ({"validation_bpc": 2.0}, {"validation_bpc": 1.9}, "int8"),  # better than float
    ({"validation_bpc": 2.0}, None, "float"),  # exported with --no-int8
    ({"test_bpc": 2.72483}, {"test_bpc": 2.72498}, "int8"),  # the surname generator records test figures
    # a keyboard model: within the bound per key, not per character -> every figure must hold
    ({"validation_bpc": 1.668, "validation_bits_per_char": 3.239}, {"validation_bpc": 1.669,
                                                                     "validation_bits_per_char": 3.26}, "float"),
    ({"test_accuracy": 0.8441}, {"test_accuracy": 0.8441}, "int8"),  # a classifier: accuracy, not bits
    ({"test_accuracy": 0.8441}, {"test_accuracy": 0.8401}, "float"),
    ({"validation_bpc": 2.0}, {"bytes_only": 1}, "float"),  # no figure for int8: nothing shows the bound
])
def test_the_default_is_int8_only_where_the_manifest_shows_the_bound(float_bits, int8_bits, kind):
    assert litert.default_kind(manifest_with(float_bits, int8_bits)) == kind
    assert litert.default_kind(manifest_with(float_bits, int8_bits, litert.WEB_FILES), litert.WEB_FILES) == kind
    assert litert.choose_kind(manifest_with(float_bits, int8_bits), "float") == "float"  # asked for: as asked


def test_a_broken_files_entry_falls_back_to_float():
    for manifest in ({}, {"files": []}, {"files": {"model.tflite": {}, "model_int8.tflite": "x"}}):
        assert litert.default_kind(manifest) == "float"


@pytest.mark.parametrize("name", LANGUAGE_MODELS)
def test_every_release_language_model_runs_int8_by_default(name):
    folder = os.path.join(RELEASES, name)
    manifest = litert.load_manifest(folder)
    files = manifest["files"]
    assert files["model_int8.tflite"]["validation_bpc"] - files["model.tflite"]["validation_bpc"] <= 0.01
    completer = Autocompleter(folder)
    assert (completer.kind, completer.model_file) == ("int8", "model_int8.tflite")
    asked = Autocompleter(folder, "float")
    assert (asked.kind, asked.model_file) == ("float", "model.tflite")
    index = {m["name"]: m for m in model_index(RELEASES)["models"]}
    assert index[name]["default"] == "int8"  # the page's default (its web files)


def test_complete_prints_the_file_it_runs(tiny_export, tmp_path, capsys):
    manifest = litert.load_manifest(tiny_export)
    assert litert.default_kind(manifest) == "int8"  # the tiny export's int8 file is within the bound
    assert complete.main([tiny_export, "ROMEO: wh"]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("; model_int8.tflite)")
    assert complete.main([tiny_export, "--model", "float", "ROMEO: wh"]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("; model.tflite)")
    worse = tmp_path / "worse"  # the same export, its manifest showing int8 0.02 bits/char worse: float runs
    shutil.copytree(tiny_export, worse)
    edited = copy.deepcopy(manifest)
    edited.pop("task", None)
    edited["files"]["model_int8.tflite"]["validation_bpc"] = manifest["files"]["model.tflite"]["validation_bpc"] + 0.02
    (worse / "manifest.json").write_text(json.dumps(edited), encoding="utf-8")
    assert complete.main([str(worse), "ROMEO: wh"]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("; model.tflite)")
    assert Autocompleter(str(worse)).kind == "float" and Autocompleter(str(worse), "int8").kind == "int8"


def test_classify_takes_model(surname_classifier, capsys):
    shipped = os.path.join(RELEASES, "surnames-classifier")  # exported with --no-int8: float is the default
    assert ExportedClassifier(shipped).kind == "float"
    assert classify.main([shipped, "--model", "float", "Nakamura"]) == 0
    assert capsys.readouterr().out.startswith("Nakamura\tJapanese")
    assert classify.main([shipped, "--model", "int8", "Nakamura"]) == 2
    assert "lists no model_int8.tflite" in capsys.readouterr().err
    assert classify.main([surname_classifier, "--model", "float", "Nakamura"]) == 2  # a run has no .tflite file
    assert "is not an export" in capsys.readouterr().err
