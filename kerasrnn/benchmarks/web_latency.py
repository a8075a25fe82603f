"""Latency of the page in headless chromium, per exported model and kind: `python -m kerasrnn.bench web`.

For every export with web files, in fresh pages served by `kerasrnn.ondevice.web_server`:
  - page ready: ms from navigation start until the runtime and model are loaded and the first
    suggestions are shown (median of `loads` page loads; each fetches everything again, no cache);
  - one step: the batch-1 model on LiteRT.js, the state tensor passed straight back (median, p99);
  - one keystroke: feed one character of TYPED_TEXT (a Korean keyboard model: one key of KOREAN_TYPED_TEXT)
    and compute the top-3 suggestions, as the page does: without a personal model (`keystroke_ms`), and with
    one filled to its caps as in `bench export` (`latency.full_personal`: the words of the model's validation
    text, then made-up words), learning the words typed (`keystroke_personal_ms`; its entries at the end:
    `personal_entries`); median, p99;
  - the WASM heap before, during and after each run of keystrokes, and which WASM build the loader chose.
The record names the CPU (how many cpuinfo lines list avx512f: 0 is an AVX2-only machine), chromium, and the
load average before and after (the machine may be shared).
"""

from __future__ import annotations

import math
import os
import statistics

from kerasrnn.benchmarks.browser import Browser
from kerasrnn.benchmarks.latency import typed_text
from kerasrnn.benchmarks.machine import cpu_kind
from kerasrnn.core.cli import Failed
from kerasrnn.ondevice.hangul import KEYBOARD
from kerasrnn.ondevice.web_server import make_server, start

BARS = {"gru_keystroke_median_ms": 5.0, "gru_keystroke_personal_median_ms": 3.0, "page_ready_ms": 1500.0}


def summary(ms: list[float]) -> dict:
    """Median and p99 (nearest rank) in ms, and the count."""
    s = sorted(ms)
    p99 = s[min(len(s) - 1, math.ceil(0.99 * len(s)) - 1)]
    return {"median": round(statistics.median(s), 4), "p99": round(p99, 4), "n": len(s)}


def bench_model(browser: Browser, url: str, name: str, kind: str, steps: int, keystrokes: int, loads: int,
                keyboard: bool = False, personal: dict | None = None) -> dict:
    """One export and kind: page ready over `loads` fresh pages, then steps and keystrokes in the last
    (`keyboard`: a Korean keyboard model, typed key by key), without and with the saved personal model
    `personal` (`PersonalModel.to_json`; None: an empty one)."""
    ready, loaded = [], []
    for i in range(loads):
        opened = browser.open(f"{url}?model={name}&kind={kind}")
        state = opened.state()
        if not state["ready"]:
            opened.close()
            raise Failed(f"{name} ({kind}) did not load in the page: {state['error']}")
        ready.append(state["readyMs"])
        loaded.append(state["loadedMs"])
        if i < loads - 1:
            opened.close()
    typed = typed_text(keyboard)
    timed = opened.bench("return b.timeSteps(app, args[0], args[1]);", typed, steps)
    keys = opened.bench("return b.timeKeystrokes(app, args[0], args[1], 100, false);", typed, keystrokes)
    mine = opened.bench("return b.timeKeystrokes(app, args[0], args[1], 100, args[2]);", typed, keystrokes,
                        personal or True)
    timer = opened.bench("return b.timerResolutionMs();")
    opened.close()
    return {"page_ready_ms": {"median": round(statistics.median(ready), 1), "all": [round(r, 1) for r in ready]},
            "model_loaded_ms": round(statistics.median(loaded), 1),
            "step_ms": summary(timed["ms"]), "keystroke_ms": summary(keys["ms"]),
            "keystroke_personal_ms": summary(mine["ms"]),
            "steps_per_keystroke": round(keys["steps"] / keystrokes, 2),
            "steps_per_keystroke_personal": round(mine["steps"] / keystrokes, 2),
            "personal_entries": mine["personalEntries"],  # at the end of the personal run
            "heap_bytes": heap_figures(keys["heap"]), "heap_bytes_personal": heap_figures(mine["heap"]),
            "wasm": state["variant"], "timer_resolution_ms": timer["smallest"],
            "cross_origin_isolated": timer["crossOriginIsolated"], "errors": opened.errors()}


def heap_figures(samples: list) -> dict:
    """The WASM heap's bytes at the start, at most and at the end of a run of keystrokes."""
    heap = [h for _, h in samples]
    return {"start": heap[0], "max": max(heap), "end": heap[-1]}


def saved_personal(model_dir: str) -> dict:
    """The personal model `bench export` times with (`latency.full_personal`), as its save file's JSON."""
    from kerasrnn.benchmarks.latency import full_personal
    from kerasrnn.ondevice.autocomplete import Autocompleter

    return full_personal(Autocompleter(model_dir, "float"), model_dir).to_json()


def bench_web(models_dir: str, steps: int = 2000, keystrokes: int = 2000, loads: int = 3,
              only: list[str] | None = None) -> dict:
    """Every export (or those named in `only`) with web files, both kinds; a JSON-ready record."""
    server = make_server(models_dir, port=0)
    start(server)
    try:
        index = server.index()
        models = [m for m in index["models"] if not only or m["name"] in only]
        if not models:
            raise Failed(f"no export with web files in {models_dir}" + (f" named {', '.join(only)}" if only else ""))
        with Browser() as browser:
            load = os.getloadavg()[0]  # the machine may be shared: how busy it was
            result = {"machine": {**cpu_kind(), "chromium": browser.version}, "models": {}}
            for m in models:
                personal = saved_personal(os.path.join(models_dir, m["name"]))
                result["models"][m["name"]] = {
                    "model": f"{m['cell']} {m['layers']}x{m['units']}",
                    **{kind: {"file": f["file"], "bytes": f["bytes"],
                              **bench_model(browser, server.url, m["name"], kind, steps, keystrokes, loads,
                                            keyboard=m["input"] == KEYBOARD, personal=personal)}
                       for kind, f in m["files"].items()}}
    finally:
        server.shutdown()
        server.server_close()
    result["machine"]["load_average_1min"] = {"start": round(load, 2), "end": round(os.getloadavg()[0], 2)}
    result["settings"] = {"steps": steps, "keystrokes": keystrokes, "page_loads": loads, "threads": 1,
                          "typed_text": "kerasrnn.benchmarks.latency.TYPED_TEXT (a Korean keyboard model: the "
                                        "keys of KOREAN_TYPED_TEXT), cycled"}
    result["bars"] = check_bars(result)
    return result


def check_bars(result: dict) -> dict:
    """The targets: a GRU keystroke with suggestions <= 5 ms median (<= 3 ms with a full personal model), every
    page ready <= 1.5 s."""
    out = {"targets": BARS, "met": {}}
    for name, record in result["models"].items():
        for kind, figures in record.items():
            if kind == "model":
                continue
            met = figures["page_ready_ms"]["median"] <= BARS["page_ready_ms"]
            if record["model"].startswith("gru"):
                met = met and figures["keystroke_ms"]["median"] <= BARS["gru_keystroke_median_ms"]
                if "keystroke_personal_ms" in figures:
                    met = met and (figures["keystroke_personal_ms"]["median"]
                                   <= BARS["gru_keystroke_personal_median_ms"])
            out["met"][f"{name} {kind}"] = met
    return out


def format_table(result: dict) -> str:
    """One line per export and kind."""
    m = result["machine"]
    lines = [f"headless {m['chromium']}, {m['cpu']} ({m['cores']} cores, avx512f on {m['avx512f']}), 1 thread",
             f"  {'model':32s} {'ready ms':>9s} {'step ms p50/p99':>17s} {'keystroke ms p50/p99':>21s} "
             f"{'+ personal p50/p99':>21s}  wasm"]
    for name, record in result["models"].items():
        for kind, f in record.items():
            if kind == "model":
                continue
            lines.append(f"  {f'{name} {kind}':32s} {f['page_ready_ms']['median']:9.0f} "
                         f"{f['step_ms']['median']:8.3f}/{f['step_ms']['p99']:<8.3f} "
                         f"{f['keystroke_ms']['median']:10.3f}/{f['keystroke_ms']['p99']:<10.3f} "
                         f"{f['keystroke_personal_ms']['median']:10.3f}/{f['keystroke_personal_ms']['p99']:<10.3f} "
                         f"{f['wasm']}")
    bars = result["bars"]
    missed = [k for k, ok in bars["met"].items() if not ok]
    lines.append(f"  targets (GRU keystroke <= {BARS['gru_keystroke_median_ms']} ms median, "
                 f"<= {BARS['gru_keystroke_personal_median_ms']} ms with the personal model, ready <= "
                 f"{BARS['page_ready_ms']:.0f} ms): {'all met' if not missed else 'missed by ' + ', '.join(missed)}")
    return "\n".join(lines)


def run_and_report(models_dir: str, steps: int, keystrokes: int, loads: int, only: list[str] | None,
                   json_path: str, command: str = "") -> dict:
    """`python -m kerasrnn.bench web`: measures, writes the JSON, prints the table."""
    from pipelines.io import atomic_write_json

    result = bench_web(models_dir, steps, keystrokes, loads, only)
    os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
    atomic_write_json(json_path, {"command": command, **result})
    print(format_table(result))
    print(f"wrote {json_path}")
    return result
