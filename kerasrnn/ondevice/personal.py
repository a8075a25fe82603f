"""A personal word model learned on the device from what its user types, mixed into the RNN's suggestions.

A cache language model (Kuhn & De Mori, 1990) over whole words, with the RNN's state where each word was
typed (`state_cache.py`, a continuous cache), small and deterministic enough to be ported exactly (the browser
page has the same one in JavaScript, checked against `tests/ondevice/personal_cases.json`). No TensorFlow.

Words are runs of word tokens (characters; for the Korean keyboard model, keys: '기억' is 'ㄱㅣㅇㅓㄱ').
When a word ends, `learn(word, prev)` counts it (`c1[word] += 1`) and the pair (`c2[prev, word] += 1`,
prev = the word before it, '' at the start). Given the current word's prefix p and the previous word v:

    followers  B = the words w with c2[v, w] > 0 that start with p;  n2 = sum c2[v, w], t2 = len(B)
    contexts   d[w] = the number of distinct words w follows (the pairs (u, w) held), as Kneser-Ney's
               lower order counts: a word seen after many words is likelier after a new one than a word
               as frequent that always follows the same one
    recency    r[w] = bonus if w is one of the `recent` distinct words learned last, else 0;
               a word's count is c[w] = d[w] + r[w]
    words      U = the n + t2 words starting with p with the highest c (ties: code-point order), only when
               p is not empty;  n1 = sum c over all the words starting with p (all the words when p is empty:
               the pairs held plus bonus * the recent words), m1 = the same sum of c1
    asked      E = the words of `extra` (the RNN's completions, in `mix`) that are learned (c1 > 0), not in B, U
    P1(w) = c[w] / n1                                  (0 when n1 is 0)
    P(w)  = (c2[v, w] + t2 * P1(w)) / (n2 + t2)        (Witten-Bell interpolation; P1(w) when n2 is 0)
    mu    = weight * (m1 / (m1 + evidence))            (0 when B, U and E are empty)
    mixed(completion) = (1 - mu) * P_rnn + mu * P      (a side that lacks the completion counts 0.0)

`predict(p, v, n, extra)` ranks the candidates B and U (no other word starting with p can rank above them) by
P, higher first, then the word in code-point order, keeps n, and adds the words of E with their P (in the order
of `extra`). `mix` takes the RNN's completions (its k best, and the next ones its search found: FOUND in
autocomplete.py), asks the personal model for its k best (n = k) and for the RNN's completions as E, scores the
union with `mixed` and keeps the k best (score, then the completion in code-point order). Given the RNN's state
at the current word's start (`learn` keeps the state where each word began; the state cache holds one), `mix`
asks instead for the NEAR best, with the RNN's completions and the NEAR words of highest P_state (state_cache.py)
as E, and takes P'(w) = (1 - STATE_WEIGHT) * P(w) + STATE_WEIGHT * P_state(w) (0 for a word it lacks) in place
of P: the k best by P', and the RNN's completions. Where two or more learned words start with p and share more
than p, their shared start is the stem (`stem(p)`: 'debian' for 'de' after 'debian', 'debians'); the
Autocompleter hands `mix` the RNN's completions of the stem (the endings the RNN gives after it, P_stem, from a
search run once a stem), which are asked as E too and add STEM_WEIGHT * mu * P_stem to `mixed`: a new form of a
word the user typed (a Korean particle after a noun learned with another) is completed by the RNN. Counts are
integers; the float operations are exactly the ones written here, in that order, so another language gets the
same numbers bit for bit. The adapter (adapter.py) corrects the RNN's logits themselves; it is learned from
every key and saved with the words.

The recency bonus favours the text typed lately (word use is bursty); it, the contexts d, the RNN's further
completions, the state cache, the stems and the adapter were chosen on development texts
(docs/personal-autocomplete.md). A model
read from a save predicts as the one saved (the recent words are the last of its words, kept in order of use).
Memory is bounded: at most `max_words` words and `max_pairs` pairs (beyond, the least recently learned one is
forgotten) and the state cache's entries; words over MAX_WORD tokens are not learned. Nothing is ever sent
anywhere: `save` writes one local JSON file.
"""

from __future__ import annotations

import bisect
import heapq
import json
import os

import numpy as np

from kerasrnn.ondevice.adapter import OutputAdapter
from kerasrnn.ondevice.state_cache import CAPACITY as STATE_CAPACITY, StateCache

FORMAT = "kerasrnn-personal"  # the save file's "format": what marks a file as a personal model
VERSION = 3  # bumped when the save file's meaning changes (2: the states; 3: the adapter; older files still load)
CHARACTERS = "characters"  # "tokens" of a model over characters (a keyboard model: its manifest's "input")
MAX_WORDS = 4096  # words kept (least recently used forgotten first)
MAX_PAIRS = 8192  # (previous word, word) pairs kept (least recently used forgotten first)
MAX_WORD = 32  # longest word learned, in tokens (longer runs, such as pasted codes, are skipped)
MAX_COUNT = 1_000_000  # counts stop growing here
WEIGHT = 0.5  # the most weight the personal model gets against the RNN (mu tends to it)
EVIDENCE = 1  # words matching the prefix at which mu is half of WEIGHT (WEIGHT and EVIDENCE: chosen on held-out text)
RECENT_WORDS = 50  # the distinct words learned last that get the recency bonus
RECENT_BONUS = 16  # added to the count of a recent word (RECENT_WORDS and RECENT_BONUS: chosen on a development text)
STATE_WEIGHT = 0.3  # the state cache's share of the personal estimate (chosen on development texts)
NEAR = 10  # the words of highest P_state that the personal model scores besides its own best
STEM_WEIGHT = 1.0  # the weight of the RNN's endings of a learned stem, times mu (chosen on development texts)
MAX_FILE_BYTES = 4 * 2**20  # the largest save file read


class PersonalModel:
    """Word and word-pair counts of what one user typed (see the module doc).

    Args:
        tokens: what the words are made of: CHARACTERS, or a keyboard model's manifest "input".
        max_words, max_pairs: the caps on entries.
        weight, evidence: the mixing weight's limit and half-way point.
        recent, bonus: how many distinct words learned last get the recency bonus, and the bonus.
        states: the state cache's capacity (0: no state cache); model: the model whose states it keeps.
    """

    def __init__(self, tokens: str = CHARACTERS, max_words: int = MAX_WORDS, max_pairs: int = MAX_PAIRS,
                 weight: float = WEIGHT, evidence: float = EVIDENCE, recent: int = RECENT_WORDS,
                 bonus: int = RECENT_BONUS, states: int = STATE_CAPACITY, model: str = ""):
        self.tokens, self.max_words, self.max_pairs = tokens, max_words, max_pairs
        self.weight, self.evidence, self.recent_words, self.bonus = weight, evidence, recent, bonus
        self.states = StateCache(states, model)  # the RNN's state where each of the last words was typed
        self.adapter = OutputAdapter(model)  # the RNN's next-token logits corrected by the keys typed (adapter.py)
        self.forget()

    def bind(self, model: str) -> None:
        """Makes the state cache and the adapter those of `model` (what they held for another model is forgotten)."""
        self.states.bind(model)
        self.adapter.bind(model)

    def forget(self) -> None:
        """Forgets everything learned."""
        self.words: dict[str, int] = {}  # word -> count, least recently learned first
        self.pairs: dict[tuple[str, str], int] = {}  # (prev, word) -> count, least recently learned first
        self.followers: dict[str, dict[str, int]] = {}  # prev -> {word: its pair's count}
        self._followers_sorted: dict[str, list[str]] = {}  # prev -> its followers in code-point order (built lazily)
        self.contexts: dict[str, int] = {}  # word -> the number of distinct words it follows (pairs held)
        self.total = 0  # sum of the word counts
        self.recent: dict[str, None] = {}  # the `recent_words` distinct words learned last, least recent first
        self._sorted: list[str] = []  # the words in code-point order (prefix ranges by bisection)
        self.states.clear()
        self.adapter.clear()

    def __len__(self) -> int:
        """Entries held: words plus pairs."""
        return len(self.words) + len(self.pairs)

    def learn(self, word: str, prev: str = "", state: np.ndarray | None = None) -> None:
        """Counts `word` typed after `prev` ('' at the start), and keeps the RNN's state at its start if given;
        a word over MAX_WORD tokens is skipped."""
        if not word or len(word) > MAX_WORD:
            return
        if state is not None:
            self.states.add(word, state)
        count = self.words.pop(word, 0)
        if not count:
            bisect.insort(self._sorted, word)
        self.words[word] = min(count + 1, MAX_COUNT)
        self.total += self.words[word] - count
        self.recent.pop(word, None)
        self.recent[word] = None
        if len(self.recent) > self.recent_words:
            del self.recent[next(iter(self.recent))]
        while len(self.words) > self.max_words:
            self._drop_word(next(iter(self.words)))
        if not prev or len(prev) > MAX_WORD:
            return
        key = (prev, word)
        count = self.pairs.pop(key, 0)
        if not count:
            self.contexts[word] = self.contexts.get(word, 0) + 1
        self.pairs[key] = self._follow(prev, word, min(count + 1, MAX_COUNT))
        while len(self.pairs) > self.max_pairs:
            self._drop_pair(next(iter(self.pairs)))

    def _drop_word(self, word: str) -> None:
        self.total -= self.words.pop(word)
        self.recent.pop(word, None)
        del self._sorted[bisect.bisect_left(self._sorted, word)]

    def _follow(self, prev: str, word: str, count: int) -> int:
        """Records `count` as the pair's count among prev's followers; returns it."""
        followers = self.followers.setdefault(prev, {})
        if word not in followers:
            self._followers_sorted.pop(prev, None)
        followers[word] = count
        return count

    def _drop_pair(self, key: tuple[str, str]) -> None:
        del self.pairs[key]
        if self.contexts[key[1]] == 1:
            del self.contexts[key[1]]
        else:
            self.contexts[key[1]] -= 1
        followers = self.followers[key[0]]
        del followers[key[1]]
        self._followers_sorted.pop(key[0], None)
        if not followers:
            del self.followers[key[0]]

    def _starting_with(self, prefix: str, ordered: list[str] | None = None) -> tuple[int, list[str]]:
        """Where the words of `ordered` (a code-point ordered list; all the words by default) that start with
        prefix begin in it, and those words."""
        ordered = self._sorted if ordered is None else ordered
        lo, hi = _prefix_range(ordered, prefix)
        return lo, ordered[lo:hi]

    def stem(self, prefix: str) -> str:
        """The longest start shared by the learned words that start with `prefix` (the first and the last of them
        in code-point order) where there are two or more and it is longer than `prefix`; else ''."""
        lo, hi = _prefix_range(self._sorted, prefix) if prefix else (0, 0)
        if hi - lo < 2:
            return ""
        stem = os.path.commonprefix([self._sorted[lo], self._sorted[hi - 1]])
        return stem if len(stem) > len(prefix) else ""

    def _following(self, prev: str, prefix: str) -> tuple[list[str], dict[str, int]]:
        """prev's followers that start with prefix, and all of prev's followers with their pair counts."""
        followers = self.followers.get(prev) if prev else None
        if not followers:
            return [], {}
        if not prefix:
            return list(followers), followers
        ordered = self._followers_sorted.get(prev)
        if ordered is None:
            ordered = self._followers_sorted[prev] = sorted(followers)
        return self._starting_with(prefix, ordered)[1], followers

    def predict(self, prefix: str, prev: str = "", n: int = 3,
                extra: tuple[str, ...] | list[str] = ()) -> tuple[list[tuple[str, float]], float]:
        """The n most likely words that start with `prefix` after `prev`, and mu (the mixing weight); then any
        word of `extra` (words starting with prefix) that the model knows and that is not among them.

        Returns:
            ([(word, P), ...] the n best first, then the known words of `extra`, mu).
        """
        followers, pair_counts = self._following(prev, prefix)
        n2 = sum(map(pair_counts.__getitem__, followers))
        t2 = len(followers)
        words, contexts = self.words, self.contexts
        recent, bonus = self.recent, self.bonus

        def count(w: str) -> int:  # a candidate's count: its contexts, plus the bonus if it is recent
            return contexts.get(w, 0) + (bonus if w in recent else 0)

        if prefix:
            lo, matching = self._starting_with(prefix)  # in code-point order, so ties keep it
            m1 = sum(map(words.__getitem__, matching))
            counts = [contexts.get(w, 0) for w in matching]
            n1 = sum(counts)
            for w in recent:  # at most `recent_words`: cheaper than testing every matching word
                if w.startswith(prefix):
                    counts[bisect.bisect_left(self._sorted, w) - lo] += bonus
                    n1 += bonus
            # the n + t2 highest counts, ties in code-point order (nlargest is stable)
            top = heapq.nlargest(n + t2, range(len(matching)), key=counts.__getitem__)
            candidates = {matching[i]: counts[i] for i in top}
            for w in followers:
                if w not in candidates:
                    candidates[w] = count(w)
        else:
            m1, n1 = self.total, len(self.pairs) + bonus * len(recent)  # every word starts with ''
            candidates = {w: count(w) for w in followers}
        asked = []
        for w in extra:
            if w not in candidates and w in words:
                candidates[w] = count(w)
                asked.append(w)
        if not candidates:
            return [], 0.0
        pairs_get, d = pair_counts.get, n2 + t2
        if not n1:  # no count to share: P1 is 0.0
            scored = {w: ((pairs_get(w, 0) + t2 * 0.0) / d) if n2 else 0.0 for w in candidates}
        elif n2:
            scored = {w: (pairs_get(w, 0) + t2 * (c / n1)) / d for w, c in candidates.items()}
        else:
            scored = {w: c / n1 for w, c in candidates.items()}
        mu = self.weight * (m1 / (m1 + self.evidence))
        return best_and_asked(scored, n, asked), mu

    def mix(self, rnn: list[tuple[str, float]], prefix: str, prev: str = "", k: int = 3,
            state: np.ndarray | None = None, stems: list[tuple[str, float]] = ()) -> list[tuple[str, float]]:
        """The RNN's completions of `prefix` ((completion, probability), best first: its k best and any more its
        search found) mixed with the personal model's: the k best (completion, mixed probability). The
        personal model scores its k best and every RNN completion it knows; given the RNN's state at the
        current word's start, with the state cache (P', the module doc). `stems`: the RNN's completions of the
        learned stem (`stem`), (completion, P_stem), scored and asked like the RNN's and weighted STEM_WEIGHT * mu.
        Without a personal candidate: `rnn[:k]` as it is."""
        theirs, stemmed = dict(rnn), dict(stems)
        asked = [prefix + c for c, _ in rnn] + [prefix + c for c, _ in stems if c not in theirs]
        if state is None or not self.states.fits(state):
            personal, mu = self.predict(prefix, prev, k, asked)
        else:  # P' over the personal model's NEAR best, the NEAR likeliest of the cache and the RNN's
            near, p_state = self.states.distribution(prefix, state)  # near: in code-point order
            nearest = [near[i] for i in np.argsort(-p_state, kind="stable")[:NEAR]]  # ties: code-point order

            def of(w: str) -> float:  # P_state(w), 0.0 for a word the cache lacks
                i = bisect.bisect_left(near, w)
                return float(p_state[i]) if i < len(near) and near[i] == w else 0.0

            personal, mu = self.predict(prefix, prev, NEAR, asked + nearest)
            scored = {w: (1 - STATE_WEIGHT) * p + STATE_WEIGHT * of(w) for w, p in personal}
            personal = best_and_asked(scored, k, [w for w in asked if w in scored])
        if not personal:
            return list(rnn[:k])
        ours = {w[len(prefix):]: p for w, p in personal}
        weight = STEM_WEIGHT * mu
        scored = sorted((-((1 - mu) * theirs.get(c, 0.0) + mu * ours.get(c, 0.0) + weight * stemmed.get(c, 0.0)), c)
                        for c in set(theirs) | set(ours) | set(stemmed))
        return [(c, -s) for s, c in scored[:k]]

    def to_json(self) -> dict:
        """The save format: words and pairs with their counts, least recently learned first."""
        data = {"format": FORMAT, "version": VERSION, "tokens": self.tokens,
                "words": [[w, c] for w, c in self.words.items()],
                "pairs": [[v, w, c] for (v, w), c in self.pairs.items()]}
        if self.states.model and len(self.states):
            data["states"] = self.states.to_json()
        adapter = self.adapter.to_json()
        if adapter is not None:
            data["adapter"] = adapter
        return data

    def load_json(self, data: object, word_char=None) -> None:
        """Replaces what was learned with a save (`to_json`); entries beyond the caps are forgotten oldest first.

        Raises:
            ValueError: not a personal model, a different kind of tokens, or a malformed entry.
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a personal model file")
        if data.get("version") not in (1, 2, VERSION):
            raise ValueError(f"a personal model file of another version ({data.get('version')!r}, not {VERSION})")
        if data.get("tokens") != self.tokens:
            raise ValueError(f"a personal model of {data.get('tokens')!r}, not of {self.tokens!r} like this model")
        words, pairs = data.get("words"), data.get("pairs")
        if not isinstance(words, list) or not isinstance(pairs, list):
            raise ValueError("a personal model file without its word lists")
        self.forget()
        for entry in words:
            self._check(entry, 1, word_char)
            if entry[0] in self.words:
                raise ValueError(f"the word {entry[0]!r} appears twice")
            self.words[entry[0]] = entry[1]
            self.total += entry[1]
        self._sorted = sorted(self.words)
        while len(self.words) > self.max_words:
            self._drop_word(next(iter(self.words)))
        self.recent = dict.fromkeys(list(self.words)[max(0, len(self.words) - self.recent_words):])
        for entry in pairs:
            self._check(entry, 2, word_char)
            key = (entry[0], entry[1])
            if key in self.pairs:
                raise ValueError(f"the pair {key!r} appears twice")
            self.pairs[key] = self._follow(key[0], key[1], entry[2])
            self.contexts[key[1]] = self.contexts.get(key[1], 0) + 1
        while len(self.pairs) > self.max_pairs:
            self._drop_pair(next(iter(self.pairs)))
        if "states" in data:
            self.states.load_json(data["states"], lambda w: self._check([w, 1], 1, word_char))
        if "adapter" in data:
            self.adapter.load_json(data["adapter"])

    @staticmethod
    def _check(entry: object, n_words: int, word_char) -> None:
        if not (isinstance(entry, list) and len(entry) == n_words + 1
                and all(isinstance(w, str) and 0 < len(w) <= MAX_WORD for w in entry[:n_words])
                and isinstance(entry[-1], int) and not isinstance(entry[-1], bool) and 0 < entry[-1] <= MAX_COUNT):
            raise ValueError(f"a malformed entry {str(entry)[:60]}")
        if word_char is not None and not all(word_char(c) for w in entry[:n_words] for c in w):
            raise ValueError(f"an entry that is not a word: {str(entry)[:60]}")

    def save(self, path: str) -> None:
        """Writes the model to `path` atomically (a local file; nothing is sent anywhere)."""
        from pipelines.io import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n")

    def load(self, path: str, word_char=None) -> None:
        """Reads a save file written by `save`.

        Raises:
            ValueError: unreadable, too large, not JSON, or not a personal model of these tokens (one line).
        """
        try:
            if os.path.getsize(path) > MAX_FILE_BYTES:
                raise ValueError(f"larger than {MAX_FILE_BYTES // 2**20} MB")
            with open(path, "rb") as f:
                data = json.loads(f.read().decode("utf-8"), parse_constant=_no_constant)
        except OSError as e:
            raise ValueError(f"cannot read it ({e.strerror})") from None
        except UnicodeDecodeError:
            raise ValueError("not UTF-8 text") from None
        except (json.JSONDecodeError, RecursionError) as e:
            raise ValueError(f"not JSON ({str(e).splitlines()[0][:80]})") from None
        self.load_json(data, word_char)


def _prefix_range(ordered: list[str], prefix: str) -> tuple[int, int]:
    """[lo, hi): where the words of `ordered` (code-point order) that start with `prefix` are."""
    lo = bisect.bisect_left(ordered, prefix)
    return lo, bisect.bisect_left(ordered, prefix + "\U0010ffff", lo)


def best_and_asked(scored: dict[str, float], n: int, asked: list[str]) -> list[tuple[str, float]]:
    """The n highest scores (ties: the word in code-point order), then the words of `asked` (all in `scored`) not
    among them, in their order: [(word, score)]."""
    best = heapq.nsmallest(n, ((-p, w) for w, p in scored.items()))
    chosen = {w for _, w in best}
    return [(w, -p) for p, w in best] + [(w, scored[w]) for w in asked if w not in chosen]


def _no_constant(name: str):
    raise ValueError(f"not JSON ({name})")


def typed_words(tokens: str, word_char, prev: str = "") -> list[tuple[str, str]]:
    """The (prev, word) pairs that typing `tokens` teaches: each run of word tokens once a non-word token
    ends it (a run still open at the end is not learned yet), prev the word before it ('' at first)."""
    out, word = [], ""
    for c in tokens:
        if word_char(c):
            word += c
        elif word:
            out.append((prev, word))
            prev, word = word, ""
    return out
