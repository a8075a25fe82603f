"""`python -m kerasrnn.fit --task korean`: a key model trained through the corpus pipeline, measured on
whole splits beside the 5-gram baseline; its run directory, vocabulary and bad input."""

import json
import math
import os

import pytest

from kerasrnn import fit
from kerasrnn.ondevice.hangul import KEYS
from kerasrnn.tasks.korean.corpus import key_streams
from conftest import KOREAN_ARGS, ROOT, run_cli, run_main


def test_the_run_trains_on_keys_and_reports_both_models(korean_run):
    with open(os.path.join(korean_run, "metrics.json"), encoding="utf-8") as f:
        m = json.load(f)
    with open(os.path.join(korean_run, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    streams = key_streams()
    assert vocab["tokens"] == ["<unk>", *sorted(set(streams["train"].keys))]  # the keys that occur, and <unk>
    assert set(KEYS) <= set(vocab["tokens"]) and "기" not in vocab["tokens"]
    assert m["data"].startswith("korean") and m["train_chars"] == len(streams["train"].keys)
    assert m["epochs"][1]["train_loss_nats"] < m["epochs"][0]["train_loss_nats"]
    f = m["final"]
    for split in ("validation", "test"):
        rnn, ngram = f[split], f["baseline_5gram"][split]
        assert rnn["keys"] == ngram["keys"] == len(streams[split].keys)
        assert rnn["characters"] == ngram["characters"] == len(streams[split].text)
        assert math.isclose(rnn["bits_per_char"] * rnn["characters"] * math.log(2),
                            rnn["nats_per_key"] * rnn["keys"], rel_tol=1e-4)
        assert 0 < ngram["nats_per_key"] < rnn["nats_per_key"] < math.log(len(vocab["tokens"]))
    assert f["beats_baseline"] is False  # a 24-unit model after two epochs: not yet
    assert 3.2 < f["baseline_5gram"]["test"]["bits_per_char"] < 3.6  # documented: 3.386


def test_the_korean_task_uses_its_own_corpus(tmp_path):
    out = run_main("kerasrnn.fit", *KOREAN_ARGS, "--run-dir", str(tmp_path / "r"), "--text", "x.txt")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "bundled Korean corpus" in out.stderr
    assert not (tmp_path / "r").exists()


def test_a_finished_korean_run_has_nothing_to_resume(korean_run, capsys):
    assert fit.main(["--run-dir", korean_run, "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err


@pytest.mark.slow
def test_a_killed_korean_run_resumes(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    run_dir = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "kerasrnn.fit", *KOREAN_ARGS, "--run-dir", str(run_dir),
                             "--checkpoint-every", "50"], cwd=ROOT, stdout=subprocess.DEVNULL)
    meta = run_dir / "backup" / "training_metadata.json"
    deadline = time.time() + 300
    while time.time() < deadline and not (meta.exists() and '"epoch": 1' in meta.read_text()):
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    out = run_cli("kerasrnn.fit", "--run-dir", str(run_dir), "--resume", "--verbose", "0")
    assert out.returncode == 0, out.stderr
    final = json.loads((run_dir / "metrics.json").read_text())["final"]
    assert final["epochs"] == 2 and "baseline_5gram" in final
