"""Samplers: small pure functions from next-token logits to a token id.

Each works on one 1-D logits vector (vocab,) in NumPy, so it is easy to test and
runs the same with Keras, SavedModel or LiteRT steps.

    greedy(logits)                          the most likely id
    temperature(logits, t)                  logits / t
    top_k_filter(logits, k)                 keep the k largest, others -inf
    top_p_filter(logits, p)                 keep the smallest set with probability >= p
    sample(logits, rng, temperature=..., top_k=..., top_p=...)   all of the above, then draw
"""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits (numerically stable; -inf entries get probability 0)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - np.max(z)
    e = np.exp(z)
    return e / e.sum()


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
