"""Samplers: small pure functions from next-token logits to a token id.

Each works on one 1-D logits vector (vocab,) in NumPy, so it is easy to test and
runs the same with Keras, SavedModel or LiteRT steps.

    greedy(logits)                          the most likely id
    temperature(logits, t)                  logits / t
    top_k_filter(logits, k)                 keep the k largest, others -inf
    top_p_filter(logits, p)                 keep the smallest set with probability >= p
    sample(logits, rng, temperature=..., top_k=..., top_p=...)   all of the above, then draw
    beam_complete(step, state, logits, word_ids, end_ids, k)      the k likeliest word endings
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits over the last axis (numerically stable; -inf entries get probability 0)."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities from logits over the last axis (float64)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)  # (the array methods: np.max's wrapper costs more than the max, per key)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def greedy(logits: np.ndarray) -> int:
    """The id with the largest logit."""
    return int(np.argmax(logits))


def temperature(logits: np.ndarray, t: float) -> np.ndarray:
    """Divides logits by `t` (> 0): below 1 sharpens, above 1 flattens the distribution."""
    if t <= 0:
        raise ValueError("temperature must be positive")
    return np.asarray(logits, dtype=np.float64) / t


def top_k_filter(logits: np.ndarray, k: int) -> np.ndarray:
    """Keeps the `k` largest logits and sets the rest to -inf (k <= 0 keeps all)."""
    logits = np.asarray(logits, dtype=np.float64)
    if k <= 0 or k >= logits.size:
        return logits
    kth = np.partition(logits, -k)[-k]
    return np.where(logits >= kth, logits, -np.inf)


def top_p_filter(logits: np.ndarray, p: float) -> np.ndarray:
    """Nucleus filter: keeps the most likely ids whose probabilities add up to at least `p`.

    The most likely id is always kept; p >= 1 keeps all.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if p >= 1.0:
        return logits
    order = np.argsort(-logits, kind="stable")
    cum = np.cumsum(softmax(logits)[order])
    keep = order[: int(np.searchsorted(cum, p) + 1)]
    out = np.full_like(logits, -np.inf)
    out[keep] = logits[keep]
    return out


def sample(logits: np.ndarray, rng: np.random.Generator, temperature_: float = 1.0,
           top_k: int = 0, top_p: float = 1.0, banned: list[int] | None = None) -> int:
    """Draws one id after temperature, top-k and top-p filtering.

    Args:
        logits: (vocab,) next-token logits.
        rng: the random generator (seeded by the caller).
        temperature_: softmax temperature (> 0).
        top_k: keep only the k most likely ids (0 = all; 1 = greedy).
        top_p: keep the smallest most-likely set with total probability >= top_p.
        banned: ids never to draw (special tokens).
    Returns:
        The drawn id.
    """
    z = np.array(logits, dtype=np.float64)
    if banned:
        z[banned] = -np.inf
    if top_k == 1:
        return greedy(z)
    z = top_p_filter(top_k_filter(temperature(z, temperature_), top_k), top_p)
    return int(rng.choice(z.size, p=softmax(z)))


def beam_complete(step, state: np.ndarray, logits: np.ndarray, word_ids: np.ndarray,
                  end_ids: np.ndarray, k: int = 3, beam_width: int = 6, max_len: int = 16,
                  allow_empty: bool = True, words: int = 1,
                  space_id: int | None = None, keep: int | None = None) -> list[tuple[list[int], float]]:
    """Beam search for the k most likely ways to finish the current word (and `words - 1` more).

    A completion is some word characters followed by any word-ending character (a space,
    punctuation, a line break); its probability is that of its characters times the
    probability that the word ends there. With `words` > 1 the current word ends at a space
    (`space_id`, which is fed) and the search goes on through the next words; the last one ends
    at any word-ending character. Beams advance together, one batched `step` call per
    character, and stop when no beam can beat the k-th finished completion.

    Args:
        step: (tokens (batch,), state (batch, S)) -> (logits (batch, vocab), state (batch, S)).
        state: (S,) the state after the text so far.
        logits: (vocab,) the next-character logits after the text so far.
        word_ids: ids that continue a word (letters, digits, apostrophe, hyphen).
        end_ids: ids that end a word; ids in neither list are never used.
        k: completions to return.
        beam_width: beams kept per step (at least k).
        max_len: most characters to add per word.
        allow_empty: whether adding nothing to the current word (it is already complete) counts.
        words: words a completion finishes: the current one, then words - 1 more.
        space_id: the id between two words (needed when `words` > 1).
        keep: return up to this many (at least k): the k best and the next best completions the same search
            found on the way (it searches exactly as for k, so they cost nothing; not always the true next best).
    Returns:
        Up to k (`keep`) (ids to add, probability), most likely first.
    """
    if words > 1 and space_id is None:
        raise ValueError("completing several words needs the space id")
    beam_width = max(beam_width, k)
    keep = k if keep is None else max(keep, k)
    columns = np.append(word_ids, space_id).astype(np.int64) if words > 1 else np.asarray(word_ids, np.int64)
    prefixes: list[list[int]] = [[]]
    scores = np.zeros(1)  # (beams,) log-probability of each beam's added characters
    left = np.array([words - 1])  # (beams,) words still to begin after the beam's current one
    may_end = np.array([allow_empty])  # (beams,) whether the beam's current word may end here
    log_p = log_softmax(logits)[None]  # (beams, vocab)
    states = np.asarray(state, np.float32)[None]  # (beams, S)
    finished: list[tuple[list[int], float]] = []
    limit = max_len * words + words - 1
    for depth in range(limit + 1):
        ends = scores + np.logaddexp.reduce(log_p[:, end_ids], axis=-1)  # (beams,)
        for prefix, score, last, ok in zip(prefixes, ends, left, may_end):
            if last == 0 and ok:
                finished.append((prefix, float(score)))
        finished.sort(key=lambda f: -f[1])
        del finished[keep:]
        if depth == limit:
            break
        bar = finished[k - 1][1] if len(finished) >= k else -np.inf
        grown = scores[:, None] + log_p[:, word_ids]  # (beams, word ids)
        if words > 1:  # the last column: a space that ends the current word and begins the next
            space = np.where((left > 0) & may_end, scores + log_p[:, space_id], -np.inf)  # (beams,)
            grown = np.concatenate([grown, space[:, None]], axis=1)  # (beams, word ids + 1)
        flat = (-grown).argsort(axis=None)[:beam_width]  # (the method: np.argsort's wrapper costs more)
        flat = flat[grown.flat[flat] > bar]  # a beam below the bar can only fall further
        if flat.size == 0:
            break
        rows, cols = np.unravel_index(flat, grown.shape)
        tokens = columns[cols].astype(np.int32)
        spaced = cols == len(word_ids)  # (new beams,) the beam just took the space
        new_logits, states = step(tokens, states[rows])
        prefixes = [prefixes[r] + [int(t)] for r, t in zip(rows, tokens)]
        scores = grown[rows, cols]
        left, may_end = left[rows] - spaced, ~spaced
        log_p = log_softmax(new_logits)
    return [(prefix, float(np.exp(score))) for prefix, score in finished]


def sample_until_end(step: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]], states: np.ndarray,
                     start: int, end: int, banned: list[int], max_len: int, rng: np.random.Generator,
                     temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> list[list[int]]:
    """Draws one sequence per start state, all in one batch, each ending at the token `end` (not included).

    Args:
        step: (tokens (batch,), states (batch, S)) -> (logits (batch, vocab), states (batch, S)).
        states: (batch, S) start states.
        start, end: the start and end token ids; `banned` ids are never drawn.
        max_len: the most tokens a sequence may have (a longer one is cut there).
        rng, temperature, top_k, top_p: as `sample`.
    Returns:
        The drawn ids of each sequence.
    """
    batch = len(states)
    tokens = np.full((batch,), start, np.int32)
    done = np.zeros(batch, bool)
    out: list[list[int]] = [[] for _ in range(batch)]
    for _ in range(max_len if batch else 0):
        logits, states = step(tokens, states)  # (batch, vocab), (batch, S)
        for i in np.flatnonzero(~done):
            tokens[i] = sample(logits[i], rng, temperature, top_k, top_p, banned=banned)
            if tokens[i] == end:
                done[i] = True
            else:
                out[i].append(int(tokens[i]))
        if done.all():
            break
    return out
