"""Keystroke savings: the simulated user's accounting (against an oracle), and the command on real exports."""

import json
import os

from kerasrnn import bench
from kerasrnn.benchmarks.keystrokes import simulate, word_ends
from kerasrnn.ondevice.autocomplete import Autocompleter, Suggestion, is_word_char
from kerasrnn.ondevice.personal import PersonalModel
from conftest import ROOT


class Oracle:
    """An autocompleter that always suggests the right rest of the word once `after` of it is typed."""

    keyboard = False
    word_char = staticmethod(is_word_char)

    def __init__(self, text: str, after: int):
        self.text, self.after, self.at = text, after, 0

    def tokens(self, text):
        return text

    def reset(self):
        self.at = 0

    def feed(self, text):
        self.at += len(text)

    def suggestions(self, k):
        start = self.at
        while start and is_word_char(self.text[start - 1]):
            start -= 1
        end = word_ends(self.text, is_word_char)[self.at]
        rest = self.text[self.at:end]
        return [Suggestion("x", "zz", 0.5), Suggestion(self.text[start:end], rest, 0.4)] if self.at - start >= \
            self.after else []


def test_the_user_accepts_a_right_suggestion_with_one_keystroke():
    text = "to be, or not to be: that is a question\n"
    words = text.replace(",", " ").replace(":", " ").split()
    for after, saved in [(0, sum(len(w) - 1 for w in words if len(w) > 1)),  # at each word's start
                         (1, sum(len(w) - 2 for w in words if len(w) > 2))]:  # after its first letter
        result = simulate(Oracle(text, after), text)
        assert result["keystrokes"] == len(text) and result["saved"] == saved
        assert result["pressed"] == len(text) - saved and result["words"] == len(words) == 10
        assert result["accepted"] == sum(len(w) > after + 1 for w in words)
        assert result["savings"] == round(saved / len(text), 4)


def test_keystrokes_command_on_a_character_and_a_key_model(tiny_export, korean_export, tmp_path, capsys):
    text = tmp_path / "typed.txt"
    text.write_text("First Citizen:\nWe are accounted poor citizens.\n", encoding="utf-8")
    out = tmp_path / "chars.json"
    assert bench.main(["keystrokes", tiny_export, "--text", str(text), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["unit"] == "characters" and result["keystrokes"] == result["characters"] == 47
    assert 0 <= result["savings"] < 1 and result["words"] == 7 and result["cpu"]
    out = tmp_path / "keys.json"
    assert bench.main(["keystrokes", korean_export, "--split", "test", "--chars", "300", "--model", "int8",
                       "-k", "5", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["unit"] == "keys" and result["characters"] == 300 and result["keystrokes"] > 500
    assert result["text"] == "the first 300 characters of the Korean test split" and result["k"] == 5
    assert result["pressed"] + result["saved"] == result["keystrokes"]
    assert "saved" in capsys.readouterr().out


def test_keystrokes_bad_input_is_one_line(tiny_export, capsys):
    assert bench.main(["keystrokes", tiny_export, "--split", "test"]) == 2
    assert "not trained on a bundled corpus" in capsys.readouterr().err
    assert bench.main(["keystrokes", tiny_export, "--text", "/no/such/file"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_adapt_learns_only_what_was_typed_and_gains_on_a_repetitive_text(tmp_path, capsys):
    model = os.path.join(ROOT, "exported", "shakespeare-gru")
    vocabulary = ["Zorblax", "Quenthorine", "glimmerwick", "Vantablorp", "snozzleberry", "Krellnaught"]
    text = " ".join(vocabulary[(i * 7) % 6] + ("," if i % 5 == 0 else "") for i in range(300)) + ".\n"
    path = tmp_path / "made-up.txt"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "adapt.json"
    assert bench.main(["keystrokes", model, "--text", str(path), "--adapt", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    without, adapted = result["without"], result["with_personal"]
    assert without["keystrokes"] == adapted["keystrokes"] == len(text)
    assert adapted["savings"] > 2 * without["savings"] and result["ratio"] == round(
        adapted["savings"] / without["savings"], 3)
    assert adapted["curve"][-1] > adapted["curve"][0]  # it learns as the text goes on
    assert len(adapted["curve"]) == -(-len(text) // 1000)
    assert adapted["personal"]["words"] == 6 and adapted["personal"]["pairs"] <= adapted["personal"]["max_pairs"]
    lines = capsys.readouterr().out.splitlines()
    assert sum("% saved; " in line for line in lines) == 2 and any(", adapted)" in line for line in lines)


def test_the_first_word_is_never_suggested_by_the_personal_model():
    """Nothing of the text ahead: a made-up word is completed only after it was typed in full once."""
    plain = Autocompleter(os.path.join(ROOT, "exported", "shakespeare-gru"))
    completer = Autocompleter(os.path.join(ROOT, "exported", "shakespeare-gru"), personal=True)
    once, twice = "Zorblax\n", "Zorblax Zorblax\n"
    assert simulate(completer, once) == simulate(plain, once)
    completer.personal.forget()
    gain = simulate(completer, twice)["saved"] - simulate(plain, twice)["saved"]
    assert gain == len("Zorblax") - 1  # the second one, accepted at its start (the state cache proposes it)
    completer.personal = PersonalModel(completer.token_kind, states=0)  # without the state cache
    gain = simulate(completer, twice)["saved"] - simulate(plain, twice)["saved"]
    assert gain == len("orblax") - 1  # accepted after its "Z"
