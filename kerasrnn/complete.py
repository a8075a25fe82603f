"""`python -m kerasrnn.complete exported/NAME "ROMEO: wh"`: on-device word completion with LiteRT.

Examples:
    python -m kerasrnn.complete exported/shakespeare-gru "ROMEO: wh"
    python -m kerasrnn.complete exported/shakespeare-gru --model int8 -k 5 "To be, or not to b"
    python -m kerasrnn.complete exported/shakespeare-gru --interactive

Only numpy and `ai_edge_litert` are imported (never TensorFlow or Keras), as on a phone.
Each keystroke advances the carried state by one step; the prefix is never re-run.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from dataclasses import dataclass

import numpy as np

from kerasrnn import cli
from kerasrnn.litert import Encoder, open_step
from kerasrnn.samplers import beam_complete

WORD_PUNCTUATION = "'-"  # characters that continue a word besides letters and digits
HISTORY = 256  # keystrokes that backspace can undo (bounds memory for any prefix length)
BEAM_WIDTH = 6  # beams kept per step of the completion search
MAX_COMPLETION = 16  # most characters a completion adds


def is_word_char(c: str) -> bool:
    """Whether `c` continues a word (letters, digits, apostrophe, hyphen)."""
    return c.isalnum() or c in WORD_PUNCTUATION


@dataclass
class Suggestion:
    """One completion of the current word."""

    word: str  # the whole word: what was typed of it plus the completion
    completion: str  # the characters to add
    prob: float  # probability that the word is exactly this, given the text so far


class Autocompleter:
    """Word suggestions that follow the text as it is typed, one model step per keystroke.

    Args:
        model_dir: an export directory (manifest.json and the .tflite files).
        model: "float" or "int8".
        threads: interpreter threads.
        beam_width: beams kept by the completion search.
        max_len: most characters a completion adds.
    Raises:
        UsageError: a missing or corrupt model directory or file.
    """

    def __init__(self, model_dir: str, model: str = "float", threads: int = 1,
                 beam_width: int = BEAM_WIDTH, max_len: int = MAX_COMPLETION):
        self.manifest, self.step = open_step(model_dir, model, threads)
        self._tokens = self.manifest["vocabulary"]
        self._encode = Encoder(self.manifest)
        usable = self._encode.index.items()  # (character, id) of every non-special token, in id order
        self._word_ids = np.array([i for t, i in usable if is_word_char(t)], np.int64)
        self._end_ids = np.array([i for t, i in usable if not is_word_char(t)], np.int64)
        self.beam_width, self.max_len = beam_width, max_len
        self.reset()

    def reset(self) -> None:
        """Forgets all text: back to the start state (as after the manifest's start text)."""
        self._history: deque = deque(maxlen=HISTORY)
        self.word = ""  # the part of the current word typed so far
        self._state = self.step.zero_state()  # (1, S)
        self._logits = None
        for i in self._encode(self.manifest["start_text"]):
            self._advance(i)

    def _advance(self, token: int) -> None:
        logits, self._state = self.step(np.array([token], np.int32), self._state)  # (1, vocab), (1, S)
        self._logits = logits[0]  # (vocab,)

    def feed(self, text: str) -> None:
        """Types `text`: one step per character (unknown characters take the unknown id)."""
        for c, token in zip(text, self._encode(text)):
            self._history.append((self._state, self._logits, self.word))
            self._advance(token)
            self.word = self.word + c if is_word_char(c) else ""

    @property
    def undoable(self) -> int:
        """How many characters `backspace` can delete now."""
        return len(self._history)

    def backspace(self, count: int = 1) -> None:
        """Deletes the last `count` typed characters, restoring the states kept for them.

        Raises:
            ValueError: more than the characters kept (`HISTORY`): reset and feed the text again.
        """
        if count > len(self._history):
            raise ValueError(f"can only go back {len(self._history)} characters; reset() and feed the text")
        for _ in range(count):
            self._state, self._logits, self.word = self._history.pop()

    def suggestions(self, k: int = 3) -> list[Suggestion]:
        """The k most likely completions of the current word, most likely first."""
        found = beam_complete(self.step, self._state[0], self._logits, self._word_ids, self._end_ids, k=k,
                              beam_width=self.beam_width, max_len=self.max_len, allow_empty=bool(self.word))
        out = []
        for ids, prob in found:
            completion = "".join(self._tokens[i] for i in ids)
            out.append(Suggestion(self.word + completion, completion, prob))
        return out


def format_suggestions(suggestions: list[Suggestion]) -> str:
    """One line per suggestion: the word and its probability."""
    return "\n".join(f"  {s.word:20s} {s.prob:.3f}" for s in suggestions)


def interactive(completer: Autocompleter, k: int) -> None:  # pragma: no cover - needs a terminal
    """Reads keys from the terminal and shows the suggestions after each one (Ctrl-D or Esc quits)."""
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    typed = ""
    try:
        tty.setcbreak(fd)
        while True:
            line = " | ".join(f"{s.word} {s.prob:.2f}" for s in completer.suggestions(k))
            shown = typed.replace("\n", " ")[-40:]
            sys.stdout.write(f"\r\x1b[K{shown}\x1b[7m \x1b[0m   [{line}]")
            sys.stdout.flush()
            key = os.read(fd, 4).decode("utf-8", errors="replace")
            if key in ("\x04", "\x1b", ""):
                break
            if key in ("\x7f", "\b"):
                if typed and completer.undoable:
                    completer.backspace()
                    typed = typed[:-1]
                continue
            key = "\n" if key == "\r" else key
            completer.feed(key)
            typed += key
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        sys.stdout.write("\n")


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.complete", __doc__.splitlines()[0])
    p.add_argument("model_dir", help="an export directory written by kerasrnn.export")
    p.add_argument("prefix", nargs="?", default="", help="the text typed so far (empty: the start of a text)")
    p.add_argument("--prefix-file", default=None, help="read the typed text from this UTF-8 file instead")
    p.add_argument("-k", type=int, default=3, help="suggestions to show")
    p.add_argument("--model", default="float", help="which .tflite file: float or int8")
    p.add_argument("--threads", type=int, default=1, help="interpreter threads")
    p.add_argument("--interactive", action="store_true", help="update the suggestions as you type (a terminal)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_intermixed_args(argv)  # the prefix may come after the options

    def body() -> int:
        if args.k < 1 or args.threads < 1:
            raise cli.UsageError("-k and --threads must be at least 1")
        prefix = args.prefix
        if args.prefix_file:
            from pipelines.io import read_text

            prefix = read_text(args.prefix_file)
        completer = Autocompleter(args.model_dir, args.model, args.threads)
        completer.feed(prefix)
        if args.interactive:
            if not sys.stdin.isatty():
                raise cli.UsageError("--interactive needs a terminal on stdin")
            interactive(completer, args.k)
            return 0
        shown = prefix[-60:].replace("\n", "\\n")
        print(f"{shown}|  (current word: {completer.word!r})")
        print(format_suggestions(completer.suggestions(args.k)))
        return 0

    return cli.run(body, "kerasrnn.complete")


if __name__ == "__main__":
    sys.exit(main())
