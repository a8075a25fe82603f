"""Model files checked before any library opens them: a regular file of sane size (not a FIFO, which would
hang the reader, nor a device such as /dev/zero, which never ends), readable, and for a `.keras` file (a
zip) members whose declared sizes are bounded (a zip bomb would fill the memory).

    check_model_file(path)   the file itself (best.keras, a .tflite)
    check_model_dir(path)    a folder of model files (saved_model/): every entry a regular file or a folder
    check_keras_zip(path)    a .keras file's central directory, read with zipfile, nothing decompressed
    describe_missing(path)   raises the real cause when `path` is not a usable folder
"""

from __future__ import annotations

import os
import stat
import zipfile

from kerasrnn.core.cli import UsageError
from pipelines.io import missing_cause

MAX_MODEL_BYTES = 4 * 2**30  # the largest model file read (a GRU of 4,096 units x 8 layers is about 1.6 GB)
MAX_UNZIPPED_BYTES = 4 * 2**30  # the most a .keras file's members may declare, in all
MAX_ZIP_RATIO = 50  # model weights hardly compress: members declaring 50x the file's size are a zip bomb
MAX_ZIP_MEMBERS = 10_000  # a .keras file holds three or four


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _stat(path: str) -> os.stat_result:
    """os.stat, or UsageError with the real cause (missing, permission, a loop of links)."""
    try:
        return os.stat(path)
    except OSError:
        raise UsageError(missing_cause(path)) from None


def check_model_file(path: str, max_bytes: int = MAX_MODEL_BYTES) -> None:
    """Raises UsageError unless `path` is a readable regular file of at most `max_bytes` (a link is followed)
    and, for a `.keras` file, a zip whose members declare sane sizes (`check_keras_zip`)."""
    if not os.path.exists(path):
        raise UsageError(missing_cause(path))
    st = _stat(path)
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{path} is a folder, not a model file")
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{path} is {_kind(st.st_mode)}, not a model file: a model is read from a regular file")
    if st.st_size > max_bytes:
        raise UsageError(f"{path} is {st.st_size / 2**30:.1f} GiB, more than the {max_bytes / 2**30:.0f} GiB "
                         f"a kerasrnn model file can be: not one of ours")
    if not os.access(path, os.R_OK):
        raise UsageError(f"cannot read {path}: permission denied")
    if path.endswith(".keras"):
        check_keras_zip(path, st.st_size)


def check_keras_zip(path: str, size: int) -> None:
    """Raises UsageError when the `.keras` zip cannot be a model: not a zip, too many members, or members
    declaring more uncompressed bytes than any model (a zip bomb). Reads only the central directory."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
        raise UsageError(f"cannot load {path}: corrupt or not a Keras model (not a readable zip: "
                         f"{str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise UsageError(f"cannot load {path}: it holds {len(members):,} members, not a Keras model")
    declared = sum(m.file_size for m in members)
    if declared > min(MAX_UNZIPPED_BYTES, MAX_ZIP_RATIO * size + 2**24):
        raise UsageError(f"cannot load {path}: its members declare {declared / 2**20:,.0f} MiB uncompressed from "
                         f"{size / 2**20:,.1f} MiB (a zip bomb, not a Keras model)")


def check_model_dir(path: str) -> None:
    """Raises UsageError unless the folder `path` (a SavedModel) holds only folders and regular files of sane
    size, none a link that leaves it."""
    st = _stat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{path} is {_kind(st.st_mode) if not stat.S_ISREG(st.st_mode) else 'a file'}, "
                         f"not a SavedModel folder")
    total = 0
    for folder, dirs, names in os.walk(path):
        for name in dirs + names:
            entry = os.path.join(folder, name)
            mode = os.lstat(entry).st_mode
            if stat.S_ISLNK(mode):
                raise UsageError(f"{entry} is a link: a SavedModel folder holds only its own files")
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise UsageError(f"{entry} is {_kind(mode)}, not a model file")
            total += os.lstat(entry).st_size if stat.S_ISREG(mode) else 0
    if total > MAX_MODEL_BYTES:
        raise UsageError(f"{path} holds {total / 2**30:.1f} GiB: more than a kerasrnn model can be")


def describe_missing(path: str, what: str) -> None:
    """Raises UsageError with the real cause when `path` is not a folder one can enter ("no such run directory",
    a folder on the way that cannot be entered, a loop of links, a file)."""
    folder = os.path.abspath(path)
    chain = [folder]
    while os.path.dirname(chain[-1]) != chain[-1]:
        chain.append(os.path.dirname(chain[-1]))
    for above in reversed(chain):
        if os.path.isdir(above) and not os.access(above, os.X_OK):
            raise UsageError(f"permission denied: cannot enter the folder {above}"
                             + (f" (it holds the {what} {path})" if above != folder else ""))
    if os.path.isdir(path):
        return
    if os.path.exists(path):  # (a link is followed)
        raise UsageError(f"{path} is a file, not a {what}")
    cause = missing_cause(path)
    if cause.startswith("no such file"):
        cause = f"no such {what}: {path}"
    raise UsageError(cause)
