"""The yardstick of the Korean key model: an n-gram over keys with interpolated absolute discounting (numpy).

Each split is one stream of keys (its documents joined by "\\n"), preceded by `order - 1` start
symbols; keys never seen in training map to one unknown id. For order n and history h,

    P_n(w | h) = max(c(h, w) - D, 0) / c(h) + D * N1+(h .) / c(h) * P_{n-1}(w | h')

(`P_{n-1}` alone when c(h) = 0), down to the uniform distribution over the keys and the unknown id.
Counts are `np.unique` over int64 codes of the n-grams, looked up with `searchsorted`.
"""

from __future__ import annotations

import math

import numpy as np

BOS, UNK = 0, 1  # the start symbol and the unknown key; keys are 2, 3, ...
ORDER = 5  # the baseline's n
DISCOUNT = 0.75  # its D


def encode(keys: str, index: dict[str, int], order: int) -> np.ndarray:
    """Ids with `order - 1` start symbols in front; keys outside `index` -> UNK."""
    return np.array([BOS] * (order - 1) + [index.get(k, UNK) for k in keys], dtype=np.int64)


def ngram_codes(ids: np.ndarray, n: int, base: int) -> np.ndarray:
    """The integer code (base `base`) of every window of n ids, in order."""
    m = len(ids) - n + 1
    codes = np.zeros(m, dtype=np.int64)
    for k in range(n):
        codes = codes * base + ids[k:m + k]
    return codes


class Counts:
    """The n-grams of one order: sorted codes and counts, and per history c(h) and N1+(h .)."""

    def __init__(self, codes: np.ndarray, base: int):
        self.codes, self.counts = np.unique(codes, return_counts=True)
        hist = self.codes // base
        self.hist, first = np.unique(hist, return_index=True)
        self.hist_total = np.add.reduceat(self.counts, first)  # c(h)
        self.hist_types = np.diff(np.append(first, len(hist)))  # N1+(h .)

    @staticmethod
    def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
        i = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
        return np.where(keys[i] == query, values[i], 0)

    def count(self, codes: np.ndarray) -> np.ndarray:
        return self._lookup(self.codes, self.counts, codes)

    def history(self, hist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._lookup(self.hist, self.hist_total, hist), self._lookup(self.hist, self.hist_types, hist)


def total_nats(train_ids: np.ndarray, eval_ids: np.ndarray, order: int, discount: float, keys: int) -> list[float]:
    """Total nats of `eval_ids` past its start symbols under orders 1..order (each interpolating the lower).

    Args:
        train_ids, eval_ids: `encode`d streams.
        keys: the number of distinct training keys (ids 2 .. keys + 1).
    Raises:
        ValueError: the n-gram codes would overflow int64.
    """
    base = keys + 2
    if base ** order >= 2 ** 62:
        raise ValueError(f"order {order} with {base} ids overflows int64 n-gram codes")
    targets = len(eval_ids) - (order - 1)
    p = np.full(targets, 1.0 / (keys + 1))  # uniform over the keys and UNK (never BOS)
    totals = []
    for n in range(1, order + 1):
        table = Counts(ngram_codes(train_ids[order - n:], n, base), base)  # those ending at real keys
        codes = ngram_codes(eval_ids[order - n:], n, base)[:targets]
        c_hw = table.count(codes).astype(np.float64)
        c_h, types = (x.astype(np.float64) for x in table.history(codes // base))
        seen = c_h > 0
        safe = np.where(seen, c_h, 1.0)
        p = np.where(seen, np.maximum(c_hw - discount, 0) / safe + discount * types / safe * p, p)
        totals.append(float(-np.log(p).sum()))
    return totals


def baseline_figures(train_keys: str, splits: dict[str, tuple[str, str]], order: int = ORDER,
                     discount: float = DISCOUNT) -> dict:
    """The n-gram's figures on each split.

    Args:
        train_keys: the training stream of keys.
        splits: name -> (NFC text, its keys).
    Returns:
        name -> {keys, characters, unknown_keys, nats_per_key, bits_per_char}, plus order and discount.
    """
    index = {k: i + 2 for i, k in enumerate(sorted(set(train_keys)))}
    train_ids = encode(train_keys, index, order)
    out: dict = {"order": order, "discount": discount}
    for name, (text, keys) in splits.items():
        ids = encode(keys, index, order)
        nats = total_nats(train_ids, ids, order, discount, len(index))[-1]
        out[name] = {"keys": len(keys), "characters": len(text), "unknown_keys": int((ids[order - 1:] == UNK).sum()),
                     "nats_per_key": round(nats / len(keys), 5),
                     "bits_per_char": round(nats / math.log(2) / len(text), 5)}
    return out
