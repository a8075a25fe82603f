"""The page's JavaScript in Node (`cd web && npm test`): the beam search port against Python's
`beam_complete` on a stand-in step (web/tests/beam_cases.json), the Hangul port against Python's
`kerasrnn.ondevice.hangul` (web/tests/hangul_cases.json: hand-written cases, a sample of corpus lines,
random typing with backspaces), the completer's state ownership and its keyboard mode, the SHA-256
fallback. Both JSON files must be what Python computes now.

    python tests/ondevice/test_web_js.py        # writes both JSON files from Python
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import unicodedata

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from conftest import ROOT, skip_or_fail  # noqa: E402
from kerasrnn.inference.samplers import beam_complete  # noqa: E402
from kerasrnn.ondevice.hangul import KEYS, Composer, keyboard_tables, keys_to_text, text_to_keys  # noqa: E402
from pipelines.korean import load_documents  # noqa: E402

CASES = os.path.join(ROOT, "web", "tests", "beam_cases.json")
HANGUL_CASES = os.path.join(ROOT, "web", "tests", "hangul_cases.json")
HAND_TEXTS = ["기억 속으로", "각", "가기", "과", "닭", "달가", "깋", "쀍", "의", "얘기", "있다", "ㄱ", "ㅏ", "ㅘ", "ㄺ",
              "ㅄ", "ㄸ", "A1 셀", "", "ㄱㅅㅏ", "ㄱㅏㄲㅏ", "ㄸㅏㄸ", "ㅗㅏㅏ", "좋아ㅋㅋ", "ᄒᆞᆫ글", "\u115f\u1161",
              "\u3164ㅏ", "ᄀᆞᆯ ㅿ ㆆ ㆍ", "Hello 세계 🌏👩‍👩‍👧 café ＡＢＣ ﾡ", "\x00\n\t",
              unicodedata.normalize("NFD", "기억 속으로"), "ㄱㅣㅇㅓㄱ ㅅㅗㄱ"]
CORPUS_SAMPLE = 200  # corpus lines (a fixed random sample) typed as keys and composed back
SESSIONS, SESSION_OPS = 20, 24  # random typing: sessions of keys, other characters and backspaces
BACKSPACE = "\b"  # a backspace in a session
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
    """Python's beam_complete on the stand-in step, for three start tokens and six settings."""
    cases = []
    for start in (0, 3, 7):
        for k, beam_width, max_len, allow_empty, keep in ((3, 6, 16, True, None), (3, 6, 16, False, None),
                                                           (5, 4, 6, True, None), (1, 1, 3, False, None),
                                                           (3, 6, 16, True, 8), (2, 3, 6, False, 5)):
            state = np.array([[start * 0.3, -start * 0.2]], np.float32)
            logits, state = fake_step(np.array([start], np.int32), state)
            found = beam_complete(fake_step, state[0], logits[0], np.array(WORD_IDS), np.array(END_IDS), k=k,
                                  beam_width=beam_width, max_len=max_len, allow_empty=allow_empty, keep=keep)
            cases.append({"start": start, "k": k, "beamWidth": beam_width, "maxLen": max_len,
                          "allowEmpty": allow_empty, "keep": keep,
                          "expected": [{"ids": ids, "prob": p} for ids, p in found]})
    return {"vocab": VOCAB, "wordIds": WORD_IDS, "endIds": END_IDS, "cases": cases}


def hangul_cases() -> dict:
    """Python's hangul on hand-written texts, a sample of corpus lines and random typing sessions."""
    rng = random.Random(18)
    lines = [line for doc in load_documents().values() for line in doc.text.split("\n") if line]
    texts = HAND_TEXTS + rng.sample(lines, CORPUS_SAMPLE)
    pool = KEYS * 4 + " a.😀" + BACKSPACE * 20
    sessions = []
    for _ in range(SESSIONS):
        composer, steps = Composer(), []
        for op in (rng.choice(pool) for _ in range(SESSION_OPS)):
            width = composer.backspace_width(3)  # (None: fewer than three characters)
            pressed = composer.backspace() if op == BACKSPACE else composer.push(op)
            steps.append([op, composer.text, composer.keys, composer.preedit, pressed, width])
        sessions.append(steps)
    syllables = "".join(chr(c) for c in range(0xAC00, 0xD7A4))
    return {"tables": keyboard_tables(), "texts": [[t, text_to_keys(t), keys_to_text(text_to_keys(t))] for t in texts],
            "sessions": sessions, "syllableKeysSha256": hashlib.sha256(text_to_keys(syllables).encode()).hexdigest()}


@pytest.mark.parametrize("path, make", [(CASES, beam_cases), (HANGUL_CASES, hangul_cases)])
def test_the_cases_are_what_python_computes_now(path, make):
    with open(path, encoding="utf-8") as f:
        assert json.load(f) == make(), "stale: run python tests/ondevice/test_web_js.py"


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
    assert int(summary["pass"]) >= 32  # 18 beam cases + the completer's, SHA-256's, beam's and Hangul's own


if __name__ == "__main__":
    for path, make, indent in ((CASES, beam_cases, 1), (HANGUL_CASES, hangul_cases, None)):
        with open(path, "w", encoding="utf-8") as f:
            json.dump(make(), f, indent=indent, ensure_ascii=False)
            f.write("\n")
        print(f"-> {path}")
