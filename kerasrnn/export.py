"""`python -m kerasrnn.export RUN_DIR --out exported/NAME`: SavedModel + TFLite, verified, written atomically.

Examples:
    python -m kerasrnn.export runs/gru-20261125-120000 --out exported/my-gru
    python -m kerasrnn.export runs/release-gru --out exported/shakespeare-gru --force
    python -m kerasrnn.export runs/surnames-gru --out exported/surnames-classifier --no-int8

The work is in `kerasrnn.tasks.registry.export_run` (each task's `export` module and `kerasrnn.exporting`);
what an export holds is described in `kerasrnn.ondevice.litert`.
"""

from __future__ import annotations

import argparse
import os
import sys

from kerasrnn.core import cli


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.export", __doc__.splitlines()[0])
    p.add_argument("run_dir", type=cli.utf8, help="a run directory written by kerasrnn.fit")
    p.add_argument("--out", type=cli.utf8, default=None, help="export directory (default: exported/<run directory name>)")
    p.add_argument("--force", action="store_true",
                   help="replace --out if it is an earlier export or an empty folder (never anything else), "
                        "atomically, once every check has passed")
    p.add_argument("--int8", action=argparse.BooleanOptionalAction, default=True,
                   help="also write model_int8.tflite (int8 weights, about a quarter of the float file's size)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        if not args.run_dir:
            raise cli.UsageError("the run directory is empty: name a run directory")
        out = cli.writing(args.out if args.out is not None else
                          os.path.join("exported", os.path.basename(os.path.normpath(args.run_dir))))
        cli.check_tf_path(out, "--out")  # TensorFlow writes and reads the SavedModel there
        cli.quiet_tensorflow()
        from kerasrnn.tasks.registry import export_run

        manifest = export_run(args.run_dir, out, force=args.force, int8=args.int8)
        for name, entry in manifest["files"].items():
            figures = ", ".join(f"{k.replace('_', ' ')} {v:.4f}" for k, v in entry.items()
                                if k not in ("bytes", "sha256"))
            print(f"  {name:21s} {entry['bytes'] / 1e6:7.2f} MB  {figures}")
        print(f"wrote {out} in {manifest['export_seconds']:.0f} s")
        return 0

    return cli.run(body, "kerasrnn.export")


if __name__ == "__main__":
    sys.exit(main())
