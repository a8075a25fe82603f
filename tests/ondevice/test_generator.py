"""`python -m kerasrnn.sample exported/surnames-generator`: the shipped generator samples with LiteRT alone."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import BLOCK_IMPORTS, ROOT
from kerasrnn import sample
from kerasrnn.ondevice.classifier import ExportedClassifier
from kerasrnn.ondevice.generator import ExportedGenerator

SHIPPED = os.path.join(ROOT, "exported", "surnames-generator")


def test_the_shipped_generator_samples_without_tensorflow():
    script = BLOCK_IMPORTS.format(names=["tensorflow", "keras", "tf_keras"]) + f"""
from kerasrnn.sample import main
code = main([{SHIPPED!r}, "--nationality", "Japanese", "-n", "10"])
print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras") and sys.modules[m]))
sys.exit(code)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr[-2000:]
    *names, imported = proc.stdout.splitlines()
    assert imported == "[]" and len(names) == 10 and all(n.strip() == n and n for n in names), proc.stdout
    generator = ExportedGenerator(SHIPPED)
    assert names == generator.sample([generator.class_id("japanese")] * 10, seed=1337, temperature=0.8)  # the defaults
    assert all(set(n) <= set(generator.vocab.tokens) for n in names)
    top = [t[0][0] for t in ExportedClassifier(os.path.join(ROOT, "exported", "surnames-classifier")).top(names, 1)]
    assert top.count("Japanese") >= 7, list(zip(names, top))  # they read as Japanese to the shipped classifier


def test_each_nationality_in_turn_and_bad_requests(capsys):
    assert sample.main([SHIPPED, "-n", "3", "--seed", "7"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [r[1] for r in rows] == ["(Arabic)", "(Chinese)", "(Czech)"] and all(r[0] for r in rows)
    cases = {(SHIPPED, "--nationality", "Klingon"): "unknown nationality 'Klingon': choose from Arabic, Chinese",
             (os.path.join(ROOT, "exported", "shakespeare-gru"),): "is a shakespeare export, not a surname generator's",
             (os.path.join(ROOT, "exported", "surnames-classifier"),): "is a surnames export, not a surname generator's"}
    for argv, message in cases.items():
        assert sample.main(list(argv)) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
