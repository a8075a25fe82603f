"""`kerasrnn.launch` reports a worker killed by a signal as the shell does (128 + n), in one line."""

from __future__ import annotations

import signal

from kerasrnn import launch
from kerasrnn.training import local_cluster

SELF_KILL = ["-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]  # a worker killed by SIGKILL
FAIL_3 = ["-c", "import sys; sys.exit(3)"]


def test_exit_status_maps_signals_to_128_plus_n():
    assert local_cluster.exit_status(-signal.SIGKILL) == 137
    assert local_cluster.exit_status(-signal.SIGTERM) == 143
    assert local_cluster.exit_status(3) == 3 and local_cluster.exit_status(0) == 0
    assert local_cluster.describe_exit(-9) == "was killed by signal 9 (SIGKILL)"


def test_launch_exits_137_when_the_chief_is_killed(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(local_cluster, "WORKER", SELF_KILL)
    code = launch.main(["--workers", "1", "--", "--run-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 137, err  # was -9, which sys.exit turned into 247
    assert err.strip() == "kerasrnn.launch: worker 0 was killed by signal 9 (SIGKILL); stopping the others"


def test_launch_keeps_a_workers_own_status(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(local_cluster, "WORKER", FAIL_3)
    assert launch.main(["--workers", "1", "--", "--run-dir", str(tmp_path / "run")]) == 3
    assert "worker 0 exited with status 3" in capsys.readouterr().err
