"""The training command end to end: what it writes, bad input, NaN, kill and resume."""

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from kerasrnn import fit
from conftest import ROOT, TINY_ARGS, run_cli, run_main


def test_run_directory_contents(tiny_run):
    names = set(os.listdir(tiny_run))
    assert {"config.json", "vocab.json", "best.keras", "history.csv", "logs", "metrics.json",
            "curves.png"} <= names
    assert "backup" not in names  # removed once training has finished
    config = json.load(open(os.path.join(tiny_run, "config.json")))
    vocab = json.load(open(os.path.join(tiny_run, "vocab.json")))
    assert config["cell"] == "gru" and config["units"] == 32 and config["vocab_size"] == len(vocab["tokens"])
    assert vocab["tokens"][vocab["unk_id"]] == "<unk>"


def test_metrics_json_values(tiny_run):
    m = json.load(open(os.path.join(tiny_run, "metrics.json")))
    assert [e["epoch"] for e in m["epochs"]] == [1, 2]
    for e in m["epochs"]:
        assert math.isclose(e["val_bpc"], e["val_loss_nats"] / math.log(2), rel_tol=1e-3)
        assert math.isclose(e["train_bpc"], e["train_loss_nats"] / math.log(2), rel_tol=1e-3)
        assert e["chars_per_s"] > 0 and e["wall_s"] > 0
    assert m["epochs"][1]["train_loss_nats"] < m["epochs"][0]["train_loss_nats"]
    f = m["final"]
    best = min(e["val_loss_nats"] for e in m["epochs"])
    assert abs(f["val_loss_nats"] - best) < 1e-3  # re-measured on the saved best model
    assert math.isclose(f["val_bpc"], f["val_loss_nats"] / math.log(2), rel_tol=1e-3)
    assert f["val_loss_nats"] < math.log(m["vocab_size"])  # better than uniform guessing
    for key in ("train_loss_nats", "chars_per_s", "wall_s"):
        assert f[key] > 0
    assert m["command"].startswith("python -m kerasrnn.fit ") and "--run-dir" in m["command"]
    with open(os.path.join(tiny_run, "history.csv")) as h:
        assert h.readline().strip().split(",")[:1] == ["epoch"]


def test_help_lists_defaults():
    out = run_cli("kerasrnn.fit", "--help")
    assert out.returncode == 0
    for flag in ("--cell", "--units", "--layers", "--embedding-dim", "--dropout", "--seq-len",
                 "--batch-size", "--epochs", "--learning-rate", "--seed", "--text", "--dataset",
                 "--run-dir", "--resume", "--mixed-precision"):
        assert flag in out.stdout
    assert "(default: gru)" in out.stdout


def _short_file(tmp_path, data: bytes) -> str:
    p = tmp_path / "bad.txt"
    p.write_bytes(data)
    return str(p)


@pytest.mark.parametrize("make_args, message", [
    (lambda t: ["--text", str(t / "missing.txt")], "no such file"),
    (lambda t: ["--text", _short_file(t, b"caf\xe9 au lait\n" * 50)], "not UTF-8"),
    (lambda t: ["--text", _short_file(t, b"")], "empty"),
    (lambda t: ["--text", _short_file(t, b"hello there\n" * 3)], "too short"),
    (lambda t: ["--cell", "transformer"], "unknown cell"),
    (lambda t: ["--task", "poetry"], "unknown task"),
    (lambda t: ["--dataset", "nonsense"], "unknown dataset"),
    (lambda t: ["--units", "0"], "at least 1"),
    (lambda t: ["--bogus-flag"], "unrecognized arguments"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, make_args, message):
    out = run_main("kerasrnn.fit", *TINY_ARGS, "--run-dir", str(tmp_path / "run"), *make_args(tmp_path))
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in out.stderr
    assert not (tmp_path / "run").exists()


def test_bad_input_in_a_fresh_process_is_one_line_and_exit_2(tmp_path):
    """As a user runs it: TensorFlow is imported before the text is read, and says nothing on stderr."""
    short = _short_file(tmp_path, b"hello there\n" * 3)
    out = run_cli("kerasrnn.fit", *TINY_ARGS, "--run-dir", str(tmp_path / "run"), "--text", short)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "too short" in lines[0] and "Traceback" not in out.stderr


def test_existing_run_dir_needs_resume(tiny_run, tiny_text, capsys):
    assert fit.main(["--text", tiny_text, "--run-dir", tiny_run, *TINY_ARGS]) == 2
    assert "--resume" in capsys.readouterr().err
    assert fit.main(["--run-dir", tiny_run, "--resume"]) == 2  # finished: nothing to resume
    assert "nothing to resume" in capsys.readouterr().err


def test_nan_loss_stops_with_a_message(tmp_path, tiny_text, capsys, monkeypatch):
    from kerasrnn.training import fitting

    # a NaN learning rate turns every weight into NaN after the first update
    monkeypatch.setattr(fitting, "learning_rate_schedule", lambda config, steps: float("nan"))
    run_dir = tmp_path / "nan"
    code = fit.main(["--text", tiny_text, "--run-dir", str(run_dir), *TINY_ARGS, "--epochs", "3"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert "NaN" in err[-1] and "epoch 1" in err[-1]
    assert not (run_dir / "best.keras").exists()


SHAKESPEARE_KILL_ARGS = ["--units", "32", "--embedding-dim", "16", "--seq-len", "16", "--batch-size", "8"]
SURNAME_KILL_ARGS = ["--task", "surnames", "--units", "16", "--embedding-dim", "8", "--train-names", "2000",
                     "--batch-size", "16"]


@pytest.mark.parametrize("sig,task_args", [(signal.SIGKILL, SHAKESPEARE_KILL_ARGS),
                                           # fit sets no SIGTERM handler: it ends as SIGKILL does
                                           pytest.param(signal.SIGTERM, SHAKESPEARE_KILL_ARGS, marks=pytest.mark.slow),
                                           (signal.SIGKILL, SURNAME_KILL_ARGS)],
                         ids=["SIGKILL", "SIGTERM", "surnames-SIGKILL"])
def test_killed_training_resumes_from_its_checkpoint(tmp_path, tiny_text, sig, task_args):
    run_dir = tmp_path / "run"
    args = ["--text", tiny_text, "--run-dir", str(run_dir), *task_args, "--epochs", "3", "--checkpoint-every", "10",
            "--verbose", "0"]
    proc = subprocess.Popen([sys.executable, "-m", "kerasrnn.fit", *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    meta = run_dir / "backup" / "training_metadata.json"
    deadline = time.time() + 120
    while time.time() < deadline:  # wait for a checkpoint inside epoch 2
        if meta.exists():
            try:
                state = json.loads(meta.read_text())
            except ValueError:
                state = {}
            if state.get("epoch", 0) >= 1 and state.get("batch", 0) > 0:
                break
        if proc.poll() is not None:
            pytest.fail(f"training ended before it could be killed: {proc.stderr.read()}")
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("no mid-epoch checkpoint within 120 s")
    proc.send_signal(sig)
    proc.wait(timeout=30)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    done_before = len(metrics["epochs"])
    assert done_before >= 1 and "final" not in metrics

    out = run_main("kerasrnn.fit", "--run-dir", str(run_dir), "--resume", "--verbose", "0")  # in this process
    assert out.returncode == 0, out.stderr
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2, 3]
    assert metrics["final"]["epochs"] == 3
    assert metrics["epochs"][-1]["train_loss_nats"] < metrics["epochs"][0]["train_loss_nats"]
    assert not (run_dir / "backup").exists()


@pytest.mark.parametrize("finished", ["tiny_run", "surname_classifier"], ids=["text", "surnames"])
def test_a_run_killed_after_its_last_epoch_resumes_to_its_final_figures_without_training_again(tmp_path, finished,
                                                                                              request):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(request.getfixturevalue(finished), run_dir)  # a session's finished run, copied
    metrics = json.loads((run_dir / "metrics.json").read_text())
    history, best = (run_dir / "history.csv").read_text(), (run_dir / "best.keras").stat().st_mtime_ns
    # as if killed between the last epoch and the final figures: the backup is gone, `final` not yet written
    (run_dir / "metrics.json").write_text(json.dumps({k: v for k, v in metrics.items() if k != "final"}))
    out = run_main("kerasrnn.fit", "--run-dir", str(run_dir), "--resume", "--verbose", "0")
    assert out.returncode == 0, out.stderr
    again = json.loads((run_dir / "metrics.json").read_text())
    assert again["epochs"] == metrics["epochs"] and again["final"] == metrics["final"]  # nothing trained twice
    assert (run_dir / "history.csv").read_text() == history
    assert (run_dir / "best.keras").stat().st_mtime_ns == best and not (run_dir / "backup").exists()


def test_a_text_too_short_leaves_nothing_behind(tmp_path, capsys, monkeypatch):
    short = _short_file(tmp_path, b"hello there\n" * 3)
    monkeypatch.chdir(tmp_path)
    for run_dir in (["--run-dir", "explicit"], []):  # a named run, and the default runs/<cell>-<time>
        assert fit.main(["--text", short, *TINY_ARGS, *run_dir]) == 2
        assert "too short" in capsys.readouterr().err
        assert sorted(os.listdir(tmp_path)) == ["bad.txt"]  # so the corrected command can run as it is


@pytest.mark.parametrize("flag, value", [("--learning-rate", "nan"), ("--learning-rate", "inf"),
                                         ("--clipnorm", "-1"), ("--units", "1000000"), ("--dropout", "nan"),
                                         ("--seed", "-1"), ("--epochs", "0"), ("--batch-size", "1e9")])
def test_numeric_flags_out_of_range_are_refused_before_any_work(tmp_path, tiny_text, capsys, flag, value):
    run_dir = tmp_path / "run"
    with pytest.raises(SystemExit) as info:  # argparse refuses it
        fit.main(["--text", tiny_text, *TINY_ARGS, "--run-dir", str(run_dir), f"{flag}={value}"])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.startswith(f"kerasrnn.fit: error: {flag} must be") and err.count("\n") == 1
    assert not run_dir.exists()


def test_unusable_run_directories_are_one_line(tmp_path, tiny_text, capsys):
    (tmp_path / "file").write_text("x")
    for run_dir, message in [(tmp_path / "file", "is a file, not a directory"),
                             (tmp_path / "file" / "run", "is a file, not a directory"),
                             ("/proc/kerasrnn-run", "cannot write in /proc")]:
        assert fit.main(["--text", tiny_text, *TINY_ARGS, "--run-dir", str(run_dir)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_run_being_written_is_refused_to_a_second_writer(tmp_path, tiny_run, capsys):
    import shutil
    import socket

    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run, run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    del metrics["final"]  # an unfinished run, as while it trains
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # the first writer
    try:
        (run_dir / ".lock").write_text(json.dumps({"pid": writer.pid, "host": socket.gethostname()}))
        assert fit.main(["--run-dir", str(run_dir), "--resume", "--verbose", "0"]) == 2
        err = capsys.readouterr().err
        assert f"is being written by process {writer.pid}" in err and err.count("\n") == 1
    finally:
        writer.kill()
        writer.wait()


def test_history_csv_counts_epochs_from_1_like_metrics_json(tiny_run):
    with open(os.path.join(tiny_run, "history.csv")) as h:
        epochs = [line.split(",")[0] for line in h.read().splitlines()[1:]]
    assert epochs == ["1", "2"]


def test_weight_decay_a_moving_average_of_the_weights_and_random_offsets(tmp_path, tiny_text, tiny_run):
    from kerasrnn.inference.evaluation import evaluate_run

    runs_made = {"plain": tiny_run}  # the session's run: these flags, none of the three below
    for name, flags in (("averaged", ["--weight-decay", "0.1", "--ema", "0.9"]), ("offsets", ["--random-offsets"])):
        run_dir = str(tmp_path / name)
        assert fit.main(["--text", tiny_text, "--run-dir", run_dir, *TINY_ARGS, *flags]) == 0
        runs_made[name] = run_dir
    metrics = json.load(open(os.path.join(runs_made["averaged"], "metrics.json")))
    config = json.load(open(os.path.join(runs_made["averaged"], "config.json")))
    assert config["weight_decay"] == 0.1 and config["ema"] == 0.9
    best = min(r["val_loss_nats"] for r in metrics["epochs"])
    assert abs(evaluate_run(runs_made["averaged"])["loss_nats"] - best) < 1e-3  # best.keras holds what was validated
    plain = json.load(open(os.path.join(runs_made["plain"], "metrics.json")))["final"]["val_loss_nats"]
    assert metrics["final"]["val_loss_nats"] != plain
    offsets = json.load(open(os.path.join(runs_made["offsets"], "metrics.json")))
    assert json.load(open(os.path.join(runs_made["offsets"], "config.json")))["random_offsets"] is True
    plain_steps = json.load(open(os.path.join(runs_made["plain"], "metrics.json")))["epochs"][0]["steps"]
    assert offsets["epochs"][0]["steps"] in (plain_steps, plain_steps - 1)  # the windows that fit at every offset
    assert offsets["epochs"][1]["train_loss_nats"] < offsets["epochs"][0]["train_loss_nats"]
    assert offsets["final"]["val_loss_nats"] != plain  # other windows, other weights
