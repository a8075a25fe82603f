"""The terminal front end of `python -m kerasrnn.complete --interactive`: suggestions redrawn after
every read of the keyboard (a terminal in cbreak mode; numpy and LiteRT only, like the rest of
`kerasrnn.ondevice`).

    KeyDecoder().feed(data)     the bytes of one read -> keys: several keys per read (a burst, a paste),
                                escape sequences (arrows, Delete, F-keys) as one key each, never as text,
                                UTF-8 characters split across reads put back together
    KeyDecoder().flush()        what held-back bytes mean when nothing follows: a lone Esc is the Esc key
    apply_keys(completer, typed, keys)   what the keys do to the text (pure, tested without a terminal): Tab
                                takes the first suggestion, Backspace is the completer's, Esc and Ctrl-D quit

A Korean input method sends the syllables it has composed; a Korean key model turns them into keys
(`Autocompleter.feed`), shows its own composition (`Autocompleter.text`), and Backspace is the
keyboard's (one key of the open syllable).
"""

from __future__ import annotations

import codecs
import os
import select
import sys
import time
from dataclasses import dataclass

from kerasrnn.ondevice.autocomplete import Autocompleter

ESC = 0x1B
ESC_WAIT_S = 0.05  # after a lone Esc byte, how long to wait for the rest of an escape sequence
CSI_KEYS = {"A": "up", "B": "down", "C": "right", "D": "left", "H": "home", "F": "end", "P": "f1", "Q": "f2",
            "R": "f3", "S": "f4"}  # final byte of `ESC [ ...` or `ESC O x` -> key
TILDE_KEYS = {"1": "home", "2": "insert", "3": "delete", "4": "end", "5": "page-up", "6": "page-down", "7": "home",
              "8": "end"}  # `ESC [ n ~` -> key
CONTROL_KEYS = {0x7F: "backspace", 0x08: "backspace", 0x0D: "enter", 0x0A: "enter", 0x04: "eof", 0x09: "tab"}
HELP = "Tab takes the first suggestion, Backspace deletes, Esc or Ctrl-D quits"  # shown above the line
SAVE_EVERY_S = 30.0  # how often --personal saves the personal model while typing (and once at exit)


@dataclass(frozen=True)
class Key:
    """One key press: `name` is "char" (with its `text`), or "backspace", "enter", "tab", "esc", "eof", "up", "down",
    "left", "right", "home", "end", "delete", ..., "alt" (Esc then a character), "other" (anything else)."""

    name: str
    text: str = ""


def _utf8_length(lead: int) -> int:
    """Bytes of the UTF-8 character that starts with `lead` (1 for a byte that cannot start one)."""
    return 2 if 0xC0 <= lead < 0xE0 else 3 if 0xE0 <= lead < 0xF0 else 4 if 0xF0 <= lead < 0xF8 else 1


def _escape(buf: bytes, i: int) -> tuple[Key, int] | None:
    """The key of the escape sequence at buf[i] and the index after it; None when it may continue in the next read."""
    if i + 1 >= len(buf):
        return None
    second = buf[i + 1]
    if second == ESC:
        return Key("esc"), i + 1  # Esc pressed twice: the first one alone
    if second == ord("O"):  # SS3: one more byte (arrows in application mode, F1-F4)
        if i + 2 >= len(buf):
            return None
        return Key(CSI_KEYS.get(chr(buf[i + 2]), "other")), i + 3
    if second != ord("["):
        if second < 0x20 or second == 0x7F:
            return Key("esc"), i + 1  # Esc, then a control key on its own
        length = _utf8_length(second)
        text = buf[i + 1:i + 1 + length].decode("utf-8", "replace")
        return (Key("alt", text[:1]), i + 1 + length) if i + 1 + length <= len(buf) else None
    j = i + 2  # CSI: parameter and intermediate bytes (0x20-0x3F), then one final byte (0x40-0x7E)
    while j < len(buf) and 0x20 <= buf[j] <= 0x3F:
        j += 1
    if j >= len(buf):
        return None
    params = buf[i + 2:j].decode("ascii")
    if not 0x40 <= buf[j] <= 0x7E:
        return Key("other"), j  # a broken sequence: drop it, keep what follows
    final = chr(buf[j])
    name = TILDE_KEYS.get(params.split(";")[0], "other") if final == "~" else CSI_KEYS.get(final, "other")
    return Key(name), j + 1


class KeyDecoder:
    """Turns the bytes read from a terminal into keys (see the module doc); holds back an unfinished
    escape sequence or UTF-8 character until the next `feed` (or `flush`)."""

    def __init__(self):
        self._pending = b""

    @property
    def pending(self) -> bool:
        """Whether bytes are held back (a lone Esc, or the start of a sequence or a character)."""
        return bool(self._pending)

    @property
    def pending_escape(self) -> bool:
        """Whether the bytes held back start with Esc: a lone Esc key, or an escape sequence cut by the read
        (a UTF-8 character cut by the read is only waited for: its other bytes always follow)."""
        return self._pending[:1] == bytes([ESC])

    def feed(self, data: bytes) -> list[Key]:
        """The keys in `data` (after the bytes held back from the last call)."""
        buf, keys, i = self._pending + data, [], 0
        while i < len(buf):
            byte = buf[i]
            if byte == ESC:
                found = _escape(buf, i)
                if found is None:
                    break
                key, i = found
                keys.append(key)
            elif byte < 0x20 or byte == 0x7F:
                keys.append(Key(CONTROL_KEYS[byte]) if byte in CONTROL_KEYS else Key("other"))
                i += 1
            else:
                length = _utf8_length(byte)
                if i + length > len(buf) and all(0x80 <= b < 0xC0 for b in buf[i + 1:]):
                    break  # the rest of the character comes in the next read
                keys.extend(Key("char", c) for c in codecs.decode(buf[i:i + length], "utf-8", "replace"))
                i += length
        self._pending = buf[i:]
        return keys

    def flush(self) -> list[Key]:
        """The held-back bytes as keys, when no more bytes follow: a lone Esc is the Esc key; an unfinished
        sequence is dropped ("other"), an unfinished character is U+FFFD."""
        buf, self._pending = self._pending, b""
        if not buf:
            return []
        if buf[0] != ESC:
            return [Key("char", "\ufffd")]
        return [Key("esc")] if len(buf) == 1 else [Key("other")]


def apply_keys(completer: Autocompleter, typed: str, keys: list[Key], words: int = 1) -> tuple[str, bool]:
    """Applies keys to the completer: characters are typed, Enter types a line break, Tab types the first
    suggestion's completion (of `words` words, as shown), Backspace is the completer's (one character, or
    for a Korean keyboard model one key of the open syllable, else the last character whole; as far as the
    completer keeps states), Esc and Ctrl-D quit; other keys (arrows, ...) do nothing.

    Args:
        typed: the tokens typed so far (characters, or a keyboard model's keys), less those deleted.
    Returns:
        (the tokens typed now, whether to quit).
    """
    for key in keys:
        if key.name in ("esc", "eof"):
            return typed, True
        if key.name == "backspace":
            before = completer.undoable
            if typed and before:
                try:
                    completer.backspace()
                except ValueError:  # what it would delete goes back beyond the kept states
                    continue
                typed = typed[:len(typed) - (before - completer.undoable)]  # the keys it removed
        elif key.name == "tab":
            found = completer.suggestions(1, words)
            if found and found[0].completion:
                completer.feed(found[0].completion)
                typed += completer.tokens(found[0].completion)
        elif key.name in ("char", "enter"):
            text = "\n" if key.name == "enter" else key.text
            completer.feed(text)
            typed += completer.tokens(text)
    return typed, False


def interactive(completer: Autocompleter, k: int, words: int = 1, save=None) -> None:  # pragma: no cover - a terminal
    """Reads keys from the terminal and shows the suggestions after each read (Tab takes the first; Ctrl-D or Esc
    quits, as a line above says).

    Args:
        save: called every SAVE_EVERY_S seconds while keys come, and at exit (None: never).
    """
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    decoder, typed, last_save = KeyDecoder(), "", time.monotonic()
    try:
        tty.setcbreak(fd, termios.TCSANOW)  # not the default TCSAFLUSH: keys typed before this point stay
        sys.stdout.write(f"{HELP} ({completer.model_file})\n")
        while True:
            line = " | ".join(f"{s.word} {s.prob:.3f}" for s in completer.suggestions(k, words))
            shown = completer.text.replace("\n", " ")[-40:]
            sys.stdout.write(f"\r\x1b[K{shown}\x1b[7m \x1b[0m   [{line}]")
            sys.stdout.flush()
            data = os.read(fd, 1024)
            if not data:
                break
            keys = decoder.feed(data)
            if decoder.pending_escape and not select.select([fd], [], [], ESC_WAIT_S)[0]:
                keys += decoder.flush()  # nothing follows: a lone Esc is the Esc key
            typed, done = apply_keys(completer, typed, keys, words)
            if done:
                break
            if save is not None and time.monotonic() - last_save > SAVE_EVERY_S:
                save()
                last_save = time.monotonic()
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        sys.stdout.write("\n")
        if save is not None:
            save()
