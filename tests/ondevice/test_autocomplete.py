"""On-device autocomplete: LiteRT only, state carried per keystroke, ranked word completions, bad input."""

import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from kerasrnn import complete
from kerasrnn.core.cli import UsageError
from kerasrnn.models.loading import load_run
from kerasrnn.ondevice import autocomplete
from kerasrnn.ondevice.autocomplete import Autocompleter, is_word_char
from kerasrnn.ondevice.litert import LiteStep
from conftest import BLOCK_IMPORTS, ROOT, interactive_session


def test_complete_runs_with_litert_and_numpy_only(tiny_export):
    script = BLOCK_IMPORTS.format(names=["tensorflow", "keras", "tf_keras"]) + f"""
from kerasrnn.complete import main
code = main([{tiny_export!r}, "ROMEO: wh"])
print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras") and sys.modules[m]))
sys.exit(code)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert lines[0] == "ROMEO: wh|  (current word: 'wh'; model_int8.tflite)" and lines[-1] == "[]"  # int8: the default
    words = [line.split()[0] for line in lines[1:-1]]
    assert len(words) == 3 and all(w.startswith("wh") for w in words)
    assert proc.stderr == ""


def test_feeding_carries_the_state_of_the_keras_model(tiny_export, tiny_run):
    text = "ROMEO: what light through yonder window breaks"
    completer = Autocompleter(tiny_export, "float")
    completer.feed(text[:10])
    completer.feed(text[10:])  # keystrokes in two batches: the same as one
    run = load_run(tiny_run)
    expected = run.model(run.vocab.encode("\n" + text)[None], training=False).numpy()[0, -1]
    np.testing.assert_allclose(completer._logits, expected, atol=1e-4)
    assert completer.word == "breaks"


def test_backspace_restores_the_earlier_state(tiny_export):
    a, b = Autocompleter(tiny_export), Autocompleter(tiny_export)
    a.feed("Good morrow, cousin")
    b.feed("Good morrow, coz! x")
    b.backspace(3)  # back to "Good morrow, coz"
    b.backspace(2)
    b.feed("ousin")
    np.testing.assert_array_equal(a._logits, b._logits)
    assert b.word == "cousin" and [s.word for s in a.suggestions()] == [s.word for s in b.suggestions()]
    with pytest.raises(ValueError):
        b.backspace(10_000)


def test_suggestions_are_ranked_word_completions(tiny_export):
    completer = Autocompleter(tiny_export)
    for typed, word in [("First Citizen:\nWe are accounted poor citizens, the pa", "pa"),
                        ("What say you? ", "")]:
        completer.reset()
        completer.feed(typed)
        assert completer.word == word
        found = completer.suggestions(k=5)
        probs = [s.prob for s in found]
        assert len(found) == 5 and probs == sorted(probs, reverse=True) and sum(probs) <= 1
        for s in found:
            assert s.word == word + s.completion and s.word and all(is_word_char(c) for c in s.word)
        assert len({s.word for s in found}) == 5


def test_empty_unknown_and_long_prefixes(tiny_export, capsys):
    assert complete.main([tiny_export, ""]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4  # the prefix line and three suggestions
    assert complete.main([tiny_export, "naïve ☃ caf"]) == 0  # unknown characters: the unknown id
    assert "current word: 'caf'" in capsys.readouterr().out
    assert complete.main([tiny_export, "--model", "int8", "To be, or not to b"]) == 0  # options before the text
    assert "current word: 'b'" in capsys.readouterr().out
    completer = Autocompleter(tiny_export)
    started = time.perf_counter()
    completer.feed("to be or not " * 4000)  # 52,000 keystrokes
    assert completer.undoable == autocomplete.HISTORY  # memory stays bounded
    assert time.perf_counter() - started < 120  # a loose bound; bench measures the speed


def test_bad_model_files_are_one_line_errors(tiny_export, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_export, broken)
    for name in ("model.tflite", "model_int8.tflite"):  # the default file (int8) and the one asked for
        with open(broken / name, "r+b") as f:
            f.seek(2000)
            f.write(b"\x00" * 64)
    cases = [
        ([str(broken), "x"], "model_int8.tflite does not match its sha256"),
        ([str(broken), "x", "--model", "float"], "model.tflite does not match its sha256"),
        ([str(tmp_path / "none"), "x"], "no such model directory"),
        ([tiny_export, "x", "--model", "fp16"], "unknown model 'fp16'"),
        ([tiny_export, "--prefix-file", str(tmp_path / "missing.txt")], "no such file"),
        ([tiny_export, "x", "--interactive"], "--interactive needs a terminal"),
    ]
    (tmp_path / "badjson").mkdir()
    (tmp_path / "badjson" / "manifest.json").write_text("{not json")
    cases.append(([str(tmp_path / "badjson"), "x"], "is corrupt or incomplete"))
    for argv, message in cases:
        assert complete.main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("kerasrnn.complete: error: ") and message in err and "\n" not in err, err


def test_a_tflite_file_without_the_step_signature_is_refused(tmp_path):
    import tensorflow as tf

    module = tf.Module()
    module.f = tf.function(lambda x: {"y": x * 2.0}, input_signature=[tf.TensorSpec([1], tf.float32, name="x")])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([module.f.get_concrete_function()], module)
    path = tmp_path / "other.tflite"
    path.write_bytes(converter.convert())
    with pytest.raises(UsageError, match="has no 'step' signature"):
        LiteStep(str(path))
    path.write_bytes(b"not a flatbuffer at all")
    with pytest.raises(UsageError, match="not a valid .tflite model"):
        LiteStep(str(path))


def test_interactive_updates_suggestions_per_keystroke(tiny_export):
    keys = [(1.0, b"T"), (0.3, b"h"), (0.3, b"\x7f"), (0.3, b"o"), (0.3, b"\x04")]
    status, frames = interactive_session(tiny_export, keys)
    assert status == 0, frames
    assert any(f.startswith("Th") for f in frames) and frames[-1].startswith("To")
    assert "[" in frames[-1] and frames[-1].count("|") == 2  # three suggestions


@pytest.mark.parametrize("argv, message", [
    (["--threads", "100000"], "--threads must be at least 1 and at most 64"),  # was: a segfault
    (["-k", str(10**9)], "-k must be at least 1 and at most 20"),  # was: a RuntimeError traceback
    (["--prefix-file", "/dev/zero"], "/dev/zero is not a regular file"),
])
def test_resource_flags_are_bounded(tiny_export, argv, message, capsys):
    try:
        code = complete.main([tiny_export, "x", *argv])
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_a_step_keeps_one_interpreter_at_batch_1_and_another_for_the_beams():
    import os

    path = os.path.join(ROOT, "exported", "korean-gru", "model_int8.tflite")
    step, fresh = LiteStep(path), LiteStep(path)
    rng = np.random.default_rng(0)
    state = rng.normal(size=(3, step.state_size)).astype(np.float32)
    tokens = np.array([3, 7, 11], np.int32)
    step(tokens[:1], state[:1])
    logits, new_state = step(tokens, state)  # (3, vocab), (3, S)
    token_shape = {d["name"]: list(d["shape"]) for d in step.interpreter.get_input_details()}
    assert token_shape[next(n for n in token_shape if "token" in n)] == [1]  # the batch-1 one was not resized
    one_logits, _ = step(tokens[1:2], state[1:2])
    expected, expected_state = fresh(tokens, state)  # one interpreter resized to 3, as before
    np.testing.assert_array_equal(logits, expected)
    np.testing.assert_array_equal(new_state, expected_state)
    np.testing.assert_array_equal(one_logits[0], fresh(tokens[1:2], state[1:2])[0][0])
