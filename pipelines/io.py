"""Small file helpers: atomic writes and strict UTF-8 reading with clear errors."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from typing import Any


MAX_TEXT_BYTES = 128 * 2**20  # the largest text file read whole (names to classify, an export's --text, keystrokes; a
# training corpus is prepared into shard files and streamed instead, `pipelines.prepare`, and `evaluate --text` of a run
# streams too: no size limit)
STREAMED = ("python -m kerasrnn.fit --text and python -m kerasrnn.evaluate RUN --text stream a text of any size")


class DataError(Exception):
    """Bad input data (missing, unreadable, empty or too short): a one-line message for the user."""


def user_cache_dir() -> str:
    """$XDG_CACHE_HOME, else ~/.cache: where kerasrnn's caches go (under kerasrnn/)."""
    return os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")


def public_mode(path: str) -> None:
    """Gives a file made by `tempfile` (mode 600, a directory 700) the mode an ordinary one would get (the umask's)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if os.path.isdir(path) else 0o666) & ~mask)


def missing_cause(path: str) -> str:
    """Why `path` cannot be opened, in words, for a path that `os.path.exists` calls missing: no such file, a
    folder on the way that cannot be entered (permission), a loop of symbolic links, a link to nothing, or
    the system's own reason."""
    import errno

    if not path:
        return "an empty name: name a file"
    folder = os.path.dirname(os.path.abspath(path))
    while folder and not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    blocked = [f for f in _parents(folder) if os.path.isdir(f) and not os.access(f, os.X_OK)]
    if blocked:
        return f"permission denied: cannot enter the folder {blocked[0]} (it holds {path})"
    try:
        os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return f"{path} is a link to {os.readlink(path)}, which does not exist"
        return f"no such file: {path}"
    except OSError as e:
        if e.errno == errno.ELOOP:
            return f"{path} is a loop of symbolic links (it never reaches a file)"
        if e.errno == errno.EACCES:
            return f"permission denied: a folder on the way to {path} cannot be entered"
        return f"cannot open {path}: {e.strerror}"
    return f"cannot open {path}"


def _parents(folder: str) -> list[str]:
    """`folder` and every folder above it, outermost first."""
    chain = []
    while True:
        chain.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            return chain[::-1]
        folder = parent


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Writes `data` to `path` through a temporary file and a rename, so readers never see half a file."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        public_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path: str, text: str) -> None:
    """Writes UTF-8 `text` to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str, obj: Any) -> None:
    """Writes `obj` as indented JSON to `path` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def read_text(path: str, max_bytes: int = MAX_TEXT_BYTES, too_big: str = "") -> str:
    """Reads a whole UTF-8 text file of at most `max_bytes` bytes.

    Args:
        too_big: why a bigger file is refused, for the message (default: the most read whole here, and what
            streams a text of any size).

    Raises:
        DataError: the file is missing, is a directory or anything but a regular file (a device such as
            /dev/zero, a pipe), is larger than `max_bytes`, is not UTF-8, or is empty.
    """
    if not os.path.exists(path):
        raise DataError(missing_cause(path))
    if os.path.isdir(path):
        raise DataError(f"expected a text file, got a directory: {path}")
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise DataError(f"{path} is not a regular file (a device or a pipe); give a text file")
        if not os.access(path, os.R_OK):
            raise PermissionError(13, "permission denied", path)
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}") from None
    if len(raw) > max_bytes:
        raise DataError(f"{path} is larger than {max_bytes:,} bytes, " +
                        (too_big or f"the most this command reads whole ({STREAMED})"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{path} is not UTF-8 text (bad byte at offset {e.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise DataError(f"{path} is empty")
    return text
