"""Hangul text <-> the keys of the standard Korean keyboard (2-beolsik, KS X 5002); pure Python.

A Korean keyboard sends one jamo per keystroke and its input method composes the keys into
syllables, leaving the last syllable *open* while typing ('가' + 'ㄱ' shows '각', which becomes
'가기' when 'ㅣ' follows). A model over keys sees every partial input as a plain prefix of the
finished text's keys, which a model over syllables (or over NFD jamo) does not.

    text_to_keys("기억 속으로")        'ㄱㅣㅇㅓㄱ ㅅㅗㄱㅇㅡㄹㅗ'  (NFC first; other characters unchanged)
    keys_to_text("ㄱㅏㄱㅣ")           '가기'  (as the keyboard composes; the last syllable stays open)
    Composer().feed(keys)             the same, one key at a time, with the keyboard's backspace
    split_open(keys)                  (text no further key changes, keys of the open syllable)
    open_syllable_alternatives(keys)  what the open syllable can still become ('깅' or '기' + ㅇ...)

Keys are Hangul Compatibility Jamo (U+3131-U+3163): 19 consonants and 14 vowels, no
initial/final distinction; compound vowels and finals are two keys ('ㅘ' = ㅗㅏ, 'ㄺ' = ㄹㄱ),
ㄲ ㄸ ㅃ ㅆ ㅉ ㅒ ㅖ one (shifted) key. `text_to_keys(keys_to_text(k)) == k` for every string k;
`keys_to_text(text_to_keys(t)) == NFC(t)` except where the keyboard itself cannot type t without an
explicit commit (a lone jamo after a syllable: '좋아ㅋㅋ' is typed ㅈㅗㅎㅇㅏㅋㅋ and shown '좋앜ㅋ';
`roundtrips` tells). Old Hangul, fillers (U+115F), Latin, digits and emoji pass through unchanged.
"""

from __future__ import annotations

import unicodedata
from collections import deque
from typing import NamedTuple

# Jamo orders of the Unicode syllable formula S = 0xAC00 + (L * 21 + V) * 28 + T.
_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_MEDIALS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_FINALS = "\0ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"  # index 0: no final
_SBASE, _SCOUNT = 0xAC00, 11172

# Compound vowels and compound finals -> the two keys that type them.
_COMPOUND_VOWELS = {"ㅘ": "ㅗㅏ", "ㅙ": "ㅗㅐ", "ㅚ": "ㅗㅣ", "ㅝ": "ㅜㅓ", "ㅞ": "ㅜㅔ", "ㅟ": "ㅜㅣ", "ㅢ": "ㅡㅣ"}
_COMPOUND_FINALS = {"ㄳ": "ㄱㅅ", "ㄵ": "ㄴㅈ", "ㄶ": "ㄴㅎ", "ㄺ": "ㄹㄱ", "ㄻ": "ㄹㅁ", "ㄼ": "ㄹㅂ", "ㄽ": "ㄹㅅ",
                    "ㄾ": "ㄹㅌ", "ㄿ": "ㄹㅍ", "ㅀ": "ㄹㅎ", "ㅄ": "ㅂㅅ"}
_JOIN_VOWELS = {keys: jamo for jamo, keys in _COMPOUND_VOWELS.items()}
_JOIN_FINALS = {keys: jamo for jamo, keys in _COMPOUND_FINALS.items()}

KEYBOARD = "keys-2beolsik"  # an export's manifest "input" when its tokens are these keys
CONSONANT_KEYS = _INITIALS  # the 19 consonant keys
VOWEL_KEYS = "".join(v for v in _MEDIALS if v not in _COMPOUND_VOWELS)  # the 14 vowel keys
KEYS = CONSONANT_KEYS + VOWEL_KEYS  # the 33 jamo keys of the layout
_CONSONANTS, _VOWELS = frozenset(CONSONANT_KEYS), frozenset(VOWEL_KEYS)
_NOT_FINAL = frozenset("ㄸㅃㅉ")  # consonant keys that cannot close a syllable
_INITIAL_INDEX = {j: i for i, j in enumerate(_INITIALS)}
_MEDIAL_INDEX = {j: i for i, j in enumerate(_MEDIALS)}
_FINAL_INDEX = {j: i for i, j in enumerate(_FINALS) if i}


def _syllable_keys(code: int) -> str:
    """The keys of the precomposed syllable with code point `code`."""
    s = code - _SBASE
    medial, final = _MEDIALS[s % 588 // 28], _FINALS[s % 28]
    return (_INITIALS[s // 588] + _COMPOUND_VOWELS.get(medial, medial)
            + ("" if final == "\0" else _COMPOUND_FINALS.get(final, final)))


# One str.translate table: every syllable and every compound compatibility jamo -> its keys.
_TO_KEYS = {c: _syllable_keys(c) for c in range(_SBASE, _SBASE + _SCOUNT)}
_TO_KEYS.update({ord(j): k for j, k in (_COMPOUND_VOWELS | _COMPOUND_FINALS).items()})


def keyboard_tables() -> dict:
    """What a program elsewhere (a web page) needs to type text as these keys and compose them back."""
    return {"layout": "2-beolsik (KS X 5002)", "keys": KEYS,
            "syllable": "chr(0xAC00 + (initial * 21 + medial) * 28 + final), final 0 = none",
            "initials": _INITIALS, "medials": _MEDIALS, "finals": _FINALS[1:],  # final i is finals[i - 1]
            "two_keys": {**_COMPOUND_VOWELS, **_COMPOUND_FINALS}, "never_final": "".join(sorted(_NOT_FINAL))}


def is_key(ch: str) -> bool:
    """True for the 33 jamo keys of the layout."""
    return ch in _CONSONANTS or ch in _VOWELS


def text_to_keys(text: str) -> str:
    """The keys that type `text` (NFC first, so NFD input composes; other characters unchanged).

    Conjoining jamo that NFC leaves alone (old Hangul, the U+115F filler) and old compatibility
    jamo (U+3165-U+318E) are not keys of the layout: they pass through like any other character.
    """
    return unicodedata.normalize("NFC", text).translate(_TO_KEYS)


class Composer:
    """The 2-beolsik composition automaton, one key at a time, with the keyboard's backspace.

    `text` is the committed text followed by the open syllable (`preedit`). A character that is
    not a key commits the open syllable and is appended as it is.

    Args:
        keep: committed characters kept (None: all); older ones are forgotten, bounding memory
            for an endless input (`text` and `keys` then cover only the kept tail).
    """

    __slots__ = ("_committed", "_initial", "_vowel", "_final")

    def __init__(self, keep: int | None = None) -> None:
        self._committed: deque[tuple[str, str]] = deque(maxlen=keep)  # (character, its keys)
        self._initial = ""  # 0-2 consonant keys (2 only for a lone cluster such as ㄱㅅ -> ㄳ)
        self._vowel = ""  # 0-2 vowel keys
        self._final = ""  # 0-2 consonant keys

    @property
    def preedit(self) -> str:
        """The open syllable as the keyboard shows it ('' when nothing is open)."""
        initial, vowel, final = self._initial, self._vowel, self._final
        if not vowel:
            return _JOIN_FINALS.get(initial, initial)  # a lone consonant, or a lone cluster ㄳ
        medial = _JOIN_VOWELS.get(vowel, vowel)
        if not initial:
            return medial  # a lone vowel, possibly compound (ㅘ)
        f = _FINAL_INDEX[_JOIN_FINALS.get(final, final)] if final else 0
        return chr(_SBASE + (_INITIAL_INDEX[initial] * 21 + _MEDIAL_INDEX[medial]) * 28 + f)

    @property
    def preedit_keys(self) -> str:
        """The keys of the open syllable."""
        return self._initial + self._vowel + self._final

    @property
    def committed(self) -> str:
        """The text that no further key can change."""
        return "".join(c for c, _ in self._committed)

    @property
    def text(self) -> str:
        """What the keyboard shows: the committed text followed by the open syllable."""
        return self.committed + self.preedit

    @property
    def keys(self) -> str:
        """The key context for a model: the keys pushed, less those backspace removed.

        After a backspace that follows a final migration (가기 -> 가ㄱ) `keys_to_text(keys)` renders
        differently (각) from `text`, which stays what the keyboard shows.
        """
        return "".join(k for _, k in self._committed) + self.preedit_keys

    def commit(self) -> None:
        """Closes the open syllable (what the keyboard does on a non-jamo key or a cursor move)."""
        if self._initial or self._vowel:
            self._committed.append((self.preedit, self.preedit_keys))
        self._initial = self._vowel = self._final = ""

    def push(self, ch: str) -> None:
        """Feeds one character: a jamo key composes, anything else commits and is appended."""
        if ch in _CONSONANTS:
            self._push_consonant(ch)
        elif ch in _VOWELS:
            self._push_vowel(ch)
        else:
            self.commit()
            self._committed.append((ch, ch))

    def feed(self, keys: str) -> Composer:
        """Pushes every character of `keys`; returns self."""
        for ch in keys:
            self.push(ch)
        return self

    def _push_consonant(self, c: str) -> None:
        initial, vowel, final = self._initial, self._vowel, self._final
        if vowel and initial:  # a syllable with a vowel: c may close it
            if not final and c not in _NOT_FINAL:
                self._final = c
                return
            if len(final) == 1 and final + c in _JOIN_FINALS:
                self._final = final + c  # a compound final ㄺ, ㄳ, ...
                return
        elif not vowel and len(initial) == 1 and initial + c in _JOIN_FINALS:
            self._initial = initial + c  # a lone cluster: ㄱ ㅅ -> ㄳ, as the keyboard shows it
            return
        self.commit()
        self._initial = c

    def _push_vowel(self, v: str) -> None:
        initial, vowel, final = self._initial, self._vowel, self._final
        if final:  # final consonant migration: 각 + ㅣ -> 가기, 닭 + ㅏ -> 달가
            self._final = final[:-1]
            self.commit()
            self._initial, self._vowel = final[-1], v
        elif vowel:
            if len(vowel) == 1 and vowel + v in _JOIN_VOWELS:
                self._vowel = vowel + v  # a compound vowel ㅘ, ㅢ, ...
            else:
                self.commit()
                self._vowel = v
        elif len(initial) == 2:  # a lone cluster ㄳ + ㅏ -> ㄱ사
            self._committed.append((initial[0], initial[0]))
            self._initial, self._vowel = initial[1], v
        else:
            self._vowel = v  # a lone vowel, or initial + vowel

    def backspace_width(self, count: int = 1) -> int | None:
        """How many keys `count` backspaces remove from `keys`; None when fewer characters remain.

        Each removes one key of the open syllable while there is one, then a committed character whole.
        """
        in_open = min(count, len(self.preedit_keys))
        whole = count - in_open
        if whole > len(self._committed):
            return None
        return in_open + sum(len(self._committed[-1 - i][1]) for i in range(whole))

    def backspace(self) -> int:
        """What the keyboard's backspace does; returns the number of keys removed from `keys`.

        Inside the open syllable it removes the last key (닭 -> 달, 과 -> 고, ㄳ -> ㄱ); with nothing
        open it deletes the last committed character whole. After 가기 (ㄱㅏㄱㅣ) one backspace
        shows 가ㄱ, not 각 = keys_to_text(ㄱㅏㄱ), because 가 was committed when ㅣ moved ㄱ on.
        """
        width = self.backspace_width() or 0
        keys = self.preedit_keys
        if keys:
            self._initial = self._vowel = self._final = ""
            for ch in keys[:-1]:  # a prefix of one syllable's keys is one syllable again
                self.push(ch)
        elif self._committed:
            self._committed.pop()
        return width


def keys_to_text(keys: str) -> str:
    """The text a 2-beolsik keyboard shows after `keys`; the last syllable stays open."""
    return Composer().feed(keys).text


def roundtrips(text: str) -> bool:
    """Whether `keys_to_text(text_to_keys(text)) == NFC(text)` (see the module doc)."""
    return keys_to_text(text_to_keys(text)) == unicodedata.normalize("NFC", text)


def split_open(keys: str) -> tuple[str, str]:
    """(stable_text, open_keys): the text that no further key changes, and the open syllable's keys.

    Every continuation of `keys` renders as `stable_text` followed by the rendering of
    `open_keys` + the continuation.
    """
    c = Composer().feed(keys)
    return c.committed, c.preedit_keys


class OpenAlternative(NamedTuple):
    """One way the open syllable can end up: `syllable`, then `carry` opens the next one."""

    syllable: str
    carry: str


def open_syllable_alternatives(keys: str, grow: bool = False) -> list[OpenAlternative]:
    """What the open (last) syllable of `keys` can still become, what is shown now first.

    Then the readings where the last final consonant moves to the next syllable because a vowel
    follows: ㄱㅣㅇ -> [깅, (기, carry ㅇ)], ㄷㅏㄹㄱ -> [닭, (달, carry ㄱ)]. With `grow`, also every
    syllable that more keys typed into the open syllable can make (ㄱㅗ -> 곡, 과, 괌, ...). This
    filters a word list kept as text: a word continues the typed keys at this syllable iff its
    syllable is one of these and, for an alternative with a carry, its next syllable's keys start
    with the carry. (A model over keys needs neither: its suggestions continue `keys`.) Empty when
    nothing is open.
    """
    open_keys = split_open(keys)[1]
    if not open_keys:
        return []
    out = [OpenAlternative(keys_to_text(open_keys), "")]
    c = Composer().feed(open_keys)
    if c._final:  # the final's last key can become the next syllable's initial
        out.append(OpenAlternative(keys_to_text(open_keys[:-1]), open_keys[-1]))
    elif len(c._initial) == 2:  # a lone cluster ㄳ: ㅅ opens the next syllable before a vowel
        out.append(OpenAlternative(c._initial[0], c._initial[1]))
    if grow:
        seen = {a.syllable for a in out}
        for code in range(_SBASE, _SBASE + _SCOUNT):
            if chr(code) not in seen and _TO_KEYS[code].startswith(open_keys):
                out.append(OpenAlternative(chr(code), ""))
        for jamo, jamo_keys in (_COMPOUND_VOWELS | _COMPOUND_FINALS).items():
            if jamo not in seen and jamo_keys.startswith(open_keys) and jamo_keys != open_keys:
                out.append(OpenAlternative(jamo, ""))  # a lone ㄱ -> ㄳ, a lone ㅗ -> ㅘ
    return out
