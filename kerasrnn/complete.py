"""`python -m kerasrnn.complete exported/NAME "ROMEO: wh"`: on-device word completion with LiteRT.

Examples:
    python -m kerasrnn.complete exported/shakespeare-gru "ROMEO: wh"
    python -m kerasrnn.complete exported/shakespeare-gru --model float -k 5 "To be, or not to b"
    python -m kerasrnn.complete exported/shakespeare-gru --interactive
    python -m kerasrnn.complete exported/shakespeare-gru --interactive --personal me.json  # learns your words
    python -m kerasrnn.complete exported/korean-gru "기"            # Korean: 기본, 기준, 기존
    python -m kerasrnn.complete exported/korean-gru --words 2 "기"  # and the word after it

The int8 file runs where the export's manifest shows it within 0.01 bits/char of the float one (a
quarter of the size, and faster on a CPU whose cache is smaller than the float weights); `--model float`
asks for the float file. Only numpy and `ai_edge_litert` are imported (never TensorFlow or Keras), as on a phone.
Each keystroke advances the carried state by one step; the prefix is never re-run.
The work is in `kerasrnn.ondevice.autocomplete` (and `ondevice.terminal` for --interactive).
"""

from __future__ import annotations

import sys

from kerasrnn.core import cli, deps

MAX_PREFIX_BYTES = 10_000_000  # fed one step per character (about 20,000 a second): ten million take minutes


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.complete", __doc__.splitlines()[0])
    p.add_argument("model_dir", type=cli.utf8, help="an export directory written by kerasrnn.export")
    p.add_argument("prefix", nargs="?", default="", help="the text typed so far (empty: the start of a text)")
    p.add_argument("--prefix-file", type=cli.utf8, default=None,
                   help=f"read the typed text from this UTF-8 file instead (at most {MAX_PREFIX_BYTES:,} bytes)")
    p.add_argument("-k", type=cli.Range(int, 1, 20), default=3, help="suggestions to show")
    p.add_argument("--words", type=cli.Range(int, 1, 5), default=1,
                   help="words each suggestion finishes: the current one, then this many minus one more")
    p.add_argument("--model", default=None, help="which .tflite file: float or int8 (default: int8 where the "
                   "manifest shows it within 0.01 bits/char of float, else float)")
    p.add_argument("--threads", type=cli.Range(int, 1, 64), default=1, help="interpreter threads")
    p.add_argument("--interactive", action="store_true", help="update the suggestions as you type (a terminal)")
    p.add_argument("--personal", type=cli.utf8, default=None, metavar="FILE",
                   help="a personal model of the words you type, mixed into the suggestions: read from FILE if it "
                        "exists; with --interactive it learns as you type and is saved to FILE (made if missing) "
                        "every 30 s and at exit. It stays on this machine")
    return p


def open_personal(completer, path: str, interactive: bool):
    """The personal model of `--personal path` for `completer`: read from the file, or (interactive) a new one.

    Raises:
        UsageError: the file is not a personal model of this model's tokens (corrupt, foreign), or cannot be
            read or (interactive) written.
    """
    import os

    from kerasrnn.ondevice.personal import PersonalModel

    model = PersonalModel(completer.token_kind, model=completer.model_id)  # its states: this model's
    if not os.path.lexists(path):
        if not interactive:
            raise cli.UsageError(f"--personal {path}: no such file (it is made by --interactive)")
        cli.check_output_file(path, "--personal")
        return model
    if not os.path.isfile(path):
        raise cli.UsageError(f"--personal {path} is not a regular file")
    try:
        model.load(path, completer.word_char)
    except ValueError as e:
        raise cli.UsageError(f"--personal {path}: {e}") from None
    if interactive and not (os.access(path, os.W_OK) and os.access(os.path.dirname(os.path.abspath(path)), os.W_OK)):
        raise cli.UsageError(f"--personal {path}: cannot be saved (no permission to write it or its folder)")
    return model


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_intermixed_args(argv)  # the prefix may come after the options

    def body() -> int:
        cli.check_packages(*deps.LITERT, prog="kerasrnn.complete")
        prefix = args.prefix
        if args.prefix_file:
            from pipelines.io import read_text

            prefix = read_text(args.prefix_file, max_bytes=MAX_PREFIX_BYTES)
        from kerasrnn.ondevice.autocomplete import MIN_PROB, Autocompleter, format_suggestions

        completer = Autocompleter(args.model_dir, args.model, args.threads)
        if args.words > 1 and " " not in completer.manifest["vocabulary"]:
            raise cli.UsageError("--words above 1 needs a model with a space in its vocabulary")
        unknown = completer.unknown(prefix)
        if unknown:
            print(f"notice: {len(unknown)} character(s) outside the model's vocabulary read as unknown: "
                  f"{''.join(unknown[:20])!r}", file=sys.stderr)
        if args.interactive and not sys.stdin.isatty():
            raise cli.UsageError("--interactive needs a terminal on stdin")
        if args.personal:
            completer.personal = open_personal(completer, args.personal, args.interactive)
        completer.feed(prefix)
        if args.interactive:
            from kerasrnn.ondevice.terminal import interactive

            save = (lambda: completer.personal.save(args.personal)) if args.personal else None
            interactive(completer, args.k, args.words, save)
            return 0
        shown = completer.text[-60:].replace("\n", "\\n")
        print(f"{shown}|  (current word: {completer.word!r}; {completer.model_file})")
        suggestions = completer.suggestions(args.k, args.words)
        print(format_suggestions(suggestions) if suggestions else
              f"  (no suggestion: every completion here is less likely than {MIN_PROB})")
        return 0

    return cli.run(body, "kerasrnn.complete")


if __name__ == "__main__":
    sys.exit(main())
