"""`python -m kerasrnn.bench train|export|keystrokes|web|data`: benchmarks that write JSON and print a table.

Examples:
    python -m kerasrnn.bench train --compare-torch              # SimpleRNN, LSTM, GRU vs PyTorch
    python -m kerasrnn.bench train --compare-torch --rounds 3   # the same, three rounds in turn: medians
    python -m kerasrnn.bench train --cells gru --sizes --compare-torch --plot sweep.png
    python -m kerasrnn.bench export exported/shakespeare-gru
    python -m kerasrnn.bench export exported/shakespeare-gru --long-prefix 1000000 --json gru.json
    python -m kerasrnn.bench keystrokes exported/shakespeare-gru --split validation
    python -m kerasrnn.bench keystrokes exported/korean-gru --split test --chars 20000
    python -m kerasrnn.bench keystrokes exported/korean-gru --text my_korean.txt
    python -m kerasrnn.bench keystrokes exported/korean-gru --split test --adapt  # with a personal model too
    python -m kerasrnn.bench web                                 # the page in headless chromium, every export
    python -m kerasrnn.bench data --sizes 10,100                 # prepare and fit on generated corpora

Timings belong to the machine they ran on: compare them as ratios within one run.
"""

from __future__ import annotations

import os
import shlex
import sys

from kerasrnn.core import cli, deps

deps.require("kerasrnn.bench", "numpy")  # before the imports below, which need it: one line, not a traceback

from kerasrnn.core.config import LIMITS, MAX_UNITS  # noqa: E402


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.bench", __doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True, metavar="{train,export,keystrokes,web,data}",
                           parser_class=cli.ArgumentParser)
    from kerasrnn.benchmarks.throughput import TrainShape

    d = TrainShape()
    t = sub.add_parser("train", help="training characters per second: kerasrnn, stock Keras, PyTorch",
                       formatter_class=p.formatter_class)
    t.add_argument("--cells", default="simplernn,lstm,gru", help="comma-separated cells to measure")
    t.add_argument("--units", type=LIMITS["units"], default=d.units, help="hidden units per layer")
    t.add_argument("--embedding-dim", type=cli.Range(int, 1, MAX_UNITS), default=d.embedding_dim,
                   help="embedding size")
    t.add_argument("--layers", type=LIMITS["layers"], default=d.layers, help="stacked recurrent layers")
    t.add_argument("--batch-size", type=LIMITS["batch_size"], default=d.batch_size, help="windows per step")
    t.add_argument("--seq-len", type=cli.Range(int, 1, 10_000), default=d.seq_len, help="characters per window")
    t.add_argument("--steps", type=cli.Range(int, 1, 100_000), default=d.steps,
                   help="timed steps per measurement (after warm-up)")
    t.add_argument("--warmup", type=cli.Range(int, 0, 100_000), default=d.warmup, help="untimed steps first")
    t.add_argument("--compare-torch", action="store_true", help="also train the same model in PyTorch (extra: bench)")
    t.add_argument("--rounds", type=cli.Range(int, 1, 100), default=1,
                   help="measure every framework this many times in turn; the table shows medians and each "
                        "round's ratio to PyTorch")
    t.add_argument("--sizes", action="store_true", help="sweep units (128-1024) and batch (32-256)")
    t.add_argument("--plot", type=cli.utf8, default=None, help="PNG of the --sizes sweep (None: next to the JSON, ending -sizes.png)")
    t.add_argument("--json", type=cli.utf8, default=None, help="where to write the JSON (None: runs/bench/train.json)")
    t.add_argument("--force", action="store_true", help=cli.FORCE_HELP)
    e = sub.add_parser("export", help="step and keystroke latency of an export directory",
                       formatter_class=p.formatter_class)
    e.add_argument("model_dir", type=cli.utf8, help="an export directory written by kerasrnn.export")
    e.add_argument("--calls", type=cli.Range(int, 4, 1_000_000), default=2000,
                   help="timed LiteRT step calls (TensorFlow paths: a quarter)")
    e.add_argument("--long-prefix", type=cli.Range(int, 0, 10_000_000), default=0,
                   help="also time feeding a prefix of this many characters")
    e.add_argument("--json", type=cli.utf8, default=None, help="where to write the JSON (None: runs/bench/export-<name>.json)")
    e.add_argument("--force", action="store_true", help=cli.FORCE_HELP)
    s = sub.add_parser("keystrokes", help="keystrokes saved by accepting the top suggestions while typing a text",
                       formatter_class=p.formatter_class)
    s.add_argument("model_dir", type=cli.utf8, help="an export directory written by kerasrnn.export")
    source = s.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", type=cli.utf8, default=None, help="the UTF-8 text the simulated user types")
    source.add_argument("--split", default=None,
                        help="type a split of the model's own bundled corpus instead (Shakespeare: validation; "
                             "Korean: validation or test)")
    s.add_argument("--chars", type=cli.Range(int, 0, 100_000_000), default=0,
                   help="type only the first this many characters (0 = all)")
    s.add_argument("-k", type=cli.Range(int, 1, 20), default=3, help="suggestions the user looks at")
    s.add_argument("--model", default="float", choices=("float", "int8"), help="which .tflite file")
    s.add_argument("--adapt", action="store_true",
                   help="also type it with a personal model that learns the words typed so far; report both")
    s.add_argument("--json", type=cli.utf8, default=None,
                   help="where to write the JSON (None: runs/bench/keystrokes-<name>.json)")
    s.add_argument("--force", action="store_true", help=cli.FORCE_HELP)
    w = sub.add_parser("web", help="the page in headless chromium: page ready, step and keystroke latency",
                       formatter_class=p.formatter_class)
    w.add_argument("--models", type=cli.utf8, default="exported", help="folder of exports with web files")
    w.add_argument("--only", type=cli.utf8, default="", help="comma-separated export names to measure (empty: all)")
    w.add_argument("--steps", type=cli.Range(int, 1, 1_000_000), default=2000, help="timed model steps per model")
    w.add_argument("--keystrokes", type=cli.Range(int, 1, 1_000_000), default=2000,
                   help="timed keystrokes (feed + 3 suggestions) per model")
    w.add_argument("--loads", type=cli.Range(int, 1, 100), default=3,
                   help="page loads timed per model (the median is reported)")
    w.add_argument("--json", type=cli.utf8, default=None, help="where to write the JSON (None: runs/bench/web.json)")
    w.add_argument("--force", action="store_true", help=cli.FORCE_HELP)
    g = sub.add_parser("data", help="corpus size: prepare MB/s and memory, fit's start, memory and speed",
                       formatter_class=p.formatter_class)
    g.add_argument("--sizes", default="10,100,1000",
                   help="comma-separated corpus sizes in MB (generated, then removed); none: only the --rounds")
    g.add_argument("--steps", type=cli.Range(int, 20, 100_000), default=200, help="fit steps measured per corpus")
    g.add_argument("--rounds", type=cli.Range(int, 0, 100), default=3,
                   help="interleaved rounds comparing the prepared and in-memory pipelines on Shakespeare (0: skip)")
    g.add_argument("--round-steps", type=cli.Range(int, 5, 100_000), default=40, help="training steps per round")
    g.add_argument("--json", type=cli.utf8, default=None, help="where to write the JSON (None: runs/bench/data.json)")
    g.add_argument("--force", action="store_true", help=cli.FORCE_HELP)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = "python -m kerasrnn.bench " + shlex.join(sys.argv[1:] if argv is None else argv)

    def body() -> int:
        if args.what == "train":
            from kerasrnn.benchmarks.throughput import CELLS, TrainShape, run_and_report

            cells = [c.strip() for c in args.cells.split(",") if c.strip()]
            unknown = [c for c in cells if c not in CELLS]
            if unknown or not cells:
                raise cli.UsageError(f"unknown cell(s) {', '.join(unknown) or '(none)'}: choose from {', '.join(CELLS)}")
            if args.compare_torch:
                import importlib.util

                if importlib.util.find_spec("torch") is None:
                    raise cli.UsageError("--compare-torch needs PyTorch: pip install -e \".[bench]\" (torch==2.13.0)")
            json_path = args.json or os.path.join("runs", "bench", "train.json")
            cli.check_output_file(json_path, "--json", args.force)
            if args.plot or args.sizes:
                plot = args.plot or os.path.splitext(json_path)[0] + "-sizes.png"
                cli.check_output_file(plot, "--plot", args.force)
            base = TrainShape(units=args.units, embedding_dim=args.embedding_dim, layers=args.layers,
                              batch_size=args.batch_size, seq_len=args.seq_len, steps=args.steps, warmup=args.warmup)
            try:
                run_and_report(cells, base, args.compare_torch, args.sizes, json_path, args.plot, command,
                               args.rounds)
            except RuntimeError as e:
                raise cli.Failed(str(e)) from None
            return 0
        if args.what == "data":
            try:
                sizes = [] if args.sizes == "none" else [int(x) for x in args.sizes.split(",") if x.strip()]
            except ValueError:
                sizes = [0]
            if (not sizes and args.sizes != "none") or not all(1 <= x <= 100_000 for x in sizes):
                raise cli.UsageError(f"--sizes {args.sizes!r}: give sizes in MB from 1 to 100,000, e.g. 10,100,1000 "
                                     f"(none: only the --rounds)")
            if not sizes and not args.rounds:
                raise cli.UsageError("--sizes none --rounds 0 measures nothing")
            json_path = args.json or os.path.join("runs", "bench", "data.json")
            cli.check_output_file(json_path, "--json", args.force)
            cli.quiet_tensorflow()
            from kerasrnn.benchmarks.data import run_and_report as run_data

            try:
                run_data(sizes, args.steps, args.rounds, json_path, command, args.round_steps)
            except RuntimeError as e:
                raise cli.Failed(str(e)) from None
            return 0
        if args.what == "web":
            from kerasrnn.benchmarks.web_latency import run_and_report as run_web

            json_path = args.json or os.path.join("runs", "bench", "web.json")
            cli.check_output_file(json_path, "--json", args.force)
            only = [n.strip() for n in args.only.split(",") if n.strip()]
            run_web(args.models, args.steps, args.keystrokes, args.loads, only, json_path, command)
            return 0
        name = os.path.basename(os.path.normpath(args.model_dir))
        if args.what == "keystrokes":
            cli.check_packages(*deps.LITERT, prog="kerasrnn.bench")
            from kerasrnn.benchmarks import keystrokes

            json_path = args.json or os.path.join("runs", "bench", f"keystrokes-{name}.json")
            cli.check_output_file(json_path, "--json", args.force)
            if args.text:
                from pipelines.io import read_text

                text, source = read_text(args.text), args.text
            else:
                text, source = keystrokes.split_text(args.model_dir, args.split)
            if args.chars:
                text, source = text[:args.chars], f"the first {args.chars:,} characters of {source}"
            keystrokes.run_and_report(args.model_dir, text, source, json_path, args.model, args.k, command,
                                      args.adapt)
            return 0
        json_path = args.json or os.path.join("runs", "bench", f"export-{name}.json")
        cli.check_output_file(json_path, "--json", args.force)
        cli.check_tf_path(args.model_dir, "bench export")  # TensorFlow loads its SavedModel
        cli.quiet_tensorflow()
        from kerasrnn.benchmarks.latency import run_and_report

        run_and_report(args.model_dir, args.calls, args.long_prefix, json_path, command)
        return 0

    return cli.run(body, "kerasrnn.bench")


if __name__ == "__main__":
    sys.exit(main())
