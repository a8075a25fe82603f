"""The personal word model: what it learns and predicts, its cap, its save file, and its use by the
Autocompleter and `complete --personal` (release exports, LiteRT only)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from kerasrnn import complete
from kerasrnn.ondevice.autocomplete import MIN_PROB, Autocompleter, is_word_char
from kerasrnn.ondevice.hangul import KEYBOARD, text_to_keys
from kerasrnn.ondevice.personal import CHARACTERS, PersonalModel, typed_words
from conftest import ROOT, interactive_session

ENGLISH = os.path.join(ROOT, "exported", "shakespeare-gru")
KOREAN = os.path.join(ROOT, "exported", "korean-gru")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_personal_cases  # noqa: E402


def test_the_port_fixture_is_up_to_date():
    with open(make_personal_cases.PATH, encoding="utf-8") as f:
        assert f.read() == make_personal_cases.cases_json(), "run tests/ondevice/make_personal_cases.py"


def test_counts_words_and_pairs_and_interpolates():
    model = PersonalModel(weight=0.5, evidence=2, bonus=0)  # no recency bonus: plain counts
    for prev, word in typed_words("the cat sat. the cat ran. the car ", is_word_char):
        model.learn(word, prev)
    assert model.words == {"the": 3, "cat": 2, "sat": 1, "ran": 1, "car": 1} and model.total == 8
    assert model.pairs[("the", "cat")] == 2 and model.pairs[("sat", "the")] == 1
    assert model.contexts == {"cat": 1, "sat": 1, "the": 2, "ran": 1, "car": 1}  # distinct words each follows
    ranked, mu = model.predict("ca", "the")
    # followers of "the" starting "ca": cat 2, car 1 (n2 3, t2 2); contexts of the words starting "ca": cat 1,
    # car 1 (n1 2); mu from the counts of those words (3)
    assert ranked == [("cat", (2 + 2 * (1 / 2)) / 5), ("car", (1 + 2 * (1 / 2)) / 5)]
    assert mu == 0.5 * (3 / 5)
    assert model.predict("", "nothing") == ([], 0.0)  # at a word's start only the followers are proposed
    assert model.predict("r", "") == ([("ran", 1.0)], 0.5 * (1 / 3))
    # a word seen after many words beats one seen as often after the same word, in a new context
    for prev in ["a", "a", "a", "b", "c"]:
        model.learn("xa" if prev == "a" else "xb", prev)
    assert model.words["xa"] == 3 and model.words["xb"] == 2
    assert model.predict("x", "z") == ([("xb", 2 / 3), ("xa", 1 / 3)], 0.5 * (5 / 7))


def test_recent_words_get_the_bonus_and_a_save_keeps_which_are_recent(tmp_path):
    model = PersonalModel(weight=0.5, evidence=1, recent=2, bonus=3)
    for word, prev in [("cat", "a"), ("cat", "b"), ("cat", "c"), ("car", "a"), ("cab", "a")]:
        model.learn(word, prev)
    assert list(model.recent) == ["car", "cab"]  # the 2 distinct words learned last
    # contexts with the bonus: cat 3, car 1 + 3, cab 1 + 3 (n1 11); mu from the plain counts (m1 5)
    assert model.predict("ca") == ([("cab", 4 / 11), ("car", 4 / 11), ("cat", 3 / 11)], 0.5 * (5 / 6))
    assert model.predict("cat") == ([("cat", 1.0)], 0.5 * (3 / 4))
    # at a word's start too: the followers of "a" (cat, car, cab: 1 each, n2 3, t2 3) over all the words
    # (5 pairs + 2 recent * 3 = 11)
    assert model.predict("", "a")[0][0] == ("cab", (1 + 3 * (4 / 11)) / 6)
    model.learn("cat", "d")  # recent again: car drops out
    assert list(model.recent) == ["cab", "cat"] and model.predict("ca")[0][0] == ("cat", 7 / 12)
    path = tmp_path / "me.json"
    model.save(str(path))
    again = PersonalModel(recent=2, bonus=3)
    again.load(str(path))
    assert list(again.recent) == ["cab", "cat"] and again.predict("ca") == model.predict("ca")
    small = PersonalModel(max_words=1, recent=2)
    small.learn("a")
    small.learn("b")  # a is forgotten: no longer recent either
    assert list(small.recent) == ["b"]


def test_mixing_promotes_the_users_word_and_leaves_the_rnn_alone_without_one():
    model = PersonalModel(weight=0.5, evidence=2)
    rnn = [("t", 0.4), ("ll", 0.3), ("n", 0.1)]
    assert model.mix(rnn, "ca", "the") == rnn  # empty: exactly the RNN's
    for _ in range(3):
        model.learn("catamaran", "the")
    mixed = model.mix(rnn, "ca", "the")
    assert mixed[0][0] == "tamaran" and [c for c, _ in mixed[1:]] == ["t", "ll"]
    assert mixed[1][1] == pytest.approx(0.4 * (1 - 0.5 * 3 / 5))


def test_the_rnns_further_completions_get_the_personal_models_support():
    model = PersonalModel(weight=0.5, evidence=2)
    for word in ["cab", "cad", "cam", "car"]:  # each once: P 1/4 each, mu 0.5 * 4 / 6
        model.learn(word)
    rnn = [("t", 0.4), ("ll", 0.3), ("n", 0.1), ("r", 0.05)]  # car: the RNN's 4th, not among the personal 3 best
    words, mu = model.predict("ca", "", 3, ["ca" + c for c, _ in rnn])
    assert words == [("cab", 0.25), ("cad", 0.25), ("cam", 0.25), ("car", 0.25)] and mu == 0.5 * (4 / 6)
    assert model.mix(rnn, "ca") == [("t", (1 - mu) * 0.4), ("ll", (1 - mu) * 0.3), ("r", (1 - mu) * 0.05 + mu * 0.25)]


def test_a_stem_is_the_start_all_matching_words_share():
    model = PersonalModel()
    for word in ["debian", "debianist", "debians", "dog", "x\U0001f600a", "x\U0001f601b", "y\U0001f600a", "y\U0001f600b"]:
        model.learn(word)
    assert [model.stem(p) for p in ["d", "de", "deb", "debian", "debiani", "do", "", "q"]] == [
        "", "debian", "debian", "", "", "", "", ""]  # 'd': 'debian' and 'dog' share only 'd'; one word: no stem
    assert model.stem("x") == "" and model.stem("y") == "y\U0001f600"  # whole characters (the port: not half of one)


def test_the_rnns_endings_of_a_stem_get_the_personal_models_weight():
    model = PersonalModel(weight=0.5, evidence=2)
    for word in ["debian", "debians"]:
        model.learn(word)
    mu = 0.5 * 2 / 4
    rnn = [("ep", 0.5), ("t", 0.2)]
    stems = [("bianism", 0.7), ("bians", 0.3)]  # what the RNN gives after "debian", as completions of "de"
    mixed = model.mix(rnn, "de", "", 3, None, stems)
    scores = {"ep": (1 - mu) * 0.5, "t": (1 - mu) * 0.2, "bianism": mu * 0.7, "bians": mu * 0.5 + mu * 0.3,
              "bian": mu * 0.5}  # (the words learned: P 1/2 each)
    assert mixed == sorted(scores.items(), key=lambda x: -x[1])[:3]
    assert model.mix(rnn, "de", "", 3, None, []) == model.mix(rnn, "de", "", 3, None)  # no stems: as before


def test_memory_stays_under_the_cap_forgetting_the_least_recently_used():
    model = PersonalModel(max_words=50, max_pairs=80)
    prev = ""
    for i in range(5000):
        word = f"w{i % 700}"
        model.learn(word, prev)
        model.learn("the", word)  # used all the time: never forgotten
        prev = "the"
        assert len(model.words) <= 50 and len(model.pairs) <= 80
    assert "the" in model.words and model.total == sum(model.words.values())
    assert model._sorted == sorted(model.words)
    assert all(w in model.followers[v] for v, w in model.pairs) and sum(map(len, model.followers.values())) == 80
    assert "w99" in model.words and "w51" in model.words and "w50" not in model.words  # the 49 latest
    model.learn("x" * 33)  # longer than MAX_WORD: skipped
    assert "x" * 33 not in model.words


def test_save_and_load_round_trip_and_refuse_bad_files(tmp_path):
    model = PersonalModel()
    for prev, word in typed_words("one two three two three four ", is_word_char):
        model.learn(word, prev)
    path = tmp_path / "me.json"
    model.save(str(path))
    again = PersonalModel()
    again.load(str(path), is_word_char)
    assert again.to_json() == model.to_json() and again.predict("t", "two") == model.predict("t", "two")
    bad = {"not json": b"{", "a list": b"[]", "another format": b'{"format": "kerasrnn-export"}',
           "latin-1": b'{"format": "\xe9"}', "NaN": b'{"format": NaN}'}
    good = model.to_json()
    for name, edit in {"keys": {"tokens": KEYBOARD}, "version": {"version": 4}, "count 0": {"words": [["a", 0]]},
                       "count str": {"words": [["a", "1"]]}, "bool": {"words": [["a", True]]},
                       "twice": {"words": [["a", 1], ["a", 2]]}, "not a word": {"words": [["a b", 1]]},
                       "pair": {"pairs": [["a", 1]]}, "empty word": {"words": [["", 1]]},
                       "no words": {"words": None}}.items():
        bad[name] = json.dumps({**good, **edit}).encode()
    for name, data in bad.items():
        path.write_bytes(data)
        with pytest.raises(ValueError):
            PersonalModel().load(str(path), is_word_char)
        print(name)
    with pytest.raises(ValueError):
        PersonalModel().load(str(tmp_path / "missing.json"))


def test_the_autocompleter_learns_the_words_typed_and_backspace_restores_the_previous_word():
    plain, completer = Autocompleter(ENGLISH), Autocompleter(ENGLISH, personal=True)
    text = "Zorblax spoke to Quenthor. Then Zorblax spoke again, and Quenthor answered Zorblax. "
    completer.feed(text)
    assert completer.personal.words["Zorblax"] == 3
    learned = typed_words(completer.tokens(text), completer.word_char)
    assert sum(completer.personal.words.values()) == len(learned)
    plain.feed(text + "Zo")
    completer.feed("Zo")
    assert "Zorblax" not in [s.word for s in plain.suggestions()]
    ours = [s for s in completer.suggestions() if s.word == "Zorblax"]
    assert ours and ours[0].completion == "rblax" and 0 < ours[0].prob < 1
    completer.backspace(2)
    completer.feed("and ")  # after "Zorblax. " the previous word is "Zorblax" again, as before "Zo"
    assert completer.personal.pairs[("Zorblax", "and")] == 1
    completer.reset()  # forgets the text, not the user
    assert completer.personal.words["Zorblax"] == 3
    handed = []
    mix = completer.personal.mix
    completer.personal.mix = lambda rnn, *args: handed.append((rnn, args)) or mix(rnn, *args)
    completer.feed("the ki")
    start = completer._history[-2][0][0]  # the state before "k": the word's start
    shown = completer.suggestions()
    rnn, args = handed[0]
    assert 3 < len(rnn) <= 8  # the RNN's 3 best and the next ones its search found, for the mix
    assert args[:3] == ("ki", "the", 3) and np.array_equal(args[3], start)  # with the state at the word's start
    assert [(s.completion, s.prob) for s in shown] == [(c, p) for c, p in mix(rnn, *args) if p >= MIN_PROB]
    assert len(completer.personal.states) == len(learned) + 2  # every word learned with its state ("and", "the")


def test_a_korean_key_model_learns_words_as_keys():
    completer = Autocompleter(KOREAN, personal=True)
    completer.feed("신경망은 신경망을 학습한다. 신경")
    assert completer.personal.words[text_to_keys("신경망은")] == 1
    assert text_to_keys("신경망") + "ㅇㅡㄹ" in completer.personal.words
    words = [s.word for s in completer.suggestions()]
    assert {"신경망은", "신경망을"} <= set(words), words
    with pytest.raises(ValueError):
        Autocompleter(KOREAN, personal=PersonalModel(CHARACTERS))


def test_complete_with_a_personal_file(tmp_path, capsys):
    path = tmp_path / "me.json"
    model = PersonalModel()
    for _ in range(3):
        model.learn("Zorblax", "to")
    model.save(str(path))
    assert complete.main([ENGLISH, "--personal", str(path), "Speak to Zo"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[0] == "Zorblax"
    for data in (b"{broken", json.dumps({**model.to_json(), "tokens": KEYBOARD}).encode(), b"just text"):
        path.write_bytes(data)
        assert complete.main([ENGLISH, "--personal", str(path), "Zo"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("kerasrnn.complete: error: --personal") and err.count("\n") == 1
        assert path.read_bytes() == data  # a file it did not make is left as it was
    assert complete.main([ENGLISH, "--personal", str(tmp_path / "none.json"), "Zo"]) == 2  # made only interactively
    assert complete.main([ENGLISH, "--personal", str(tmp_path), "Zo"]) == 2  # a folder


@pytest.mark.slow
def test_interactive_learns_and_saves_at_exit(tmp_path):  # two terminal sessions
    path = tmp_path / "me.json"
    status, frames = interactive_session(ENGLISH, [(0.2, b"Zorblax and Zorblax "), (0.5, b"\x04")],
                                         ["--personal", str(path)])
    assert status == 0, frames
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert ["Zorblax", 2] in saved["words"] and ["Zorblax", "and", 1] in saved["pairs"]
    status, frames = interactive_session(ENGLISH, [(0.2, b"Zo"), (0.5, b"\x04")], ["--personal", str(path)])
    assert status == 0 and "Zorblax" in frames[-1], frames  # learned last time: suggested now
    path.write_text("[1, 2]", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "kerasrnn.complete", ENGLISH, "--personal", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
