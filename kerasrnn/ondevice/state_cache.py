"""The personal model's memory of where each word was typed: the RNN's state at the start of the words typed lately.

A continuous cache (E. Grave, A. Joulin, N. Usunier, "Improving neural language models with a continuous cache",
ICLR 2017), over whole words: a learned word is suggested most where the text before it resembles the text
before it when it was typed (after the same kind of word, in the same kind of sentence), which the previous
word alone does not tell.

Each entry is a word and the RNN's state h (S,) just before its first token, kept as int8:
q = floor(127 * h / max|h| + 0.5) (all zeros when h is). Given the state at the current word's start (quantized
the same way, q0) and the word's prefix p, every entry i whose word starts with p weighs

    c_i = q_i . q0 / sqrt(|q_i|^2 * |q0|^2)   (0.0 when a norm is 0)
    k_i = ((1 + c_i) / 2) ** 32               (five squarings)

and P_state(w) = S(w) / (the sum of S over the words that start with p, in code-point order), S(w) the sum of
k_i over w's entries, oldest first. Dot products and squared norms are integers, computed exactly (in float32
where S * 127^2 < 2^24, else float64), and every other operation is one IEEE double operation in the order
written, so the browser's port (web/js/state_cache.js) gives the same numbers bit for bit. 32 (the kernel's
sharpness) and CAPACITY were chosen on the development texts of docs/personal-autocomplete.md.

States mean something only to the model that made them: the cache is bound to one model (the export's float
file's sha256) and a cache saved with another model's states is not loaded.
"""

from __future__ import annotations

import base64
import binascii
import bisect

import numpy as np

CAPACITY = 1000  # entries kept (the oldest forgotten first)
SQUARINGS = 5  # the kernel is ((1 + cos) / 2) ** (2 ** SQUARINGS)
MAX_STATE = 8192  # the largest state a saved entry may hold, in values


def quantize(state: np.ndarray) -> np.ndarray:
    """A state (S,) as int8 values: floor(127 * h / max|h| + 0.5), all zeros for a zero state."""
    h = np.asarray(state, np.float32).astype(np.float64).ravel()
    top = float(np.abs(h).max()) if h.size else 0.0
    if top == 0.0:
        return np.zeros(h.size, np.int8)
    return np.floor(h * 127.0 / top + 0.5).astype(np.int8)


class StateCache:
    """The last `capacity` words learned with the quantized state at their start (see the module doc)."""

    def __init__(self, capacity: int = CAPACITY, model: str = ""):
        self.capacity = capacity
        self.model = model  # the model whose states these are ("" until bound)
        self.clear()

    def clear(self) -> None:
        """Forgets every entry."""
        self._count = self._start = 0  # entries held; the row of the oldest (rows are reused oldest first)
        self._sorted: list[str] = []  # the distinct words, in code-point order (prefix ranges by bisection)
        self._entries_of: dict[str, int] = {}  # word -> how many entries it has
        self._word_of: list[str] = []  # row -> its entry's word
        self._rank = np.zeros(0, np.int64)  # row -> the index of its word in _sorted
        self._matrix: np.ndarray | None = None  # (capacity, S) the int8 states as float32/float64 (exact)
        self._norms = np.zeros(0)  # (capacity,) |q|^2 of each row
        self._memo: tuple[bytes, np.ndarray] | None = None  # (q0, k of every row): a word's keys share its start

    def __len__(self) -> int:
        return self._count

    def fits(self, state: np.ndarray) -> bool:
        """Whether there are entries to compare `state` with (of its size: a save's states of another size are
        not used, and the next state added replaces them)."""
        return bool(self._count) and self._matrix.shape[1] == np.size(state)

    def _rows(self) -> np.ndarray:
        """The rows of the entries, oldest first."""
        return (self._start + np.arange(self._count)) % max(self.capacity, 1)

    @property
    def words(self) -> list[str]:
        """The entries' words, oldest first."""
        return [self._word_of[r] for r in self._rows()]

    def bind(self, model: str) -> None:
        """Makes this the cache of `model`'s states: the entries of another model's are forgotten."""
        if model != self.model:
            self.clear()
            self.model = model

    def add(self, word: str, state: np.ndarray) -> None:
        """Keeps `word` with the state at its start (a state of another size than the entries': forgets them)."""
        if self.capacity <= 0:
            return
        q = quantize(state)
        if self._matrix is not None and self._matrix.shape[1] != q.size:
            self.clear()
        if self._matrix is None:
            exact32 = q.size * 127 * 127 < 2**24  # every partial sum an integer that float32 holds exactly
            self._matrix = np.zeros((self.capacity, q.size), np.float32 if exact32 else np.float64)
            self._norms, self._rank = np.zeros(self.capacity), np.zeros(self.capacity, np.int64)
            self._word_of = [""] * self.capacity
        if self._count == self.capacity:  # the oldest entry's row is reused
            row, self._start = self._start, (self._start + 1) % self.capacity
            old = self._word_of[row]
            self._entries_of[old] -= 1
            if not self._entries_of[old]:
                del self._entries_of[old], self._sorted[self._rank[row]]
                self._rank[self._rank > self._rank[row]] -= 1
        else:
            row, self._count = self._count, self._count + 1
        if word not in self._entries_of:
            self._entries_of[word] = 0
            at = bisect.bisect_left(self._sorted, word)
            self._sorted.insert(at, word)
            self._rank[:self._count][self._rank[:self._count] >= at] += 1
        self._entries_of[word] += 1
        self._memo = None
        self._matrix[row], self._norms[row] = q, float(np.dot(q.astype(np.int64), q))
        self._word_of[row], self._rank[row] = word, bisect.bisect_left(self._sorted, word)

    def distribution(self, prefix: str, state: np.ndarray) -> tuple[list[str], np.ndarray]:
        """The words of the entries that start with `prefix`, in code-point order, and P_state of each (W,),
        given the state at the current word's start (([], empty) when no entry matches)."""
        lo = bisect.bisect_left(self._sorted, prefix)
        hi = bisect.bisect_left(self._sorted, prefix + "\U0010ffff", lo)
        q = quantize(state)
        if lo == hi or q.size != self._matrix.shape[1]:
            return [], np.zeros(0)
        rows = self._rows()
        if prefix:
            ranks = self._rank[rows]
            rows = rows[(ranks >= lo) & (ranks < hi)]
        k = self._weights(q)[rows]
        sums = np.zeros(hi - lo)
        np.add.at(sums, self._rank[rows] - lo, k)  # one at a time, each word's in entry order
        total = float(np.cumsum(sums)[-1])  # one at a time, in code-point order
        if total == 0.0:
            return [], np.zeros(0)
        return self._sorted[lo:hi], sums / total

    def _weights(self, q: np.ndarray) -> np.ndarray:
        """k of every row (capacity,) for the quantized state q, kept until an entry is added: every key of a
        word is weighed against the same state, the one at the word's start."""
        key = q.tobytes()
        if self._memo is None or self._memo[0] != key:
            dots = (self._matrix @ q.astype(self._matrix.dtype)).astype(np.float64)  # exact integers
            norm = float(np.dot(q.astype(np.int64), q))
            with np.errstate(divide="ignore", invalid="ignore"):
                cos = np.where((self._norms > 0) & (norm > 0), dots / np.sqrt(self._norms * norm), 0.0)
            k = (1.0 + cos) / 2.0
            for _ in range(SQUARINGS):
                k = k * k
            self._memo = (key, k)
        return self._memo[1]

    def to_json(self) -> dict:
        """The entries, oldest first, each [word, base64 of its int8 values], with the model they belong to."""
        return {"model": self.model, "entries": [
            [self._word_of[r], base64.b64encode(self._matrix[r].astype(np.int8).tobytes()).decode("ascii")]
            for r in self._rows()]}

    def load_json(self, data: object, check_word) -> None:
        """Replaces the entries with a save (`to_json`) of this cache's model; a save of another model's states
        is ignored (the cache is left empty).

        Raises:
            ValueError: a malformed save (check_word(word) raises for a word that is not one).
        """
        self.clear()
        if not isinstance(data, dict) or not isinstance(data.get("model"), str) or not isinstance(
                data.get("entries"), list):
            raise ValueError("a personal model file with malformed states")
        if data["model"] != self.model or not self.model:
            return
        size = None
        for entry in data["entries"][-self.capacity:] if self.capacity > 0 else []:
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], str)):
                raise ValueError(f"a malformed state entry {str(entry)[:60]}")
            check_word(entry[0])
            try:
                q = np.frombuffer(base64.b64decode(entry[1], validate=True), np.int8)
            except (binascii.Error, ValueError):
                raise ValueError(f"a state entry that is not base64: {entry[1][:40]!r}") from None
            if not 0 < q.size <= MAX_STATE:
                raise ValueError(f"a state entry of {q.size} values (at most {MAX_STATE})")
            if size is not None and q.size != size:
                raise ValueError(f"state entries of {size} and of {q.size} values")
            size = q.size
            self.add(entry[0], q.astype(np.float32))
