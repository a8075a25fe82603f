"""A full disk is reported as a full disk, with where, in one line (not as "out of memory")."""

from __future__ import annotations

import errno
import os
import subprocess

import pytest
import tensorflow as tf

from kerasrnn import export
from kerasrnn.core import cli
from kerasrnn.tasks.language_model import export as lm_export


def enospc(path: str = "") -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), *([path] if path else []))


def tf_enospc(path: str) -> tf.errors.ResourceExhaustedError:
    """What TensorFlow's file writers raise on a full disk (seen on a 120 KB tmpfs)."""
    return tf.errors.ResourceExhaustedError(None, None, f"{path}.tmp0123; No space left on device")


@pytest.mark.parametrize("error", [enospc(), enospc("/data/x.bin"), tf_enospc("/data/.out.partial/saved_model.pb")])
def test_cli_run_says_the_disk_is_full_and_where(error, capsys, tmp_path):
    out = str(tmp_path / "exported" / "model")

    def body():
        cli.writing(out)
        raise error

    assert cli.run(body, "prog") == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "out of memory" not in err, err
    assert err.startswith(f"prog: error: the disk is full: no space left to write {out} "), err
    assert "MB free" in err


def test_without_a_noted_output_the_file_in_the_error_is_named(capsys):
    assert cli.run(lambda: (_ for _ in ()).throw(tf_enospc("/tmp/x/saved_model.pb")), "prog") == 1
    assert "no space left to write /tmp/x/saved_model.pb.tmp0123 " in capsys.readouterr().err


def test_export_onto_a_full_disk_says_so(tiny_run, tmp_path, monkeypatch, capsys):
    def full(*args, **kwargs):
        raise tf_enospc(str(tmp_path / ".x.partial" / "saved_model" / "saved_model.pb"))

    monkeypatch.setattr(lm_export, "write_saved_model", full)  # the SavedModel writer, as on a full disk
    out = str(tmp_path / "exported")
    assert export.main([tiny_run, "--out", out]) == 1
    err = capsys.readouterr().err
    assert "the disk is full: no space left to write " + out in err and "out of memory" not in err, err
    assert not os.path.exists(out) and os.listdir(tmp_path) == []  # nothing left behind


@pytest.mark.slow
def test_export_onto_a_real_full_disk(tiny_run, tmp_path):
    """A 120 KB tmpfs (needs root to mount; skipped otherwise)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=120k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (not root)")
    try:
        from conftest import run_cli

        result = run_cli("kerasrnn.export", tiny_run, "--out", str(disk / "exp"))
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
        assert f"the disk is full: no space left to write {disk / 'exp'}" in result.stderr, result.stderr
        assert os.listdir(disk) == []
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)
