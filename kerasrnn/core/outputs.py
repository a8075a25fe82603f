"""Where a command may write: one rule for every output path of every command.

    1. An output file that already exists is refused, unless the command takes --force and it was given
       (and even then only a regular file is replaced: never a folder, a link, a FIFO or a device).
    2. Nothing is written into a run directory or an export folder that the command does not own
       (recognised by their marker files: a run's best.keras or .lock, or its config.json beside its
       vocab.json, metrics.json or history.csv; an export's manifest.json beside its models).
    3. The folder the file goes into is, or can be made, one where files can be created.

`kerasrnn.core.cli.check_output_file` and `check_output_dir` are these checks, called before any work.
"""

from __future__ import annotations

import os
import stat
import tempfile

RUN_MARKERS = ("best.keras",)  # alone marks a run directory; so does a `.lock` written by kerasrnn (`_our_lock`)
RUN_LOCK = ".lock"
RUN_CONFIG, RUN_COMPANIONS = "config.json", ("vocab.json", "metrics.json", "history.csv")  # or config.json + one
EXPORT_MANIFEST = "manifest.json"  # an export: manifest.json beside its models
EXPORT_COMPANIONS = ("saved_model", "model.tflite")


class OutputRefused(Exception):
    """An output path breaks the rule (turned into `cli.UsageError` by the callers)."""


def kind_of(folder: str) -> str | None:
    """"run directory" or "export" when the folder `folder` is one (by its marker files), else None."""
    try:
        if not os.path.isdir(folder):
            return None
        there = set(os.listdir(folder))
    except OSError:
        return None
    if there & set(RUN_MARKERS) or (RUN_CONFIG in there and there & set(RUN_COMPANIONS)) or \
            (RUN_LOCK in there and _our_lock(os.path.join(folder, RUN_LOCK))):
        return "run directory"
    if EXPORT_MANIFEST in there and there & set(EXPORT_COMPANIONS):
        return "export"
    return None


def _our_lock(path: str) -> bool:
    """Whether `path` is a lock file `kerasrnn.core.locks` wrote (a regular file holding {"pid": ..., "host": ...}),
    not another tool's `.lock` (pytest's, for one)."""
    import json

    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        with open(path, "rb") as f:
            record = json.loads(f.read(4096) or b"null")
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and "pid" in record and "host" in record


def owner_of(path: str, include_self: bool = True) -> tuple[str, str] | None:
    """The run directory or export that is `path` (with `include_self`) or holds it: (its kind, its path)."""
    folder = os.path.abspath(path)
    if not include_self:
        folder = os.path.dirname(folder)
    while True:
        kind = kind_of(folder)
        if kind:
            return kind, folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def check_not_inside_other(path: str, flag: str, owned: str | None = None, include_self: bool = True) -> None:
    """Raises OutputRefused when `path` is, or lies inside, a run directory or export other than `owned`."""
    found = owner_of(path, include_self)
    if found and (owned is None or os.path.abspath(owned) != found[1]):
        kind, folder = found
        raise OutputRefused(f"{flag} {path} is inside the {kind} {folder}, which this command does not write: "
                            f"choose a path outside it")


def check_file(path: str, flag: str, force: bool | None = None, owned: str | None = None) -> None:
    """The rule for one output file.

    Args:
        force: None when the command has no --force; else whether it was given.
        owned: a run directory or export the command writes itself (files may go there).
    Raises:
        OutputRefused: naming the path and the reason.
    """
    if not path:
        raise OutputRefused(f"{flag} is empty: name a file")
    if os.path.isdir(path):
        raise OutputRefused(f"{flag} {path} is a directory, not a file")
    check_not_inside_other(path, flag, owned, include_self=False)
    if os.path.lexists(path):
        if not force:
            how = "pass --force to replace it" if force is False else "choose another name, or move it away first"
            raise OutputRefused(f"{flag} {path} already exists: {how}")
        mode = os.lstat(path).st_mode
        if not stat.S_ISREG(mode):
            raise OutputRefused(f"{flag} {path} is not a regular file (a link, FIFO or device): --force replaces "
                                f"only a regular file")
    check_writable_parent(os.path.dirname(os.path.abspath(path)), path, flag)


def check_dir(path: str, flag: str, files: tuple[str, ...] = (), force: bool | None = None,
              owned: str | None = None) -> None:
    """The rule for an output folder and the `files` the command writes into it (each as `check_file`)."""
    if not path:
        raise OutputRefused(f"{flag} is empty: name a folder")
    if os.path.lexists(path) and not os.path.isdir(path):
        raise OutputRefused(f"{flag} {path} is a file, not a directory")
    check_not_inside_other(path, flag, owned)
    for name in files:
        check_file(os.path.join(path, name), flag, force, owned)
    check_writable_parent(path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path)), path, flag)


def check_writable_parent(folder: str, path: str, flag: str) -> None:
    """Raises OutputRefused unless files can be made in `folder` or in its nearest existing parent (tried with a
    temporary file, removed at once)."""
    folder = os.path.abspath(folder)
    while not os.path.lexists(folder):
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        raise OutputRefused(f"{flag} {path}: {folder} is a file, not a directory")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".kerasrnn-probe-")
        os.close(fd)
        os.remove(probe)
    except OSError as e:
        raise OutputRefused(f"{flag} {path}: cannot write in {folder} ({e.strerror})") from None
