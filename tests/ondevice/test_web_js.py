"""The page's JavaScript in Node (`cd web && npm test`): the beam search port against Python's
`beam_complete` on a stand-in step (web/tests/beam_cases.json, which must be current), the completer's
state ownership, the SHA-256 fallback.

    python tests/ondevice/test_web_js.py        # writes web/tests/beam_cases.json from Python
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from conftest import ROOT, skip_or_fail  # noqa: E402
from kerasrnn.inference.samplers import beam_complete  # noqa: E402

CASES = os.path.join(ROOT, "web", "tests", "beam_cases.json")
VOCAB = 12
WORD_IDS = list(range(1, 9))
END_IDS = [9, 10, 11]


def fake_step(tokens: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A cheap deterministic step that beam.test.mjs reproduces exactly (float32 states, float64 logits):
    tokens (batch,), states (batch, 2) -> logits (batch, VOCAB), states (batch, 2)."""
    new = (states.astype(np.float64) * 0.5 + tokens[:, None].astype(np.float64) * 0.25 + 0.1).astype(np.float32)
    n = new.astype(np.float64)
    v = np.arange(VOCAB, dtype=np.float64)[None]
    logits = 3.0 * np.sin(v * 0.7 + n[:, :1] * 1.3) + np.cos(v * 0.3 + n[:, 1:] * 2.1)  # (batch, VOCAB)
    return logits, new


def beam_cases() -> dict:
    """Python's beam_complete on the stand-in step, for three start tokens and four settings."""
    cases = []
    for start in (0, 3, 7):
        for k, beam_width, max_len, allow_empty in ((3, 6, 16, True), (3, 6, 16, False), (5, 4, 6, True),
                                                     (1, 1, 3, False)):
            state = np.array([[start * 0.3, -start * 0.2]], np.float32)
            logits, state = fake_step(np.array([start], np.int32), state)
            found = beam_complete(fake_step, state[0], logits[0], np.array(WORD_IDS), np.array(END_IDS), k=k,
                                  beam_width=beam_width, max_len=max_len, allow_empty=allow_empty)
            cases.append({"start": start, "k": k, "beamWidth": beam_width, "maxLen": max_len,
                          "allowEmpty": allow_empty, "expected": [{"ids": ids, "prob": p} for ids, p in found]})
    return {"vocab": VOCAB, "wordIds": WORD_IDS, "endIds": END_IDS, "cases": cases}


def test_the_beam_cases_are_what_python_computes_now():
    with open(CASES, encoding="utf-8") as f:
        assert json.load(f) == beam_cases(), "stale: run python tests/ondevice/test_web_js.py"


def test_node_unit_tests_pass():
    node = shutil.which("node")
    if node is None:
        skip_or_fail("Node.js is not installed (apt-get install nodejs): the page's unit tests need it")
    tests = sorted(f"tests/{f}" for f in os.listdir(os.path.join(ROOT, "web", "tests")) if f.endswith(".test.mjs"))
    proc = subprocess.run([node, "--test", *tests], cwd=os.path.join(ROOT, "web"), capture_output=True,
                          text=True, timeout=120)  # files, not a folder: Node 18 to 22 read those alike
    summary = dict(line[2:].split(" ", 1) for line in proc.stdout.splitlines()
                   if line.startswith(("# pass ", "# fail ")))
    assert proc.returncode == 0 and summary.get("fail") == "0", proc.stdout[-3000:] + proc.stderr[-2000:]
    assert int(summary["pass"]) >= 18  # 12 beam cases + the completer's, SHA-256's and beam's own


if __name__ == "__main__":
    with open(CASES, "w", encoding="utf-8") as f:
        json.dump(beam_cases(), f, indent=1)
        f.write("\n")
    print(f"{len(beam_cases()['cases'])} cases -> {CASES}")
