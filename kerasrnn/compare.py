"""`python -m kerasrnn.compare`: train variants side by side on the same task and budget; a table and one PNG.

Examples:
    python -m kerasrnn.compare --cells simplernn,lstm,gru --task shakespeare --minutes 2
    python -m kerasrnn.compare --cells simplernn,lstm,gru --match units --minutes 2
    python -m kerasrnn.compare --inputs onehot,embedding --task sentence --cell gru --sentence "hihello"
    python -m kerasrnn.compare --inputs onehot,embedding --task shakespeare --minutes 1

--match params (the default) gives every cell the units that bring it to the parameter count of
`--cell` with `--units`; --match units gives all the same units. Writes compare.json and
compare.png into --out. The work is in `kerasrnn.tasks.lessons.variants`.
"""

from __future__ import annotations

import os
import sys

from kerasrnn.core import cli, deps

deps.require("kerasrnn.compare", "numpy")  # before the imports below, which need it: one line, not a traceback

from kerasrnn.core.config import LIMITS, MAX_UNITS  # noqa: E402


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.compare", __doc__.splitlines()[0])
    what = p.add_mutually_exclusive_group()
    what.add_argument("--cells", default=None, help="comma-separated cells to compare (simplernn,lstm,gru)")
    what.add_argument("--inputs", default=None, help="compare input encodings: onehot,embedding")
    p.add_argument("--task", default="shakespeare", help="shakespeare (a time budget) or sentence (an epoch budget)")
    sentence = p.add_mutually_exclusive_group()
    sentence.add_argument("--text", type=cli.utf8, default=None, help="sentence task: a UTF-8 file holding the sentence")
    sentence.add_argument("--sentence", type=cli.utf8, default=None,
                          help="sentence task: the sentence itself (default: the seoul sentence)")
    p.add_argument("--cell", default="gru", help="the cell of --inputs, and the reference of --match params")
    p.add_argument("--units", type=LIMITS["units"], default=None,
                   help="units of the reference (default: 384, sentence 32)")
    p.add_argument("--embedding-dim", type=cli.Range(int, 1, MAX_UNITS), default=64,
                   help="embedding size where one is used")
    p.add_argument("--match", default="params", help="params or units (--cells only)")
    p.add_argument("--minutes", type=cli.Range(float, 0.0, 600.0, lo_open=True), default=2.0,
                   help="shakespeare: training minutes per variant")
    p.add_argument("--epochs", type=LIMITS["epochs"], default=200, help="sentence: epochs per variant")
    p.add_argument("--out", type=cli.utf8, default=os.path.join("runs", "compare"), help="folder for compare.json and compare.png")
    p.add_argument("--force", action="store_true", help=cli.FORCE_HELP)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        if args.task not in ("shakespeare", "sentence"):
            raise cli.UsageError(f"unknown --task {args.task!r}: choose shakespeare or sentence")
        if args.task != "sentence" and (args.text is not None or args.sentence is not None):
            raise cli.UsageError("--text and --sentence are for --task sentence (shakespeare trains on its corpus)")
        cli.check_output_dir(args.out, "--out", ("compare.json", "compare.png"), args.force)
        cli.quiet_tensorflow()
        from kerasrnn.tasks.lessons.variants import choose_variants, compare

        chosen = choose_variants(args.task, args.cells, args.inputs, args.cell, args.units, args.embedding_dim,
                                 args.match)
        compare(chosen, args.out, text=args.text, sentence=args.sentence, minutes=args.minutes, epochs=args.epochs,
                record=vars(args))
        return 0

    return cli.run(body, "kerasrnn.compare")


if __name__ == "__main__":
    sys.exit(main())
