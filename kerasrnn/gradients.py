"""`python -m kerasrnn.gradients`: vanishing and exploding gradients, shown with numbers and pictures.

Examples:
    python -m kerasrnn.gradients                                   # all three experiments
    python -m kerasrnn.gradients --runs runs/shakespeare-lstm runs/shakespeare-gru --skip-long-range
    python -m kerasrnn.gradients --out docs/exercises --long-range-steps 1500

Writes gradients.json, gradient-norms.png and one-unit.png into --out and prints the tables.
The experiments are in `kerasrnn.tasks.lessons.gradient_experiments`.
"""

from __future__ import annotations

import os
import sys

from kerasrnn.core import cli, deps

deps.require("kerasrnn.gradients", "numpy")  # before the imports below, which need it: one line, not a traceback

from kerasrnn.core.config import LIMITS  # noqa: E402

MAX_LENGTH = 1_000  # --length: 29 s at 1,000 (2 cores, loaded), several minutes at 10,000


OUTPUTS = ("gradients.json", "gradient-norms.png", "one-unit.png")  # what --out receives


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.gradients", __doc__.splitlines()[0])
    p.add_argument("--length", type=cli.Range(int, 1, MAX_LENGTH), default=100,
                   help="sequence length T of the gradient-norm measurement (its time grows with T: about half a "
                        "minute at 1,000 on a 2-core CPU; the gradients have vanished long before)")
    p.add_argument("--units", type=LIMITS["units"], default=64, help="units of the untrained models")
    p.add_argument("--runs", nargs="*", type=cli.utf8, default=[], help="trained run directories to measure as well")
    p.add_argument("--long-range-steps", type=cli.Range(int, 1, 100_000), default=400,
                   help="training steps per cell and T")
    p.add_argument("--skip-long-range", action="store_true", help="leave out the long-range task (the slow part)")
    p.add_argument("--out", type=cli.utf8, default=os.path.join("runs", "gradients"), help="folder for the JSON and PNGs")
    p.add_argument("--force", action="store_true", help=cli.FORCE_HELP)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        cli.check_output_dir(args.out, "--out", OUTPUTS, args.force)
        cli.quiet_tensorflow()
        from kerasrnn.tasks.lessons.gradient_experiments import run_all

        run_all(args.out, args.length, args.units, args.runs, args.long_range_steps, args.skip_long_range)
        return 0

    return cli.run(body, "kerasrnn.gradients")


if __name__ == "__main__":
    sys.exit(main())
