"""The terminal picture of the documentation, made from the real `complete --interactive` screen.

A tmux session (its own server socket, 80 x 6) runs `python -m kerasrnn.complete
exported/shakespeare-gru --interactive`, the test types "ROMEO: wh" into it and reads the screen back
with `tmux capture-pane`; the suggestions must be the release model's. With
KERASRNN_TERMINAL_SCREENSHOT=docs/images/terminal-complete.png the screen is also drawn to that PNG
(matplotlib, monospace): the picture in README.md and docs/export.md. Skips where tmux is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMAND = "python -m kerasrnn.complete exported/shakespeare-gru --interactive"
TYPED = "ROMEO: wh"


def tmux(socket: str, *args: str) -> str:
    """Runs one tmux command on the test's own server; returns its stdout."""
    return subprocess.run(["tmux", "-L", socket, *args], check=True, capture_output=True, text=True,
                          timeout=30).stdout


def wait_for(socket: str, needle: str, timeout_s: float = 90.0) -> str:
    """Polls the pane until `needle` is on screen; returns the screen."""
    deadline = time.monotonic() + timeout_s
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux(socket, "capture-pane", "-p", "-t", "shot")
        if needle in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared; the screen was:\n{screen}")


def draw(lines: list[str], path: str) -> None:
    """Draws terminal lines, white on black in a monospace font, to a PNG written atomically."""
    sys.path.insert(0, ROOT)
    from kerasrnn.core.plots import new_figure, save_figure

    width = max(len(line) for line in lines)
    fig, ax = new_figure(figsize=(0.105 * width + 0.4, 0.24 * len(lines) + 0.3))
    fig.patch.set_facecolor("#1e1e1e")
    ax.set_axis_off()
    for i, line in enumerate(lines):
        ax.text(0.0, 1.0 - (i + 0.5) / len(lines), line, family="monospace", fontsize=11,
                color="#e0e0e0" if i else "#8fd18f", va="center", ha="left", transform=ax.transAxes)
    save_figure(fig, path)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_interactive_screen_shows_the_release_models_words(tmp_path):
    socket = f"kerasrnn-docs-{uuid.uuid4().hex[:8]}"
    env_python = sys.executable
    shell = f"cd {ROOT} && PYTHONPATH={ROOT} {env_python} -m kerasrnn.complete exported/shakespeare-gru --interactive"
    tmux(socket, "new-session", "-d", "-s", "shot", "-x", "80", "-y", "6", shell)
    try:
        wait_for(socket, "[")  # the start state's suggestions: the model is loaded
        tmux(socket, "send-keys", "-t", "shot", "-l", TYPED)
        screen = wait_for(socket, f"{TYPED}    [what")
        line = next(line for line in screen.splitlines() if line.startswith(TYPED))
        words = [part.split()[0] for part in line.split("[", 1)[1].rstrip("] ").split("|")]
        assert words == ["what", "why", "where"]
        target = os.environ.get("KERASRNN_TERMINAL_SCREENSHOT", "")
        if target:
            draw([f"$ {COMMAND}", line.rstrip()], os.path.join(ROOT, target))
        tmux(socket, "send-keys", "-t", "shot", "BSpace", "BSpace")
        wait_for(socket, "ROMEO:     [")  # Backspace twice: the suggestions of "ROMEO: "
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=30)
