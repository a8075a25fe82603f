"""A `.tflite` file altered byte by byte, its manifest's sha256 and size updated to match (so the checksum
passes): `complete` must end with exit status 0, 1 or 2 and never a Python traceback.

The mutations run in a child process (LiteRT's native code can crash on a crafted file, which Python cannot
catch: such a crash is counted and the child restarted after it, so one crash does not hide the others).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys

from conftest import ROOT

SEED = 28  # the mutations are drawn from this seed
MUTATIONS = 40  # altered copies of the model
MAX_NATIVE_CRASHES = MUTATIONS // 4  # LiteRT's own crashes (SIGSEGV) tolerated: outside Python's reach

RUNNER = """
import contextlib, io, json, sys
from kerasrnn import complete
for folder in sys.argv[1:]:
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = complete.main([folder, "ROMEO: wh", "-k", "3"])
    except BaseException as e:  # what reached the user as a traceback
        code, err = "traceback", io.StringIO(f"{type(e).__name__}: {e}")
    print(json.dumps([folder, code, err.getvalue()[-300:]]), flush=True)
"""


def mutated_copies(export_dir: str, root, n: int, seed: int) -> list[str]:
    """n copies of an export whose model.tflite has 1 to 4 bytes changed, the manifest updated to match."""
    rng = random.Random(seed)
    data = open(f"{export_dir}/model.tflite", "rb").read()
    manifest = json.load(open(f"{export_dir}/manifest.json", encoding="utf-8"))
    folders = []
    for i in range(n):
        folder = root / f"m{i:03d}"
        folder.mkdir()
        body = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(body))
            body[position] = rng.randrange(256)
        (folder / "model.tflite").write_bytes(body)
        files = {"model.tflite": {**manifest["files"]["model.tflite"], "bytes": len(body),
                                  "sha256": hashlib.sha256(body).hexdigest()}}
        (folder / "manifest.json").write_text(json.dumps({**manifest, "files": files}), encoding="utf-8")
        folders.append(str(folder))
    return folders


def run_all(folders: list[str]) -> tuple[dict[str, tuple], list[str]]:
    """Each folder's (exit status, stderr tail); and the folders on which the child process died natively."""
    results, crashed, todo = {}, [], list(folders)
    while todo:
        child = subprocess.run([sys.executable, "-c", RUNNER, *todo], capture_output=True, text=True, cwd=ROOT,
                               timeout=300)
        for line in child.stdout.splitlines():
            folder, code, err = json.loads(line)
            results[folder] = (code, err)
        done = [f for f in todo if f in results]
        todo = todo[len(done):]
        if child.returncode != 0 and todo:  # died on todo[0]: a native crash; go on after it
            crashed.append(todo.pop(0))
        elif child.returncode != 0:
            raise AssertionError(f"the runner failed: {child.stderr[-2000:]}")
    return results, crashed


def test_altered_tflite_files_never_give_a_traceback(tiny_export, tmp_path):
    folders = mutated_copies(tiny_export, tmp_path, MUTATIONS, SEED)
    results, crashed = run_all(folders)
    bad = {f: r for f, r in results.items() if r[0] not in (0, 1, 2) or "Traceback" in r[1]}
    assert not bad, bad  # before LiteStep wrapped its first step: RuntimeError tracebacks
    refused = [r for r in results.values() if r[0] == 2]
    assert refused, "no mutation was refused: the fuzzing did not reach the model's structure"
    assert all(len(err.strip().splitlines()) == 1 and "not a valid .tflite model" in err
               for code, err in refused if "tflite" in err), refused
    assert len(crashed) <= MAX_NATIVE_CRASHES, crashed
    shutil.rmtree(tmp_path, ignore_errors=True)
