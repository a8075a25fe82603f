"""Lock files: a run directory or an export being written names the process that writes it, so that a
second writer stops with one line (exit status 2) instead of both writing the same files.

    acquire(path, what)   creates the lock file `path` (O_EXCL) holding this process's pid and host;
                          a lock whose process has died (same host) is stale and taken over
    release(path)         removes it (only a lock this process holds); every lock still held is
                          released when the process exits
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import time

from kerasrnn.core.cli import UsageError

UNWRITTEN_GRACE_S = 10.0  # a lock file still empty after this long was left by a process killed while creating it
_held: set[str] = set()  # absolute paths of the locks this process holds


def _owner(path: str) -> dict | None:
    """The lock's record ({"pid", "host", "since"}), None when it is empty or unreadable, {} when it is gone."""
    try:
        with open(path, encoding="utf-8") as f:
            record = json.loads(f.read() or "null")
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("pid"), int) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _is_stale(path: str, owner: dict | None) -> bool:
    """Whether the process that wrote the lock is gone (known only for a process on this host)."""
    if owner is None:
        try:
            return time.time() - os.path.getmtime(path) > UNWRITTEN_GRACE_S
        except OSError:
            return True
    return owner.get("host") == socket.gethostname() and owner["pid"] != os.getpid() and not _alive(owner["pid"])


def _take_over(path: str, owner: dict | None) -> bool:
    """Moves a stale lock out of the way (a rename: only one process can win it); False when the lock
    turned out to be another one by then (it is put back)."""
    aside = f"{path}.stale-{os.getpid()}"
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return True  # someone else removed it: try again
    if _owner(aside) != owner:  # a fresh lock replaced the stale one in between: give it back
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        os.remove(aside)
        return False
    os.remove(aside)
    return True


def acquire(path: str, what: str) -> None:
    """Takes the lock file `path` for this process (nothing to do when it holds it already).

    Args:
        path: the lock file.
        what: what it protects, for the message (e.g. "run directory runs/a").
    Raises:
        UsageError: another live process (or one on another host) holds it.
    """
    path = os.path.abspath(path)
    if path in _held:
        return
    for _ in range(5):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            if os.path.isdir(path) or not os.path.isfile(path):
                raise UsageError(f"{path} is {'a folder' if os.path.isdir(path) else 'not a regular file'}, not a "
                                 f"lock file (kerasrnn never makes one): remove it, then run again") from None
            owner = _owner(path)
            if owner == {}:
                continue  # removed since: try again
            if not _is_stale(path, owner):
                who = f"process {owner['pid']} on {owner.get('host', '?')}" if owner else "another process"
                raise UsageError(f"{what} is being written by {who} (lock file {path}): wait for it to finish, "
                                 f"or remove the lock file if no such process is running") from None
            if _take_over(path, owner):
                continue
            raise UsageError(f"{what} was just taken by another process (lock file {path})") from None
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%dT%H:%M:%S")}, f)
            f.flush()
            os.fsync(f.fileno())
        _held.add(path)
        return
    raise UsageError(f"could not take the lock of {what} ({path}): it keeps changing")


def release(path: str) -> None:
    """Removes the lock file `path` if this process holds it."""
    path = os.path.abspath(path)
    if path not in _held:
        return
    _held.discard(path)
    owner = _owner(path)
    if owner and owner.get("pid") == os.getpid():
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def release_all() -> None:
    """Releases every lock this process holds (also run when the process exits)."""
    for path in list(_held):
        release(path)


def holds(path: str) -> bool:
    """Whether this process holds the lock file `path`."""
    return os.path.abspath(path) in _held


atexit.register(release_all)
