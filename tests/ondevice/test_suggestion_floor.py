"""Suggestions less likely than MIN_PROB (shown as 0.000) are not offered: fewer, or none at all."""

from __future__ import annotations

import os

from conftest import ROOT
from kerasrnn import complete
from kerasrnn.ondevice.autocomplete import MIN_PROB, Autocompleter, format_suggestions

SHIPPED = os.path.join(ROOT, "exported", "shakespeare-gru")


def test_nothing_that_shows_as_zero_is_offered():
    completer = Autocompleter(SHIPPED)
    for text in ("ROMEO:", "ROMEO: wh", "KING", "To be, or not to ", "", "What"):
        completer.reset()
        completer.feed(text)
        shown = completer.suggestions(20)
        assert all(s.prob >= MIN_PROB for s in shown) and "0.000" not in format_suggestions(shown), (text, shown)
        everything = completer.suggestions(20, min_prob=0.0)
        assert [s.word for s in shown] == [s.word for s in everything if s.prob >= MIN_PROB], text
    completer.reset()
    completer.feed("ROMEO:")  # a line break comes next, not a word: every word start is under 0.0005
    assert completer.suggestions(3) == [] and len(completer.suggestions(3, min_prob=0.0)) == 3
    assert f"{MIN_PROB:.3f}" == "0.001"  # the least likely one shown still reads as a probability


def test_the_command_says_when_there_is_no_suggestion(capsys):
    assert complete.main([SHIPPED, "ROMEO:"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["ROMEO:|  (current word: ''; model_int8.tflite)",
                   "  (no suggestion: every completion here is less likely than 0.0005)"], out
    assert complete.main([SHIPPED, "--model", "float", "-k", "20", "ROMEO: wh"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert 10 <= len(rows) <= 20 and rows[0].split() == ["what", "0.514"] and not any(r.endswith("0.000") for r in rows)
