"""The sentence exercise: every cell learns a sentence exactly, in seconds, and the run samples it back."""

import json
import os

import pytest

from kerasrnn import fit, sample
from kerasrnn.core.config import CELLS
from conftest import run_cli

SENTENCES = ["hihello", "seoul is the capital of south korea"]


def _final(run_dir):
    return json.load(open(os.path.join(run_dir, "metrics.json")))["final"]


@pytest.mark.parametrize("cell", CELLS)
def test_each_cell_learns_both_sentences_exactly(cell, tmp_path, capsys):
    for i, text in enumerate(SENTENCES):
        run_dir = str(tmp_path / f"run{i}")
        assert fit.main(["--task", "sentence", "--cell", cell, "--sentence", text, "--run-dir", run_dir]) == 0
        final = _final(run_dir)
        assert final["exact_epoch"] is not None and final["accuracy"] == 1.0
        out = capsys.readouterr().out
        assert f"predicted {text[1:]!r}  target {text[1:]!r}" in out and "exact after" in out


def test_greedy_sampling_replays_the_sentence(tmp_path, capsys):
    run_dir = str(tmp_path / "run")
    assert fit.main(["--task", "sentence", "--cell", "gru", "--run-dir", run_dir]) == 0
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert (config["units"], config["embedding_dim"], config["seq_len"]) == (32, 0, 34)  # the task's defaults
    capsys.readouterr()
    assert sample.main([run_dir, "--prime", "s", "--top-k", "1", "--length", "34"]) == 0
    assert capsys.readouterr().out == "seoul is the capital of south korea\n"


def test_sliding_windows_over_a_paragraph(tmp_path, capsys):
    text = tmp_path / "para.txt"
    text.write_text("The quick brown fox jumps over the lazy dog. A stitch in time saves nine.\n")
    run_dir = str(tmp_path / "run")
    argv = ["--task", "sentence", "--text", str(text), "--seq-len", "10", "--embedding-dim", "8",
            "--run-dir", run_dir]
    assert fit.main(argv) == 0
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert (config["seq_len"], config["embedding_dim"]) == (10, 8)  # flags given win over the task's defaults
    assert _final(run_dir)["exact_epoch"] is not None
    assert "window(s) of 10" in capsys.readouterr().out


def test_a_one_character_sentence_is_a_one_line_error(tmp_path, capsys):
    assert fit.main(["--task", "sentence", "--sentence", "a", "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "kerasrnn.fit: error: the sentence must have at least 2 characters (got 'a')"


def test_the_command_prints_only_its_own_lines(tmp_path):
    proc = run_cli("kerasrnn.fit", "--task", "sentence", "--sentence", "hihello", "--run-dir", str(tmp_path / "r"))
    assert proc.returncode == 0 and proc.stderr == ""  # no TensorFlow start-up chatter
    assert proc.stdout.splitlines()[-1].startswith("exact after")


def test_a_text_file_that_does_not_exist_is_an_error_not_the_sentence(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert fit.main(["--task", "sentence", "--text", "paragraph.txt"]) == 2
    err = capsys.readouterr().err
    assert "no such file: paragraph.txt" in err and "use --sentence" in err and err.count("\n") == 1
    assert os.listdir(tmp_path) == []  # no run directory left behind


def test_sentence_runs_are_named_by_their_task(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert fit.main(["--task", "sentence", "--sentence", "hihello", "--cell", "simplernn", "--epochs", "1"]) == 0
    (name,) = os.listdir(tmp_path / "runs")  # (one epoch: the name is what is tested, not the learning)
    assert name.startswith("sentence-simplernn-") and f"run: runs/{name}" in capsys.readouterr().out
    config = json.load(open(tmp_path / "runs" / name / "config.json"))
    assert config["sentence"] == "hihello" and config["text"] is None
    assert fit.main(["--sentence", "hihello"]) == 2  # only for --task sentence
    assert "--sentence is for --task sentence" in capsys.readouterr().err
