"""Surname exports: the classifier on raw strings, the generator with the nationality as input, LiteRT parity."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from kerasrnn import export
from kerasrnn.ondevice import litert
from kerasrnn.core.cli import UsageError
from kerasrnn.models.loading import load_run
from kerasrnn.tasks.surnames.inference import SurnameClassifier, names_to_ids
from kerasrnn.models.surname_models import start_state

NAMES = ["Nakamura", "Schmidt", "O'Neill", "Ivanov", "Zé"]


@pytest.fixture(scope="module")
def classifier_export(surname_classifier, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("exports") / "classifier")
    assert export.main([surname_classifier, "--out", out]) == 0
    return out


@pytest.fixture(scope="module")
def generator_export(surname_generator, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("exports") / "generator")
    assert export.main([surname_generator, "--out", out]) == 0
    return out


def test_classifier_serving_default_takes_raw_strings(classifier_export, surname_classifier):
    loaded = tf.saved_model.load(os.path.join(classifier_export, "saved_model"))
    out = loaded.signatures["serving_default"](surname=tf.constant(NAMES))
    assert out["probs"].shape == (5, 18) and out["labels"].shape == (5, 3) and out["labels"].dtype == tf.string
    expected = SurnameClassifier(load_run(surname_classifier)).probs(NAMES)
    np.testing.assert_allclose(out["probs"].numpy(), expected, atol=1e-4)
    manifest = json.load(open(os.path.join(classifier_export, "manifest.json"), encoding="utf-8"))
    labels = manifest["labels"]
    assert [row[0].decode() for row in out["labels"].numpy()] == [labels[i] for i in expected.argmax(-1)]


def test_classifier_tflite_matches_keras_without_tensorflow_names(classifier_export, surname_classifier):
    from ai_edge_litert.interpreter import Interpreter

    manifest = json.load(open(os.path.join(classifier_export, "manifest.json"), encoding="utf-8"))
    run = load_run(surname_classifier)
    ids = names_to_ids(NAMES, run.vocab, manifest["max_len"])
    ids = np.pad(ids, ((0, 0), (0, manifest["max_len"] - ids.shape[1])))
    runner = Interpreter(os.path.join(classifier_export, "model.tflite")).get_signature_runner("classify")
    probs = runner(tokens=ids)["probs"]
    np.testing.assert_allclose(probs, SurnameClassifier(run).probs(NAMES), atol=1e-4)
    for name in ("model.tflite", "model_int8.tflite", "saved_model"):
        entry = manifest["files"][name]
        assert entry["test_accuracy"] > 0.5 and entry["bytes"] < 2e6
    assert len(manifest["labels"]) == 18 and manifest["pad_id"] == 0


def test_generator_tflite_starts_from_the_nationality(generator_export, surname_generator):
    from ai_edge_litert.interpreter import Interpreter

    run = load_run(surname_generator)
    nationality = np.array([3, 11], np.int32)
    interpreter = Interpreter(os.path.join(generator_export, "model.tflite"))
    assert set(interpreter.get_signature_list()) == {"start", "step"}
    state = interpreter.get_signature_runner("start")(nationality=nationality)["state"]
    np.testing.assert_allclose(state, start_state(run.model, run.config, nationality), atol=1e-6)
    manifest = json.load(open(os.path.join(generator_export, "manifest.json"), encoding="utf-8"))
    assert manifest["conditioned"] and manifest["state_size"] == state.shape[1]
    int8, floats = manifest["files"]["model_int8.tflite"], manifest["files"]["model.tflite"]
    assert int8["test_bpc"] <= floats["test_bpc"] + 0.03


def test_generator_web_file_samples_what_the_tflite_file_samples(generator_export, surname_generator):
    """model_web.tflite: "start" and "step" at batch 1; greedy names equal model.tflite's, start states Keras'."""
    from ai_edge_litert.interpreter import Interpreter

    manifest = json.load(open(os.path.join(generator_export, "manifest.json"), encoding="utf-8"))
    assert manifest["web"]["files"] == {"float": "model_web.tflite", "int8": "model_web_int8.tflite"}
    for kind in ("float", "int8"):
        full = Interpreter(os.path.join(generator_export, litert.TFLITE_FILES[kind]))
        web = Interpreter(os.path.join(generator_export, litert.WEB_FILES[kind]))
        assert set(web.get_signature_list()) == {"start", "step"}
        start = web.get_signature_runner("start")
        assert list(start.get_input_details()["nationality"]["shape_signature"]) == [1]
        names = {}
        for label, interpreter in (("full", full), ("web", web)):
            start, step = interpreter.get_signature_runner("start"), interpreter.get_signature_runner("step")
            names[label] = []
            for nationality in range(0, 18, 3):
                state = start(nationality=np.array([nationality], np.int32))["state"]
                token, name = manifest["bos_id"], []
                for _ in range(manifest["max_len"]):
                    out = step(token=np.array([token], np.int32), state=state)
                    state, token = out["state"], int(np.argmax(out["logits"][0, 3:])) + 3  # no pad, unk, <s>
                    if token == manifest["eos_id"]:
                        break
                    name.append(token)
                names[label].append(name)
        assert names["web"] == names["full"] and any(names["web"])
        web_bpc, full_bpc = (manifest["files"][files[kind]]["test_bpc"] for files in (litert.WEB_FILES,
                                                                                       litert.TFLITE_FILES))
        assert web_bpc == pytest.approx(full_bpc, abs=1e-4)
    run = load_run(surname_generator)
    state = Interpreter(os.path.join(generator_export, "model_web.tflite")).get_signature_runner("start")(
        nationality=np.array([5], np.int32))["state"]
    np.testing.assert_allclose(state, start_state(run.model, run.config, np.array([5])), atol=1e-6)


def test_a_two_layer_bidirectional_classifier_is_refused_clearly(tmp_path, capsys):
    from kerasrnn import fit

    run_dir = str(tmp_path / "run")
    assert fit.main(["--task", "surnames", "--layers", "2", "--units", "8", "--embedding-dim", "8",
                     "--train-names", "300", "--epochs", "1", "--run-dir", run_dir, "--verbose", "0"]) == 0
    out = str(tmp_path / "out")
    assert export.main([run_dir, "--out", out]) == 1
    assert "one recurrent layer only" in capsys.readouterr().err and not os.path.exists(out)


def test_autocomplete_refuses_a_surname_export(classifier_export, capsys):
    from kerasrnn import complete

    assert complete.main([classifier_export, "Nak"]) == 2
    assert "is a surnames export, not a character language model" in capsys.readouterr().err


def test_no_int8_writes_and_lists_the_float_file_only(surname_generator, tmp_path):
    out = str(tmp_path / "generator")
    assert export.main([surname_generator, "--out", out, "--no-int8"]) == 0
    manifest = json.load(open(os.path.join(out, "manifest.json"), encoding="utf-8"))
    assert sorted(manifest["files"]) == ["model.tflite", "model_web.tflite", "saved_model"]
    assert sorted(os.listdir(out)) == ["manifest.json", "model.tflite", "model_web.tflite", "saved_model"]
    assert manifest["web"]["files"] == {"float": "model_web.tflite"}
    assert manifest["files"]["model.tflite"]["test_bpc"] > 0
    with pytest.raises(UsageError, match="lists no model_int8.tflite"):
        litert.verify_file(out, manifest, litert.TFLITE_FILES["int8"])
