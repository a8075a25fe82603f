"""The page in headless chromium (Playwright driving Debian's chromium) against the Python runtime: every
release model completes "ROMEO: wh" (the Korean one '파일을 기') as `python -m kerasrnn.complete` does (within
TOL), Backspace, Tab, unknown characters, an empty box, the model picker, a corrupt or missing model file, a
WASM heap that stays bounded over 2,000 keystrokes, and the Korean keyboard model: Hangul or jamo typed,
composed in the box, the keyboard's Backspace (닭 -> 달, 가기 -> 가ㄱ), suggestions in Hangul. Skipped with a one-line reason without chromium or `web/node_modules`
(a failure where KERASRNN_REQUIRE_BROWSER is set, as in CI).

KERASRNN_SCREENSHOT=docs/web-page.png also saves the page's picture there (the README's).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, skip_or_fail
from kerasrnn.inference.samplers import softmax
from kerasrnn.ondevice import litert
from kerasrnn.ondevice.autocomplete import Autocompleter
from kerasrnn.ondevice.hangul import keys_to_text, text_to_keys
from kerasrnn.ondevice.personal import PersonalModel

RELEASES = os.path.join(ROOT, "exported")
KOREAN = "korean-gru"
MODELS = [KOREAN, "shakespeare-gru", "shakespeare-lstm", "shakespeare-simplernn"]  # as the picker lists them
TYPED = {KOREAN: "파일을 기"}  # what each model is given to complete (the others: "ROMEO: wh")
# How far the page's probabilities may be from Python's. Float: 1e-4 (measured: 5e-7). Dynamic-range int8
# quantizes activations as it runs, and LiteRT's kernels round them differently: Python's own XNNPACK and
# builtin kernels give probabilities up to 1.9e-3 apart on these texts; the browser's WASM kernels were
# within 2e-7 of Python's XNNPACK for the GRU and LSTM, 2.6e-3 for the SimpleRNN (its logits 0.025).
TOL = {"float": 1e-4, "int8": 3e-3}
HEAP_BOUND = 4 << 20  # bytes the WASM heap may grow by over 2,000 keystrokes (the kept states take 0.7 MB)
SCREENSHOT_ENV = "KERASRNN_SCREENSHOT"


@pytest.fixture(scope="module")
def browser():
    from kerasrnn.benchmarks.browser import Browser, missing

    reason = missing()
    if reason:
        skip_or_fail(reason)
    with Browser() as b:
        yield b


def serve(models_dir: str):
    from kerasrnn.ondevice.web_server import make_server, start

    server = make_server(models_dir, port=0)
    start(server)
    return server


@pytest.fixture(scope="module")
def server(browser):
    s = serve(RELEASES)
    yield s
    s.shutdown()
    s.server_close()


def python_reference(name: str, kind: str, text: str, backspaces: int = 0, personal: dict | None = None) -> dict:
    """What `kerasrnn.complete` computes: the top-3 suggestions and the next-character probabilities after
    typing `text` and pressing Backspace `backspaces` times; a keyboard model's composed text. `personal`: the
    page's personal model (its saved form) after that typing, mixed into the suggestions as the page mixes it."""
    completer = Autocompleter(os.path.join(RELEASES, name), kind)
    completer.feed(text)
    completer.backspace(backspaces)
    if personal is not None:
        completer.personal = PersonalModel(personal["tokens"], model=completer.model_id)
        completer.personal.load_json(personal)
    banned = [completer.manifest["vocabulary"].index(t) for t in completer.manifest["specials"]]
    logits = completer._logits.astype(np.float64)
    logits[banned] = -np.inf
    return {"shown": [(s.word, s.prob) for s in completer.suggestions(3)], "next": softmax(logits),
            "text": completer.text}


def assert_same(state: dict, want: dict, vocabulary: list[str]) -> None:
    """The page shows Python's words, and their probabilities and the next characters' within TOL."""
    assert state["file"] == litert.WEB_FILES[state["kind"]]
    tol = TOL[state["kind"]]
    got = [(s["word"], s["prob"]) for s in state["shown"]]
    assert [w for w, _ in got] == [w for w, _ in want["shown"]], (got, want["shown"])
    assert max(abs(a - b) for (_, a), (_, b) in zip(got, want["shown"])) <= tol, (got, want["shown"])
    assert len(state["next"]) == 8
    for entry in state["next"]:
        assert abs(entry["prob"] - want["next"][vocabulary.index(entry["char"])]) <= tol


def type_text(opened, text: str) -> dict:
    opened.page.focus("#text")
    opened.page.keyboard.press("End")
    opened.page.keyboard.type(text)
    return opened.settled()


@pytest.mark.parametrize("kind", ["float", "int8"])
@pytest.mark.parametrize("name", MODELS)
def test_each_release_model_completes_like_python(browser, server, name, kind):
    opened = browser.open(f"{server.url}?model={name}&kind={kind}")
    state = opened.settled()
    assert state["error"] is None and state["ready"] and state["name"] == name and state["kind"] == kind
    vocabulary = litert.load_manifest(os.path.join(RELEASES, name))["vocabulary"]
    assert_same(state, python_reference(name, kind, "", personal=state["personal"]), vocabulary)  # the start state's words
    text = TYPED.get(name, "ROMEO: wh")
    state = type_text(opened, text)
    assert_same(state, python_reference(name, kind, text, personal=state["personal"]), vocabulary)
    if name == "shakespeare-gru":
        assert [s["word"] for s in state["shown"]] == ["what", "why", "where"]
    assert state["variant"] == "litert_wasm_internal.wasm"
    assert all(url.startswith(server.url) for url in opened.requests), opened.requests  # nothing leaves
    assert not opened.errors(), opened.errors()
    opened.close()


def test_backspace_restores_the_kept_state_and_tab_takes_a_suggestion(browser, server, tmp_path):
    opened = browser.open(f"{server.url}?model=shakespeare-gru")
    vocabulary = litert.load_manifest(os.path.join(RELEASES, "shakespeare-gru"))["vocabulary"]
    before = type_text(opened, "ROMEO: wh")
    type_text(opened, "at ")
    page = opened.page
    for _ in range(3):
        page.keyboard.press("Backspace")
    after = opened.settled()
    assert after["next"] == before["next"]  # bit for bit: the kept state
    assert "what" not in json.dumps(before["personal"]) and ["what", 1] in after["personal"]["words"]
    assert_same(after, python_reference("shakespeare-gru", after["kind"], "ROMEO: what ", 3, after["personal"]),
                vocabulary)  # and the personal model learned "what" (Backspace unlearns nothing)
    assert after["last"]["fed"] == 0 and after["last"]["back"] == 1  # nothing was run again
    assert "back 1 character to a kept state" in page.inner_text("#latency")
    page.keyboard.press("Tab")
    state = opened.settled()
    assert page.input_value("#text") == "ROMEO: what"
    assert_same(state, python_reference("shakespeare-gru", state["kind"], "ROMEO: what", personal=state["personal"]),
                vocabulary)
    shot = os.environ.get(SCREENSHOT_ENV) or str(tmp_path / "page.png")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    opened.settled()
    page.locator("main").screenshot(path=shot)
    with open(shot, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and 10_000 < len(data) < 400_000
    opened.close()


def test_unknown_characters_and_an_emptied_box(browser, server):
    opened = browser.open(f"{server.url}?model=shakespeare-lstm&kind=int8")
    vocabulary = litert.load_manifest(os.path.join(RELEASES, "shakespeare-lstm"))["vocabulary"]
    text = "Café ☃ naïve 😀"  # é, ☃, ï and the emoji (two UTF-16 units, one code point) are not in the vocabulary
    state = type_text(opened, text)
    assert_same(state, python_reference("shakespeare-lstm", "int8", text, personal=state["personal"]), vocabulary)
    page = opened.page
    page.keyboard.press("Backspace")  # the emoji: one kept state back
    state = opened.settled()
    assert page.input_value("#text") == "Café ☃ naïve " and state["last"]["fed"] == 0
    state = type_text(opened, "wh")
    assert_same(state, python_reference("shakespeare-lstm", "int8", "Café ☃ naïve wh", personal=state["personal"]),
                vocabulary)
    page.fill("#text", "")
    state = opened.settled()
    assert state["error"] is None
    assert_same(state, python_reference("shakespeare-lstm", "int8", "", personal=state["personal"]), vocabulary)
    opened.close()


def test_the_picker_offers_every_release_model_and_kind(browser, server):
    opened = browser.open(server.url)
    options = opened.page.eval_on_selector_all("#model option", "options => options.map(o => o.value)")
    assert options == [f"{name}|{kind}" for name in MODELS for kind in ("float", "int8")]
    state = opened.state()
    assert state["name"] == MODELS[0] and state["kind"] == "int8"  # the first one, int8 by default
    assert f"{MODELS[0]}/model_web_int8.tflite (int8, the default" in opened.page.inner_text("#status")
    assert opened.page.eval_on_selector("#model", "s => s.value") == f"{MODELS[0]}|int8"
    labels = opened.page.eval_on_selector_all("#model option", "options => options.map(o => o.textContent)")
    assert [label.endswith("bits/key") for label in labels] == [name == KOREAN for name in MODELS for _ in "fi"]
    assert ["(default)" in label for label in labels] == [k == "int8" for _ in MODELS for k in ("float", "int8")]
    with opened.page.expect_navigation():
        opened.page.select_option("#model", "shakespeare-simplernn|int8")
    from kerasrnn.benchmarks.browser import READY, wait_until

    wait_until(opened.page, READY)
    state = opened.state()
    assert state["ready"] and state["name"] == "shakespeare-simplernn" and state["kind"] == "int8"
    opened.close()


def broken_copy(tmp_path, how: str) -> str:
    """A models folder with the SimpleRNN release's manifest and web files, one of them broken `how`."""
    folder = tmp_path / "models" / "broken"
    folder.mkdir(parents=True)
    src = os.path.join(RELEASES, "shakespeare-simplernn")
    for name in (litert.MANIFEST, *litert.WEB_FILES.values()):
        shutil.copy(os.path.join(src, name), folder / name)
    path = folder / "model_web.tflite"
    data = bytearray(path.read_bytes())
    if how == "flipped":
        data[len(data) // 2] ^= 0xFF  # one byte changed: the sha256 no longer matches
    elif how == "truncated":
        data = data[:1000]  # not a model any more, and the manifest says this is right
        manifest = json.loads((folder / litert.MANIFEST).read_text(encoding="utf-8"))
        import hashlib

        manifest["files"]["model_web.tflite"]["sha256"] = hashlib.sha256(data).hexdigest()
        (folder / litert.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    path.write_bytes(bytes(data))
    if how == "missing":
        path.unlink()
    return str(tmp_path / "models")


@pytest.mark.parametrize("how,message", [
    ("flipped", "broken/model_web.tflite does not match its sha256 in manifest.json"),
    ("truncated", "cannot load broken/model_web.tflite: "),
    ("missing", "cannot fetch broken/model_web.tflite: HTTP 404"),
])
def test_a_broken_model_file_shows_the_pages_error(browser, tmp_path, how, message):
    server = serve(broken_copy(tmp_path, how))
    try:
        opened = browser.open(f"{server.url}?kind=float")  # the broken file (int8 is the default)
        state = opened.state()
        assert not state["ready"] and message in state["error"], state["error"]
        assert opened.page.is_visible("#error") and message in opened.page.inner_text("#error")
        assert opened.page.is_disabled("#text")
        opened.close()
        opened = browser.open(server.url)  # the other file, the default, is fine
        assert opened.state()["ready"]
        opened.close()
    finally:
        server.shutdown()
        server.server_close()


def test_the_wasm_heap_stays_bounded_over_2000_keystrokes(browser, server):
    opened = browser.open(f"{server.url}?model=shakespeare-gru")
    keys = opened.bench("return b.timeKeystrokes(app, args[0], args[1]);",
                        "ROMEO:\nWhat light through yonder window breaks? It is the east, and Juliet is the sun.\n",
                        2000)
    heap = [bytes_ for _, bytes_ in keys["heap"]]
    assert len(heap) == 21 and keys["steps"] > 2000 * 5  # each keystroke: one step and the search's
    assert max(heap) - heap[0] <= HEAP_BOUND, heap
    leak = opened.bench("return b.leakySteps(app, args[0]);", 6000)  # the control: deleting nothing
    assert leak["after"] - leak["before"] > HEAP_BOUND, leak  # the bound does see a leak of this size
    opened.close()


def complete_command(text: str) -> list[tuple[str, float]]:
    """`python -m kerasrnn.complete exported/korean-gru TEXT`'s words and probabilities (3 decimals)."""
    proc = subprocess.run([sys.executable, "-m", "kerasrnn.complete", os.path.join(RELEASES, KOREAN), text],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, check=True)
    return [(line.split()[0], float(line.split()[1])) for line in proc.stdout.splitlines() if line.startswith("  ")]


@pytest.fixture(scope="module")
def korean(browser, server):
    """One page of the Korean model, shared by the module's Korean tests (each empties the box first)."""
    opened = browser.open(f"{server.url}?model={KOREAN}")
    assert opened.state()["ready"]
    yield opened
    opened.close()


def korean_state(korean, typed: str, backspaces: int = 0, forget: bool = False) -> dict:
    """Empties the box (`forget`: and the personal model, by its button), types `typed` (each character inserted
    as an input method commits it), presses Backspace `backspaces` times; the page's state once settled, with
    the box's text."""
    page = korean.page
    page.fill("#text", "")
    korean.settled()
    if forget and not page.is_disabled("#forget"):
        page.click("#forget")
        korean.settled()
    type_text(korean, typed)
    for _ in range(backspaces):
        page.keyboard.press("Backspace")
    return {**korean.settled(), "box": page.input_value("#text")}


@pytest.mark.parametrize("typed, backspaces, shown", [
    ("기", 0, "기"), ("깋", 0, "깋"), ("기억", 0, "기억"), ("ㄱ", 0, "ㄱ"),
    ("ㄱㅣㅇㅓㄱ", 0, "기억"),  # jamo one at a time, as a keyboard without an input method sends them
    ("닭", 1, "달"),  # the keyboard's Backspace: one key of the open syllable
    ("가기", 1, "가ㄱ"),  # 가 was committed when ㅣ came
    ("가기", 3, ""), ("기억 속", 3, "기억 "),
])
def test_the_korean_model_composes_hangul_and_completes_like_python(korean, typed, backspaces, shown):
    state = korean_state(korean, typed, backspaces)
    want = python_reference(KOREAN, state["kind"], typed, backspaces, state["personal"])
    assert state["box"] == shown == want["text"]
    assert_same(state, want, litert.load_manifest(os.path.join(RELEASES, KOREAN))["vocabulary"])
    assert state["last"]["fed"] == 0 or not backspaces  # a Backspace goes back to a kept state: nothing re-read
    assert not korean.errors(), korean.errors()


def test_the_korean_page_shows_what_the_complete_command_prints_and_tab_types_keys(korean):
    state = korean_state(korean, "기", forget=True)  # no word learned: what the command prints, but for the
    assert not state["personal"]["words"]  # adapter's correction from the two keys typed (ㄱ, ㅣ)
    assert state["personal"]["adapter"]["steps"] == 2
    printed = complete_command("기")
    assert [s["word"] for s in state["shown"]] == [w for w, _ in printed]
    assert all(abs(s["prob"] - p) < 0.01 for s, (_, p) in zip(state["shown"], printed))
    vocabulary = litert.load_manifest(os.path.join(RELEASES, KOREAN))["vocabulary"]
    assert_same(state, python_reference(KOREAN, state["kind"], "기", personal=state["personal"]), vocabulary)
    first = state["shown"][0]
    assert text_to_keys(first["word"]) == "ㄱㅣ" + first["completion"]  # the completion is keys
    korean.page.keyboard.press("Tab")
    state = {**korean.settled(), "box": korean.page.input_value("#text")}
    assert state["box"] == first["word"] == keys_to_text("ㄱㅣ" + first["completion"])  # shown composed
    assert_same(state, python_reference(KOREAN, state["kind"], first["word"], personal=state["personal"]), vocabulary)
    state = korean_state(korean, "ㄱㅣ ")  # and the text box keeps the composition while more is typed
    assert state["box"] == "기 "


def test_an_input_methods_composition_is_read_as_it_goes_and_left_alone(korean):
    """An input method composing 기 -> 깅 -> 기어 and committing 기억 (Chromium's DevTools IME events): each
    step's suggestions are Python's for the text shown so far, and the box keeps the input method's text."""
    page = korean.page
    page.fill("#text", "")
    korean.settled()
    page.focus("#text")
    cdp = page.context.new_cdp_session(page)
    vocabulary = litert.load_manifest(os.path.join(RELEASES, KOREAN))["vocabulary"]
    for text in ("ㄱ", "기", "깅", "기어"):
        cdp.send("Input.imeSetComposition", {"text": text, "selectionStart": len(text), "selectionEnd": len(text)})
        state = korean.settled()
        assert page.input_value("#text") == text
        assert_same(state, python_reference(KOREAN, state["kind"], text, personal=state["personal"]), vocabulary)
    cdp.send("Input.insertText", {"text": "기억"})  # the input method commits
    state = korean.settled()
    assert page.input_value("#text") == "기억"
    assert_same(state, python_reference(KOREAN, state["kind"], "기억", personal=state["personal"]), vocabulary)
    cdp.detach()


def test_after_backspace_into_a_lone_jamo_the_box_and_the_suggestions_agree(korean):
    """기억, Backspace twice (the box shows 기ㅇ), then ㄱ ㅣ ㅎ: the box shows 기ㅇ깋 and the suggestions continue
    what it shows (기ㅇ기...; was 깅기할, the keys composed afresh), and Tab gives the box the first one."""
    state = korean_state(korean, "기억", 2)
    assert state["box"] == "기ㅇ"
    state = {**type_text(korean, "ㄱㅣㅎ"), "box": korean.page.input_value("#text")}
    assert state["box"] == "기ㅇ깋"
    completer = Autocompleter(os.path.join(RELEASES, KOREAN), state["kind"])  # the same keys in Python
    completer.feed("기억")
    completer.backspace(2)
    completer.feed("ㄱㅣㅎ")
    if state["personal"] is not None:
        completer.personal = PersonalModel(state["personal"]["tokens"], model=completer.model_id)
        completer.personal.load_json(state["personal"])
    assert completer.text == "기ㅇ깋"
    words = [s.word for s in completer.suggestions(3)]
    assert [s["word"] for s in state["shown"]] == words and all(w.startswith("기ㅇ기") for w in words), words
    korean.page.keyboard.press("Tab")
    korean.settled()
    assert korean.page.input_value("#text") == words[0]
