"""The page's personal word model in headless chromium (learned as Python learns it, kept in localStorage only,
forgotten by its button, a corrupt or foreign stored value ignored with a notice), and the page at a phone's
size (no sideways scroll at 390x844 or 360 px wide; KERASRNN_SCREENSHOT_PHONE=docs/web-page-phone.png saves
the picture) with a font stack that covers Hangul. Skipped like tests/ondevice/test_web_page.py without a
browser (a failure where KERASRNN_REQUIRE_BROWSER is set)."""

from __future__ import annotations

import base64
import json
import os

import numpy as np
import pytest

from kerasrnn.benchmarks.browser import READY, wait_until
from kerasrnn.ondevice import litert
from kerasrnn.ondevice.autocomplete import Autocompleter
from test_web_page import RELEASES, assert_same, browser, python_reference, server, type_text  # noqa: F401

NAME = "shakespeare-gru"
TEXT = "ROMEO: wherefore art thou? wherefore, Romeo? wh"
KEY = "kerasrnn.personal.characters"  # the page's localStorage key for models over characters
PHONE_SCREENSHOT_ENV = "KERASRNN_SCREENSHOT_PHONE"
HANGUL_FONTS = ("Apple SD Gothic Neo", "Malgun Gothic", "Noto Sans CJK KR", "NanumGothic")


def stored(opened):
    return opened.page.evaluate(f"localStorage.getItem({KEY!r})")


def reload(opened) -> dict:
    opened.page.reload()
    wait_until(opened.page, READY)
    return opened.settled()


def assert_close_adapters(got: dict, want: dict) -> None:
    """The page's adapter learned as Python's: the same model, sizes and steps; W and b within 1e-6 (the two
    runtimes' logits differ by about 5e-7 for the float file, 1e-3 for int8, and each step follows them)."""
    assert {k: got[k] for k in ("model", "rows", "columns", "steps")} == {
        k: want[k] for k in ("model", "rows", "columns", "steps")}
    for field in ("weights", "bias"):
        a, b = (np.frombuffer(base64.b64decode(x[field]), "<f8") for x in (got, want))
        assert np.abs(a - b).max() <= 1e-6 and np.abs(b).max() > 1e-4, field  # and it learned something


def test_the_page_learns_like_python_stores_locally_and_forgets(browser, server):  # noqa: F811
    opened = browser.open(f"{server.url}?model={NAME}")
    vocabulary = litert.load_manifest(os.path.join(RELEASES, NAME))["vocabulary"]
    state = opened.settled()
    assert state["personal"]["words"] == [] and state["notice"] is None and opened.page.is_disabled("#forget")
    state = type_text(opened, TEXT)
    reference = Autocompleter(os.path.join(RELEASES, NAME), state["kind"], personal=True)
    reference.feed(TEXT)
    want = reference.personal.to_json()
    adapter, want_adapter = state["personal"].pop("adapter"), want.pop("adapter")
    assert state["personal"] == want  # the same words, pairs and states, in the same order
    assert_close_adapters(adapter, want_adapter)
    state["personal"]["adapter"] = adapter
    assert ["wherefore", 2] in state["personal"]["words"]
    assert_same(state, python_reference(NAME, state["kind"], TEXT, personal=state["personal"]), vocabulary)
    assert "wherefore" in [s["word"] for s in state["shown"]]  # typed twice: now suggested
    assert "Learned from your typing: 5 words" in opened.page.inner_text("#personal")
    wait_until(opened.page, f"localStorage.getItem({KEY!r}) === JSON.stringify(window.kerasrnn.personal)", 10)
    assert json.loads(stored(opened)) == state["personal"]  # stored a moment after the typing stopped
    assert all(url.startswith(server.url) for url in opened.requests)  # never sent anywhere
    again = reload(opened)  # a new visit: the words are still there
    assert again["personal"] == state["personal"] and again["notice"] is None
    opened.page.click("#forget")
    state = opened.settled()
    assert state["personal"]["words"] == [] and stored(opened) is None and opened.page.is_disabled("#forget")
    assert_same(state, python_reference(NAME, state["kind"], ""), vocabulary)  # the plain model's suggestions
    assert not opened.errors(), opened.errors()
    opened.close()


@pytest.mark.parametrize("value, reason", [
    ("{not json", "could not be read (not JSON"),
    ('{"format": "kerasrnn-personal", "version": 1, "tokens": "keys-2beolsik", "words": [], "pairs": []}',
     "a personal model of keys-2beolsik"),  # another kind of model's words
    ('{"format": "kerasrnn-personal", "version": 1, "tokens": "characters", "words": [["a b", 1]], "pairs": []}',
     "not a word"),
    ('[1, 2]', "not a personal model"),
])
def test_a_corrupt_or_foreign_stored_value_is_ignored_with_a_notice(browser, server, value, reason):  # noqa: F811
    opened = browser.open(f"{server.url}?model={NAME}")
    opened.page.evaluate("([k, v]) => localStorage.setItem(k, v)", [KEY, value])
    state = reload(opened)
    assert state["ready"] and state["error"] is None and state["personal"]["words"] == []
    assert reason in state["notice"] and opened.page.is_visible("#personal-notice")
    assert reason in opened.page.inner_text("#personal-notice")
    assert stored(opened) == value  # left alone until a word is learned
    state = type_text(opened, "wherefore ")
    wait_until(opened.page, f"localStorage.getItem({KEY!r}) !== {json.dumps(value)}", 10)
    assert json.loads(stored(opened))["words"] == [["wherefore", 1]]
    assert not opened.errors(), opened.errors()
    opened.close()


@pytest.mark.parametrize("width, height", [(390, 844), (360, 740)])
def test_the_page_fits_a_phone_without_sideways_scrolling(browser, server, width, height, tmp_path):  # noqa: F811
    opened = browser.open(f"{server.url}?model={NAME}", viewport={"width": width, "height": height}, phone=True)
    assert opened.page.evaluate("matchMedia('(pointer: coarse)').matches")  # a touch screen
    type_text(opened, "ROMEO: wherefore art thou? wh")
    sizes = opened.page.evaluate("({scroll: document.documentElement.scrollWidth, inner: innerWidth,"
                                 " picker: document.querySelector('#model').getBoundingClientRect().right})")
    assert sizes["inner"] == width and sizes["scroll"] <= sizes["inner"], sizes  # was: 592 px at 390
    assert sizes["picker"] <= width, sizes
    wide = opened.page.evaluate("[...document.querySelectorAll('main *')].filter(e => "
                                "e.getBoundingClientRect().right > innerWidth + 0.5).map(e => e.id || e.tagName)")
    assert wide == [], wide
    shot = os.environ.get(PHONE_SCREENSHOT_ENV) if width == 390 else None
    opened.page.screenshot(path=shot or str(tmp_path / "phone.png"), full_page=True)
    with open(shot or tmp_path / "phone.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    opened.close()


def test_the_pages_fonts_cover_hangul(browser, server):  # noqa: F811
    opened = browser.open(f"{server.url}?model={NAME}")
    for selector in ("body", "#text", "#model"):
        family = opened.page.eval_on_selector(selector, "e => getComputedStyle(e).fontFamily")
        assert all(font in family for font in HANGUL_FONTS), (selector, family)
    opened.close()
