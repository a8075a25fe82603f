"""The personal model's state cache: the RNN's state where each word was typed, and the words it favours
where the text before them looks alike (kerasrnn/ondevice/state_cache.py)."""

import math

import numpy as np
import pytest

from kerasrnn.ondevice.autocomplete import is_word_char
from kerasrnn.ondevice.personal import PersonalModel
from kerasrnn.ondevice.state_cache import StateCache, quantize

RNG = np.random.default_rng(7)


def reference(cache: StateCache, entries: list[tuple[str, np.ndarray]], prefix: str, state: np.ndarray) -> dict:
    """P_state written out in plain Python from the module doc, one double operation at a time."""
    def q(h):
        top = max(abs(float(v)) for v in h)
        return [0] * len(h) if top == 0 else [math.floor(float(v) * 127.0 / top + 0.5) for v in h]

    q0 = q(np.asarray(state, np.float32))
    n0 = sum(v * v for v in q0)
    sums = {}
    for word, h in entries[-cache.capacity:]:
        if not word.startswith(prefix):
            continue
        qi = q(np.asarray(h, np.float32))
        ni = sum(v * v for v in qi)
        cos = sum(a * b for a, b in zip(qi, q0)) / math.sqrt(ni * n0) if ni > 0 and n0 > 0 else 0.0
        k = (1 + cos) / 2
        for _ in range(5):
            k = k * k
        sums[word] = sums.get(word, 0.0) + k
    total = 0.0
    for word in sorted(sums):  # code-point order
        total += sums[word]
    return {w: sums[w] / total for w in sorted(sums)}


def as_dict(distribution: tuple[list[str], np.ndarray]) -> dict:
    words, p = distribution
    assert words == sorted(words) and len(words) == len(p)
    return dict(zip(words, p.tolist()))


def test_quantize_scales_the_largest_value_to_127():
    q = quantize(np.array([0.5, -1.0, 0.25, 0.0039], np.float32))
    assert q.dtype == np.int8 and q.tolist() == [64, -127, 32, 0]
    assert quantize(np.zeros(4, np.float32)).tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize("size", [6, 256, 1100])  # 1100 values: float64 products (float32 is exact to 1040)
def test_the_distribution_is_the_formula_bit_for_bit(size):
    cache = StateCache(capacity=20)
    entries = [(w, RNG.standard_normal(size).astype(np.float32)) for w in ["cat", "cap", "car", "cat", "dog"] * 5]
    entries.append(("cab", np.zeros(size, np.float32)))  # a zero state: cos 0
    for word, h in entries:
        cache.add(word, h)
    assert len(cache) == 20 and cache.words == [w for w, _ in entries[-20:]]  # the oldest forgotten
    for prefix in ("", "ca", "cat", "x"):
        state = RNG.standard_normal(size).astype(np.float32)
        got = as_dict(cache.distribution(prefix, state))
        assert got == reference(cache, entries, prefix, state)
        assert not got or abs(sum(got.values()) - 1) < 1e-12


def test_a_word_typed_in_a_like_context_ranks_first():
    after_the, after_a = RNG.standard_normal(64), RNG.standard_normal(64)
    model = PersonalModel(model="m")
    for _ in range(3):  # "cart" after contexts like after_the, "cab" after contexts like after_a: equal counts
        model.learn("cart", "x", after_the + 0.1 * RNG.standard_normal(64))
        model.learn("cab", "y", after_a + 0.1 * RNG.standard_normal(64))
    rnn = [("t", 0.2), ("r", 0.1)]
    near_the = [c for c, _ in model.mix(rnn, "ca", "z", 3, after_the)]
    near_a = [c for c, _ in model.mix(rnn, "ca", "z", 3, after_a)]
    assert near_the.index("rt") < near_the.index("b") and near_a.index("b") < near_a.index("rt")
    assert as_dict(model.states.distribution("ca", after_the))["cart"] > 0.99


def test_states_are_saved_for_their_model_only(tmp_path):
    model = PersonalModel(model="m", states=5)
    for i, word in enumerate(["one", "two", "three", "two", "four", "five", "six"]):
        model.learn(word, "", RNG.standard_normal(8))
    path = tmp_path / "me.json"
    model.save(str(path))
    again = PersonalModel(model="m", states=5)
    again.load(str(path), is_word_char)
    state = RNG.standard_normal(8)
    assert again.to_json() == model.to_json() and len(again.states) == 5
    assert as_dict(again.states.distribution("t", state)) == as_dict(model.states.distribution("t", state))
    other = PersonalModel(model="another")
    other.load(str(path), is_word_char)  # the words, not another model's states
    assert other.words == model.words and len(other.states) == 0
    other.states.bind("m")
    assert len(other.states) == 0
    again.states.bind("another")  # bound to another model: its states are forgotten
    assert len(again.states) == 0
    data = model.to_json()
    entry = data["states"]["entries"][0]
    old = {k: v for k, v in data.items() if k != "states"}
    PersonalModel(model="m").load_json({**old, "version": 1})  # a file from before the states
    for states in (None, [], {"model": "m"}, {"model": "m", "entries": [[entry[0]]]},
                   {"model": "m", "entries": [[entry[0], "###"]]}, {"model": "m", "entries": [["a b", entry[1]]]},
                   {"model": "m", "entries": [entry, [entry[0], "AAAA"]]}, {"model": "m", "entries": [["x", ""]]}):
        with pytest.raises(ValueError):
            PersonalModel(model="m").load_json({**data, "states": states}, is_word_char)


def test_words_that_leave_the_cache_leave_its_index():
    cache = StateCache(capacity=4)
    entries = [(w, RNG.standard_normal(5).astype(np.float32)) for w in "b a c b d e a f b g".split()]
    for i, (word, h) in enumerate(entries):
        cache.add(word, h)
        kept = entries[max(0, i - 3):i + 1]
        assert cache.words == [w for w, _ in kept]
        state = RNG.standard_normal(5).astype(np.float32)
        assert as_dict(cache.distribution("", state)) == reference(cache, kept, "", state)
        for prefix in "abcdefg":
            assert as_dict(cache.distribution(prefix, state)) == reference(cache, kept, prefix, state)


def test_states_of_another_size_are_not_used():
    model = PersonalModel(model="m")
    for word in ("cart", "cab", "cart"):
        model.learn(word, "x", RNG.standard_normal(6))
    state = RNG.standard_normal(8)  # the model's states are of 8 values, the kept ones of 6
    rnn = [("t", 0.2), ("r", 0.1)]
    assert model.mix(rnn, "ca", "x", 3, state) == model.mix(rnn, "ca", "x", 3)
    assert model.mix(rnn, "ca", "x", 3, state[:6]) != model.mix(rnn, "ca", "x", 3)
    model.learn("cab", "x", state)  # the next state replaces them
    assert model.states.words == ["cab"] and model.states.fits(state)


def test_weights_kept_for_a_word_follow_every_word_added():
    """The weights computed at a word's start serve its other keys, and are recomputed once an entry is added
    (or forgotten): the distribution stays the formula's after each change."""
    cache, entries = StateCache(capacity=4), []
    state = RNG.standard_normal(8).astype(np.float32)
    for word in ["cat", "cap", "cat", "car", "cab", "cat"]:
        entries.append((word, RNG.standard_normal(8).astype(np.float32)))
        cache.add(*entries[-1])
        for prefix in ["", "c", "ca", "cat"]:  # the keys of one word, its start state unchanged
            assert as_dict(cache.distribution(prefix, state)) == reference(cache, entries, prefix, state)
    other = RNG.standard_normal(8).astype(np.float32)  # the next word's start
    assert as_dict(cache.distribution("ca", other)) == reference(cache, entries, "ca", other)
