"""Writes tests/ondevice/personal_cases.json: what `kerasrnn.ondevice.personal` learns and predicts on fixed
inputs, for a port of it (the browser page's) to be checked against, number for number.

    PYTHONPATH=$PWD python tests/ondevice/make_personal_cases.py      # rewrites the JSON
    PYTHONPATH=$PWD python tests/ondevice/make_personal_cases.py --check

Each case: the model's settings; a text typed as tokens (`word_char` "english": letters, digits, ' and -;
"korean": str.isalnum over keys) and the (prev, word) pairs it teaches, in order; then `queries`
(`predict(prefix, prev, n, extra)` -> ranked [word, P] and mu), `stems` (`stem(prefix)`), `mixes`
(`mix(rnn, prefix, prev, k, state, stems)` -> ranked [completion, probability]) and `saved` (`to_json()` after
learning). A case with `state_size`
learns each word with a state (`states`, float32 values; a state depends on the word before, so the
same context gives near states) and mixes with one (`state`). Floats are Python's doubles, as JSON writes
them (shortest round-trip form): a port must match them exactly. `adapter`: the adapter's learning steps on
made-up logits and states and what it then holds and gives (adapter.py), which a port matches to 1e-12
(its sums run in another order).
"""

from __future__ import annotations

import json
import os
import random
import sys

import numpy as np

from kerasrnn.ondevice.adapter import OutputAdapter
from kerasrnn.ondevice.autocomplete import is_korean_word_char, is_word_char
from kerasrnn.ondevice.hangul import KEYBOARD, text_to_keys
from kerasrnn.ondevice.personal import CHARACTERS, PersonalModel, typed_words

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "personal_cases.json")
WORD_CHARS = {"english": is_word_char, "korean": is_korean_word_char}

CASES = [
    {"name": "english", "tokens": CHARACTERS, "word_char": "english",
     "text": "the cat sat on the mat. the cat ate the rat; the cart is the cat's. then the cat sat.\n"
             "The catalogue of the cat-like cats: the cat, the cart, the cast, 12 cats and 3 carts.\n",
     "queries": [("", "the"), ("c", "the"), ("ca", "the"), ("cat", "the"), ("ca", ""), ("s", "cat"), ("t", ""),
                 ("", "nothing"), ("x", "the"), ("The", ""), ("1", ""),
                 ("ca", "the", ["cats", "cart", "cab", "cats"]), ("", "nothing", ["the", "king", "cat"])],
     "mixes": [("ca", "the", [["t", 0.6], ["r", 0.2], ["ll", 0.1]]),
               ("", "the", [["king", 0.05], ["cat", 0.01], ["duke", 0.004]]),
               ("s", "cat", [["at", 0.3], ["it", 0.25]]),
               ("x", "the", [["yz", 0.5], ["y", 0.2], ["ylophone", 0.1]]),
               ("ca", "", [["t", 0.25], ["rt", 0.25], ["st", 0.125]]),
               ("ca", "the", [["ll", 0.3], ["n", 0.2], ["p", 0.1], ["ts", 0.05], ["b", 0.04], ["sts", 0.01]]),
               ("", "nothing", [["a", 0.2], ["of", 0.1], ["in", 0.08], ["the", 0.05]]),
               ("c", "the", [["at", 0.3], ["an", 0.1]], None, [["at", 0.4], ["ats", 0.3], ["art", 0.2]]),
               ("ca", "", [["n", 0.3]], None, [["t", 0.2], ["rts", 0.1]])],
     "stems": ["c", "ca", "cat", "cats", "t", "th", "x", ""]},
    {"name": "korean keys", "tokens": KEYBOARD, "word_char": "korean",
     "text": text_to_keys("기억 속으로 기억 속에 기억력 기억을 기업 기억 속으로 가다. 기억은 기억이다.\n"),
     "queries": [("ㄱ", ""), ("ㄱㅣ", "ㄱㅣㅇㅓㄱ"), ("ㄱㅣㅇㅓ", ""), ("", "ㄱㅣㅇㅓㄱ"), ("ㅅㅗㄱ", "ㄱㅣㅇㅓㄱ"),
                 ("ㄱㅣ", "ㄱㅣㅇㅓㄱ", ["ㄱㅣㅇㅓㅂ", "ㄱㅣㅇㅓㄱㅇㅡㄴ", "ㄱㅣㅂㅗㄴ"])],
     "mixes": [("ㄱㅣ", "", [["ㅂㅗㄴ", 0.3], ["ㅈㅜㄴ", 0.2], ["ㅇㅓㄱ", 0.1]]),
               ("", "ㄱㅣㅇㅓㄱ", [["ㅇㅡㄹ", 0.2], ["ㅅㅗㄱㅇㅔ", 0.1], ["ㅇㅣ", 0.05]]),
               ("ㄱㅣ", "", [["ㅂㅗㄴ", 0.3]], None, [["ㅇㅓㄱㅇㅡㄹ", 0.3], ["ㅇㅓㄱㅇㅔ", 0.2], ["ㅇㅓㄱ", 0.1]])],
     "stems": ["ㄱ", "ㄱㅣ", "ㄱㅣㅇㅓㄱ", "ㄱㅣㅇㅓㄱㅇ", "ㅅ", "ㅅㅗㄱ"]},
    {"name": "eviction", "tokens": CHARACTERS, "word_char": "english", "max_words": 3, "max_pairs": 2,
     "weight": 0.25, "evidence": 1, "recent": 2, "bonus": 3,
     "text": "ab ac ad ab ae ab af ag ab. ab ab ab ac\n",
     "queries": [("a", ""), ("a", "ab"), ("ab", "ab"), ("", "ab"), ("ac", "")],
     "mixes": [("a", "ab", [["b", 0.5], ["x", 0.3], ["c", 0.2]])]},
    {"name": "states", "tokens": CHARACTERS, "word_char": "english", "model": "test-model", "state_size": 6,
     "states_capacity": 12,
     "text": "the cat sat on the mat. a cap is on the cat. the cat ate the rat; the cart is the cat's. then a cap "
             "fell on a car, the cat sat on the cap and a cab came by. the car is in the cart.\n",
     "queries": [("ca", "the"), ("ca", "a")],
     "mixes": [("ca", "the", [["t", 0.3], ["r", 0.2], ["b", 0.1]], "the"),
               ("ca", "the", [["t", 0.3], ["r", 0.2], ["b", 0.1]], "a"),
               ("ca", "", [["t", 0.3], ["p", 0.2]], "on"),
               ("", "a", [["cap", 0.1], ["cab", 0.05], ["car", 0.04], ["dog", 0.01]], "a"),
               ("c", "", [["at", 0.2]], None), ("x", "the", [["yz", 0.5]], "the"),
               ("ca", "the", [["t", 0.3]], "the", [["rt", 0.3], ["t", 0.2], ["ts", 0.1]])]},
]


def context_state(prev: str, size: int, seed: int) -> list[float]:
    """A made-up RNN state after `prev`: the same base for the same word, plus a little noise (float32 values)."""
    base, noise = random.Random(prev), random.Random(seed)
    return [float(np.float32(base.uniform(-1, 1) + noise.uniform(-0.2, 0.2))) for _ in range(size)]


def run_case(case: dict) -> dict:
    """The case with its expected outputs filled in."""
    settings = {key: case[key] for key in ("max_words", "max_pairs", "weight", "evidence", "recent", "bonus")
                if key in case}
    size = case.get("state_size")
    if size:
        settings.update(model=case["model"], states=case["states_capacity"])
    model = PersonalModel(case["tokens"], **settings)
    learned = typed_words(case["text"], WORD_CHARS[case["word_char"]])
    states = [context_state(prev, size, i) for i, (prev, _) in enumerate(learned)] if size else []
    for i, (prev, word) in enumerate(learned):
        model.learn(word, prev, np.asarray(states[i], np.float32) if size else None)
    queries = []
    for prefix, prev, *extra in case["queries"]:
        extra = extra[0] if extra else []
        ranked, mu = model.predict(prefix, prev, 3, extra)
        queries.append({"prefix": prefix, "prev": prev, "n": 3, "extra": extra, "expect": [[w, p] for w, p in ranked],
                        "mu": mu})
    mixes = []
    for prefix, prev, rnn, *context in case["mixes"]:
        state = context_state(context[0], size, 10_000) if context and context[0] is not None else None
        stems = context[1] if len(context) > 1 else []
        mixed = model.mix([tuple(r) for r in rnn], prefix, prev, 3, None if state is None else np.asarray(state),
                          [tuple(r) for r in stems])
        mixes.append({"prefix": prefix, "prev": prev, "k": 3, "rnn": rnn, "state": state, "stems": stems,
                      "expect": [[c, p] for c, p in mixed]})
    stems = [[prefix, model.stem(prefix)] for prefix in case.get("stems", [])]
    extra = {"model": case["model"], "state_size": size, "states_capacity": case["states_capacity"],
             "states": states} if size else {}
    return {"name": case["name"], "tokens": case["tokens"], "word_char": case["word_char"], **extra,
            "max_words": model.max_words, "max_pairs": model.max_pairs, "weight": model.weight,
            "evidence": model.evidence, "recent": model.recent_words, "bonus": model.bonus, "text": case["text"],
            "learned": [list(pair) for pair in learned],
            "queries": queries, "stems": stems, "mixes": mixes, "saved": model.to_json()}


def adapter_case() -> dict:
    """The adapter's steps on made-up logits (5,) and states (4,), float32 values, and what it then holds."""
    rng = random.Random(20261204)
    f32 = lambda: float(np.float32(rng.uniform(-2, 2)))  # noqa: E731
    steps = [[[f32() for _ in range(5)], [f32() for _ in range(4)], rng.randrange(5)] for _ in range(40)]
    adapter = OutputAdapter("test-model", rate=0.05)
    for logits, state, token in steps:
        adapter.learn(np.asarray(logits, np.float32), np.asarray(state, np.float32), token)
    probe = [[f32() for _ in range(5)], [f32() for _ in range(4)]]
    return {"model": "test-model", "rate": 0.05, "steps": steps, "probe": probe,
            "logits": adapter.logits(np.asarray(probe[0], np.float32), np.asarray(probe[1], np.float32)).tolist(),
            "saved": adapter.to_json()}


def cases_json() -> str:
    """The whole fixture file, as written."""
    about = ("Expected behaviour of the personal word model (kerasrnn/ondevice/personal.py), generated by "
             "tests/ondevice/make_personal_cases.py: a port must learn the same pairs from each text and give "
             "these rankings and numbers exactly.")
    return json.dumps({"about": about, "cases": [run_case(c) for c in CASES], "adapter": adapter_case()},
                      ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str]) -> int:
    text = cases_json()
    if "--check" in argv:
        with open(PATH, encoding="utf-8") as f:
            same = f.read() == text
        print("up to date" if same else f"{PATH} is out of date: run this script")
        return 0 if same else 1
    from pipelines.io import atomic_write_text

    atomic_write_text(PATH, text)
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
