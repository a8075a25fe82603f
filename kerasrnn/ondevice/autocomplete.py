"""Word completion as the text is typed, one LiteRT step per keystroke: the `Autocompleter`.

Only numpy and `ai_edge_litert` are imported (never TensorFlow or Keras), as on a phone.
Each keystroke advances the carried state by one step; the prefix is never re-run.

    completer = Autocompleter("exported/shakespeare-gru")
    completer.feed("My gracious lo")
    completer.suggestions(k=3)      # lord 0.911, lords 0.039, love 0.013
    completer.backspace(2)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from kerasrnn.inference.samplers import beam_complete
from kerasrnn.ondevice.litert import Encoder, open_step

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
