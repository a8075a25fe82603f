"""Every command run by a Python without the project's packages (`python3 -m kerasrnn.fit` outside the venv):
one line naming the missing package and the command that installs it, exit status 2, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import BLOCK_IMPORTS, ROOT
from kerasrnn.core import deps

EXPORT = os.path.join(ROOT, "exported", "shakespeare-gru")
GENERATOR = os.path.join(ROOT, "exported", "surnames-generator")
CLASSIFIER = os.path.join(ROOT, "exported", "surnames-classifier")

# Runs each (module, argv) as `python -m module argv...` would, in this one process: {module: [status, stderr]}.
RUN_ALL = """
import contextlib, io, json, runpy
results = {{}}
for module, argv in {cases!r}:
    sys.argv = [module, *argv]
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as e:
            code = e.code
    results[module + " " + " ".join(argv)] = [code, err.getvalue()]
print(json.dumps(results))
"""


def run_without(blocked: list[str], cases: list[tuple[str, list[str]]]) -> dict:
    script = BLOCK_IMPORTS.format(names=blocked) + RUN_ALL.format(cases=cases)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


def assert_one_line(results: dict, package: str) -> None:
    for case, (code, err) in results.items():
        module = case.split()[0]
        assert code == 2, (case, code, err)
        assert err.count("\n") == 1 and "Traceback" not in err, (case, err)
        assert err.startswith(f"{module}: error: the package {package} is not installed for this Python"), (case, err)
        assert "pip install -e" in err and f".venv/bin/python -m {module}" in err, (case, err)


def test_without_any_package_every_command_says_which_and_how_to_install(tmp_path):
    run_dir = str(tmp_path / "run")
    cases = [("kerasrnn.fit", ["--run-dir", run_dir, "--epochs", "1"]), ("kerasrnn.sample", [EXPORT]),
             ("kerasrnn.complete", [EXPORT, "ROMEO:"]), ("kerasrnn.web", ["--port", "0"]),
             ("kerasrnn.classify", [CLASSIFIER, "Nakamura"]), ("kerasrnn.evaluate", [EXPORT]),
             ("kerasrnn.export", [run_dir, "--out", str(tmp_path / "out")]), ("kerasrnn.bench", ["export", EXPORT]),
             ("kerasrnn.compare", []), ("kerasrnn.gradients", []), ("kerasrnn.surname_eval", []),
             ("kerasrnn.launch", ["--", "--run-dir", run_dir])]
    results = run_without(["numpy", "tensorflow", "keras", "ai_edge_litert", "matplotlib", "tensorflow_datasets"], cases)
    assert len(results) == len(cases)
    assert_one_line(results, "numpy")
    assert os.listdir(tmp_path) == []  # nothing made


def test_the_package_named_is_the_one_missing(tmp_path):
    run_dir = str(tmp_path / "run")
    assert_one_line(run_without(["tensorflow", "keras"], [("kerasrnn.fit", ["--run-dir", run_dir, "--epochs", "1"]),
                                                          ("kerasrnn.export", [run_dir])]), "tensorflow")
    assert_one_line(run_without(["ai_edge_litert"], [("kerasrnn.complete", [EXPORT, "ROMEO:"]),
                                                     ("kerasrnn.sample", [GENERATOR, "-n", "2"])]), "ai-edge-litert")
    assert_one_line(run_without(["tensorflow_datasets"], [("kerasrnn.fit", ["--dataset", "tfds:x", "--run-dir", run_dir])]),
                    "tensorflow-datasets")
    assert os.listdir(tmp_path) == []


def test_installed_and_the_message():
    assert deps.installed("json") and not deps.installed("no_such_package_kerasrnn")
    assert deps.missing_message(["json"]) is None
    message = deps.missing_message(["json", "playwright_nope"], "kerasrnn.x")
    assert "playwright_nope" in message and message.endswith("then run .venv/bin/python -m kerasrnn.x (or activate .venv first)")
