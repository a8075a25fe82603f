"""`python -m kerasrnn.compare`: train variants side by side on the same task and budget; a table and one PNG.

Examples:
    python -m kerasrnn.compare --cells simplernn,lstm,gru --task shakespeare --minutes 2
    python -m kerasrnn.compare --cells simplernn,lstm,gru --match units --minutes 2
    python -m kerasrnn.compare --inputs onehot,embedding --task sentence --cell gru
    python -m kerasrnn.compare --inputs onehot,embedding --task shakespeare --minutes 1

--match params (the default) gives every cell the units that bring it to the parameter count of
`--cell` with `--units`; --match units gives all the same units. Writes compare.json and
compare.png into --out. The work is in `kerasrnn.compare_lib`.
"""

from __future__ import annotations

import dataclasses
import os
import sys

from kerasrnn import cli
from kerasrnn.config import CELLS, Config


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.compare", __doc__.splitlines()[0])
    what = p.add_mutually_exclusive_group()
    what.add_argument("--cells", default=None, help="comma-separated cells to compare (simplernn,lstm,gru)")
    what.add_argument("--inputs", default=None, help="compare input encodings: onehot,embedding")
    p.add_argument("--task", default="shakespeare", help="shakespeare (a time budget) or sentence (an epoch budget)")
    p.add_argument("--text", default=None, help="sentence task: the sentence or a file (default: the seoul sentence)")
    p.add_argument("--cell", default="gru", help="the cell of --inputs, and the reference of --match params")
    p.add_argument("--units", type=int, default=None, help="units of the reference (default: 384, sentence 32)")
    p.add_argument("--embedding-dim", type=int, default=64, help="embedding size where one is used")
    p.add_argument("--match", default="params", help="params or units (--cells only)")
    p.add_argument("--minutes", type=float, default=2.0, help="shakespeare: training minutes per variant")
    p.add_argument("--epochs", type=int, default=200, help="sentence: epochs per variant")
    p.add_argument("--out", default=os.path.join("runs", "compare"), help="folder for compare.json and compare.png")
    return p


def variants(args) -> list[tuple[str, Config]]:
    """(label, config) of each variant the flags ask for."""
    from kerasrnn.compare_lib import units_for_params

    sentence = args.task == "sentence"
    base = Config(task=args.task, cell=args.cell, units=args.units or (32 if sentence else 384),
                  embedding_dim=args.embedding_dim, vocab_size=66)
    if sentence:
        from kerasrnn.config import TASK_DEFAULTS

        base = dataclasses.replace(base, **{k: v for k, v in TASK_DEFAULTS["sentence"].items()
                                            if k not in ("units", "embedding_dim", "epochs")}, seq_len=10**9)
    if args.inputs is not None:
        names = [n.strip() for n in args.inputs.split(",")]
        if not names or set(names) - {"onehot", "embedding"}:
            raise cli.UsageError(f"--inputs takes onehot and/or embedding (got {args.inputs!r})")
        return [(n, dataclasses.replace(base, embedding_dim=0 if n == "onehot" else args.embedding_dim))
                for n in names]
    cells = [c.strip() for c in (args.cells or ",".join(CELLS)).split(",")]
    if set(cells) - set(CELLS):
        raise cli.UsageError(f"unknown cell in --cells {args.cells!r}: choose from {', '.join(CELLS)}")
    if args.match not in ("params", "units"):
        raise cli.UsageError(f"--match takes params or units (got {args.match!r})")
    out = []
    if args.match == "params":
        from kerasrnn.compare_lib import model_params

        target = model_params(base)
    for cell in cells:
        config = dataclasses.replace(base, cell=cell)
        if args.match == "params":
            config = dataclasses.replace(config, units=units_for_params(config, target))
        out.append((cell, config))
    return out


def plot(results: dict, path: str, sentence: bool) -> None:
    """One PNG: each variant's loss curve (against training time, or against epochs)."""
    from kerasrnn.plots import new_figure, save_figure

    fig, ax = new_figure(figsize=(7, 4))
    for label, r in results.items():
        xs, ys = zip(*r["curve"])
        ax.plot(xs, ys, marker="" if sentence else ".", label=f"{label} ({r['params']:,} params)")
    ax.set_xlabel("epoch" if sentence else "training seconds")
    ax.set_ylabel("training loss (nats/char)" if sentence else "validation loss (nats/char)")
    if sentence:
        ax.set_yscale("log")
    save_figure(fig, path, [ax])


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        if args.task not in ("shakespeare", "sentence"):
            raise cli.UsageError(f"unknown --task {args.task!r}: choose shakespeare or sentence")
        if args.minutes <= 0 or args.epochs < 1:
            raise cli.UsageError("--minutes must be positive and --epochs at least 1")
        cli.quiet_tensorflow()
        from kerasrnn import compare_lib as lib
        from pipelines.io import atomic_write_json

        chosen = variants(args)
        results = {}
        if args.task == "sentence":
            from kerasrnn.sentence import sentence_text

            text = sentence_text(Config(text=args.text))
            for label, config in chosen:
                results[label] = {"model": lib.state_note(config), **lib.train_sentence_variant(config, text, args.epochs)}
            header = f"| variant | model | parameters | epochs to exact | loss after {args.epochs} epochs |"
            rows = [f"| {k} | {r['model']} | {r['params']:,} | {r['exact_epoch'] or 'never'} | {r['loss_nats']:.4f} |"
                    for k, r in results.items()]
        else:
            from pipelines.text import load_corpus
            from pipelines.vocab import Vocabulary

            corpus = load_corpus("shakespeare")
            vocab = Vocabulary.build(corpus.train)
            train_ids, val_ids = vocab.encode(corpus.train), vocab.encode(corpus.validation)
            for label, config in chosen:
                config = dataclasses.replace(config, vocab_size=len(vocab))
                note = lib.state_note(config)
                print(f"training {label}: {note} for {args.minutes:g} min ...", flush=True)
                results[label] = {"model": note,
                                  **lib.train_for_time(config, train_ids, val_ids, args.minutes * 60)}
            header = "| variant | model | parameters | characters/s | validation bits/char (nats) | training time |"
            rows = [f"| {k} | {r['model']} | {r['params']:,} | {r['chars_per_s']:,} | "
                    f"{r['val_bpc']:.4f} ({r['val_loss_nats']:.4f}) | {r['train_seconds']:.0f} s |"
                    for k, r in results.items()]
        os.makedirs(args.out, exist_ok=True)
        atomic_write_json(os.path.join(args.out, "compare.json"), {"args": vars(args), "results": results})
        plot(results, os.path.join(args.out, "compare.png"), args.task == "sentence")
        separator = "|" + " --- |" * (header.count("|") - 1)
        print("\n".join([header, separator, *rows]))
        print(f"wrote {args.out}/compare.json and compare.png")
        return 0

    return cli.run(body, "kerasrnn.compare")


if __name__ == "__main__":
    sys.exit(main())
