"""The Korean key model exported and used on the device: its manifest, the Autocompleter over keys
(Hangul in, Hangul out, the keyboard's backspace, several words), bad input, LiteRT alone, a terminal."""

import json
import os
import subprocess
import sys
import unicodedata

import numpy as np
import pytest

from kerasrnn import complete
from kerasrnn.models.loading import load_run
from kerasrnn.ondevice import litert
from kerasrnn.ondevice.autocomplete import Autocompleter
from kerasrnn.ondevice.hangul import KEYBOARD, KEYS, text_to_keys
from conftest import BLOCK_IMPORTS, ROOT, interactive_session


def test_the_manifest_says_the_tokens_are_keys_and_holds_the_figures(korean_export, korean_run):
    manifest = litert.load_manifest(korean_export)
    assert manifest["input"] == KEYBOARD and "".join(manifest["keys"]) == KEYS and manifest["task"] == "korean"
    with open(os.path.join(korean_run, "metrics.json"), encoding="utf-8") as f:
        final = json.load(f)["final"]
    for split in ("validation", "test"):
        assert manifest[split] == final[split] and manifest["baseline_5gram"][split] == final["baseline_5gram"][split]
        assert abs(manifest["files"]["model.tflite"][f"{split}_nats_per_key"] - final[split]["nats_per_key"]) < 1e-3
        assert manifest["files"]["model_int8.tflite"][f"{split}_bits_per_char"] <= \
            manifest["files"]["model.tflite"][f"{split}_bits_per_char"] + 0.03
    assert manifest["training_data"]["train_keys"] > 1.9 * manifest["training_data"]["train_chars"]
    for name in manifest["files"]:
        litert.verify_file(korean_export, manifest, name)


def test_hangul_is_typed_as_keys_and_suggestions_are_shown_composed(korean_export, korean_run):
    completer = Autocompleter(korean_export, "float")
    completer.feed("파일을 기")
    assert completer.keyboard and completer.word == "기" and completer.text == "파일을 기"
    run = load_run(korean_run)
    expected = run.model(run.vocab.encode("\n" + text_to_keys("파일을 기"))[None], training=False).numpy()[0, -1]
    np.testing.assert_allclose(completer._logits, expected, atol=1e-4)  # the model read the keys
    one, two = completer.suggestions(3), completer.suggestions(3, words=2)
    assert len(one) == len(two) == 3
    for s in one:
        assert text_to_keys(s.word) == "ㄱㅣ" + s.completion and " " not in s.word
    for s in two:
        assert text_to_keys(s.word) == "ㄱㅣ" + s.completion and s.word.count(" ") == 1 and not s.word.endswith(" ")
    completer.reset()
    completer.feed("ㅍㅏㅇㅣㄹㅇㅡㄹ ㄱㅣ")  # keys, as a Korean keyboard sends them: the same state and text
    assert completer.text == "파일을 기"
    np.testing.assert_allclose(completer._logits, expected, atol=1e-4)


def test_backspace_is_the_keyboards(korean_export):
    a, b = Autocompleter(korean_export), Autocompleter(korean_export)
    a.feed("가기")
    a.backspace()  # one key: the keyboard shows 가ㄱ (가 was committed when ㅣ came)
    assert a.text == "가ㄱ" and a.undoable == 3
    b.feed("ㄱㅏㄱ")
    np.testing.assert_array_equal(a._logits, b._logits)
    a.backspace(2)  # ㄱ, then the committed 가 whole (two keys)
    assert a.text == "" and a.undoable == 0
    a.feed("닭")
    a.backspace()
    assert a.text == "달" and a.word == "달"
    with pytest.raises(ValueError):
        a.backspace(4)  # three keys (ㄹ, ㅏ, ㄷ), then nothing: refused before any is done
    assert a.text == "달" and a.undoable == 3


@pytest.mark.parametrize("prefix, word", [
    ("기", "기"), ("ㄱ", "ㄱ"), ("깋", "깋"), ("ㅏ", "ㅏ"),  # an open syllable, a lone consonant or vowel
    ("LibreOffice에서 파일 😀 저", "저"),  # mixed Korean, Latin and an emoji
    (unicodedata.normalize("NFD", "기억 속으로"), "속으로"),  # NFD composes first
    ("ᄒᆞᆫ글 \u115f\u1161 ㅿ 기", "기"),  # old Hangul and fillers: not keys
    ("기억 속으로 " * 834, ""),  # a 10,000-character paste
])
def test_any_input_gives_suggestions(korean_export, prefix, word, capsys):
    assert complete.main([korean_export, prefix]) == 0
    out, err = capsys.readouterr()
    assert f"(current word: {word!r}; model" in out.splitlines()[0] and len(out.splitlines()) == 4
    unknown = Autocompleter(korean_export).unknown(prefix)
    assert bool(unknown) == ("notice:" in err) and err.count("\n") <= 1
    assert not any(c in KEYS for c in unknown)


def test_complete_runs_with_litert_and_numpy_only(korean_export):
    script = BLOCK_IMPORTS.format(names=["tensorflow", "keras", "tf_keras", "hangulpy"]) + f"""
from kerasrnn.complete import main
sys.exit(main([{korean_export!r}, "--words", "2", "기"]))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    file = litert.TFLITE_FILES[litert.default_kind(litert.load_manifest(korean_export))]
    assert lines[0] == f"기|  (current word: '기'; {file})" and all(" " in line.strip() for line in lines[1:])


def test_interactive_reads_composed_hangul(korean_export):
    keys = ["기".encode(), "억".encode()[:2], "억".encode()[2:], b"\x7f", b"\x04"]  # 억 split across two reads
    status, frames = interactive_session(korean_export, [(1.0 if n == 0 else 0.3, key) for n, key in enumerate(keys)])
    assert status == 0, frames
    assert any(f.startswith("기억") for f in frames) and frames[-1].startswith("기어")  # backspace: one key
    assert not any("\ufffd" in f for f in frames)
