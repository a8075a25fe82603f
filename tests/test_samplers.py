import numpy as np
import pytest

from kerasrnn.samplers import greedy, sample, softmax, temperature, top_k_filter, top_p_filter

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
