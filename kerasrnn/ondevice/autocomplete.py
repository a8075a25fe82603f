"""Word completion as the text is typed, one LiteRT step per keystroke: the `Autocompleter`.

Only numpy and `ai_edge_litert` are imported (never TensorFlow or Keras), as on a phone.
Each keystroke advances the carried state by one step; the prefix is never re-run.

    completer = Autocompleter("exported/shakespeare-gru")
    completer.feed("My gracious lo")
    completer.suggestions(k=3)      # lord 0.911, lords 0.039, love 0.013
    completer.backspace(2)

A model whose manifest says `"input": "keys-2beolsik"` (`exported/korean-gru`) reads the keys of the
Korean keyboard: `feed` turns text into keys (`hangul.text_to_keys`: a terminal or a paste sends
composed syllables, '기' = ㄱ ㅣ), a keystroke is a key, `text` is what the keyboard shows (its
composition, `hangul.Composer`), `backspace` is the keyboard's (one key of the open syllable), and
suggestions are shown composed ('ㄱㅣ' + 'ㅇㅓㄱ' -> '기억').
"""

from __future__ import annotations

import os
import unicodedata
from collections import deque
from dataclasses import dataclass

import numpy as np

from kerasrnn.inference.samplers import beam_complete
from kerasrnn.ondevice.hangul import KEYBOARD, Composer, keys_to_text, text_to_keys
from kerasrnn.ondevice.litert import Encoder, open_step
from kerasrnn.ondevice.personal import CHARACTERS, PersonalModel

WORD_PUNCTUATION = "'-"  # characters that continue a word besides letters and digits
HISTORY = 256  # keystrokes that backspace can undo (bounds memory for any prefix length)
BEAM_WIDTH = 6  # beams kept per step of the completion search
FOUND = 8  # completions the search hands a personal model to mix (its k best and the next ones it found)
MAX_COMPLETION = 16  # most characters (keys) a completion adds to a word
MIN_PROB = 0.0005  # suggestions less likely than this are not offered (they would show as 0.000)


def is_word_char(c: str) -> bool:
    """Whether `c` continues a word (letters, digits, apostrophe, hyphen)."""
    return c.isalnum() or c in WORD_PUNCTUATION


def is_korean_word_char(c: str) -> bool:
    """Whether `c` continues a Korean word: Hangul keys and syllables, letters, digits (`str.isalnum`)."""
    return c.isalnum()


@dataclass
class Suggestion:
    """One completion of the current word (and, asked for, of the words after it)."""

    word: str  # the whole word as shown: what was typed of it plus the completion
    completion: str  # the tokens to add: characters, or keys for a keyboard model ('ㅇㅓㄱ')
    prob: float  # probability that the word is exactly this, given the text so far


class Autocompleter:
    """Word suggestions that follow the text as it is typed, one model step per keystroke.

    Args:
        model_dir: an export directory (manifest.json and the .tflite files).
        model: "float", "int8", or None (the default): the int8 file where the manifest shows it within
            0.01 bits/char of the float one (`litert.default_kind`), else the float one. `kind` and
            `model_file` say which runs.
        threads: interpreter threads.
        beam_width: beams kept by the completion search.
        max_len: most tokens a completion adds to a word.
        personal: a personal model to learn the words typed and mix into the suggestions (True: a new,
            empty one; None: none). `reset` keeps it; `personal.forget()` empties it.
    Raises:
        UsageError: a missing or corrupt model directory or file.
    """

    def __init__(self, model_dir: str, model: str | None = None, threads: int = 1,
                 beam_width: int = BEAM_WIDTH, max_len: int = MAX_COMPLETION,
                 personal: PersonalModel | bool | None = None):
        self.manifest, self.step = open_step(model_dir, model, threads)
        self.kind = self.step.kind  # "float" or "int8": the file that runs
        self.model_file = os.path.basename(self.step.path)  # model.tflite or model_int8.tflite
        self.keyboard = self.manifest.get("input") == KEYBOARD  # tokens are Korean keyboard keys
        self._tokens = self.manifest["vocabulary"]
        self._encode = Encoder(self.manifest)
        self.word_char = is_korean_word_char if self.keyboard else is_word_char  # token -> continues a word
        usable = self._encode.index.items()  # (character, id) of every non-special token, in id order
        self._word_ids = np.array([i for t, i in usable if self.word_char(t)], np.int64)
        self._end_ids = np.array([i for t, i in usable if not self.word_char(t)], np.int64)
        self._space_id = self._encode.index.get(" ")
        self.beam_width, self.max_len = beam_width, max_len
        self.token_kind = KEYBOARD if self.keyboard else CHARACTERS  # what a personal model's words are made of
        # whose RNN states a personal model's state cache keeps: the export's float file (its int8 file's states
        # are near enough to compare with them)
        self.model_id = self.manifest.get("files", {}).get("model.tflite", {}).get("sha256", "")
        self.personal = personal  # checked and bound by the property below
        self.reset()

    @property
    def personal(self) -> PersonalModel | None:
        """The personal model (None: none)."""
        return self._personal

    @personal.setter
    def personal(self, personal: PersonalModel | bool | None) -> None:
        if personal is True:
            personal = PersonalModel(self.token_kind)
        if not isinstance(personal, PersonalModel):
            personal = None
        elif personal.tokens != self.token_kind:
            raise ValueError(f"a personal model of {personal.tokens}, but this model reads {self.token_kind}")
        else:
            personal.bind(self.model_id)  # the states and the adapter of another model are forgotten
        self._personal: PersonalModel | None = personal

    def reset(self) -> None:
        """Forgets all text: back to the start state (as after the manifest's start text)."""
        self._history: deque = deque(maxlen=HISTORY)  # (state, logits, word, token, prev, start) per keystroke
        self._word = ""  # the tokens of the current word typed so far
        self._start = None  # (S,) the state before the current word's first token (None before it)
        self._prev = ""  # the tokens of the word before it ('' at the start)
        self._composer = Composer(keep=HISTORY) if self.keyboard else None
        self._state = self.step.zero_state()  # (1, S)
        self._logits = None
        self._stem_memo: tuple | None = None  # (word start, stem, the RNN's endings of the stem)
        for i in self._encode(self.manifest["start_text"]):
            self._advance(i)

    def _advance(self, token: int) -> None:
        logits, self._state = self.step(np.array([token], np.int32), self._state)  # (1, vocab), (1, S)
        self._logits = logits[0]  # (vocab,)

    def tokens(self, text: str) -> str:
        """What typing `text` sends to the model: its characters, or the keys that type it."""
        return text_to_keys(text) if self.keyboard else text

    def unknown(self, text: str) -> list[str]:
        """The distinct tokens of `text` outside the model's vocabulary (read as the unknown id), sorted."""
        return sorted({c for c in self.tokens(text) if c not in self._encode.index})

    def feed(self, text: str) -> None:
        """Types `text`: one step per character or key (unknown ones take the unknown id)."""
        tokens = self.tokens(text)
        for c, token in zip(tokens, self._encode(tokens)):
            self._history.append((self._state, self._logits, self._word, c, self._prev, self._start))
            if self.word_char(c) and not self._word:
                self._start = self._state[0]
            if self.personal is not None:  # the adapter learns the key typed where it was typed
                self.personal.adapter.learn(self._logits, self._state[0], token)
            self._advance(token)
            if self.word_char(c):
                self._word += c
            elif self._word:  # a word ends: the personal model learns it, with the state at its start
                if self.personal is not None:
                    self.personal.learn(self._word, self._prev, self._start)
                self._prev, self._word, self._start = self._word, "", None
            if self._composer is not None:
                self._composer.push(c)

    @property
    def word(self) -> str:
        """The current word as shown (a keyboard model: composed)."""
        if self._composer is None:
            return self._word
        text = self._composer.text
        start = len(text)
        while start > 0 and self.word_char(text[start - 1]):
            start -= 1
        return text[start:]

    @property
    def text(self) -> str:
        """The end of the text as shown: the last HISTORY keystrokes (a keyboard model: its composition)."""
        if self._composer is not None:
            return self._composer.text
        return "".join(entry[3] for entry in self._history)

    @property
    def undoable(self) -> int:
        """How many keystrokes `backspace` can undo now."""
        return len(self._history)

    def backspace(self, count: int = 1) -> None:
        """Presses backspace `count` times, restoring the states kept for what it removes.

        One character each, or for a keyboard model what its backspace removes: one key of the
        open syllable (닭 -> 달), else the last committed character whole (all its keys). What the
        personal model learned stays learned.

        Raises:
            ValueError: more than the text or the keystrokes kept (`HISTORY`): reset and feed the text.
        """
        width = count if self._composer is None else self._composer.backspace_width(count)
        if width is None or width > len(self._history):
            raise ValueError(f"can only go back {len(self._history)} keystrokes; reset() and feed the text")
        for _ in range(count if self._composer is not None else 0):
            self._composer.backspace()
        for _ in range(width):
            self._state, self._logits, self._word, _, self._prev, self._start = self._history.pop()

    def suggestions(self, k: int = 3, words: int = 1, min_prob: float = MIN_PROB) -> list[Suggestion]:
        """The k most likely completions of the current word (and `words - 1` more), most likely first; of one
        word, fewer (none at all) where they are less likely than `min_prob` (a word unlikely to start here).

        With a personal model (and `words` 1), the search starts from the RNN's logits as the personal model's
        adapter corrects them, and the RNN's completions (its k best and the others its search found, up to FOUND),
        the RNN's endings of the personal model's stem of the word (if any) and the personal model's k best are
        mixed (`PersonalModel.mix`); `prob` is then the mixed probability, and `min_prob` applies to it."""
        if words > 1 and self._space_id is None:
            raise ValueError("this model has no space in its vocabulary: it completes one word at a time")
        mixing = self.personal is not None and words == 1
        logits = self.personal.adapter.logits(self._logits, self._state[0]) if mixing else self._logits
        found = beam_complete(self.step, self._state[0], logits, self._word_ids, self._end_ids, k=k,
                              beam_width=self.beam_width, max_len=self.max_len, allow_empty=bool(self._word),
                              words=words, space_id=self._space_id, keep=FOUND if mixing else None)
        ranked = [("".join(self._tokens[i] for i in ids), prob) for ids, prob in found]
        if mixing:
            start = self._start if self._word else self._state[0]  # the state at the current word's start
            ranked = self.personal.mix(ranked, self._word, self._prev, k, start, self._stem_endings(k))
        floor = min_prob if words == 1 else 0.0  # several words' probabilities multiply: no floor there
        return [Suggestion(self._shown(completion), completion, prob) for completion, prob in ranked
                if prob >= floor]

    def _stem_endings(self, k: int) -> list[tuple[str, float]]:
        """The RNN's completions of the personal model's stem of the current word (`PersonalModel.stem`), as
        completions of what is typed: (the stem's rest + an ending, the ending's probability after the stem); []
        without a stem. The search from the stem runs once a stem: the keys typed inside it reuse it."""
        stem = self.personal.stem(self._word) if self._word else ""
        if not stem:
            return []
        memo = self._stem_memo
        if memo is None or memo[0] is not self._start or memo[1] != stem:
            state, logits = self._state, self._logits
            for token in self._encode(stem[len(self._word):]):
                out, state = self.step(np.array([token], np.int32), state)  # (1, vocab), (1, S)
                logits = out[0]
            found = beam_complete(self.step, state[0], logits, self._word_ids, self._end_ids, k=k,
                                  beam_width=self.beam_width, max_len=self.max_len, allow_empty=True, keep=FOUND)
            memo = self._stem_memo = (self._start, stem, [("".join(self._tokens[i] for i in ids), prob)
                                                          for ids, prob in found])
        rest = stem[len(self._word):]
        return [(rest + ending, prob) for ending, prob in memo[2]]

    def _shown(self, completion: str) -> str:
        """The current word as the keyboard would show it with `completion` typed: a keyboard model composes
        the completion's keys onto the open syllable only, leaving the word's committed characters as they
        are shown (after Backspace into a lone jamo, 기ㅇ + ㄱㅣㅎ shows 기ㅇ깋: its completions read 기ㅇ기...)."""
        if self._composer is None:
            return self._word + completion
        word, open_text = self.word, self._composer.preedit
        return word[:len(word) - len(open_text)] + keys_to_text(self._composer.preedit_keys + completion)


def display_width(text: str) -> int:
    """Terminal columns of `text`: two for wide characters (Hangul syllables, CJK), one for the others."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def format_suggestions(suggestions: list[Suggestion]) -> str:
    """One line per suggestion: the word (padded to 20 columns) and its probability."""
    return "\n".join(f"  {s.word}{' ' * max(1, 21 - display_width(s.word))}{s.prob:.3f}" for s in suggestions)
