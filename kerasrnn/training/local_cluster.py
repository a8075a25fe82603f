"""A local multi-worker cluster on 127.0.0.1: N `python -m kerasrnn.fit ... --strategy multi-worker`
processes, each with free ports and its own TF_CONFIG (worker 0 is the chief), their output
streamed with a `[worker i]` prefix. When any worker fails the others are stopped (the survivors of
a lost peer would otherwise wait in a collective). The work behind `python -m kerasrnn.launch`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading

from kerasrnn.training.strategies import PORT_BUSY


ATTEMPTS = 3  # cluster starts when a port is taken between choosing it and the worker binding it
WORKER = ["-m", "kerasrnn.fit"]  # what each worker runs, after the Python interpreter (tests replace it)


def exit_status(code: int) -> int:
    """A worker's status as the shell reports it: a worker killed by signal n is 128 + n (Popen says -n)."""
    return 128 - code if code < 0 else code


def describe_exit(code: int) -> str:
    """"exited with status 3", or "was killed by signal 9 (SIGKILL)"."""
    if code >= 0:
        return f"exited with status {code}"
    try:
        name = f" ({signal.Signals(-code).name})"
    except ValueError:
        name = ""
    return f"was killed by signal {-code}{name}"


def free_ports(n: int) -> tuple[list[int], list[socket.socket]]:
    """n distinct free TCP ports, and the sockets that hold them until they are closed (just before each
    worker starts, so that no other process takes them in between)."""
    sockets = []
    try:
        for _ in range(n):
            sockets.append(socket.socket())
            sockets[-1].bind(("127.0.0.1", 0))
    except OSError:
        for s in sockets:
            s.close()
        raise
    return [s.getsockname()[1] for s in sockets], sockets


def tf_configs(ports: list[int]) -> list[str]:
    """The TF_CONFIG of each worker of a loopback cluster (worker 0 is the chief)."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}) for i in range(len(ports))]


def _stream(proc: subprocess.Popen, prefix: str, port_busy: threading.Event) -> None:
    for line in proc.stdout:
        if PORT_BUSY in line:
            port_busy.set()
        sys.stdout.write(f"{prefix}{line}")
        sys.stdout.flush()


def launch(workers: int, fit_args: list[str]) -> int:
    """Runs the cluster (see the module doc), on new ports again (up to ATTEMPTS starts) when a worker's port was
    taken before it could bind it. Returns the chief's exit status (1 when a worker failed)."""
    for attempt in range(1, ATTEMPTS + 1):
        port_busy = threading.Event()
        code = _run_cluster(workers, fit_args, port_busy)
        if not port_busy.is_set() or attempt == ATTEMPTS:
            return code
        print("kerasrnn.launch: a worker's port was taken by another process; starting again on other ports",
              file=sys.stderr)
    return code


def _run_cluster(workers: int, fit_args: list[str], port_busy: threading.Event) -> int:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    command = [sys.executable, *WORKER, *fit_args, "--strategy", "multi-worker"]
    procs, threads = [], []
    ports, sockets = free_ports(workers)
    try:
        for i, (config, held) in enumerate(zip(tf_configs(ports), sockets)):
            held.close()  # the port is the worker's from now on
            proc = subprocess.Popen(command, env={**env, "TF_CONFIG": config}, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, bufsize=1)
            procs.append(proc)
            threads.append(threading.Thread(target=_stream, args=(proc, f"[worker {i}] ", port_busy), daemon=True))
            threads[-1].start()
        failed = None
        while failed is None and any(p.poll() is None for p in procs):
            for i, p in enumerate(procs):
                try:
                    code = p.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    continue
                if code != 0:
                    failed = (i, code)
                    break
        if failed is None:  # every worker ended before the loop looked (a worker that dies at once)
            failed = next(((i, p.returncode) for i, p in enumerate(procs) if p.returncode), None)
        if failed is not None:
            print(f"kerasrnn.launch: worker {failed[0]} {describe_exit(failed[1])}; stopping the others",
                  file=sys.stderr)
        chief = procs[0].returncode
        return exit_status(chief) if failed is None or chief else 1  # chief None (stopped below) or 0: 1
    finally:
        for s in sockets:
            s.close()
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for t in threads:
            t.join(timeout=5)
