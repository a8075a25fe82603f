"""Shared fixtures: a small real text and one tiny trained run, made once per test session."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kerasrnn.core.cli import quiet_tensorflow
from pipelines.bundled import bundled_path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_ARGS = ["--units", "32", "--embedding-dim", "16", "--seq-len", "32", "--batch-size", "16",
             "--epochs", "2", "--verbose", "0"]  # a model that trains in seconds


# Prepended to a subprocess script: the listed packages then fail to import, as if not installed.
BLOCK_IMPORTS = """
import sys
for name in {names!r}:
    sys.modules[name] = None  # importing it now fails, as if it were not installed
"""


def pytest_configure(config):
    import atexit
    import shutil
    import tempfile

    # fit --text prepares into a cache: the tests' own, never the user's (subprocesses inherit it)
    if not os.environ.get("KERASRNN_CACHE"):
        os.environ["KERASRNN_CACHE"] = tempfile.mkdtemp(prefix="kerasrnn-test-cache-")
        atexit.register(shutil.rmtree, os.environ["KERASRNN_CACHE"], True)
    quiet_tensorflow()


@pytest.fixture(scope="session")
def tiny_text(tmp_path_factory) -> str:
    """The first 20,000 characters of the bundled Shakespeare, as a file."""
    with open(bundled_path("shakespeare"), encoding="utf-8") as f:
        text = f.read(20_000)
    path = tmp_path_factory.mktemp("data") / "tiny.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, tiny_text) -> str:
    """A run directory trained by `kerasrnn.fit` on `tiny_text` (2 epochs, GRU-32)."""
    from kerasrnn import fit

    run_dir = str(tmp_path_factory.mktemp("runs") / "tiny")
    assert fit.main(["--text", tiny_text, "--run-dir", run_dir, *TINY_ARGS]) == 0
    return run_dir


@pytest.fixture(scope="session")
def tiny_export(tiny_run, tmp_path_factory) -> str:
    """The session's tiny trained GRU run, exported."""
    out = str(tmp_path_factory.mktemp("exports") / "tiny-gru")
    from kerasrnn import export

    assert export.main([tiny_run, "--out", out]) == 0
    return out


def run_cli(module: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Runs `python -m module args...` in a fresh process, as a user would."""
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def run_main(module: str, *args: str) -> subprocess.CompletedProcess:
    """Runs `kerasrnn.<module>.main(args)` in this process, as `run_cli` runs it in a fresh one (without the
    5-10 s TensorFlow import of a new process): its exit status (argparse's exit included), stdout and stderr."""
    import contextlib
    import importlib
    import io

    main = importlib.import_module(module).main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse refuses an argument with exit status 2
            code = e.code
    return subprocess.CompletedProcess([module, *args], code, out.getvalue(), err.getvalue())


def interactive_session(export_dir: str, writes: list[tuple[float, bytes]],
                        extra: tuple[str, ...] | list[str] = ()) -> tuple[int, list[str]]:
    """Runs `complete EXPORT --interactive` (and `extra` arguments) in a pseudo-terminal, writing each (pause in
    seconds, bytes) in turn.

    Returns:
        (exit status, the frames it drew: what followed each "carriage return, clear line").
    """
    import pty
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: the command a user types in a terminal
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "kerasrnn.complete", export_dir, "--interactive", *extra])
    import select

    output = b""

    def read_until(seconds: float, drawn: bool) -> bool:  # reads until EOF, the deadline, or (drawn) a first frame
        nonlocal output
        deadline = time.time() + seconds
        while time.time() < deadline and not (drawn and b"\r\x1b[K" in output):
            if select.select([fd], [], [], 1.0)[0]:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    return False
                if not chunk:
                    return False
                output += chunk
        return True

    try:
        # the first frame is drawn once the terminal is in cbreak mode: wait for it, so that a loaded machine's
        # slow start never sends keys to a terminal still in line mode
        read_until(60, drawn=True)
        for pause, data in writes:
            time.sleep(pause)
            os.write(fd, data)
        read_until(30, drawn=False)
    finally:
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode("utf-8", "replace").split("\r\x1b[K")


SURNAME_ARGS = ["--units", "32", "--embedding-dim", "16", "--train-names", "3000", "--epochs", "3",
                "--learning-rate", "0.01", "--verbose", "0"]  # surname models that train in seconds


@pytest.fixture(scope="session")
def surname_classifier(tmp_path_factory) -> str:
    """A run directory of a tiny bidirectional GRU surname classifier."""
    from kerasrnn import fit

    run_dir = str(tmp_path_factory.mktemp("runs") / "surnames")
    assert fit.main(["--task", "surnames", "--run-dir", run_dir, *SURNAME_ARGS]) == 0
    return run_dir


@pytest.fixture(scope="session")
def surname_generator(tmp_path_factory) -> str:
    """A run directory of a tiny LSTM surname generator conditioned on nationality."""
    from kerasrnn import fit

    run_dir = str(tmp_path_factory.mktemp("runs") / "surname-generator")
    assert fit.main(["--task", "surname-generation", "--conditioned", "--cell", "lstm", "--run-dir", run_dir,
                     *SURNAME_ARGS]) == 0
    return run_dir


KOREAN_ARGS = ["--task", "korean", "--units", "24", "--embedding-dim", "8", "--seq-len", "32", "--batch-size", "128",
               "--epochs", "2", "--learning-rate", "0.01", "--verbose", "0"]  # a key model that trains in seconds


@pytest.fixture(scope="session")
def korean_run(tmp_path_factory) -> str:
    """A run directory of a tiny GRU over Korean keyboard keys (`--task korean`)."""
    from kerasrnn import fit

    run_dir = str(tmp_path_factory.mktemp("runs") / "korean")
    assert fit.main(["--run-dir", run_dir, *KOREAN_ARGS]) == 0
    return run_dir


@pytest.fixture(scope="session")
def korean_export(korean_run, tmp_path_factory) -> str:
    """The session's tiny Korean key model, exported."""
    from kerasrnn import export

    out = str(tmp_path_factory.mktemp("exports") / "korean")
    assert export.main([korean_run, "--out", out]) == 0
    return out


REQUIRE_BROWSER = "KERASRNN_REQUIRE_BROWSER"  # set (to 1) by .ci/run: the browser and Node tests must run there
BROWSER_SKIPS: set[str] = set()  # the reasons skip_or_fail gave: counted at the end of the run


def skip_or_fail(reason: str) -> None:
    """Skips a test that needs Node.js, chromium or web/node_modules with a one-line reason; fails instead
    where REQUIRE_BROWSER is set (CI installs them, so a skip there would hide a broken setup)."""
    if os.environ.get(REQUIRE_BROWSER, "") not in ("", "0"):
        pytest.fail(f"{reason} ({REQUIRE_BROWSER} is set)", pytrace=False)
    BROWSER_SKIPS.add(reason)
    pytest.skip(reason)


def browser_setup_command() -> str:
    """The one command that installs what the skipped browser and Node.js tests need here."""
    import importlib.util
    import shutil

    from kerasrnn.benchmarks.browser import find_chromium
    from kerasrnn.ondevice.web_server import WEB_DIR, check_web_dir

    steps = []
    if importlib.util.find_spec("playwright") is None:
        steps.append(f"{os.path.relpath(sys.executable)} -m pip install -e \".[test]\"")
    apt = [name for name, found in (("chromium", find_chromium()), ("nodejs", shutil.which("node")),
                                    ("npm", shutil.which("npm"))) if not found]
    if apt:
        steps.append(f"{'' if os.geteuid() == 0 else 'sudo '}apt-get install -y {' '.join(apt)}")
    try:
        check_web_dir(WEB_DIR)
    except Exception:  # UsageError: web/node_modules lacks the runtime
        steps.append("(cd web && npm ci)")
    return " && ".join(steps)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One line at the end of the run: how many browser and Node.js tests were skipped, and the command that
    lets them run (they are skipped on a fresh clone without chromium, Node.js or `npm ci`)."""
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if isinstance(r.longrepr, tuple) and r.longrepr[2].removeprefix("Skipped: ") in BROWSER_SKIPS]
    if skipped:
        command = browser_setup_command()
        how = f"run `{command}` to include them" if command else f"they need: {sorted(BROWSER_SKIPS)[0]}"
        terminalreporter.write_line(f"{len(skipped)} browser and Node.js tests were skipped: {how}", yellow=True)
