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


# worker 1 kills itself once worker 0 is up; worker 0 would wait for ever (as for a lost peer in a collective)
KILL_ONE = ["-c", """
import json, os, signal, sys, time
index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
if index == 1:
    while not os.path.exists(sys.argv[sys.argv.index("--run-dir") + 1]):
        time.sleep(0.01)
    os.kill(os.getpid(), signal.SIGKILL)
os.makedirs(sys.argv[sys.argv.index("--run-dir") + 1])
time.sleep(600)
"""]


def test_a_killed_worker_stops_the_others(monkeypatch, capsys, tmp_path):
    import time

    monkeypatch.setattr(local_cluster, "WORKER", KILL_ONE)
    started = time.perf_counter()
    code = launch.main(["--workers", "2", "--", "--run-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 1, err  # the chief was stopped: the job failed
    assert err.strip() == "kerasrnn.launch: worker 1 was killed by signal 9 (SIGKILL); stopping the others"
    assert time.perf_counter() - started < 20  # worker 0 was terminated at once, not waited for (30 s, then killed)


def test_a_worker_that_ended_before_the_launcher_looked_is_still_reported(monkeypatch, capsys, tmp_path):
    import subprocess

    popen = subprocess.Popen

    def popen_and_wait(*args, **kwargs):  # the worker has ended before `run` starts watching it
        proc = popen(*args, **kwargs)
        proc.wait()
        return proc

    monkeypatch.setattr(local_cluster, "WORKER", SELF_KILL)
    monkeypatch.setattr(local_cluster.subprocess, "Popen", popen_and_wait)
    assert launch.main(["--workers", "1", "--", "--run-dir", str(tmp_path / "run")]) == 137
    assert capsys.readouterr().err.strip() == "kerasrnn.launch: worker 0 was killed by signal 9 (SIGKILL); stopping the others"
