"""Keys <-> Hangul: hand-written cases, every syllable, backspace, the open syllable, the whole corpus,
and agreement with hangulpy 1.5.2 (a test-only reference; the runtime does not need it)."""

from __future__ import annotations

import random
import unicodedata

import pytest

from kerasrnn.ondevice.hangul import (KEYS, Composer, OpenAlternative, is_key, keyboard_tables, keys_to_text,
                                      open_syllable_alternatives, roundtrips, split_open, text_to_keys)
from pipelines.korean import load_documents


@pytest.fixture(scope="module")
def corpus_lines() -> list[str]:
    return [line for doc in load_documents().values() for line in doc.text.split("\n")]


@pytest.mark.parametrize("text, keys", [
    ("기억 속으로", "ㄱㅣㅇㅓㄱ ㅅㅗㄱㅇㅡㄹㅗ"),
    ("각", "ㄱㅏㄱ"), ("가기", "ㄱㅏㄱㅣ"), ("과", "ㄱㅗㅏ"), ("닭", "ㄷㅏㄹㄱ"), ("달가", "ㄷㅏㄹㄱㅏ"),
    ("깋", "ㄱㅣㅎ"), ("쀍", "ㅃㅜㅔㄹㄱ"), ("의", "ㅇㅡㅣ"), ("얘기", "ㅇㅒㄱㅣ"), ("있다", "ㅇㅣㅆㄷㅏ"),
    ("ㄱ", "ㄱ"), ("ㅏ", "ㅏ"), ("ㅘ", "ㅗㅏ"), ("ㄺ", "ㄹㄱ"), ("ㅄ", "ㅂㅅ"), ("ㄸ", "ㄸ"),
    ("A1 셀", "A1 ㅅㅔㄹ"), ("", ""),
])
def test_text_to_keys_and_back(text, keys):
    assert text_to_keys(text) == keys
    assert keys_to_text(keys) == text


@pytest.mark.parametrize("keys, shown", [
    ("ㄱㅏㄱ", "각"), ("ㄱㅏㄱㅣ", "가기"), ("ㄱㅗㅏ", "과"), ("ㄷㅏㄹㄱ", "닭"), ("ㄷㅏㄹㄱㅏ", "달가"),
    ("ㅗㅏ", "ㅘ"), ("ㅗㅏㅏ", "ㅘㅏ"), ("ㄱㅅ", "ㄳ"), ("ㄱㅅㅏ", "ㄱ사"), ("ㄱㄱ", "ㄱㄱ"), ("ㄸㅏㄸ", "따ㄸ"),
    ("ㄱㅏㄲㅏ", "가까"), ("ㅋㅋㅋ", "ㅋㅋㅋ"), ("ㄱㅣㅇ", "깅"), ("ㄱㅣㅇㅓ", "기어"), ("ㄱㅣㅇㅓㄱ ㅅ", "기억 ㅅ"),
])
def test_composition(keys, shown):
    assert keys_to_text(keys) == shown


def test_the_lecture_example_is_typed_as_a_key_prefix():
    target = text_to_keys("기억 속으로")
    shown = [keys_to_text(target[:n]) for n in range(1, len(target) + 1)]
    assert shown[:5] == ["ㄱ", "기", "깅", "기어", "기억"] and shown[-1] == "기억 속으로"


@pytest.mark.parametrize("text", [
    "ᄒᆞᆫ글",  # old Hangul (arae-a): conjoining jamo that NFC cannot compose
    "\u115f\u1161",  # the initial filler and a vowel
    "\u3164ㅏ",  # the compatibility filler
    "ᄀᆞᆯ ㅿ ㆆ ㆍ",  # old compatibility jamo
    "Hello 세계 🌏👩‍👩‍👧 café ＡＢＣ ﾡ",  # Latin, emoji with ZWJ, fullwidth, halfwidth jamo
    "\x00\n\t",
])
def test_other_text_passes_through(text):
    assert keys_to_text(text_to_keys(text)) == unicodedata.normalize("NFC", text)


def test_nfd_input_is_composed_first():
    nfd = unicodedata.normalize("NFD", "기억 속으로")
    assert nfd != "기억 속으로" and text_to_keys(nfd) == "ㄱㅣㅇㅓㄱ ㅅㅗㄱㅇㅡㄹㅗ"


def test_random_strings_compose_back_to_their_keys():
    """text_to_keys(keys_to_text(k)) == k for any string of keys and other characters."""
    rng = random.Random(3)
    pool = KEYS * 3 + " .A\n7가ㅘ\u115f\u1161🌏"
    for n in range(10000):
        k = "".join(rng.choice(pool) for _ in range(rng.randrange(16)))
        if not any(0xAC00 <= ord(c) <= 0xD7A3 or c in "ㅘ\u115f\u1161" for c in k):
            assert text_to_keys(keys_to_text(k)) == k, k
        c = Composer().feed(k)
        assert c.keys == k  # the composer's key context is what was pushed
        width = c.backspace()
        assert c.keys == k[:len(k) - width] and width == (1 if k and is_key(k[-1]) else width)
        open_syllable_alternatives(k, grow=n % 50 == 0)  # (growing scans all 11,172 syllables)


def test_texts_the_keyboard_cannot_type_are_flagged():
    assert not roundtrips("좋아ㅋㅋ") and keys_to_text(text_to_keys("좋아ㅋㅋ")) == "좋앜ㅋ"
    assert roundtrips("가") and not roundtrips("ㄱㅏ")


def test_every_syllable_followed_by_every_initial():
    """The automaton's choice at a boundary depends only on the next initial and whether a vowel
    follows: this covers every pair of syllables."""
    nexts = [chr(0xAC00 + i * 588) for i in range(19)]  # 가 까 나 ... 하
    for code in range(0xAC00, 0xD7A4):
        s = chr(code)
        assert keys_to_text(text_to_keys(s)) == s
        for n in nexts:
            assert keys_to_text(text_to_keys(s + n)) == s + n


@pytest.mark.parametrize("typed, after", [
    ("닭", "달"), ("과", "고"), ("괅", "괄"), ("각", "가"), ("가", "ㄱ"), ("ㄳ", "ㄱ"), ("ㅘ", "ㅗ"), ("기억 ", "기억"),
    ("ㄱ", ""),
])
def test_backspace_inside_the_open_syllable_removes_one_key(typed, after):
    keys = text_to_keys(typed)
    c = Composer().feed(keys)
    assert c.backspace() == 1 and c.text == after == keys_to_text(keys[:-1]) and c.keys == keys[:-1]


def test_backspace_after_a_final_migration_is_the_keyboards():
    c = Composer().feed("ㄱㅏㄱㅣ")
    c.backspace()
    assert c.text == "가ㄱ" and keys_to_text("ㄱㅏㄱ") == "각" and c.keys == "ㄱㅏㄱ"
    c.push("ㅣ")  # the vowel again: the same text as the key string
    assert c.text == "가기"
    c.backspace()
    c.push("ㅅ")  # a consonant now makes a lone cluster: 가ㄳ, not 갃
    assert c.text == "가ㄳ" and keys_to_text("ㄱㅏㄱㅅ") == "갃"
    assert [c.backspace(), c.backspace()] == [1, 1] and c.text == "가"
    assert c.backspace_width() == 2 and c.backspace() == 2 and c.text == c.keys == ""  # a committed syllable whole
    assert c.backspace() == 0 and c.backspace_width() is None
    c = Composer().feed("ㄱㅏㄱㅣ ㄷㅏㄹㄱ")
    assert [c.backspace_width(n) for n in range(1, 9)] == [1, 2, 3, 4, 5, 7, 9, None]  # 닭 by keys, then 기 and 가 whole


def test_a_bounded_composer_keeps_the_tail():
    c = Composer(keep=3).feed(text_to_keys("가나다라마"))
    assert c.text == "나다라마" and c.keys == text_to_keys("나다라마")


def test_split_open_and_alternatives():
    assert split_open("ㄱㅣㅇㅓㄱ ㅅㅗㄱ") == ("기억 ", "ㅅㅗㄱ")
    assert split_open("ㄱㅏㄱㅣ") == ("가", "ㄱㅣ") and split_open("") == ("", "")
    assert open_syllable_alternatives("ㄱㅣㅇ") == [OpenAlternative("깅", ""), OpenAlternative("기", "ㅇ")]
    assert open_syllable_alternatives("ㄷㅏㄹㄱ") == [OpenAlternative("닭", ""), OpenAlternative("달", "ㄱ")]
    assert open_syllable_alternatives("ㄱㅅ") == [OpenAlternative("ㄳ", ""), OpenAlternative("ㄱ", "ㅅ")]
    assert open_syllable_alternatives("기억 ") == []
    grown = {a.syllable for a in open_syllable_alternatives("ㄱㅗ", grow=True)}
    assert {"고", "곡", "과", "괌", "괋"} <= grown and "가" not in grown
    assert "ㅘ" in {a.syllable for a in open_syllable_alternatives("ㅗ", grow=True)}


def test_grown_alternatives_filter_words_like_a_key_prefix():
    words = ["기억", "기어", "깅", "기", "긱", "긴장", "가", "김치", "깁스"]
    for typed in ("ㄱㅣ", "ㄱㅣㅇ", "ㄱㅣㄱ"):
        alts = open_syllable_alternatives(typed, grow=True)
        for w in words:
            by_alts = any(w[0] == a.syllable and (not a.carry or text_to_keys(w[1:2]).startswith(a.carry))
                          for a in alts)
            assert text_to_keys(w).startswith(typed) == by_alts, (typed, w)


def test_the_exported_tables_type_every_syllable():
    """What a manifest gives a program without kerasrnn (a web page) is enough to type any syllable."""
    t = keyboard_tables()

    def keys(ch):
        s = ord(ch) - 0xAC00
        medial, final = t["medials"][s % 588 // 28], s % 28 and t["finals"][s % 28 - 1]
        return t["initials"][s // 588] + t["two_keys"].get(medial, medial) + (t["two_keys"].get(final, final) or "")

    assert t["keys"] == KEYS and all(keys(chr(c)) == text_to_keys(chr(c)) for c in range(0xAC00, 0xD7A4))


def test_every_corpus_line_round_trips(corpus_lines):
    bad = [line for line in corpus_lines if keys_to_text(text_to_keys(line)) != line]
    assert not bad and len(corpus_lines) > 45000, bad[:3]


def test_equal_to_hangulpy_on_the_corpus(corpus_lines):
    hangulpy = pytest.importorskip("hangulpy")  # the `test` extra pins 1.5.2
    assert hangulpy.__version__ == "1.5.2"
    for line in corpus_lines:
        keys = text_to_keys(line)
        assert keys == hangulpy.disassemble(line, "string"), line
        assert keys_to_text(keys) == hangulpy.assemble(keys), line
