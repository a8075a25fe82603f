"""`python -m kerasrnn.evaluate RUN_DIR [--text FILE]`: loss in nats and bits per character.

Without --text it measures the run's own validation split (the last 10% of its corpus), in
windows of the run's --seq-len each read from a zero state (as in training), or with --carried
with the state carried through the text (as a --tbptt model is trained and used).
The work is in `kerasrnn.inference.evaluation`.
"""

from __future__ import annotations

import json
import sys

from kerasrnn.core import cli


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.evaluate", __doc__.splitlines()[0])
    p.add_argument("run_dir", type=cli.utf8, help="a run directory written by kerasrnn.fit")
    p.add_argument("--text", type=cli.utf8, default=None, help="a UTF-8 text file to evaluate on (default: the run's validation split)")
    p.add_argument("--carried", action="store_true",
                   help="carry the state through the text (16 streams) instead of windows of --seq-len from a zero state")
    p.add_argument("--json", action="store_true", help="print the result as one JSON line")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        cli.quiet_tensorflow()
        from kerasrnn.inference.evaluation import evaluate_run

        result = evaluate_run(args.run_dir, args.text, args.carried)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{result['data']} ({result['state']}): {result['characters']:,} characters, "
                  f"loss {result['loss_nats']:.4f} nats/char = {result['bpc']:.4f} bits/char")
        return 0

    return cli.run(body, "kerasrnn.evaluate")


if __name__ == "__main__":
    sys.exit(main())
