"""`python -m kerasrnn.surname_eval --classifier RUN GENERATOR_RUN...`: how well generators keep to a nationality.

For each generator run: its test figures (loss per character, next-character accuracy), and
for `--samples` surnames (the 18 nationalities requested in turn, temperature 0.7): the share
that are new (in no split of the data) and the share the classifier assigns to the requested
nationality. An unconditioned generator cannot be asked for a nationality, so its share is the
baseline a conditioned one must beat (its samples are scored against the same requests).

Examples:
    python -m kerasrnn.surname_eval --classifier runs/surnames-gru runs/gen runs/gen-conditioned
    python -m kerasrnn.surname_eval --classifier runs/surnames-gru runs/gen-conditioned --out report.json
"""

from __future__ import annotations

import sys

from kerasrnn.core import cli, deps

deps.require("kerasrnn.surname_eval", "numpy")  # before the imports below, which need it: one line, not a traceback

from kerasrnn.core.config import LIMITS  # noqa: E402

DEFAULT_SAMPLES = 1000


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.surname_eval", __doc__.splitlines()[0])
    p.add_argument("generators", nargs="+", type=cli.utf8, help="run directories of kerasrnn.fit --task surname-generation")
    p.add_argument("--classifier", type=cli.utf8, required=True, help="a run directory of kerasrnn.fit --task surnames")
    p.add_argument("--samples", type=cli.Range(int, 1, 100_000), default=DEFAULT_SAMPLES,
                   help="surnames sampled per generator")
    p.add_argument("--temperature", type=cli.TEMPERATURE, default=0.7, help="sampling temperature")
    p.add_argument("--seed", type=LIMITS["seed"], default=1337, help="sampling seed")
    p.add_argument("--out", type=cli.utf8, default=None, help="also write the report as JSON here")
    p.add_argument("--force", action="store_true", help=cli.FORCE_HELP)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        if args.out:
            cli.check_output_file(args.out, "--out", args.force)  # before the evaluation, not after it
        cli.quiet_tensorflow()
        from kerasrnn.tasks.surnames.report import evaluate_generators

        evaluate_generators(args.classifier, args.generators, args.samples, args.temperature, args.seed, args.out)
        return 0

    return cli.run(body, "kerasrnn.surname_eval")


if __name__ == "__main__":
    sys.exit(main())
