"""The terminal front end of `python -m kerasrnn.complete --interactive`: suggestions redrawn after
every key (a terminal in cbreak mode; numpy and LiteRT only, like the rest of `kerasrnn.ondevice`).

What arrives is UTF-8, decoded incrementally (a Hangul syllable is three bytes, and one read may hold
several characters or part of one). A Korean input method sends the syllables it has composed;
a Korean key model turns them into keys (`Autocompleter.feed`) and shows its own composition, and
Backspace is the keyboard's (one key of the open syllable).
"""

from __future__ import annotations

import codecs
import os
import sys

from kerasrnn.ondevice.autocomplete import Autocompleter

QUIT = (b"\x04", b"\x1b")  # Ctrl-D, Esc (alone: an arrow key starts with Esc too)
BACKSPACE = ("\x7f", "\b")


def interactive(completer: Autocompleter, k: int, words: int = 1) -> None:  # pragma: no cover - needs a terminal
    """Reads keys from the terminal and shows the suggestions after each one (Ctrl-D or Esc quits)."""
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        tty.setcbreak(fd)
        while True:
            line = " | ".join(f"{s.word} {s.prob:.2f}" for s in completer.suggestions(k, words))
            shown = completer.text.replace("\n", " ")[-40:]
            sys.stdout.write(f"\r\x1b[K{shown}\x1b[7m \x1b[0m   [{line}]")
            sys.stdout.flush()
            data = os.read(fd, 64)
            if not data or data in QUIT:
                break
            for key in decoder.decode(data):
                if key in BACKSPACE:
                    if completer.undoable:
                        completer.backspace()
                else:
                    completer.feed("\n" if key == "\r" else key)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        sys.stdout.write("\n")
