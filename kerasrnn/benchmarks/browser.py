"""Headless chromium driven by Playwright, for the page's tests and `python -m kerasrnn.bench web`.

It drives the system's chromium (Debian's `apt-get install chromium`) through `executable_path`:
`playwright install` (a browser download) is never needed. The page's Content-Security-Policy forbids
evaluating strings in the page, which Playwright's `wait_for_function` does, so waiting is done here by
polling `page.evaluate` (run by the DevTools protocol, outside the policy).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field

from kerasrnn.core.cli import UsageError
from kerasrnn.ondevice.web_server import WEB_DIR, check_web_dir

CHROMIUM_ENV = "KERASRNN_CHROMIUM"  # a chromium binary to use instead of the one on PATH
CHROMIUM_NAMES = ("chromium", "chromium-browser")
# --no-sandbox: CI runs as root; the rest keeps chromium from reaching Google's services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--no-first-run", "--disable-extensions",
                 "--disable-domain-reliability", "--disable-client-side-phishing-detection"]
LITERT_LOG_PREFIXES = ("INFO:", "WARNING:")  # LiteRT logs these through console.error: not failures
READY = "window.kerasrnn && (window.kerasrnn.ready || window.kerasrnn.error) ? true : false"


def find_chromium() -> str | None:
    """The chromium binary: $KERASRNN_CHROMIUM, else chromium or chromium-browser on PATH."""
    if os.environ.get(CHROMIUM_ENV):
        path = os.environ[CHROMIUM_ENV]
        return path if os.access(path, os.X_OK) else None
    return next((path for path in map(shutil.which, CHROMIUM_NAMES) if path), None)


def missing(web_dir: str | None = WEB_DIR) -> str | None:
    """Why the page cannot be driven here (one line), or None: Playwright, chromium and (unless `web_dir`
    is None) the page's runtime from `npm ci` are needed."""
    import importlib.util

    if importlib.util.find_spec("playwright") is None:
        return 'Playwright is not installed: pip install -e ".[test]"'
    if find_chromium() is None and os.environ.get(CHROMIUM_ENV):
        return f"{CHROMIUM_ENV}={os.environ[CHROMIUM_ENV]} is not an executable file (unset it to use chromium on PATH)"
    if find_chromium() is None:
        return f"chromium is not installed (apt-get install chromium, or set {CHROMIUM_ENV} to one)"
    try:
        if web_dir is not None:
            check_web_dir(web_dir)
    except UsageError as e:
        return str(e)
    return None


def chromium_version(path: str) -> str:
    """`chromium --version`, or "?"."""
    try:
        return subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def wait_until(page, expression: str, timeout_s: float = 60, poll_s: float = 0.01):
    """Polls a page expression until it is truthy; returns its value. Raises TimeoutError."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout_s} s for {expression}")
        time.sleep(poll_s)


@dataclass
class OpenPage:
    """A page of the app, loaded: its Playwright page, what it logged and every URL it requested."""

    page: object
    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def state(self) -> dict:
        """The page's `window.kerasrnn` fields that tests read (JSON-safe)."""
        return self.page.evaluate("(({ready, error, busy, shown, next, last, name, kind, file, variant, loadedMs,"
                                  " readyMs, personal, notice}) => ({ready, error, busy, shown, next, last, name, kind,"
                                  " file, variant, loadedMs, readyMs, personal, notice}))(window.kerasrnn)")

    def settled(self, timeout_s: float = 30) -> dict:
        """Waits until no keystroke is queued; returns `state()`."""
        wait_until(self.page, "window.kerasrnn.busy === 0", timeout_s)
        return self.state()

    def bench(self, body: str, *args):
        """Runs a function body in the page with `b` (web/js/bench.js), `app` (window.kerasrnn) and `args`."""
        return self.page.evaluate("async (args) => { const b = await import('./js/bench.js');"
                                  f" const app = window.kerasrnn; {body} }}", list(args))

    def errors(self) -> list[str]:
        """Console errors and uncaught exceptions, LiteRT's own INFO/WARNING log lines left out."""
        return [line for line in self.console if line.startswith("pageerror")
                or (line.startswith("error: ") and not line[7:].startswith(LITERT_LOG_PREFIXES))]

    def close(self) -> None:
        self.page.close()


class Browser:
    """One headless chromium; `open` loads a URL in a fresh page (a fresh WASM runtime) and waits until the
    app is ready or shows an error.

    Raises:
        UsageError: Playwright or chromium is missing.
    """

    def __init__(self):
        reason = missing(web_dir=None)  # the page's own folder is its server's to check
        if reason:
            raise UsageError(reason)
        from playwright.sync_api import sync_playwright

        self.path = find_chromium()
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(executable_path=self.path, args=CHROMIUM_ARGS,
                                                             headless=True)
        except Exception:
            self._playwright.stop()
            raise
        self.version = chromium_version(self.path)

    def open(self, url: str, timeout_s: float = 60, viewport: dict | None = None, phone: bool = False) -> OpenPage:
        """`phone`: a touch screen and a mobile browser's layout (with `viewport`, e.g. 390x844)."""
        page = self._browser.new_page(viewport=viewport, is_mobile=phone, has_touch=phone,
                                      device_scale_factor=2 if phone else None)
        opened = OpenPage(page)
        page.on("console", lambda m: opened.console.append(f"{m.type}: {m.text[:300]}"))
        page.on("pageerror", lambda e: opened.console.append(f"pageerror: {e}"))
        page.on("request", lambda r: opened.requests.append(r.url))
        page.goto(url)
        wait_until(page, READY, timeout_s)
        return opened

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
