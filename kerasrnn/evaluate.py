"""`python -m kerasrnn.evaluate RUN_OR_EXPORT [--text FILE | --data DIR] [--max-chars N]`: loss in nats and bits per character.

Without --text or --data it measures the validation split (the last 10% of the corpus), in windows of the
run's --seq-len (or --window N) each read from a zero state, as in training, or with --carried with
the state carried through the text (as a --tbptt model is trained and used). `--window 256` is how
nanoGPT measures: every position of 256-character windows, each predicted from the characters
before it in its window. A text or corpus of any size is streamed (memory does not grow with it);
--max-chars N measures its first N characters only, and the output says so. An export folder is
measured through its `.tflite` file with LiteRT alone.

Examples:
    python -m kerasrnn.evaluate runs/gru-... --window 256
    python -m kerasrnn.evaluate runs/gru-... --text big.txt --max-chars 1000000
    python -m kerasrnn.evaluate exported/shakespeare-gru --window 256
    python -m kerasrnn.evaluate exported/shakespeare-gru --carried --model int8

The work is in `kerasrnn.inference.evaluation` (runs) and `kerasrnn.ondevice.evaluation` (exports).
"""

from __future__ import annotations

import json
import os
import sys

from kerasrnn.core import cli, deps


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.evaluate", __doc__.splitlines()[0])
    p.add_argument("run_dir", type=cli.utf8, help="a run directory written by kerasrnn.fit, or an export folder (LiteRT)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--text", type=cli.utf8, default=None,
                        help="a UTF-8 text file of any size to evaluate on, streamed (default: the run's validation split)")
    source.add_argument("--data", type=cli.utf8, default=None,
                        help="a prepared corpus folder (python -m pipelines.prepare): evaluate on its validation split")
    p.add_argument("--max-chars", type=cli.Range(int, 2, 10**15), default=0,
                   help="evaluate on the first N characters only, said in the output (default: all; the run's "
                        "validation split: its --max-val-chars)")
    p.add_argument("--carried", action="store_true",
                   help="carry the state through the text (16 streams) instead of windows of --seq-len from a zero state")
    p.add_argument("--window", type=cli.Range(int, 1, 100_000), default=None,
                   help="characters per window, each read from a zero state (default: the run's --seq-len; "
                        "256: the nanoGPT measurement)")
    p.add_argument("--model", default="float", choices=("float", "int8"), help="an export's .tflite file")
    p.add_argument("--json", action="store_true", help="print the result as one JSON line")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        if os.path.isfile(os.path.join(args.run_dir, "manifest.json")):  # an export: LiteRT only
            if args.data or args.max_chars:
                raise cli.UsageError(f"{args.run_dir} is an export: it is measured on its validation split or on "
                                     f"--text FILE, one character at a time (--data and --max-chars measure a run)")
            cli.check_packages(*deps.LITERT, prog="kerasrnn.evaluate")
            from kerasrnn.ondevice.evaluation import evaluate_export

            result = evaluate_export(args.run_dir, args.text, args.carried, args.window, args.model)
        else:
            cli.quiet_tensorflow()
            from kerasrnn.inference.evaluation import evaluate_run

            result = evaluate_run(args.run_dir, args.text, args.carried, args.window, args.data, args.max_chars)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{result['data']} ({result['state']}): {result['characters']:,} characters, "
                  f"loss {result['loss_nats']:.4f} nats/char = {result['bpc']:.4f} bits/char")
        return 0

    return cli.run(body, "kerasrnn.evaluate")


if __name__ == "__main__":
    sys.exit(main())
