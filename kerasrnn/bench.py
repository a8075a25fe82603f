"""`python -m kerasrnn.bench export exported/NAME`: benchmarks that write JSON and print a table.

Examples:
    python -m kerasrnn.bench export exported/shakespeare-gru
    python -m kerasrnn.bench export exported/shakespeare-gru --long-prefix 1000000 --json gru.json

Timings belong to the machine they ran on: compare them as ratios within one run.
"""

from __future__ import annotations

import os
import sys

from kerasrnn import cli


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.bench", __doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True, metavar="{export}", parser_class=cli.ArgumentParser)
    e = sub.add_parser("export", help="step and keystroke latency of an export directory",
                       formatter_class=p.formatter_class)
    e.add_argument("model_dir", help="an export directory written by kerasrnn.export")
    e.add_argument("--calls", type=int, default=2000, help="timed LiteRT step calls (TensorFlow paths: a quarter)")
    e.add_argument("--long-prefix", type=int, default=0, help="also time feeding a prefix of this many characters")
    e.add_argument("--json", default=None, help="where to write the JSON (default: runs/bench/export-<name>.json)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        if args.calls < 4 or args.long_prefix < 0:
            raise cli.UsageError("--calls must be at least 4 and --long-prefix not negative")
        cli.quiet_tensorflow()
        from kerasrnn.bench_export import bench_export, format_table
        from pipelines.io import atomic_write_json

        name = os.path.basename(os.path.normpath(args.model_dir))
        result = bench_export(args.model_dir, args.calls, args.long_prefix)
        path = args.json or os.path.join("runs", "bench", f"export-{name}.json")
        atomic_write_json(path, {"command": "python -m kerasrnn.bench " + " ".join(sys.argv[1:] if argv is None
                                                                                   else argv), **result})
        print(format_table(name, result))
        print(f"wrote {path}")
        return 0

    return cli.run(body, "kerasrnn.bench")


if __name__ == "__main__":
    sys.exit(main())
