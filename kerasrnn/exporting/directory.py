"""The export directory, written atomically: every file goes into a temporary folder beside `out`,
which is renamed into place only when the task's writer has passed every check.

A killed export leaves only a hidden `.NAME.partial-*` folder, removed by the next export to
the same place; `out` itself is either the old export or the new one.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import time
from typing import Callable

from kerasrnn.core.cli import UsageError
from kerasrnn.ondevice import litert
from pipelines.io import atomic_write_json, public_mode

# A task's writer: (temporary folder, log, start time) -> the manifest of what it wrote there.
Writer = Callable[[str, Callable, float], dict]


def _partial_prefix(out: str) -> str:
    return os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.partial-")


def check_out(out: str, force: bool) -> str:
    """The absolute export path; raises UsageError when it exists and `force` is off."""
    out = os.path.abspath(out)
    if os.path.exists(out) and not force:
        raise UsageError(f"{out} already exists: pass --force to replace it")
    return out


def write_export(out: str, write: Writer, log=print) -> dict:
    """Runs `write` in a temporary folder beside `out`, adds manifest.json, and renames it to `out`.

    Returns:
        The manifest.
    Raises:
        Whatever `write` raises (ExportFailed for a failed check); nothing is left behind then.
    """
    os.makedirs(os.path.dirname(out), exist_ok=True)
    for stale in glob.glob(glob.escape(_partial_prefix(out)) + "*"):  # left by a killed export
        shutil.rmtree(stale, ignore_errors=True)
    tmp = tempfile.mkdtemp(prefix=os.path.basename(_partial_prefix(out)), dir=os.path.dirname(out))
    public_mode(tmp)
    started = time.perf_counter()
    try:
        manifest = write(tmp, log, started)
        atomic_write_json(os.path.join(tmp, litert.MANIFEST), manifest)
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _replace_dir(tmp: str, out: str) -> None:
    """Renames `tmp` to `out`; an existing `out` is moved aside first and removed after."""
    if not os.path.exists(out):
        os.rename(tmp, out)
        return
    old = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.old-", dir=os.path.dirname(out))
    os.rmdir(old)
    os.rename(out, old)
    os.rename(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
