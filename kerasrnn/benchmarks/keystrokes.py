"""Keystroke savings of an export: a simulated user types a text and accepts right suggestions.

Behind `python -m kerasrnn.bench keystrokes MODEL --text FILE` (LiteRT only, `Autocompleter`). The
user types the text one keystroke at a time (a character; for a Korean keyboard model a key, so
'기억' is 5 keystrokes). Before each keystroke inside a word (or at its start), if the rest of the
word is among the top `k` suggestions, the user accepts it with one keystroke and goes on after the
word; a rest of one token is typed (accepting it would save nothing). Reported:

    savings           saved keystrokes / all keystrokes of the text (saved: the rest's length - 1)
    words_completed   the share of words (runs of word characters) finished by a suggestion
    curve             the savings within each block of BLOCK keystrokes of the text, in order

With `adapt` the text is typed twice: without a personal model, then with a new, empty one that learns
only the words the simulated user has finished so far (never the text ahead), both reported.
"""

from __future__ import annotations

import json
import os
import time

from kerasrnn.benchmarks.machine import cpu_kind, describe
from kerasrnn.core.cli import UsageError
from kerasrnn.ondevice import litert
from kerasrnn.ondevice.autocomplete import Autocompleter
from kerasrnn.ondevice.hangul import KEYBOARD
from kerasrnn.ondevice.personal import PersonalModel

ACCEPT_COST = 1  # keystrokes to accept a suggestion
K = 3  # suggestions the user looks at
BLOCK = 1000  # keystrokes (of the text, without help) per point of the savings curve


def word_ends(tokens: str, is_word_char) -> list[int]:
    """For each position, the end of the run of word characters that starts there (itself if none)."""
    ends = [0] * (len(tokens) + 1)
    ends[len(tokens)] = len(tokens)
    for i in range(len(tokens) - 1, -1, -1):
        ends[i] = ends[i + 1] if is_word_char(tokens[i]) else i
    return ends


def simulate(completer: Autocompleter, text: str, k: int = K, log=None) -> dict:
    """Types `text` with `completer`, accepting the right suggestion as soon as it is among the top k.

    Args:
        completer: the autocompleter (it is reset first).
        text: the text to type.
        k: suggestions the user looks at.
        log: called with a progress line now and then (None: silent).
    Returns:
        keystrokes (without help), pressed, saved, savings, words, words_completed (a share), accepted.
    """
    tokens = completer.tokens(text)
    is_word = completer.word_char
    ends = word_ends(tokens, is_word)
    completer.reset()
    pressed = accepted = words = 0
    i, started, shown = 0, time.perf_counter(), 0
    marks = [(0, 0)]  # (keystrokes of the text, pressed) at each block boundary crossed
    while i < len(tokens):
        if i // BLOCK > marks[-1][0] // BLOCK:
            marks.append((i, pressed))
        if is_word(tokens[i]):
            words += i == 0 or not is_word(tokens[i - 1])
            rest = tokens[i:ends[i]]
            if len(rest) > ACCEPT_COST and any(s.completion == rest for s in completer.suggestions(k)):
                completer.feed(rest)
                pressed += ACCEPT_COST
                accepted += 1
                i = ends[i]
                continue
        completer.feed(tokens[i])
        pressed += 1
        i += 1
        if log and time.perf_counter() - started > 30 * (shown + 1):
            shown += 1
            log(f"  {i:,} of {len(tokens):,} keystrokes, {1 - pressed / i:.3f} saved so far")
    saved = len(tokens) - pressed
    marks.append((len(tokens), pressed))
    curve = [round(1 - (p1 - p0) / (i1 - i0), 4) for (i0, p0), (i1, p1) in zip(marks, marks[1:]) if i1 > i0]
    return {"keystrokes": len(tokens), "pressed": pressed, "saved": saved,
            "savings": round(saved / max(len(tokens), 1), 4), "words": words, "accepted": accepted,
            "words_completed": round(accepted / max(words, 1), 4), "curve": curve}


def split_text(model_dir: str, split: str) -> tuple[str, str]:
    """(text, its name) of a split of the data an export was trained on: the bundled Shakespeare's
    validation part, or a split of the bundled Korean corpus.

    Raises:
        UsageError: another corpus, or a split it does not have.
    """
    manifest = litert.load_manifest(model_dir)
    if manifest.get("input") == KEYBOARD:
        from pipelines.korean import SPLITS, split_texts

        if split not in SPLITS:
            raise UsageError(f"the Korean corpus has no {split!r} split: choose from {', '.join(SPLITS)}")
        return split_texts()[split], f"the Korean {split} split"
    if manifest.get("training_data", {}).get("source") == "shakespeare":
        if split != "validation":
            raise UsageError("the Shakespeare corpus has a validation split only (its last 10%)")
        from pipelines.text import load_corpus

        return load_corpus("shakespeare").validation, "the Shakespeare validation split"
    raise UsageError(f"{model_dir} was not trained on a bundled corpus (shakespeare, korean): give --text FILE")


def run_and_report(model_dir: str, text: str, source: str, json_path: str, model: str = "float", k: int = K,
                   command: str = "", adapt: bool = False) -> dict:
    """`python -m kerasrnn.bench keystrokes`: simulates (with `adapt`: without and with a personal model),
    writes the JSON, prints a summary line for each."""
    from pipelines.io import atomic_write_json

    completer = Autocompleter(model_dir, model, threads=1)
    unknown = completer.unknown(text)
    if unknown:
        print(f"notice: {len(unknown)} character(s) outside the model's vocabulary read as unknown: "
              f"{''.join(unknown[:20])!r}")
    unit = "keys" if completer.keyboard else "characters"
    name = os.path.basename(os.path.normpath(model_dir))
    runs = {}
    for personal in (False, True) if adapt else (False,):
        completer.personal = PersonalModel(completer.token_kind) if personal else None
        started = time.perf_counter()
        result = simulate(completer, text, k, log=print)
        seconds = time.perf_counter() - started
        result["seconds"] = round(seconds, 1)
        if personal:
            p = completer.personal
            result["personal"] = {"words": len(p.words), "pairs": len(p.pairs), "max_words": p.max_words,
                                  "max_pairs": p.max_pairs, "saved_bytes": len(json.dumps(
                                      p.to_json(), ensure_ascii=False, separators=(",", ":")).encode())}
        runs["with_personal" if personal else "without"] = result
        print(f"{name} ({model}{', adapted' if personal else ''}) on {source}: {len(text):,} characters, "
              f"{result['keystrokes']:,} keystrokes ({unit}) -> {result['pressed']:,} pressed: "
              f"{result['savings']:.1%} saved; {result['words_completed']:.1%} of {result['words']:,} words completed "
              f"by a top-{k} suggestion ({seconds:.0f} s)")
    head = {"command": command, "model": os.path.normpath(model_dir), "file": model, "text": source,
            "characters": len(text), "unit": unit, "k": k, "accept_cost": ACCEPT_COST, "block": BLOCK}
    if adapt:
        without, adapted = runs["without"], runs["with_personal"]
        ratio = adapted["savings"] / without["savings"] if without["savings"] else None
        print(f"adapted / without: {ratio:.2f}x" if ratio is not None else "adapted / without: (nothing saved without)")
        print("savings per 1,000 keystrokes, without: " + " ".join(f"{s:.0%}" for s in without["curve"]))
        print("savings per 1,000 keystrokes, adapted: " + " ".join(f"{s:.0%}" for s in adapted["curve"]))
        result = {**head, "adapt": True, **runs, "ratio": round(ratio, 3) if ratio is not None else None}
    else:
        result = {**head, **runs["without"]}
    result["cpu"] = describe(cpu_kind())
    atomic_write_json(json_path, result)
    print(f"wrote {json_path}")
    return result
