"""The personal model's adapter (kerasrnn/ondevice/adapter.py): the RNN's next-token logits corrected by the keys
typed, its save, and its use by the Autocompleter with the RNN's endings of a learned stem (release exports)."""

import json
import os

import numpy as np
import pytest

from kerasrnn.inference.samplers import beam_complete, log_softmax
from kerasrnn.ondevice.adapter import OutputAdapter
from kerasrnn.ondevice.autocomplete import FOUND, Autocompleter
from kerasrnn.ondevice.personal import PersonalModel
from conftest import ROOT

ENGLISH = os.path.join(ROOT, "exported", "shakespeare-gru")
RNG = np.random.default_rng(11)


def test_learning_a_token_after_like_states_makes_it_likelier_there():
    adapter = OutputAdapter("m", rate=0.05)
    logits, state = RNG.standard_normal(6).astype(np.float32), RNG.standard_normal(4).astype(np.float32)
    assert np.array_equal(adapter.logits(logits, state), logits.astype(np.float64))  # nothing learned: as it is
    losses = []
    for _ in range(30):
        losses.append(-log_softmax(adapter.logits(logits, state))[2])
        adapter.learn(logits, state, 2)
    assert all(b < a for a, b in zip(losses, losses[1:])) and losses[-1] < 0.5 * losses[0]
    other = (-state).astype(np.float32)  # an opposite state: token 2 made less likely there
    assert log_softmax(adapter.logits(logits, other))[2] < log_softmax(logits.astype(np.float64))[2]
    assert adapter.steps == 30
    adapter.learn(np.zeros(7, np.float32), state, 0)  # logits of another size: what was learned is forgotten
    assert adapter.weights.shape == (7, 4) and adapter.steps == 1


def test_the_adapter_saves_for_its_model_and_refuses_malformed_saves():
    adapter = OutputAdapter("m")
    for _ in range(5):
        adapter.learn(RNG.standard_normal(6), RNG.standard_normal(4), int(RNG.integers(6)))
    saved = json.loads(json.dumps(adapter.to_json()))
    again = OutputAdapter("m")
    again.load_json(saved)
    logits, state = RNG.standard_normal(6), RNG.standard_normal(4)
    assert np.array_equal(again.logits(logits, state), adapter.logits(logits, state)) and again.steps == 5
    other = OutputAdapter("another model")
    other.load_json(saved)  # another model's: not loaded
    assert other.weights is None and OutputAdapter().to_json() is None
    nan = __import__("base64").b64encode(np.full(6, np.nan).tobytes()).decode()
    for edit in [{"rows": 0}, {"rows": 2.5}, {"columns": True}, {"steps": -1}, {"rows": 5}, {"weights": "###"},
                 {"bias": 7}, {"bias": nan}, {"rows": 2**11, "columns": 2**10}]:
        with pytest.raises(ValueError, match="adapter"):
            OutputAdapter("m").load_json({**saved, **edit})
    for bad in [None, [], {"rows": 1}]:
        with pytest.raises(ValueError, match="adapter"):
            OutputAdapter("m").load_json(bad)


def test_the_autocompleter_adapts_at_every_key_and_mixes_the_endings_of_a_learned_stem(tmp_path):
    completer = Autocompleter(ENGLISH, "int8", personal=True)
    text = "Zorblaxian ships met Zorblaxed ones. "
    completer.feed(text)
    adapter = completer.personal.adapter
    assert adapter.steps == len(text) and adapter.weights.shape == (len(completer._tokens), completer.step.state_size)
    handed = []
    mix = completer.personal.mix
    completer.personal.mix = lambda rnn, *args: handed.append((rnn, args)) or mix(rnn, *args)
    completer.feed("Zo")
    shown = completer.suggestions()
    rnn, (prefix, prev, k, start, stems) = handed[-1]
    logits = adapter.logits(completer._logits, completer._state[0])  # the RNN's logits, corrected
    found = beam_complete(completer.step, completer._state[0], logits, completer._word_ids, completer._end_ids,
                          k=3, beam_width=completer.beam_width, max_len=completer.max_len, keep=FOUND)
    assert rnn == [("".join(completer._tokens[i] for i in ids), p) for ids, p in found]
    # the stem 'Zorblax' (both words start with it), completed by the RNN from there
    assert completer.personal.stem("Zo") == "Zorblax"
    state, out = completer._state, None
    for c in "rblax":
        out, state = completer.step(np.array([completer._tokens.index(c)], np.int32), state)
    endings = beam_complete(completer.step, state[0], out[0], completer._word_ids, completer._end_ids, k=3,
                            beam_width=completer.beam_width, max_len=completer.max_len, keep=FOUND)
    assert stems == [("rblax" + "".join(completer._tokens[i] for i in ids), p) for ids, p in endings]
    assert [(s.completion, s.prob) for s in shown] == [(c, p) for c, p in mix(rnn, prefix, prev, k, start, stems)]
    memo = completer._stem_memo
    completer.feed("r")
    completer.suggestions()  # a key inside the stem: the search from the stem is not run again
    assert completer._stem_memo is memo and handed[-1][1][4] == [(c[1:], p) for c, p in stems]
    completer.personal.save(str(tmp_path / "me.json"))  # saved with the adapter, read back the same
    again = PersonalModel(completer.token_kind, model=completer.model_id)
    again.load(str(tmp_path / "me.json"), completer.word_char)
    assert np.array_equal(again.adapter.weights, adapter.weights)
    data = json.loads((tmp_path / "me.json").read_text(encoding="utf-8"))
    assert data["version"] == 3
    older = {k: v for k, v in data.items() if k != "adapter"}
    again.load_json({**older, "version": 2})  # a save from before the adapter
    assert again.adapter.weights is None and again.words == completer.personal.words
