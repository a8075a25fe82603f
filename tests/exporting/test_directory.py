"""The export folder: --force replaces only an export (or an empty folder), never the run or a folder of runs;
the replacement is atomic, and a replacement killed half-way is repaired by the next export."""

import json
import os
import shutil

import pytest

from kerasrnn import export
from kerasrnn.core import locks
from kerasrnn.core.cli import UsageError
from kerasrnn.exporting import directory
from kerasrnn.exporting.directory import check_out, restore_leftovers, write_export


def fake_writer(tag: str):
    """A task's writer that writes one file and returns a manifest (no TensorFlow: the folder logic alone)."""
    def write(tmp, log, started):
        with open(os.path.join(tmp, "model.bin"), "w") as f:
            f.write(tag)
        return {"format": "kerasrnn-export", "tag": tag, "files": {"model.bin": {"bytes": len(tag), "sha256": "0" * 64}}}
    return write


def tag_of(out) -> str:
    return json.load(open(os.path.join(out, "manifest.json")))["tag"]


def test_force_refuses_what_is_not_an_export(tiny_run, tmp_path, capsys):
    runs_dir = tmp_path / "runs"
    shutil.copytree(tiny_run, runs_dir / "a")
    (runs_dir / "notes.txt").write_text("mine")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "thesis.tex").write_text("mine")
    (tmp_path / "file").write_text("mine")
    os.symlink(tmp_path / "folder", tmp_path / "link")
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    for out, message in [(runs_dir, "is the run being exported, or holds it"),
                         (runs_dir / "a", "is the run being exported, or holds it"),
                         (tmp_path / "folder", "it is not a kerasrnn export"),
                         (tmp_path / "file", "this is not a folder"),
                         (tmp_path / "link", "this is not a folder")]:
        assert export.main([str(runs_dir / "a"), "--out", str(out), "--force"]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before  # nothing deleted, nothing written


def test_force_replaces_an_export_or_an_empty_folder(tmp_path):
    out = str(tmp_path / "exp")
    os.mkdir(out)
    write_export(check_out(out, force=True), fake_writer("one"))  # empty: allowed
    with pytest.raises(UsageError, match="already exists: pass --force"):
        check_out(out, force=False)
    write_export(check_out(out, force=True), fake_writer("two"))
    assert tag_of(out) == "two" and sorted(os.listdir(tmp_path)) == ["exp"]


def test_force_never_deletes_a_file_a_user_put_into_an_export(tmp_path, capsys):
    out = str(tmp_path / "exp")
    write_export(out, fake_writer("one"))
    with open(os.path.join(out, "NOTES.txt"), "w") as f:
        f.write("mine")
    with pytest.raises(UsageError, match=r"holds files its manifest does not list \(NOTES.txt\)"):
        check_out(out, force=True)
    with pytest.raises(UsageError, match="NOTES.txt"):  # also when it appears after the check, under the lock
        write_export(out, fake_writer("two"))
    assert tag_of(out) == "one" and open(os.path.join(out, "NOTES.txt")).read() == "mine"
    assert sorted(os.listdir(tmp_path)) == ["exp"]


def test_an_export_never_goes_inside_a_run_or_another_export(tiny_run, tiny_export, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    for out, message in [(run / "exp", "inside the run being exported"),
                         (tiny_export + "/inner", "inside the export"),
                         ("", "--out is empty")]:
        assert export.main([str(run), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert export.main([""]) == 2
    assert "the run directory is empty" in capsys.readouterr().err
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before and not os.path.exists(tiny_export + "/inner")


def test_replacing_is_one_atomic_exchange(tmp_path, monkeypatch):
    out = str(tmp_path / "exp")
    write_export(out, fake_writer("old"))
    seen = []
    real_rmtree = shutil.rmtree

    def rmtree(path, *args, **kwargs):  # called once the new export is in place: out was never missing
        seen.append((os.path.basename(path), tag_of(out), tag_of(path)))
        real_rmtree(path, *args, **kwargs)

    real_rename = os.rename

    def rename(a, b):
        assert os.path.abspath(str(a)) != out, "out renamed away: a moment without an export"
        real_rename(a, b)

    monkeypatch.setattr(directory.shutil, "rmtree", rmtree)
    monkeypatch.setattr(directory.os, "rename", rename)
    write_export(out, fake_writer("new"))
    assert seen and seen[0][1:] == ("new", "old") and tag_of(out) == "new"


def test_a_replacement_killed_half_way_is_restored_by_the_next_export(tmp_path, monkeypatch):
    out = str(tmp_path / "exp")
    write_export(out, fake_writer("old"))
    monkeypatch.setattr(directory, "exchange", lambda a, b: False)  # a file system without renameat2
    real_rename, calls = os.rename, []

    def killed_after_first_rename(a, b):
        calls.append(b)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process dies between moving the old export aside and the new in
        real_rename(a, b)

    monkeypatch.setattr(directory.os, "rename", killed_after_first_rename)
    with pytest.raises(KeyboardInterrupt):
        write_export(out, fake_writer("new"))
    monkeypatch.setattr(directory.os, "rename", real_rename)
    locks.release_all()
    assert not os.path.exists(out) and [n for n in os.listdir(tmp_path) if ".old-" in n]
    restore_leftovers(out)  # what the next export does first
    assert tag_of(out) == "old" and os.listdir(tmp_path) == ["exp"]
    write_export(check_out(out, force=True), fake_writer("new"))  # and the fallback path works unkilled
    assert tag_of(out) == "new" and os.listdir(tmp_path) == ["exp"]


def test_old_leftovers_beside_an_existing_export_are_removed(tmp_path):
    out = tmp_path / "exp"
    write_export(str(out), fake_writer("current"))
    (tmp_path / ".exp.old-abc").mkdir()
    (tmp_path / ".exp.old-abc" / "manifest.json").write_text('{"format": "kerasrnn-export", "tag": "older"}')
    check_out(str(out), force=True)
    assert os.listdir(tmp_path) == ["exp"] and tag_of(out) == "current"


def test_a_second_export_to_the_same_place_is_refused(tmp_path):
    out = str(tmp_path / "exp")
    locks.acquire(os.path.join(tmp_path, ".exp.lock"), "export")  # as another export in progress would
    try:
        import subprocess
        import sys

        script = f"""
from kerasrnn.core.cli import UsageError
from kerasrnn.exporting.directory import write_export
try:
    write_export({out!r}, lambda tmp, log, started: {{}})
except UsageError as e:
    print(e)
"""
        from conftest import ROOT

        printed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                                 timeout=120).stdout
        assert f"export {out} is being written by process {os.getpid()}" in printed
    finally:
        locks.release_all()
    assert os.listdir(tmp_path) == []
