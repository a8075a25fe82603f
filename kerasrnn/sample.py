"""`python -m kerasrnn.sample RUN_DIR`: generate text from a trained run, streamed as it comes.

For a surname generator (`--task surname-generation`) it prints `-n` new surnames instead, each
ending at the end token; a conditioned one takes the nationality to invent them for. A generator's
export (`exported/surnames-generator`) samples the same way with LiteRT alone (no TensorFlow).

Examples:
    python -m kerasrnn.sample exported/surnames-generator --nationality Japanese -n 10
    python -m kerasrnn.sample runs/surnames-gen --nationality Japanese -n 10 --temperature 0.7
    python -m kerasrnn.sample runs/gru-... --prime "ROMEO:" --length 500
    python -m kerasrnn.sample runs/gru-... --temperature 0.7 --top-p 0.9 --seed 7
    python -m kerasrnn.sample runs/gru-... --top-k 1          # greedy
    python -m kerasrnn.sample runs/gru-... --prime-file act1.txt --length 200
"""

from __future__ import annotations

import os
import sys

from kerasrnn.core import cli, deps

deps.require("kerasrnn.sample", "numpy")  # before the imports below, which need it: one line, not a traceback

from kerasrnn.core.config import LIMITS  # noqa: E402

MAX_PRIME_BYTES = 1_000_000  # a prime is fed one step per character: a million take minutes


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.sample", __doc__.splitlines()[0])
    p.add_argument("run_dir", type=cli.utf8,
                   help="a run directory written by kerasrnn.fit, or a surname generator's export (LiteRT)")
    prime = p.add_mutually_exclusive_group()
    prime.add_argument("--prime", default="\n", help="text to start from (its state is carried on)")
    prime.add_argument("--prime-file", type=cli.utf8, default=None,
                       help=f"read the prime from this UTF-8 file instead (at most {MAX_PRIME_BYTES:,} bytes)")
    p.add_argument("--length", type=cli.Range(int, 0, 1_000_000), default=500, help="characters to generate")
    p.add_argument("--temperature", type=cli.TEMPERATURE, default=0.8, help="softmax temperature")
    p.add_argument("--top-k", type=cli.Range(int, 0, 1_000_000), default=0,
                   help="sample from the k most likely (0 = all, 1 = greedy)")
    p.add_argument("--top-p", type=cli.Range(float, 0.0, 1.0, lo_open=True), default=1.0,
                   help="nucleus sampling mass (1 = off)")
    p.add_argument("--seed", type=LIMITS["seed"], default=1337, help="sampling seed")
    p.add_argument("--no-prime", action="store_true", help="do not echo the prime before the sample")
    p.add_argument("-n", "--count", type=cli.Range(int, 0, 100_000), default=10,
                   help="surname generators: how many surnames")
    p.add_argument("--nationality", default=None,
                   help="conditioned surname generators: the nationality of the surnames (default: each in turn)")
    return p


def sample_export(args) -> int:
    """Prints `args.count` surnames of a surname generator's export, as `print_surnames` does for a run.

    Raises:
        UsageError: an export of another kind (a character model samples from its run directory).
    """
    cli.check_packages(*deps.LITERT, prog="kerasrnn.sample")
    from kerasrnn.ondevice.generator import TASK, ExportedGenerator
    from kerasrnn.ondevice.litert import MANIFEST, check_manifest, read_manifest_json

    path = os.path.join(args.run_dir, MANIFEST)
    task = check_manifest(read_manifest_json(path), path)["task"]
    if task != TASK:
        raise cli.UsageError(f"{args.run_dir} is a {task} export, not a surname generator's: sample text from "
                             f"its run directory (kerasrnn.fit's), or use the export with kerasrnn.complete or classify")
    generator = ExportedGenerator(args.run_dir)
    nationality = args.nationality
    requested = [generator.class_id(nationality)] * args.count if nationality else \
        [i % len(generator.labels) for i in range(args.count)]
    names = generator.sample(requested, args.seed, args.temperature, args.top_k, args.top_p)
    for name, r in zip(names, requested):
        print(f"{name}\t({generator.labels[r]})" if generator.conditioned and not nationality else name)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        prime = args.prime
        if args.prime_file:
            from pipelines.io import read_text

            prime = read_text(args.prime_file, max_bytes=MAX_PRIME_BYTES)
        if not prime:
            raise cli.UsageError("--prime must not be empty")
        if os.path.isfile(os.path.join(args.run_dir, "manifest.json")):  # an export: LiteRT alone
            return sample_export(args)
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
            sys.stdout.write(prime)
        for ch in generate(stepper, run.vocab, prime, args.length, seed=args.seed,
                           temperature=args.temperature, top_k=args.top_k, top_p=args.top_p):
            sys.stdout.write(ch)
            sys.stdout.flush()
        sys.stdout.write("\n")
        return 0

    return cli.run(body, "kerasrnn.sample")


if __name__ == "__main__":
    sys.exit(main())
