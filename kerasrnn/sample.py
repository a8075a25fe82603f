"""`python -m kerasrnn.sample RUN_DIR`: generate text from a trained run, streamed as it comes.

For a surname generator (`--task surname-generation`) it prints `-n` new surnames instead, each
ending at the end token; a conditioned one takes the nationality to invent them for.

Examples:
    python -m kerasrnn.sample runs/surnames-gen --nationality Japanese -n 10 --temperature 0.7
    python -m kerasrnn.sample runs/gru-... --prime "ROMEO:" --length 500
    python -m kerasrnn.sample runs/gru-... --temperature 0.7 --top-p 0.9 --seed 7
    python -m kerasrnn.sample runs/gru-... --top-k 1          # greedy
"""

from __future__ import annotations

import sys

from kerasrnn.core import cli


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.sample", __doc__.splitlines()[0])
    p.add_argument("run_dir", help="a run directory written by kerasrnn.fit")
    p.add_argument("--prime", default="\n", help="text to start from (its state is carried on)")
    p.add_argument("--length", type=int, default=500, help="characters to generate")
    p.add_argument("--temperature", type=float, default=0.8, help="softmax temperature (> 0)")
    p.add_argument("--top-k", type=int, default=0, help="sample from the k most likely (0 = all, 1 = greedy)")
    p.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (1 = off)")
    p.add_argument("--seed", type=int, default=1337, help="sampling seed")
    p.add_argument("--no-prime", action="store_true", help="do not echo the prime before the sample")
    p.add_argument("-n", "--count", type=int, default=10, help="surname generators: how many surnames")
    p.add_argument("--nationality", default=None,
                   help="conditioned surname generators: the nationality of the surnames (default: each in turn)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        if args.temperature <= 0:
            raise cli.UsageError(f"--temperature must be positive (got {args.temperature:g})")
        if not 0 < args.top_p <= 1:
            raise cli.UsageError(f"--top-p must be in (0, 1] (got {args.top_p:g})")
        if args.top_k < 0 or args.length < 0 or args.count < 0:
            raise cli.UsageError("--top-k, --length and -n must not be negative")
        if not args.prime:
            raise cli.UsageError("--prime must not be empty")
        cli.quiet_tensorflow()
        from kerasrnn.inference.stepping import Stepper, generate
        from kerasrnn.models.loading import load_run

        run = load_run(args.run_dir)
        if run.config.task == "surnames":
            raise cli.UsageError(f"{args.run_dir} is a classifier: use python -m kerasrnn.classify")
        if run.config.task == "surname-generation":
            from kerasrnn.tasks.surnames.report import print_surnames

            print_surnames(run, args.count, args.nationality, args.seed, args.temperature, args.top_k, args.top_p)
            return 0
        stepper = Stepper(run.model, run.config)
        if not args.no_prime:
            sys.stdout.write(args.prime)
        for ch in generate(stepper, run.vocab, args.prime, args.length, seed=args.seed,
                           temperature=args.temperature, top_k=args.top_k, top_p=args.top_p):
            sys.stdout.write(ch)
            sys.stdout.flush()
        sys.stdout.write("\n")
        return 0

    return cli.run(body, "kerasrnn.sample")


if __name__ == "__main__":
    sys.exit(main())
