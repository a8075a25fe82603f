"""Where commands may write (`kerasrnn.core.outputs`): an existing file only with --force, never inside a run or
an export the command does not own; and the race for a new run directory, which the loser must lose cleanly."""

import json
import os
import subprocess
import sys
import time

import pytest

from kerasrnn.core import cli, locks, outputs, runs
from kerasrnn.core.config import Config
from pipelines.vocab import Vocabulary
from conftest import ROOT


def fake_run(folder):
    folder.mkdir(parents=True)
    for name in ("config.json", "vocab.json", "best.keras"):
        (folder / name).write_text("x")
    return folder


def fake_export(folder):
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("{}")
    (folder / "model.tflite").write_bytes(b"x")
    return folder


def test_an_existing_file_is_refused_unless_force(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    with pytest.raises(cli.UsageError, match="already exists: pass --force"):
        cli.check_output_file(str(notes), "--json", force=False)
    with pytest.raises(cli.UsageError, match="already exists: choose another name"):
        cli.check_output_file(str(notes), "--out")  # a command without --force
    cli.check_output_file(str(notes), "--json", force=True)
    os.mkfifo(tmp_path / "fifo")
    os.symlink(notes, tmp_path / "link")
    for name in ("fifo", "link"):
        with pytest.raises(cli.UsageError, match="not a regular file"):
            cli.check_output_file(str(tmp_path / name), "--json", force=True)
    with pytest.raises(cli.UsageError, match="--json is empty"):
        cli.check_output_file("", "--json")
    assert notes.read_text() == "mine"


def test_nothing_is_written_inside_a_run_or_an_export(tmp_path):
    run, export = fake_run(tmp_path / "run"), fake_export(tmp_path / "export")
    for path in (run / "config.json", run / "new.json", run / "sub" / "deeper.png", export / "manifest.json",
                 export / "bench.json"):
        for force in (None, False, True):
            with pytest.raises(cli.UsageError, match="is inside the (run directory|export)"):
                cli.check_output_file(str(path), "--json", force=force)
    with pytest.raises(cli.UsageError, match="inside the run directory"):
        cli.check_output_dir(str(run / "compare"), "--out", ("compare.json",))
    cli.check_output_file(str(run / "new.json"), "--json", owned=str(run))  # the command's own run
    assert outputs.owner_of(str(tmp_path / "elsewhere.json")) is None


def test_a_folder_output_checks_each_file_it_writes(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "compare.png").write_text("mine")
    with pytest.raises(cli.UsageError, match="compare.png already exists: pass --force"):
        cli.check_output_dir(str(tmp_path / "out"), "--out", ("compare.json", "compare.png"), force=False)
    cli.check_output_dir(str(tmp_path / "out"), "--out", ("compare.json", "compare.png"), force=True)


def test_another_tools_lock_file_is_not_a_run(tmp_path):
    (tmp_path / ".lock").write_text("12345")  # pytest's own numbered folders hold one
    assert outputs.kind_of(str(tmp_path)) is None
    (tmp_path / ".lock").write_text(json.dumps({"pid": 1, "host": "h"}))
    assert outputs.kind_of(str(tmp_path)) == "run directory"


@pytest.mark.parametrize("command, args", [
    ("bench", ["export", "EXPORT", "--json", "RUN/config.json"]),
    ("bench", ["keystrokes", "EXPORT", "--text", "TEXT", "--json", "EXPORT/manifest.json"]),
    ("bench", ["train", "--sizes", "--json", "FRESH"]),  # a new JSON, but the sweep's plot beside it ...
    ("bench", ["train", "--plot", "RUN/curves.png"]),
    ("bench", ["web", "--json", "NOTES"]),
    ("surname_eval", ["RUN", "--classifier", "RUN", "--out", "RUN/best.keras"]),
    ("surname_eval", ["RUN", "--classifier", "RUN", "--out", "NOTES"]),
    ("compare", ["--out", "RUN"]),
    ("gradients", ["--out", "EXPORT"]),
    ("fit", ["--run-dir", "RUN/inner"]),
    ("export", ["RUN", "--out", "EXPORT/inner"]),
])
def test_every_output_flag_refuses_before_any_work(command, args, tmp_path, capsys, monkeypatch):
    run, export = fake_run(tmp_path / "run"), fake_export(tmp_path / "export")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "fresh-sizes.png").write_text("mine")  # ... is a file of the user's
    (tmp_path / "text.txt").write_text("some text")
    names = {"RUN": str(run), "EXPORT": str(export), "NOTES": str(tmp_path / "notes.txt"), "FRESH": str(tmp_path / "fresh.json"),
             "TEXT": str(tmp_path / "text.txt")}
    argv = [a.replace(a.split("/")[0], names[a.split("/")[0]], 1) if a.split("/")[0] in names else a for a in args]
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    import importlib

    assert importlib.import_module(f"kerasrnn.{command}").main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("inside the" in err or "already exists" in err), err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


WINNER = """
import os, sys, time
sys.path.insert(0, {root!r})
from kerasrnn.core import runs
runs.claim_run_dir({run!r})
for name in ("config.json", "vocab.json", "history.csv"):
    open(os.path.join({run!r}, name), "w").write("winner")
os.mkdir(os.path.join({run!r}, "logs"))
print("ready", flush=True)
time.sleep(30)
"""


def test_the_loser_of_the_race_for_a_new_run_leaves_the_winners_files(tmp_path, monkeypatch):
    run = str(tmp_path / "runs" / "new")
    real_lock = runs.lock_run
    winner = []

    def lock_late(run_dir):  # between this process's mkdir and its lock, another fit claims the folder
        winner.append(subprocess.Popen([sys.executable, "-c", WINNER.format(root=ROOT, run=run)],
                                       stdout=subprocess.PIPE, text=True))
        assert winner[0].stdout.readline().strip() == "ready"
        real_lock(run_dir)

    monkeypatch.setattr(runs, "lock_run", lock_late)
    try:
        with pytest.raises(cli.UsageError, match="being written by process"):
            runs.create_run(Config(), Vocabulary.build("ab"), run)
        runs.discard_unstarted(run)  # what fit does when it fails before training
        assert sorted(os.listdir(run)) == [".lock", "config.json", "history.csv", "logs", "vocab.json"]
        assert open(os.path.join(run, "config.json")).read() == "winner"
    finally:
        locks.release_all()
        for p in winner:
            p.kill()
            p.wait()


def test_a_lock_that_is_a_folder_is_named_and_left_alone(tmp_path):
    (tmp_path / ".lock").mkdir()
    old = time.time() - 3600
    os.utime(tmp_path / ".lock", (old, old))  # old enough to look stale
    with pytest.raises(cli.UsageError, match=r"\.lock is a folder, not a lock file"):
        runs.lock_run(str(tmp_path))
    assert os.path.isdir(tmp_path / ".lock") and os.listdir(tmp_path) == [".lock"]


def test_no_new_run_inside_another_run(tmp_path, monkeypatch):
    run = fake_run(tmp_path / "run")
    monkeypatch.chdir(run)  # fit started from inside a run: its default runs/ would land there
    with pytest.raises(cli.UsageError, match="inside the run directory"):
        runs.new_run_dir()
    with pytest.raises(cli.UsageError, match="inside the run directory"):
        runs.check_new_run_dir(str(run / "nested"))
    assert sorted(os.listdir(run)) == ["best.keras", "config.json", "vocab.json"]
