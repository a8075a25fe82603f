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

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits over the last axis (numerically stable; -inf entries get probability 0)."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities from logits over the last axis (float64)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - np.max(z, axis=-1, keepdims=True)
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
                  allow_empty: bool = True) -> list[tuple[list[int], float]]:
    """Beam search for the k most likely ways to finish the current word.

    A completion is some word characters followed by any word-ending character (a space,
    punctuation, a line break); its probability is that of its characters times the
    probability that the word ends there. Beams advance together, one batched `step`
    call per character, and stop when no beam can beat the k-th finished completion.

    Args:
        step: (tokens (batch,), state (batch, S)) -> (logits (batch, vocab), state (batch, S)).
        state: (S,) the state after the text so far.
        logits: (vocab,) the next-character logits after the text so far.
        word_ids: ids that continue a word (letters, digits, apostrophe, hyphen).
        end_ids: ids that end a word; ids in neither list are never used.
        k: completions to return.
        beam_width: beams kept per step (at least k).
        max_len: most characters to add.
        allow_empty: whether adding nothing (the word is already complete) counts.
    Returns:
        Up to k (ids to add, probability), most likely first.
    """
    beam_width = max(beam_width, k)
    prefixes: list[list[int]] = [[]]
    scores = np.zeros(1)  # (beams,) log-probability of each beam's added characters
    log_p = log_softmax(logits)[None]  # (beams, vocab)
    states = np.asarray(state, np.float32)[None]  # (beams, S)
    finished: list[tuple[list[int], float]] = []
    for depth in range(max_len + 1):
        ends = scores + np.logaddexp.reduce(log_p[:, end_ids], axis=-1)  # (beams,)
        for prefix, score in zip(prefixes, ends):
            if prefix or allow_empty:
                finished.append((prefix, float(score)))
        finished.sort(key=lambda f: -f[1])
        del finished[k:]
        if depth == max_len:
            break
        bar = finished[-1][1] if len(finished) == k else -np.inf
        grown = scores[:, None] + log_p[:, word_ids]  # (beams, word ids)
        flat = np.argsort(-grown, axis=None)[:beam_width]
        flat = flat[grown.flat[flat] > bar]  # a beam below the bar can only fall further
        if flat.size == 0:
            break
        rows, cols = np.unravel_index(flat, grown.shape)
        tokens = np.asarray(word_ids)[cols].astype(np.int32)
        new_logits, states = step(tokens, states[rows])
        prefixes = [prefixes[r] + [int(t)] for r, t in zip(rows, tokens)]
        scores = grown[rows, cols]
        log_p = log_softmax(new_logits)
    return [(prefix, float(np.exp(score))) for prefix, score in finished]
