"""`python -m kerasrnn.launch --workers N -- FIT_ARGS...`: a local multi-worker cluster on this machine.

It tries `python -m kerasrnn.fit --strategy multi-worker` without a cluster of hosts.

Examples:
    python -m kerasrnn.launch --workers 2 -- --cell gru --epochs 2 --run-dir runs/two-workers
    python -m kerasrnn.launch --workers 2 -- --cell gru --epochs 2 --run-dir runs/two-workers   # again: resumes

It starts N `python -m kerasrnn.fit FIT_ARGS --strategy multi-worker` processes on 127.0.0.1, each
with free ports and its own TF_CONFIG (worker 0 is the chief), streams their output prefixed with
`[worker i]`, and exits with the chief's status. When any worker fails, the others are stopped
(the survivors of a lost peer would otherwise wait in a collective); running the same command again
resumes from the chief's last backup. On real hosts, set TF_CONFIG yourself (or let Kubernetes,
Slurm or Vertex AI set it) and run `python -m kerasrnn.fit ... --strategy multi-worker` on each.
The work is in `kerasrnn.training.local_cluster`.
"""

from __future__ import annotations

import sys

from kerasrnn.core import cli, deps


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.launch", __doc__.splitlines()[0])
    p.add_argument("--workers", type=cli.Range(int, 1, 64), default=2, help="worker processes to start on 127.0.0.1")
    p.add_argument("fit_args", nargs="*", help="arguments for kerasrnn.fit, after --")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        cli.check_packages(*deps.TENSORFLOW, prog="kerasrnn.launch")  # what each worker (kerasrnn.fit) needs
        if any(a == "--strategy" or a.startswith("--strategy=") for a in args.fit_args):
            raise cli.UsageError("kerasrnn.launch sets --strategy multi-worker itself; leave it out")
        if not any(a == "--run-dir" or a.startswith("--run-dir=") for a in args.fit_args):
            raise cli.UsageError("give kerasrnn.fit a --run-dir after -- (every worker must name the same run)")
        from kerasrnn.training.local_cluster import launch

        return launch(args.workers, args.fit_args)

    return cli.run(body, "kerasrnn.launch")


if __name__ == "__main__":
    sys.exit(main())
