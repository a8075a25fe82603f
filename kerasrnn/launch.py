"""`python -m kerasrnn.launch --workers N -- FIT_ARGS...`: a local multi-worker cluster for trying
`--strategy multi-worker` on one machine.

Examples:
    python -m kerasrnn.launch --workers 2 -- --cell gru --epochs 2 --run-dir runs/two-workers
    python -m kerasrnn.launch --workers 2 -- --cell gru --epochs 2 --run-dir runs/two-workers   # again: resumes

It starts N `python -m kerasrnn.fit FIT_ARGS --strategy multi-worker` processes on 127.0.0.1, each
with free ports and its own TF_CONFIG (worker 0 is the chief), streams their output prefixed with
`[worker i]`, and exits with the chief's status. When any worker fails, the others are stopped
(the survivors of a lost peer would otherwise wait in a collective); running the same command again
resumes from the chief's last backup. On real hosts, set TF_CONFIG yourself (or let Kubernetes,
Slurm or Vertex AI set it) and run `python -m kerasrnn.fit ... --strategy multi-worker` on each.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

from kerasrnn import cli


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.launch", __doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=2, help="worker processes to start on 127.0.0.1")
    p.add_argument("fit_args", nargs="*", help="arguments for kerasrnn.fit, after --")
    return p


def free_ports(n: int) -> list[int]:
    """n distinct TCP ports that were free on 127.0.0.1 a moment ago."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_configs(ports: list[int]) -> list[str]:
    """The TF_CONFIG of each worker of a loopback cluster (worker 0 is the chief)."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}) for i in range(len(ports))]


def _stream(proc: subprocess.Popen, prefix: str) -> None:
    for line in proc.stdout:
        sys.stdout.write(f"{prefix}{line}")
        sys.stdout.flush()


def launch(workers: int, fit_args: list[str]) -> int:
    """Runs the cluster (see the module doc). Returns the chief's exit status (1 when a worker failed)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    command = [sys.executable, "-m", "kerasrnn.fit", *fit_args, "--strategy", "multi-worker"]
    procs, threads = [], []
    try:
        for i, config in enumerate(tf_configs(free_ports(workers))):
            proc = subprocess.Popen(command, env={**env, "TF_CONFIG": config}, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, bufsize=1)
            procs.append(proc)
            threads.append(threading.Thread(target=_stream, args=(proc, f"[worker {i}] "), daemon=True))
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
        if failed is not None:
            print(f"kerasrnn.launch: worker {failed[0]} exited with status {failed[1]}; stopping the others",
                  file=sys.stderr)
        return procs[0].returncode if failed is None else (procs[0].returncode or 1)
    finally:
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        if args.workers < 1:
            raise cli.UsageError("--workers must be at least 1")
        if "--strategy" in args.fit_args:
            raise cli.UsageError("kerasrnn.launch sets --strategy multi-worker itself; leave it out")
        if not any(a == "--run-dir" or a.startswith("--run-dir=") for a in args.fit_args):
            raise cli.UsageError("give kerasrnn.fit a --run-dir after -- (every worker must name the same run)")
        return launch(args.workers, args.fit_args)

    return cli.run(body, "kerasrnn.launch")


if __name__ == "__main__":
    sys.exit(main())
