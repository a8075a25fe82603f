"""The n-gram key baseline: the vectorised counts against the formula applied directly, and the stream layout."""

import math
import random
from collections import Counter

import numpy as np

from kerasrnn.tasks.korean.baseline import BOS, baseline_figures, total_nats
from kerasrnn.tasks.korean.evaluation import stream_layout


def direct_prob(train, order, d, keys, hist, w):
    """P_order(w | hist) by the recursion, counting with Counters."""
    p = 1.0 / (keys + 1)
    for n in range(1, order + 1):
        h = tuple(hist[len(hist) - (n - 1):]) if n > 1 else ()
        grams = Counter(tuple(train[i - n + 1:i + 1]) for i in range(order - 1, len(train)))
        c_h = sum(c for g, c in grams.items() if g[:-1] == h)
        if c_h:
            types = sum(1 for g in grams if g[:-1] == h)
            p = max(grams[h + (w,)] - d, 0) / c_h + d * types / c_h * p
    return p


def test_the_ngram_is_the_formula_and_sums_to_one():
    rng = random.Random(0)
    order, d, keys = 3, 0.75, 4  # ids 2..5 are keys, 1 is unknown, 0 the start symbol
    train = [BOS] * (order - 1) + [rng.choice([2, 3, 4, 5, 5, 5]) for _ in range(60)]
    ev = [BOS] * (order - 1) + [rng.choice([1, 2, 3, 4, 5]) for _ in range(25)]
    totals = total_nats(np.array(train), np.array(ev), order, d, keys)
    direct = -sum(math.log(direct_prob(train, order, d, keys, ev[i - order + 1:i], ev[i]))
                  for i in range(order - 1, len(ev)))
    assert math.isclose(totals[-1], direct, rel_tol=1e-9)
    for hist in [(BOS, BOS), (5, 5), (2, 3), (1, 1)]:
        assert math.isclose(sum(direct_prob(train, order, d, keys, hist, w) for w in range(1, keys + 2)), 1.0)


def test_figures_count_keys_and_characters():
    out = baseline_figures("ㄱㅏ ㄴㅏ ㄱㅏ ㄴㅏ", {"test": ("가 다", "ㄱㅏ ㄷㅏ")}, order=2)
    assert out["test"]["keys"] == 5 and out["test"]["characters"] == 3 and out["test"]["unknown_keys"] == 1
    assert math.isclose(out["test"]["bits_per_char"] * 3 * math.log(2), out["test"]["nats_per_key"] * 5, rel_tol=1e-3)


def test_streams_hold_every_target_once():
    ids = np.arange(1, 12)
    inputs, targets = stream_layout(ids, 3)
    assert inputs.shape == targets.shape == (3, 4)
    assert sorted(targets[targets >= 0].tolist()) == list(range(2, 12))
    assert (inputs[targets >= 0] + 1 == targets[targets >= 0]).all()  # each target follows its input
