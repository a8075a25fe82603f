"""`python -m kerasrnn.classify MODEL NAME...`: the three likeliest nationalities of each surname.

Examples:
    python -m kerasrnn.classify exported/surnames-classifier Nakamura Schmidt "O'Neill"
    python -m kerasrnn.classify runs/surnames-gru --file names.txt --top 5
    python -m kerasrnn.classify runs/surnames-gru Nakamura --top 2 Schmidt

MODEL is a `--task surnames` run of kerasrnn.fit (its best.keras, with TensorFlow) or its export
(the `classify` signature of its .tflite file, with LiteRT alone: the int8 file where the manifest shows it
as accurate as the float one, unless `--model float`). Names are NFC-normalised and
stripped; characters never seen in training are read as <unk> and names longer than the model's
limit are cut, each with a notice on stderr.
"""

from __future__ import annotations

import os
import sys

from kerasrnn.core import cli, deps


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.classify", __doc__.splitlines()[0])
    p.add_argument("run_dir", metavar="model", type=cli.utf8,
                   help="a run directory of kerasrnn.fit --task surnames, or its export (kerasrnn.export)")
    p.add_argument("names", nargs="*", help="surnames to classify")
    p.add_argument("--file", type=cli.utf8, default=None, help="a UTF-8 file with one surname per line (blank lines skipped)")
    p.add_argument("--top", type=cli.Range(int, 1, 100), default=3, help="nationalities shown per name")
    p.add_argument("--model", choices=("float", "int8"), default=None,
                   help="an export's .tflite file (default: int8 where its manifest shows it as accurate as float)")
    return p


def read_names(args) -> list[str]:
    """The names of the command line and of --file, in order.

    Raises:
        UsageError: no names at all, or an empty name on the command line. DataError: a bad --file.
    """
    names = list(args.names)
    if any(not n.strip() for n in names):
        raise cli.UsageError("an empty name cannot be classified")
    if args.file:
        from pipelines.io import read_text

        names += [line for line in read_text(args.file).splitlines() if line.strip()]
    if not names:
        raise cli.UsageError("give at least one name, or --file with one name per line")
    return names


def open_classifier(path: str, model: str | None = None):
    """The classifier in `path`: an export (LiteRT, no TensorFlow; `model` its .tflite file, None the
    default) or a run (its best.keras).

    Raises:
        UsageError: `model` given for a run, which has no .tflite files.
    """
    cli.check_packages("numpy", prog="kerasrnn.classify")
    from kerasrnn.ondevice.litert import MANIFEST

    if os.path.isfile(os.path.join(path, MANIFEST)):
        cli.check_packages(*deps.LITERT, prog="kerasrnn.classify")
        from kerasrnn.ondevice.classifier import ExportedClassifier

        return ExportedClassifier(path, model)
    if model is not None:
        raise cli.UsageError(f"--model chooses an export's .tflite file, and {path} is not an export "
                             f"(no {MANIFEST})")
    cli.quiet_tensorflow()
    from kerasrnn.models.loading import load_run
    from kerasrnn.tasks.surnames.inference import SurnameClassifier

    return SurnameClassifier(load_run(path))


def format_row(name: str, top: list[tuple[str, float]]) -> str:
    """One output line: the name, then each nationality with its probability."""
    return f"{name}\t" + "  ".join(f"{label} {p:.3f}" for label, p in top)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_intermixed_args(argv)  # options may come between the names

    def body() -> int:
        names = read_names(args)
        classifier = open_classifier(args.run_dir, args.model)
        for name, top in zip(names, classifier.top(names, k=args.top)):
            print(format_row(name.strip(), top))
        return 0

    return cli.run(body, "kerasrnn.classify")


if __name__ == "__main__":
    sys.exit(main())
