"""A text file of any size as ids of a given vocabulary (a trained run's), encoded in one streaming pass into a
temporary id file read back by positional reads (no TensorFlow): what `evaluate --text` measures.

    with encoded_text(path, vocab) as text:      # text.ids: a `pipelines.shards.Split`; text.unknown: characters
        ...                                      # outside the vocabulary; the id file is removed on leaving

A few megabytes of the text are in memory at a time, whatever its size; the ids take one byte a character on the
temporary folder's disk (two with more than 256 tokens).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from pipelines import scan
from pipelines.io import DataError, missing_cause
from pipelines.shards import ShardFile, Split, id_dtype
from pipelines.vocab import UNK, Vocabulary

MAX_UNKNOWN = 1000  # distinct unknown characters collected for the warning


@dataclass
class EncodedText:
    """A text file's ids, and what encoding it found."""

    path: str  # the text file
    ids: Split  # its ids (its first `max_chars` with a cap)
    capped: bool  # the cap stopped the reading before the end of the file
    unknown: list[str] = field(default_factory=list)  # distinct characters outside the vocabulary, sorted

    def warning(self) -> str | None:
        """The line that names the characters read as <unk>, if any."""
        if not self.unknown:
            return None
        return (f"warning: {len(self.unknown)}{'+' if len(self.unknown) >= MAX_UNKNOWN else ''} character(s) not "
                f"in the vocabulary mapped to {UNK}: {''.join(self.unknown[:20])!r}")


def check_text_file(path: str) -> int:
    """The size of `path`, a readable regular file.

    Raises:
        DataError: missing, a directory, a device or pipe, or unreadable.
    """
    if not os.path.exists(path):
        raise DataError(missing_cause(path))
    if os.path.isdir(path):
        raise DataError(f"expected a text file, got a directory: {path}")
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"{path} is not a regular file (a device or a pipe); give a text file")
    if not os.access(path, os.R_OK):
        raise DataError(f"cannot read {path}: permission denied")
    return st.st_size


@contextlib.contextmanager
def encoded_text(path: str, vocab: Vocabulary, max_chars: int = 0) -> Iterator[EncodedText]:
    """Encodes the UTF-8 file `path` with `vocab` into a temporary id file (removed on leaving the block).

    Args:
        max_chars: read only its first `max_chars` characters (0: all).
    Raises:
        DataError: a bad file (see `check_text_file`), a byte that is not UTF-8, an empty text, or no room for
            the ids in the temporary folder.
    """
    size = check_text_file(path)
    dtype = id_dtype(len(vocab))
    table = scan.lookup_table(vocab, dtype)  # code point -> id
    try:
        folder = tempfile.mkdtemp(prefix="kerasrnn-encoded-")
    except OSError as e:
        raise DataError(f"cannot make a temporary folder for the ids of {path} in {tempfile.gettempdir()}: "
                        f"{e.strerror} (set TMPDIR to a writable folder)") from None
    try:
        ids_path = os.path.join(folder, "ids.bin")
        count, capped, unknown = 0, False, set()
        try:
            with open(ids_path, "wb") as out:
                for _, points in scan.code_points(path, size):
                    if max_chars and count >= max_chars:  # full: is there more text after?
                        capped = len(points) > 0
                        if capped:
                            break
                        continue
                    if max_chars and count + len(points) > max_chars:
                        points, capped = points[: max_chars - count], True
                    ids = table[points]  # (chunk,) ids
                    if len(unknown) < MAX_UNKNOWN:
                        unknown.update(chr(int(c)) for c in np.unique(points[ids == vocab.unk_id])[:MAX_UNKNOWN])
                    out.write(ids.tobytes())
                    count += len(ids)
                    if capped:
                        break
        except OSError as e:
            raise DataError(f"cannot write the ids of {path} to {folder}: {e.strerror} (set TMPDIR to a folder "
                            f"with room for about {size:,} bytes)") from None
        if not count:
            raise DataError(f"{path} is empty")
        yield EncodedText(path, Split([ShardFile(ids_path, dtype, count)], [ids_path]), capped, sorted(unknown))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

