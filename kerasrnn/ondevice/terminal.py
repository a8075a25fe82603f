"""The terminal front end of `python -m kerasrnn.complete --interactive`: suggestions redrawn after
every key (a terminal in cbreak mode; numpy and LiteRT only, like the rest of `kerasrnn.ondevice`)."""

from __future__ import annotations

import os
import sys

from kerasrnn.ondevice.autocomplete import Autocompleter


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
