import numpy as np
import pytest

import itertools

from kerasrnn.inference.samplers import (beam_complete, greedy, log_softmax, sample, softmax, temperature, top_k_filter,
                              top_p_filter)

LOGITS = np.log(np.array([0.1, 0.5, 0.15, 0.25]))


def test_greedy_takes_the_largest():
    assert greedy(LOGITS) == 1


def test_temperature_sharpens_and_flattens():
    assert softmax(temperature(LOGITS, 0.5))[1] > 0.5 > softmax(temperature(LOGITS, 2.0))[1]
    np.testing.assert_allclose(softmax(temperature(LOGITS, 1.0)), [0.1, 0.5, 0.15, 0.25])
    with pytest.raises(ValueError):
        temperature(LOGITS, 0)


def test_top_k_keeps_k():
    kept = np.isfinite(top_k_filter(LOGITS, 2))
    assert kept.tolist() == [False, True, False, True]
    assert np.isfinite(top_k_filter(LOGITS, 0)).all()


def test_top_p_keeps_the_smallest_nucleus():
    assert np.isfinite(top_p_filter(LOGITS, 0.5)).tolist() == [False, True, False, False]
    assert np.isfinite(top_p_filter(LOGITS, 0.6)).tolist() == [False, True, False, True]
    assert np.isfinite(top_p_filter(LOGITS, 0.75)).tolist() == [False, True, False, True]
    assert np.isfinite(top_p_filter(LOGITS, 0.76)).tolist() == [False, True, True, True]
    assert np.isfinite(top_p_filter(LOGITS, 1.0)).all()


def test_sample_follows_the_distribution_and_is_seeded():
    rng = np.random.default_rng(0)
    draws = [sample(LOGITS, rng) for _ in range(4000)]
    freq = np.bincount(draws, minlength=4) / 4000
    np.testing.assert_allclose(freq, [0.1, 0.5, 0.15, 0.25], atol=0.03)
    a = [sample(LOGITS, np.random.default_rng(5)) for _ in range(3)]
    assert a == [sample(LOGITS, np.random.default_rng(5)) for _ in range(3)]


def test_sample_respects_filters_and_banned_ids():
    rng = np.random.default_rng(0)
    assert {sample(LOGITS, rng, top_k=2) for _ in range(200)} == {1, 3}
    assert {sample(LOGITS, rng, banned=[1, 3]) for _ in range(200)} == {0, 2}
    assert sample(LOGITS, rng, top_k=1, banned=[1]) == 3


def _bigram_model(seed=0):
    """A fake step function: the next-token logits depend on the last token only (the state holds it)."""
    table = np.random.default_rng(seed).normal(size=(5, 5)) * 2  # ids: 0 end, 1-3 letters, 4 special

    def step(tokens, states):
        assert tokens.ndim == 1 and states.shape == (len(tokens), 1)
        return table[tokens], tokens[:, None].astype(np.float32)

    return table, step


def _brute_force(table, first, max_len):
    """Probability of every completion of up to max_len letters, by enumeration."""
    out = {}
    for n in range(max_len + 1):
        for seq in itertools.product([1, 2, 3], repeat=n):
            log_p, last = 0.0, first
            for t in seq:
                log_p += log_softmax(table[last])[t]
                last = t
            out[seq] = np.exp(log_p + log_softmax(table[last])[0])
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_complete_finds_the_most_likely_completions(seed):
    table, step = _bigram_model(seed)
    exact = _brute_force(table, first=2, max_len=4)
    best = sorted(exact.items(), key=lambda kv: -kv[1])[:3]
    found = beam_complete(step, np.array([2.0], np.float32), table[2], word_ids=np.array([1, 2, 3]),
                          end_ids=np.array([0]), k=3, beam_width=81, max_len=4)
    assert [tuple(ids) for ids, _ in found] == [seq for seq, _ in best]
    np.testing.assert_allclose([p for _, p in found], [p for _, p in best], rtol=1e-9)
    narrow = beam_complete(step, np.array([2.0], np.float32), table[2], np.array([1, 2, 3]), np.array([0]),
                           k=2, beam_width=2, max_len=4, allow_empty=False)
    assert len(narrow) == 2 and narrow[0][1] >= narrow[1][1]
    for ids, p in narrow:  # a narrow beam may miss the best, but what it returns is exact
        assert ids and p == pytest.approx(exact[tuple(ids)], rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_complete_keeps_more_of_what_the_same_search_found(seed):
    table, step = _bigram_model(seed)
    exact = _brute_force(table, first=2, max_len=4)
    calls = []

    def counted(tokens, states):
        calls.append(len(tokens))
        return step(tokens, states)

    args = (np.array([2.0], np.float32), table[2], np.array([1, 2, 3]), np.array([0]))
    three = beam_complete(counted, *args, k=3, beam_width=6, max_len=4)
    steps, calls[:] = list(calls), []
    eight = beam_complete(counted, *args, k=3, beam_width=6, max_len=4, keep=8)
    assert calls == steps  # the same search, step for step
    assert eight[:3] == three and 3 < len(eight) <= 8
    assert all(a[1] >= b[1] for a, b in zip(eight, eight[1:]))  # best first
    for ids, p in eight:  # every one exact
        assert p == pytest.approx(exact[tuple(ids)], rel=1e-9)


def test_beam_complete_goes_on_past_a_space_for_more_words():
    table, step = _bigram_model(3)  # here 4 is the space: it ends a word and begins the next
    lp = lambda last, t: log_softmax(table[last])[t]  # noqa: E731
    exact = {}
    for n1 in range(5):  # max_len 2 per word: at most 2 * 2 + 1 tokens in all
        for n2 in range(1, 5 - n1):
            for seq in itertools.product([1, 2, 3], repeat=n1 + n2):
                ids, score, last = seq[:n1] + (4,) + seq[n1:], 0.0, 2
                for t in ids:
                    score, last = score + lp(last, t), t
                exact[ids] = np.exp(score + np.logaddexp(lp(last, 0), lp(last, 4)))
    best = sorted(exact.items(), key=lambda kv: -kv[1])[:3]
    found = beam_complete(step, np.array([2.0], np.float32), table[2], np.array([1, 2, 3]), np.array([0, 4]),
                          k=3, beam_width=500, max_len=2, words=2, space_id=4)
    assert [tuple(ids) for ids, _ in found] == [seq for seq, _ in best]
    np.testing.assert_allclose([p for _, p in found], [p for _, p in best], rtol=1e-9)
    with pytest.raises(ValueError, match="space id"):
        beam_complete(step, np.array([2.0], np.float32), table[2], np.array([1, 2, 3]), np.array([0]), words=2)


def test_sample_until_end_stops_at_the_end_token_and_cuts_at_max_len():
    from kerasrnn.inference.samplers import sample_until_end

    def step(tokens, states):  # a certain model: state 0 counts to 3 then ends (id 9); state 1 never ends
        nxt = np.where((states[:, 0] == 0) & (tokens >= 3), 9, tokens + 1)
        logits = np.full((len(tokens), 10), -1e9)
        logits[np.arange(len(tokens)), nxt] = 0.0
        return logits, states

    out = sample_until_end(step, np.array([[0.0], [1.0]]), start=0, end=9, banned=[], max_len=6,
                           rng=np.random.default_rng(0))
    assert out == [[1, 2, 3], [1, 2, 3, 4, 5, 6]]
    assert sample_until_end(step, np.zeros((0, 1)), 0, 9, [], 6, np.random.default_rng(0)) == []
