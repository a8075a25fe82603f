"""The shipped surname classifier export, used directly: LiteRT's `classify` signature, no TensorFlow."""

import os
import subprocess
import sys

import numpy as np
import pytest

from kerasrnn import classify
from kerasrnn.core.cli import UsageError
from kerasrnn.ondevice.classifier import ExportedClassifier
from conftest import BLOCK_IMPORTS, ROOT

SHIPPED = os.path.join(ROOT, "exported", "surnames-classifier")
NAMES = ["Nakamura", "Schmidt", "O'Neill", "Ivanov", "Zé", "  Dvořák  "]


def test_the_export_gives_the_saved_models_probabilities():
    import tensorflow as tf

    served = tf.saved_model.load(os.path.join(SHIPPED, "saved_model")).signatures["serving_default"]
    expected = served(surname=tf.constant(NAMES))["probs"].numpy()
    np.testing.assert_allclose(ExportedClassifier(SHIPPED).probs(NAMES), expected, atol=1e-4)


def test_classify_takes_the_shipped_export_without_tensorflow():
    script = BLOCK_IMPORTS.format(names=["tensorflow", "keras", "tf_keras"]) + f"""
from kerasrnn.classify import main
sys.exit(main([{SHIPPED!r}, "Nakamura", "--top", "2", "Schmidt"]))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    assert [r[0] for r in rows] == ["Nakamura", "Schmidt"] and all(len(r[1].split("  ")) == 2 for r in rows)
    assert rows[0][1].startswith("Japanese") and rows[1][1].startswith("German")


def test_options_may_come_between_the_names(surname_classifier, capsys):
    assert classify.main([surname_classifier, "Nakamura", "--top", "2", "Schmidt"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["Nakamura", "Schmidt"]
    assert all(line.count("  ") == 1 for line in lines)  # two nationalities each


def test_a_language_model_export_is_not_a_classifier(tiny_export, capsys):
    assert classify.main([tiny_export, "Nakamura"]) == 2
    assert "is a shakespeare export, not a surname classifier" in capsys.readouterr().err
    with pytest.raises(UsageError, match="unknown model 'fp16'"):
        ExportedClassifier(SHIPPED, model="fp16")
