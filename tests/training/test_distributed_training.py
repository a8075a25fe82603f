"""tf.distribute: two workers on the loopback, a killed worker's job resumed, mirrored over two CPUs."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import ROOT, run_cli, run_main
from kerasrnn.training.local_cluster import free_ports
from kerasrnn.training.strategies import is_chief

TINY = ["--units", "32", "--embedding-dim", "16", "--seq-len", "32", "--epochs", "2", "--dropout", "0",
        "--verbose", "0"]  # no dropout: the random streams of one and two processes differ


def epochs(run_dir) -> list[dict]:
    with open(os.path.join(run_dir, "metrics.json"), encoding="utf-8") as f:
        return json.load(f)["epochs"]


def launch(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return run_cli("kerasrnn.launch", *args, timeout=timeout)


def test_two_workers_train_as_one_process_with_the_same_global_batch(tmp_path, tiny_text):
    two, one, fit_run = (str(tmp_path / name) for name in ("two", "one", "fit"))
    result = launch("--workers", "2", "--", "--text", tiny_text, *TINY, "--batch-size", "8", "--run-dir", two)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "[worker 1]" in result.stdout and "this worker writes to" in result.stdout
    result = launch("--workers", "1", "--", "--text", tiny_text, *TINY, "--batch-size", "16", "--run-dir", one)
    assert result.returncode == 0, result.stdout[-3000:]
    result = run_main("kerasrnn.fit", "--text", tiny_text, *TINY, "--batch-size", "16", "--run-dir", fit_run)
    assert result.returncode == 0, result.stderr
    windows = (18_000 - 1) // 32  # the training split of the 20,000-character text, in windows of 32
    for a, b, c in zip(epochs(two), epochs(one), epochs(fit_run), strict=True):
        assert a["steps"] == b["steps"] == c["steps"] == windows // 16  # no shard dropped or read twice
        # the same global batch split over two workers: the same mathematics
        assert abs(a["train_loss_nats"] - b["train_loss_nats"]) < 1e-4
        assert abs(a["val_loss_nats"] - b["val_loss_nats"]) < 1e-4
        # and plain model.fit on one device, whose input pipeline tf.distribute does not rewrite: the
        # same seeded data in another shuffled order
        assert abs(a["train_loss_nats"] - c["train_loss_nats"]) < 0.02
        assert abs(a["val_loss_nats"] - c["val_loss_nats"]) < 0.02
    assert sorted(os.listdir(two)) == sorted(os.listdir(fit_run))  # the chief wrote the whole run


@pytest.mark.slow  # about a minute; the launcher's side is tests/training/test_launch_exit.py, a worker's choice
# to resume test_a_worker_resumes_only_a_run_the_chief_had_backed_up, resuming from a mid-epoch backup test_fit.py
def test_a_killed_worker_is_stopped_and_the_job_resumes_from_the_backup(tmp_path, tiny_text):
    run_dir = tmp_path / "run"
    args = ["--workers", "2", "--", "--text", tiny_text, "--units", "32", "--embedding-dim", "16", "--seq-len", "16",
            "--batch-size", "4", "--epochs", "3", "--dropout", "0", "--checkpoint-every", "20", "--verbose", "0",
            "--run-dir", str(run_dir)]
    launcher = subprocess.Popen([sys.executable, "-m", "kerasrnn.launch", *args], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    meta = run_dir / "backup" / "training_metadata.json"
    deadline = time.time() + 180
    while time.time() < deadline:  # wait for a backup inside epoch 2
        try:
            state = json.loads(meta.read_text())
        except (OSError, ValueError):
            state = {}
        if state.get("epoch", 0) >= 1 and state.get("batch", 0) > 0:
            break
        assert launcher.poll() is None, launcher.stdout.read()[-3000:]
        time.sleep(0.1)
    else:
        launcher.kill()
        pytest.fail("no backup inside epoch 2 within 180 s")
    children = subprocess.run(["pgrep", "-P", str(launcher.pid)], capture_output=True, text=True).stdout.split()
    assert len(children) == 2
    os.kill(int(children[1]), signal.SIGKILL)  # worker 1
    out, _ = launcher.communicate(timeout=120)
    assert launcher.returncode != 0 and "worker 1 was killed by signal 9 (SIGKILL)" in out
    assert "final" not in json.loads((run_dir / "metrics.json").read_text())

    result = launch(*args)  # the same job again
    assert result.returncode == 0, result.stdout[-3000:]
    record = json.loads((run_dir / "metrics.json").read_text())
    assert [e["epoch"] for e in record["epochs"]] == [1, 2, 3] and record["final"]["epochs"] == 3
    assert not (run_dir / "backup").exists()


MIRRORED = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from kerasrnn import fit
args = sys.argv[1:]
assert fit.main([*args, "--strategy", "mirrored", "--batch-size", "8", "--run-dir", "{out}/mirrored"]) == 0
"""


def test_mirrored_over_two_logical_cpus_trains_as_one_device(tmp_path, tiny_text):
    script = textwrap.dedent(MIRRORED).replace("{out}", str(tmp_path))
    result = subprocess.run([sys.executable, "-c", script, "--text", tiny_text, *TINY], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "MirroredStrategy, 2 replicas" in result.stdout
    result = run_cli("kerasrnn.fit", "--text", tiny_text, *TINY, "--strategy", "mirrored", "--batch-size", "16",
                     "--run-dir", str(tmp_path / "one"))  # one (logical) CPU: MirroredStrategy over one device
    assert result.returncode == 0, result.stderr
    assert "MirroredStrategy, 1 replica" in result.stdout
    for a, b in zip(epochs(tmp_path / "mirrored"), epochs(tmp_path / "one"), strict=True):
        assert a["steps"] == b["steps"]
        assert abs(a["train_loss_nats"] - b["train_loss_nats"]) < 1e-4
        assert abs(a["val_loss_nats"] - b["val_loss_nats"]) < 1e-4


def test_a_worker_resumes_only_a_run_the_chief_had_backed_up(tmp_path):
    """The chief of a new job may write the run's config before another worker looks: that worker must not
    take the config for an earlier job's run (it would resume what has no checkpoint and fail)."""
    from kerasrnn.tasks.language_model.training import restarted_job

    run = tmp_path / "run"
    run.mkdir()
    assert not restarted_job(str(run), chief=True) and not restarted_job(str(run), chief=False)
    (run / "config.json").write_text("{}")  # this job's chief has just created the run
    assert restarted_job(str(run), chief=True) and not restarted_job(str(run), chief=False)
    (run / "backup").mkdir()  # an earlier job trained and backed up
    assert restarted_job(str(run), chief=True) and restarted_job(str(run), chief=False)
    (run / "metrics.json").write_text(json.dumps({"epochs": [], "final": {}}))  # and finished
    assert not restarted_job(str(run), chief=True) and not restarted_job(str(run), chief=False)


def test_chief_is_worker_0_or_the_chief_task():
    worker = {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}
    assert is_chief(worker) and is_chief({})
    assert not is_chief({**worker, "task": {"type": "worker", "index": 1}})
    with_chief = {"cluster": {"chief": ["c:0"], "worker": ["a:1"]}, "task": {"type": "worker", "index": 0}}
    assert not is_chief(with_chief) and is_chief({**with_chief, "task": {"type": "chief", "index": 0}})


@pytest.mark.parametrize("module,args,message", [
    ("kerasrnn.fit", ["--strategy", "multi-worker", "--run-dir", "{tmp}/r"], "needs the TF_CONFIG"),
    ("kerasrnn.fit", ["--strategy", "multi-worker"], "needs --run-dir"),
    ("kerasrnn.fit", ["--task", "surnames", "--strategy", "mirrored"], "trains corpus models"),
    ("kerasrnn.fit", ["--strategy", "ring"], "invalid choice: 'ring'"),
    ("kerasrnn.launch", ["--workers", "2", "--", "--epochs", "1"], "give kerasrnn.fit a --run-dir"),
    ("kerasrnn.launch", ["--workers", "0", "--", "--run-dir", "x"], "--workers must be at least 1"),
    ("kerasrnn.launch", ["--workers", "100000", "--", "--run-dir", "x"], "--workers must be at least 1 and at most 64"),
])
def test_bad_distribution_options_are_one_line(tmp_path, module, args, message, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    result = run_main(module, *[a.format(tmp=tmp_path) for a in args])
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert os.listdir(tmp_path) == []  # refused before anything was written


def test_a_bad_distribution_option_in_a_fresh_process_is_one_line(tmp_path):
    result = run_cli("kerasrnn.launch", "--workers", "2", "--", "--epochs", "1")
    assert result.returncode == 2 and "give kerasrnn.fit a --run-dir" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_worker_port_in_use_is_one_line(tmp_path, tiny_text):
    taken = socket.socket()
    taken.bind(("0.0.0.0", 0))  # another program's server on this worker's port
    taken.listen()
    other = free_ports(1)[0][0]
    try:
        config = {"cluster": {"worker": [f"127.0.0.1:{taken.getsockname()[1]}", f"127.0.0.1:{other}"]},
                  "task": {"type": "worker", "index": 0}}
        result = subprocess.run([sys.executable, "-m", "kerasrnn.fit", "--text", tiny_text, *TINY, "--strategy",
                                 "multi-worker", "--run-dir", str(tmp_path / "run")], cwd=ROOT,
                                env={**os.environ, "TF_CONFIG": json.dumps(config)}, capture_output=True, text=True,
                                timeout=300)
    finally:
        taken.close()
    assert result.returncode == 2 and "could not start its gRPC server" in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "run").exists()


def test_launch_holds_its_ports_until_the_workers_start():
    ports, sockets = free_ports(3)
    try:
        assert len(set(ports)) == 3
        for port in ports:  # still held: nobody else can take them in between
            probe = socket.socket()
            with pytest.raises(OSError):
                probe.bind(("127.0.0.1", port))
            probe.close()
    finally:
        for s in sockets:
            s.close()


def test_two_workers_read_their_own_shard_files_of_a_prepared_corpus(tmp_path, tiny_text):
    from pipelines.prepare import prepare

    data = tmp_path / "data"
    prepare(tiny_text, str(data), shard_bytes=4000, quiet=True)  # 18,000 training ids in 5 shard files
    run_dir = str(tmp_path / "run")
    result = launch("--workers", "2", "--", "--data", str(data), *TINY, "--batch-size", "8", "--run-dir", run_dir)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "this worker (#0) reads 3 ([0, 2, 4])" in result.stdout and "this worker (#1) reads 2 ([1, 3])" in \
        result.stdout, result.stdout[-3000:]
    # worker 1 holds 8,000 ids: 249 windows of 32, 31 batches of 8 per replica; both workers take that many
    assert [e["steps"] for e in epochs(run_dir)] == [31, 31]
    assert all(e["val_loss_nats"] < 4.2 for e in epochs(run_dir))  # it learnt (ln 66 = 4.19)
