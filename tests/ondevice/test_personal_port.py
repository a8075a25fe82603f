"""The page's personal model (web/js/personal.js) against kerasrnn.ondevice.personal on long randomized
sequences of learn, predict, mix and save-and-reload, with and without RNN states: every result the same,
floats bit for bit.

The words are drawn from a small alphabet (so prefixes, ties and evictions are frequent) that mixes ASCII,
Hangul jamo, characters above the surrogates (U+E000..) and astral ones, where UTF-16 order is not
code-point order.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from conftest import ROOT, skip_or_fail  # noqa: E402
import numpy as np  # noqa: E402

from kerasrnn.ondevice.personal import PersonalModel  # noqa: E402

REPLAY = os.path.join(ROOT, "tests", "ondevice", "personal_replay.mjs")
ALPHABET = "ab\u3131\ue000\uffe1\U0001f600\U0001f601\U00010348"  # two astral ones share a high surrogate
SETTINGS = [  # (max_words, max_pairs, recent, bonus, state cache capacity, distinct words, operations)
    (4, 3, 2, 3, 6, 20, 1500), (12, 30, 5, 16, 20, 40, 2000), (40, 10, 0, 0, 0, 60, 1500),
    (150, 400, 50, 16, 100, 300, 4000)]
VALUES = [-1.0, -0.5, -0.25, 0.0, 0.125, 0.5, 1.0, 0.3]  # state values (few: equal weights are frequent)


def random_state(rng: random.Random) -> list[float] | None:
    """A state of 5 values (float32 ones), or None (learned or mixed without a state)."""
    return None if rng.random() < 0.2 else [float(np.float32(rng.choice(VALUES))) for _ in range(5)]


def random_case(seed: int, max_words: int, max_pairs: int, recent: int, bonus: int, states: int, distinct: int,
                ops: int) -> dict:
    """One randomized sequence of calls (fixed seed) and what Python returns for each."""
    rng = random.Random(seed)
    vocab = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 5))) for _ in range(distinct)]
    roots = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(2, 3))) for _ in range(3)]  # words sharing a stem
    vocab += [root + "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 2))) for root in roots for _ in range(3)]
    settings = dict(max_words=max_words, max_pairs=max_pairs, recent=recent, bonus=bonus, states=states, model="m")
    model = PersonalModel(**settings)
    array = lambda state: None if state is None else np.asarray(state, np.float32)  # noqa: E731
    calls, results, prev = [], [], ""
    for _ in range(ops):
        roll = rng.random()
        if roll < 0.45:
            word = rng.choice(vocab)
            state = random_state(rng)
            calls.append(["learn", word, prev, state])
            model.learn(word, prev, array(state))
            prev = word if rng.random() < 0.85 else ""
        elif roll < 0.995:
            prefix = rng.choice(vocab)[:rng.randint(0, 3)]
            after, n = rng.choice(vocab + [""]), rng.choice([0, 1, 3, 3, 3, 8])
            if roll < 0.85:
                extra = [prefix + rng.choice(vocab)[:rng.randint(0, 3)] for _ in range(rng.choice([0, 0, 2, 8]))]
                calls.append(["predict", prefix, after, n, extra])
                words, mu = model.predict(prefix, after, n, extra)
                results.append([[list(w) for w in words], mu])
            elif roll < 0.92:
                rnn = [[rng.choice(vocab)[:rng.randint(0, 3)], rng.random()] for _ in range(rng.randint(0, 8))]
                stems = [[rng.choice(vocab)[:rng.randint(0, 3)], rng.random()] for _ in range(rng.choice([0, 0, 3]))]
                state = random_state(rng)
                calls.append(["mix", prefix, after, n, rnn, state, stems])
                results.append([list(c) for c in model.mix([tuple(r) for r in rnn], prefix, after, n, array(state),
                                                           [tuple(r) for r in stems])])
            else:  # a stem: often of a start of a word learned
                word = rng.choice(roots) if rng.random() < 0.6 else rng.choice(vocab)
                prefix = word[:rng.randint(1, max(1, len(word) - 1))] if rng.random() < 0.8 else prefix
                calls.append(["stem", prefix])
                results.append(model.stem(prefix))
        else:
            calls.append(["reload"])
            data = model.to_json()
            model = PersonalModel(**settings)
            model.load_json(json.loads(json.dumps(data)))
    return {"max_words": max_words, "max_pairs": max_pairs, "recent": recent, "bonus": bonus, "states": states,
            "ops": calls,
            "expect": {"results": results, "saved": model.to_json()}}


def test_the_page_port_matches_python_on_random_sequences(tmp_path):
    node = shutil.which("node")
    if node is None:
        skip_or_fail("Node.js is not installed (apt-get install nodejs): the page's personal model port needs it")
    cases = [random_case(seed, *settings) for seed, settings in enumerate(SETTINGS)]
    path = tmp_path / "ops.json"
    path.write_text(json.dumps([{k: v for k, v in c.items() if k != "expect"} for c in cases], ensure_ascii=False),
                    encoding="utf-8")
    proc = subprocess.run([node, REPLAY, str(path)], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    got = json.loads(proc.stdout.decode("utf-8"))
    for case, out in zip(cases, got, strict=True):
        for i, (want, have) in enumerate(zip(case["expect"]["results"], out["results"], strict=True)):
            assert want == have, (case["max_words"], i, [op for op in case["ops"] if op[0] != "learn"][i])
        assert out["saved"] == case["expect"]["saved"]
    assert sum(len(c["expect"]["results"]) for c in cases) > 4000
