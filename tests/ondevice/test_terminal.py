"""`complete --interactive`'s key decoder: bursts are several keys, escape sequences are keys (never text),
a lone Esc quits, UTF-8 split across reads is put back together; and what the keys do to the text."""

import os

import pytest

from kerasrnn.ondevice.autocomplete import Autocompleter
from kerasrnn.ondevice.terminal import HELP, Key, KeyDecoder, apply_keys
from conftest import ROOT, interactive_session

KOREAN = os.path.join(ROOT, "exported", "korean-gru")


def chars(text):
    return [Key("char", c) for c in text]


@pytest.mark.parametrize("data, keys", [
    (b"abc", chars("abc")),  # a burst of bytes is several keys
    (b"ab\x1b[Dc", [*chars("ab"), Key("left"), *chars("c")]),  # an arrow is a key, not "[D"
    (b"\x1b[A\x1b[B\x1b[C\x1bOD", [Key("up"), Key("down"), Key("right"), Key("left")]),  # CSI and SS3 forms
    (b"\x1b[3~\x1b[1;5C\x1b[15~", [Key("delete"), Key("right"), Key("other")]),  # parameters; F5 is "other"
    (b"x\x7fy\x08\r\n\x04", [*chars("x"), Key("backspace"), *chars("y"), Key("backspace"), Key("enter"),
                            Key("enter"), Key("eof")]),
    (b"\x1bd", [Key("alt", "d")]),  # Alt-d (Esc then d in one read)
    (b"a\tb", [*chars("a"), Key("tab"), *chars("b")]),  # Tab is a key (it takes a suggestion), not a tab character
    ("héllo 😀".encode(), chars("héllo 😀")),
    (b"\xff\x00a", [Key("char", "\ufffd"), Key("other"), *chars("a")]),  # a bad byte, a NUL
    (b"\x1b[\x01a", [Key("other"), Key("other"), *chars("a")]),  # a broken sequence does not swallow the text
])
def test_bytes_decode_to_keys(data, keys):
    decoder = KeyDecoder()
    assert decoder.feed(data) == keys and not decoder.pending


def test_a_lone_esc_waits_for_the_next_read_then_is_the_esc_key():
    decoder = KeyDecoder()
    assert decoder.feed(b"abc\x1b") == chars("abc") and decoder.pending  # "abc" + Esc in one burst
    assert decoder.flush() == [Key("esc")] and not decoder.pending
    assert decoder.feed(b"\x1b") == [] and decoder.feed(b"[D") == [Key("left")]  # a sequence split over reads
    assert decoder.feed(b"\x1b\x1b") == [Key("esc")] and decoder.pending  # Esc twice: the second may start more
    assert decoder.flush() == [Key("esc")]


def test_utf8_split_across_reads_is_one_character():
    decoder = KeyDecoder()
    data = "é😀".encode()
    assert decoder.feed(data[:1]) == [] and decoder.feed(data[1:3]) == chars("é") and decoder.pending
    assert decoder.feed(data[3:]) == chars("😀")
    assert decoder.feed(data[2:4]) == [] and decoder.flush() == [Key("char", "\ufffd")]  # cut for good


def test_keys_edit_the_text_and_esc_quits(tiny_export):
    completer = Autocompleter(tiny_export)
    typed, done = apply_keys(completer, "", KeyDecoder().feed(b"Th\x1b[D\x1b[Ao\x7fe\r"))
    assert (typed, done) == ("The\n", False) and completer.word == ""  # arrows typed nothing
    reference = Autocompleter(tiny_export)
    reference.feed("The\n")
    assert [s.word for s in completer.suggestions()] == [s.word for s in reference.suggestions()]
    typed, done = apply_keys(completer, typed, chars("x") + [Key("esc")] + chars("ignored"))
    assert (typed, done) == ("The\nx", True)
    assert apply_keys(Autocompleter(tiny_export), "", [Key("backspace")] * 3) == ("", False)  # nothing to delete


def test_a_burst_with_esc_quits_the_interactive_command(tiny_export):
    status, frames = interactive_session(tiny_export, [(1.0, b"Th\x1b[Do"), (0.5, b"u\x1b")])  # an arrow; Esc in a burst
    assert status == 0, frames
    typed = [frame.split("\x1b[7m")[0] for frame in frames[1:]]  # the text shown before the cursor
    assert typed[-1] == "Tho" and all("[" not in t for t in typed)  # Esc quit at once; the arrow typed nothing


def test_tab_takes_the_first_suggestion(tiny_export):
    completer = Autocompleter(tiny_export)
    typed, _ = apply_keys(completer, "", chars("ROMEO: wh"))
    first = completer.suggestions(1)[0]
    typed, done = apply_keys(completer, typed, [Key("tab")])
    assert (typed, done) == ("ROMEO: " + first.word, False) and completer.word == first.word
    assert "\t" not in completer.text  # was: a literal tab, read as <unk>
    typed, _ = apply_keys(completer, typed, chars(" ") + [Key("tab")])  # a new word: its first suggestion
    assert typed == completer.text and typed.startswith(f"ROMEO: {first.word} ") and len(typed) > len(first.word) + 8


@pytest.mark.parametrize("typed, presses, left", [("기본", 5, ""), ("기본", 3, "기"), ("기본", 2, "기ㅂ"),
                                                  ("닭", 1, "달"), ("기억 속", 4, "기억")])
def test_korean_backspace_goes_key_by_key_to_the_start(typed, presses, left):
    completer = Autocompleter(KOREAN)
    keys, _ = apply_keys(completer, "", chars(typed))  # composed syllables, as an input method sends them
    keys, _ = apply_keys(completer, keys, [Key("backspace")] * presses)
    assert completer.text == left and keys == completer.tokens(left)  # was: 기본 then 5 presses left 기ㅂ
    keys, _ = apply_keys(completer, keys, [Key("backspace")] * 9)  # and more presses than keys: all gone
    assert completer.text == "" and keys == "" and completer.undoable == 0


def test_the_screen_says_how_to_take_and_quit():
    release = os.path.join(ROOT, "exported", "shakespeare-gru")
    status, frames = interactive_session(release, [(1.0, b"ROMEO: wh"), (0.5, b"\t"), (0.5, b"\x04")])
    assert status == 0, frames
    assert HELP in frames[0] and "Tab takes the first suggestion" in HELP and "Esc or Ctrl-D quits" in HELP
    assert frames[-1].split("\x1b[7m")[0] == "ROMEO: what"  # Tab took "what"; was: a tab read as <unk>


def test_korean_suggestions_read_the_keys_as_the_screen_shows_them():
    """기억, Backspace twice (기ㅇ), then ㄱ ㅣ ㅎ: the screen shows 기ㅇ깋, and each suggestion is what the screen
    shows once Tab types it (기ㅇ기...; was 깅기할: the word's keys composed afresh)."""
    completer = Autocompleter(KOREAN)
    keys, _ = apply_keys(completer, "", chars("기억") + [Key("backspace")] * 2 + chars("ㄱㅣㅎ"))
    assert completer.text == "기ㅇ깋" and completer.word == "기ㅇ깋"
    for s in completer.suggestions(3):
        taken = Autocompleter(KOREAN)
        apply_keys(taken, "", chars("기억") + [Key("backspace")] * 2 + chars("ㄱㅣㅎ") + chars(s.completion))
        assert s.word.startswith("기ㅇ기") and taken.text == s.word, (s, taken.text)
