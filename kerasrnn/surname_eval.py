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

from kerasrnn import cli

DEFAULT_SAMPLES = 1000


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.surname_eval", __doc__.splitlines()[0])
    p.add_argument("generators", nargs="+", help="run directories of kerasrnn.fit --task surname-generation")
    p.add_argument("--classifier", required=True, help="a run directory of kerasrnn.fit --task surnames")
    p.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, help="surnames sampled per generator")
    p.add_argument("--temperature", type=float, default=0.7, help="sampling temperature")
    p.add_argument("--seed", type=int, default=1337, help="sampling seed")
    p.add_argument("--out", default=None, help="also write the report as JSON here")
    return p


def evaluate_generator(run, classifier, data: dict, samples: int, temperature: float, seed: int) -> dict:
    """The figures of one generator run (see the module doc)."""
    from kerasrnn.surname_infer import nationality_share, novelty
    from kerasrnn.surname_training import draw_samples, generator_figures, requested_classes
    from pipelines.surnames import SPLITS

    requested = requested_classes(run.config, samples)
    names = draw_samples(run, requested, seed, temperature)
    known = {s for split in SPLITS for s, _ in data[split]}
    test = generator_figures(run.model, run.config, run.vocab, data["test"])
    return {"run": run.path, "conditioned": run.config.conditioned, "cell": run.config.cell,
            "units": run.config.units, "test_loss_nats": test["loss_nats"], "test_bpc": test["bpc"],
            "test_next_char_accuracy": test["accuracy"], "samples": samples, "temperature": temperature,
            "novelty": round(novelty(names, known), 4),
            "requested_nationality_share": round(nationality_share(classifier, names, list(requested)), 4),
            "examples": names[:18]}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        if args.samples < 1 or args.temperature <= 0:
            raise cli.UsageError("--samples must be at least 1 and --temperature positive")
        cli.quiet_tensorflow()
        from kerasrnn.runs import load_run
        from kerasrnn.surname_infer import SurnameClassifier
        from pipelines.io import atomic_write_json
        from pipelines.surnames import load_surnames

        classifier = SurnameClassifier(load_run(args.classifier), warn=lambda line: None)
        data = load_surnames()
        rows = []
        for path in args.generators:
            run = load_run(path)
            if run.config.task != "surname-generation":
                raise cli.UsageError(f"{path} is a {run.config.task!r} run, not a surname generator")
            row = evaluate_generator(run, classifier, data, args.samples, args.temperature, args.seed)
            rows.append(row)
            print(f"{path}: {'conditioned' if row['conditioned'] else 'unconditioned'} {row['cell']}-{row['units']}, "
                  f"test {row['test_loss_nats']:.4f} nats/char = {row['test_bpc']:.4f} bits/char, next-char "
                  f"accuracy {row['test_next_char_accuracy']:.4f}; of {row['samples']} samples {row['novelty']:.1%} "
                  f"new, {row['requested_nationality_share']:.1%} classified as the requested nationality")
        if args.out:
            atomic_write_json(args.out, {"classifier": args.classifier, "generators": rows})
        return 0

    return cli.run(body, "kerasrnn.surname_eval")


if __name__ == "__main__":
    sys.exit(main())
