"""What a run directory holds, read back with every field checked; its lock; where its training text is."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from kerasrnn import evaluate, sample
from kerasrnn.core import locks, runs
from kerasrnn.core.cli import UsageError
from kerasrnn.core.config import Config
from pipelines.io import DataError
from pipelines.vocab import Vocabulary
from conftest import ROOT


def tampered(run_dir, tmp_path, name, change):
    """A copy of the run whose file `name` (a JSON object) has been changed by `change(data)` (or replaced
    by what it returns)."""
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    path = copy / name
    data = json.loads(path.read_text(encoding="utf-8"))
    data = change(data) or data
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(copy)


def set_field(key, value):
    def change(data):
        data[key] = value
    return change


@pytest.mark.parametrize("name, change, message", [
    ("config.json", set_field("units", "8"), "config.json: field 'units' must be an integer (got \"8\")"),
    ("config.json", set_field("cell", 5), "config.json: field 'cell' must be a string (got 5)"),
    ("config.json", set_field("cell", "transformer"), "config.json: field 'cell' = 'transformer': unknown cell"),
    ("config.json", set_field("seq_len", 0), "config.json: field 'seq_len' = 0: --seq-len must be at least 1"),
    ("config.json", set_field("learning_rate", 1e300), "field 'learning_rate' = 1e+300"),
    ("config.json", set_field("dropout", True), "field 'dropout' must be a number (got true)"),
    ("config.json", lambda d: [d], "config.json must hold a JSON object, not list"),
    ("vocab.json", lambda d: {**d, "tokens": d["tokens"][:10]}, "vocab.json: field 'tokens' lists 10 tokens, but "
                                                                "config.json's vocab_size is"),
    ("vocab.json", set_field("specials", "<unk>"), "vocab.json: field 'specials' must be a list of strings"),
    ("vocab.json", lambda d: {**d, "tokens": d["tokens"] + ["ab"]}, "lists 'ab', neither one character"),
    ("vocab.json", lambda d: {**d, "tokens": d["tokens"] + ["e"]}, "vocab.json: field 'tokens' lists 'e' twice"),
    ("vocab.json", set_field("unk_id", 3), "vocab.json: field 'unk_id' is 3, but '<unk>' is token 0"),
])
def test_a_tampered_run_file_is_one_line_naming_the_file_and_the_field(tiny_run, tmp_path, capsys, name, change,
                                                                       message):
    run = tampered(tiny_run, tmp_path, name, change)
    for main in (sample.main, evaluate.main):
        assert main([run, "--length", "5"] if main is sample.main else [run]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err, err


def test_vocabulary_and_model_that_disagree_are_refused(tiny_run, tmp_path, capsys):
    def cut(data):  # both files agree, the model does not: 10 tokens, 59 logits
        data["tokens"] = data["tokens"][:10]
    run = tampered(tiny_run, tmp_path, "vocab.json", cut)
    config = json.loads(open(os.path.join(run, "config.json")).read())
    config["vocab_size"] = 10
    open(os.path.join(run, "config.json"), "w").write(json.dumps(config))
    assert evaluate.main([run]) == 2  # was: a wrong loss, exit 0
    err = capsys.readouterr().err
    assert "vocab.json: field 'tokens' lists 10 tokens, but" in err and "best.keras predicts" in err


def test_config_json_as_a_directory_is_one_line(tiny_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    os.remove(run / "config.json")
    (run / "config.json").mkdir()
    assert sample.main([str(run)]) == 2
    assert "config.json is not a file" in capsys.readouterr().err


def test_vocabulary_from_dict_round_trips_and_checks():
    vocab = Vocabulary.build("hello", specials=("<pad>", "<unk>"))
    assert Vocabulary.from_dict(json.loads(vocab.to_json())).tokens == vocab.tokens
    with pytest.raises(DataError, match="field 'specials' must include '<unk>'"):
        Vocabulary.from_dict({"tokens": ["<unk>", "a"], "specials": []})
    with pytest.raises(DataError, match="field 'pad_id' is 1, but '<pad>' is token 0"):
        Vocabulary.from_dict({**json.loads(vocab.to_json()), "pad_id": 1})


def test_config_round_trips_and_older_files_take_the_defaults():
    config = Config(task="surnames", labels=["A", "B"], units=8)
    assert Config.from_dict(config.to_dict()) == config
    assert Config.from_dict({"units": 8, "a_field_of_the_future": 1}).units == 8
    with pytest.raises(DataError, match="field 'labels' is empty"):
        Config.from_dict({"task": "surnames"})


def test_a_second_writer_gets_one_line(tmp_path):
    run_dir = str(tmp_path / "run")
    runs.claim_run_dir(run_dir)
    try:
        script = f"""
import sys
from kerasrnn.core import runs
from kerasrnn.core.cli import UsageError
try:
    runs.reopen_run({run_dir!r}) if sys.argv[1] == "resume" else runs.claim_run_dir({run_dir!r})
except UsageError as e:
    print(e)
"""
        for how in ("resume", "fresh"):
            out = subprocess.run([sys.executable, "-c", script, how], capture_output=True, text=True, cwd=ROOT,
                                 timeout=60).stdout
            assert f"is being written by process {os.getpid()}" in out or "nothing to resume" in out, out
        Config().save(os.path.join(run_dir, "config.json"))
        out = subprocess.run([sys.executable, "-c", script, "resume"], capture_output=True, text=True, cwd=ROOT,
                             timeout=60).stdout
        assert f"run directory {run_dir} is being written by process {os.getpid()}" in out
    finally:
        locks.release_all()
    assert os.listdir(run_dir) == ["config.json"]  # the lock is gone with its holder


def test_a_stale_lock_is_taken_over(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    import socket

    (run_dir / runs.LOCK).write_text(json.dumps({"pid": int(dead), "host": socket.gethostname()}))
    try:
        runs.claim_run_dir(str(run_dir))  # the process that held it has ended
        assert json.loads((run_dir / runs.LOCK).read_text())["pid"] == os.getpid()
    finally:
        locks.release_all()
    (run_dir / runs.LOCK).write_text(json.dumps({"pid": 1, "host": "another-host"}))
    with pytest.raises(UsageError, match="being written by process 1 on another-host"):
        runs.lock_run(str(run_dir))  # another host's process: cannot be known dead


def test_new_run_names_are_claimed_atomically(tmp_path):
    names = {runs.new_run_dir(str(tmp_path), prefix="gru") for _ in range(3)}
    assert len(names) == 3 and all(os.path.isdir(n) for n in names)
    assert runs.default_prefix(Config(task="sentence", cell="lstm")) == "sentence-lstm"
    assert runs.default_prefix(Config(cell="gru")) == "gru"


def test_an_older_runs_relative_text_is_found_from_the_run(tiny_run, tiny_text, tmp_path, monkeypatch, capsys):
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    shutil.copy(tiny_text, root / "data" / "tiny.txt")
    run = tampered(tiny_run, tmp_path, "config.json", set_field("text", os.path.join("data", "tiny.txt")))
    shutil.move(run, root / "runs" / "old")
    monkeypatch.chdir(tmp_path)  # not where fit ran
    assert evaluate.main([str(root / "runs" / "old")]) == 0
    assert "validation split (windows of 32)" in capsys.readouterr().out
    config = Config(text="nowhere.txt")
    with pytest.raises(DataError, match="the run's training text 'nowhere.txt'"):
        runs.training_text(config, str(root / "runs" / "old"))


def test_config_json_stores_the_text_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        runs.create_run(Config(text="book.txt"), Vocabulary.build("ab"), "run")
    finally:
        locks.release_all()
    assert json.load(open(tmp_path / "run" / "config.json"))["text"] == str(tmp_path / "book.txt")


def test_an_unstarted_run_is_undone_and_an_empty_folder_given_is_kept(tmp_path):
    given = tmp_path / "given"
    given.mkdir()  # the user's empty folder: emptied again, kept
    made = tmp_path / "made" / "run"  # created by fit, parents too: removed
    try:
        for run_dir in (given, made):
            runs.create_run(Config(), Vocabulary.build("ab"), str(run_dir))
            runs.discard_unstarted(str(run_dir))
    finally:
        locks.release_all()
    assert os.listdir(given) == [] and not (tmp_path / "made").exists()
    started = tmp_path / "started"
    try:
        runs.create_run(Config(), Vocabulary.build("ab"), str(started))
        (started / "metrics.json").write_text('{"epochs": []}')
        runs.discard_unstarted(str(started))  # it got as far as a record: kept for --resume
    finally:
        locks.release_all()
    assert sorted(os.listdir(started)) == ["config.json", "metrics.json", "vocab.json"]
