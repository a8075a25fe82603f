"""The line at the end of a test run that counts the skipped browser and Node.js tests and names the command
that lets them run (tests/conftest.py's pytest_terminal_summary)."""

from __future__ import annotations

import os
import shutil
from types import SimpleNamespace

import pytest

import conftest
import kerasrnn.benchmarks.browser  # noqa: F401 - imported now, it binds the real WEB_DIR, not the fixture's


class Reporter:
    def __init__(self, skipped: list):
        self.stats, self.lines = {"skipped": skipped}, []

    def write_line(self, line: str, **markup) -> None:
        self.lines.append(line)


def skipped(reason: str):
    return SimpleNamespace(longrepr=("tests/x.py", 1, f"Skipped: {reason}"))


@pytest.fixture
def fresh_clone(monkeypatch, tmp_path):
    """No chromium, no Node.js, no web/node_modules: as on a fresh clone."""
    from kerasrnn.ondevice import web_server

    monkeypatch.setenv("KERASRNN_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html>")
    monkeypatch.setattr(web_server, "WEB_DIR", str(web))
    monkeypatch.setattr(conftest, "BROWSER_SKIPS", {"chromium is not installed"})


def test_one_line_counts_the_browser_skips_and_names_the_command(fresh_clone):
    reporter = Reporter([skipped("chromium is not installed")] * 27 + [skipped("something else")])
    conftest.pytest_terminal_summary(reporter, 0, None)
    assert len(reporter.lines) == 1, reporter.lines
    line = reporter.lines[0]
    assert line.startswith("27 browser and Node.js tests were skipped: run `") and line.endswith("` to include them")
    assert "apt-get install -y chromium nodejs npm && (cd web && npm ci)" in line


def test_nothing_is_printed_without_browser_skips(fresh_clone):
    reporter = Reporter([skipped("something else")])
    conftest.pytest_terminal_summary(reporter, 0, None)
    assert reporter.lines == []


@pytest.mark.skipif(shutil.which("node") is None, reason="no Node.js here")
def test_the_command_covers_only_what_is_missing(monkeypatch):
    """With chromium, Node.js and npm here, only what is missing is named (nothing: the reasons instead)."""
    monkeypatch.setattr(conftest, "BROWSER_SKIPS", {"why"})
    reporter = Reporter([skipped("why")])
    conftest.pytest_terminal_summary(reporter, 0, None)
    command = conftest.browser_setup_command()
    assert "nodejs" not in command and "npm " not in command.replace("npm ci", "")
    assert reporter.lines == [f"1 browser and Node.js tests were skipped: "
                              f"{'run `' + command + '` to include them' if command else 'they need: why'}"]
