"""The export directory, written atomically: every file goes into a temporary folder beside `out`,
which is renamed into place only when the task's writer has passed every check.

`--force` replaces only what an export owns: an earlier export (its manifest.json says
"format": "kerasrnn-export") holding only the files its manifest lists, or an empty folder; never
a run, a folder of runs, a file, a link, or an export a user has put other files into (those are
named and nothing is changed). An export never goes inside a run or another export. The replacement is one atomic exchange of the two folders (Linux `renameat2`), so `out`
is at every moment either the old export or the new one. Where the system cannot exchange, the
old export is renamed aside to `.NAME.old-*` first; if the process dies before the new one is in
place, the next export to `out` puts the old one back (and removes any other leftover).

While an export is written, `.NAME.lock` beside `out` names its process (`kerasrnn.core.locks`):
a second export to the same place stops with one line. A killed export leaves only a hidden
`.NAME.partial-*` folder, removed by the next export to the same place.
"""

from __future__ import annotations

import ctypes
import errno
import glob
import os
import shutil
import sys
import tempfile
import time
from typing import Callable

from kerasrnn.core import locks, outputs
from kerasrnn.core.cli import UsageError, check_output_dir
from kerasrnn.ondevice import litert
from pipelines.io import atomic_write_json, public_mode

# A task's writer: (temporary folder, log, start time) -> the manifest of what it wrote there.
Writer = Callable[[str, Callable, float], dict]


def _hidden(out: str, kind: str) -> str:
    """The path prefix of the hidden files beside `out`: .NAME.partial-, .NAME.old-, .NAME.lock."""
    return os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.{kind}")


def is_export(path: str) -> bool:
    """Whether `path` is a folder holding a manifest.json this project wrote."""
    try:
        manifest = litert.read_manifest_json(os.path.join(path, litert.MANIFEST))
    except UsageError:
        return False
    return manifest.get("format") == litert.FORMAT


def check_out(out: str, force: bool, run_dir: str | None = None) -> str:
    """The absolute export path, once it is known that the export may be written there.

    Raises:
        UsageError: `out` exists and `force` is off; or it is not something `--force` may replace (a file, a
            link, a folder that is neither an export nor empty, an export holding files no export wrote); or
            it is, holds or lies inside the run being exported, or inside another run or export; or nothing
            can be created there.
    """
    if not out:
        raise UsageError("--out is empty: name the export folder")
    out = os.path.abspath(out)
    if run_dir is not None:
        run = os.path.abspath(run_dir)
        if run == out or run.startswith(out.rstrip(os.sep) + os.sep):
            raise UsageError(f"--out {out} is the run being exported, or holds it: choose another --out")
        if out.startswith(run.rstrip(os.sep) + os.sep):
            raise UsageError(f"--out {out} is inside the run being exported: choose a folder outside {run}")
    try:
        outputs.check_not_inside_other(out, "--out", include_self=False)
    except outputs.OutputRefused as e:
        raise UsageError(str(e)) from None
    restore_leftovers(out)
    if not os.path.lexists(out):
        check_output_dir(out, "--out")
        return out
    if not force:
        raise UsageError(f"{out} already exists: pass --force to replace it")
    if os.path.islink(out) or not os.path.isdir(out):
        raise UsageError(f"refusing to replace {out}: --force replaces an export folder, and this is not a folder")
    if os.listdir(out) and not is_export(out):
        raise UsageError(f"refusing to replace {out}: it is not a kerasrnn export (no manifest.json written by "
                         f"kerasrnn.export) and not empty; choose another --out")
    check_only_export_files(out)
    return out


def unknown_files(out: str) -> list[str]:
    """What the export folder `out` holds besides the files its manifest lists (and manifest.json itself):
    files a user put there, which --force must not delete."""
    try:
        listed = set(litert.read_manifest_json(os.path.join(out, litert.MANIFEST)).get("files") or {})
    except UsageError:
        listed = set()
    return sorted(set(os.listdir(out)) - listed - {litert.MANIFEST})


def check_only_export_files(out: str) -> None:
    """Raises UsageError when the export `out` holds files no export wrote (they would be lost by replacing it)."""
    if os.path.isdir(out) and not os.path.islink(out) and os.listdir(out):
        unknown = unknown_files(out)
        if unknown:
            shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            raise UsageError(f"refusing to replace {out}: it holds files its manifest does not list ({shown}); "
                             f"move them out of it, or choose another --out")


def restore_leftovers(out: str) -> None:
    """Cleans up after an export killed while replacing `out`: when `out` is missing, the newest old export
    renamed aside (`.NAME.old-*`) goes back in its place; every other old one is removed."""
    olds = sorted(glob.glob(glob.escape(_hidden(out, "old-")) + "*"), key=os.path.getmtime, reverse=True)
    if not os.path.lexists(out):
        for old in olds:
            if is_export(old):
                os.rename(old, out)
                olds.remove(old)
                print(f"notice: restored {out} (an export interrupted while replacing it had moved it aside)",
                      file=sys.stderr)
                break
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)


def write_export(out: str, write: Writer, log=print) -> dict:
    """Runs `write` in a temporary folder beside `out`, adds manifest.json, and puts it in place of `out`.

    Returns:
        The manifest.
    Raises:
        UsageError: another process is exporting to `out`.
        Whatever `write` raises (ExportFailed for a failed check); nothing is left behind then.
    """
    os.makedirs(os.path.dirname(out), exist_ok=True)
    lock = _hidden(out, "lock")
    locks.acquire(lock, f"export {out}")
    try:
        restore_leftovers(out)
        for stale in glob.glob(glob.escape(_hidden(out, "partial-")) + "*"):  # left by a killed export
            shutil.rmtree(stale, ignore_errors=True)
        tmp = tempfile.mkdtemp(prefix=os.path.basename(_hidden(out, "partial-")), dir=os.path.dirname(out))
        public_mode(tmp)
        started = time.perf_counter()
        try:
            manifest = write(tmp, log, started)
            atomic_write_json(os.path.join(tmp, litert.MANIFEST), manifest)
            _replace_dir(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        locks.release(lock)
    return manifest


def exchange(a: str, b: str) -> bool:
    """Swaps the folders `a` and `b` in one atomic step (Linux `renameat2(RENAME_EXCHANGE)`).

    Returns:
        False where the system or the file system cannot (nothing was changed then).
    """
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), b)


def _replace_dir(tmp: str, out: str) -> None:
    """Puts `tmp` in place of `out`: a rename when `out` does not exist, else an atomic exchange (or, where
    there is none, `out` renamed aside first; `restore_leftovers` repairs a kill in between)."""
    if not os.path.lexists(out):
        os.rename(tmp, out)
        return
    check_only_export_files(out)  # again, under the lock: a file put there since the first check
    if exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # the old export, now at the temporary name
        return
    old = tempfile.mkdtemp(prefix=os.path.basename(_hidden(out, "old-")), dir=os.path.dirname(out))
    os.rmdir(old)
    os.rename(out, old)
    os.rename(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
