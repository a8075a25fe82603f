"""Streaming passes over UTF-8 source files, in chunks, never a whole file in memory (no TensorFlow).

    list_sources(PATH)        a file, a directory (every regular file under it, sorted) or a glob; neither
                              enters a link to a folder (a loop of links would never end)
    code_points(path, size)   the file's characters as code point arrays (uint8 for an ASCII chunk, else
                              uint32), chunk by chunk; a byte that is not UTF-8 is reported with its file and offset
    count_pass, cut_position, move_tail
                              which characters train and which validate, counted per split
    choose_vocabulary         the vocabulary of the training ones

The split: one source file (or several where fewer than two would validate) is cut by characters, the first
90% training and the last 10% validating, as a single file always was; with several files a whole file
validates when the CRC-32 of its path relative to the corpus root ends in 0 mod 10 (about one file in ten,
the same files whatever else is added).
"""

from __future__ import annotations

import fnmatch
import functools
import glob
import os
import stat
import sys
import time
import zlib
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from pipelines.bundled import TRAIN_FRACTION
from pipelines.io import DataError, missing_cause
from pipelines.vocab import UNK, Vocabulary

CHUNK_BYTES = 4 * 2**20  # bytes read at a time
CODE_POINTS = 0x110000  # Unicode's code points
BOM = 0xFEFF  # a byte order mark at the start of a file is not text
MAX_FILES = 100_000  # the most files a corpus folder may hold (a folder such as / is a mistake, not a corpus)


def list_sources(path: str, exclude: str | None = None) -> tuple[list[str], str]:
    """The source files of PATH (absolute, sorted) and the root their relative names are taken from.

    Raises:
        DataError: nothing there, a device or pipe, or no files.
    """
    if any(c in path for c in "*?[") and not os.path.exists(path):
        files = []
        for match in glob_files(path):
            if os.path.isfile(match):
                files.append(os.path.abspath(match))
                if len(files) > MAX_FILES:
                    raise DataError(f"{path} matches more than {MAX_FILES:,} files: give a narrower glob")
        files.sort()
        root = os.path.commonpath([os.path.dirname(f) for f in files]) if files else os.getcwd()
    elif os.path.isdir(path):
        root, files = os.path.abspath(path), []
        for folder, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(n for n in names if not n.startswith(".")):
                full = os.path.abspath(os.path.join(folder, name))
                try:
                    if stat.S_ISREG(os.stat(full).st_mode):
                        files.append(full)
                except OSError:
                    continue  # a dangling link, a file gone since
            if len(files) > MAX_FILES:
                raise DataError(f"{path} holds more than {MAX_FILES:,} files: give the folder of the text itself, "
                                f"or a glob")
    elif os.path.exists(path):
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise DataError(f"{path} is not a regular file (a device or a pipe); give a text file")
        files, root = [os.path.abspath(path)], os.path.dirname(os.path.abspath(path))
    else:
        raise DataError(missing_cause(path))  # no such file, a loop of links, a folder that cannot be entered
    if exclude:
        files = [f for f in files if not f.startswith(os.path.abspath(exclude) + os.sep)]
    if not files:
        raise DataError(f"{path} {'matches' if any(c in path for c in '*?[') else 'holds'} no files to read")
    for name in files:  # (the index records every path, in UTF-8)
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            shown = os.fsencode(name).decode("utf-8", "backslashreplace")
            raise DataError(f"{shown}: a file name that is not UTF-8: rename it, or leave it out with a glob") from None
    return files, root


def glob_files(pattern: str) -> Iterator[str]:
    """What `glob.iglob(pattern, recursive=True)` yields, except that `**` never enters a link to a folder (glob's
    does, and a link back to a folder above makes it endless: two such links double the work at every level)."""
    parts = pattern.split(os.sep)
    if "**" not in parts:
        yield from glob.iglob(pattern)  # no recursion: as deep as the pattern, links or not
        return
    fixed = next(i for i, part in enumerate(parts) if glob.has_magic(part))  # the leading folders, no wildcards
    base = os.sep.join(parts[:fixed]) or (os.sep if pattern.startswith(os.sep) else os.curdir)
    wanted = tuple(parts[fixed:])
    hidden = any(part.startswith(".") for part in wanted)  # else hidden folders are not entered, as glob's
    for folder, dirs, names in os.walk(base):  # (os.walk follows no link to a folder)
        dirs[:] = sorted(d for d in dirs if hidden or not d.startswith("."))
        relative = () if folder == base else tuple(os.path.relpath(folder, base).split(os.sep))
        for name in sorted(names):
            if _matches(wanted, relative + (name,)):
                yield os.path.join(folder, name)


@functools.lru_cache(maxsize=4096)
def _matches(wanted: tuple, names: tuple) -> bool:
    """Whether the path `names` (its components) matches the glob components `wanted` (`**`: any folders, none
    hidden; a name starting with "." only by a component that does too)."""
    if not wanted:
        return not names
    if wanted[0] == "**":
        return _matches(wanted[1:], names) or \
            (bool(names) and not names[0].startswith(".") and _matches(wanted, names[1:]))
    return bool(names) and (not names[0].startswith(".") or wanted[0].startswith(".")) and \
        fnmatch.fnmatchcase(names[0], wanted[0]) and _matches(wanted[1:], names[1:])


def code_points(path: str, size: int, start: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """Yields (byte offset, code points: uint8 for an ASCII chunk, else uint32) for the first `size` bytes of `path` from byte `start`
    (a character boundary), in chunks of about CHUNK_BYTES; a byte order mark opening the file is skipped.

    Raises:
        DataError: a byte that is not UTF-8 (file and offset), or a file that is now shorter than `size`.
    """
    with open(path, "rb") as f:
        f.seek(start)
        at, carry = start, b""
        while at < size:
            raw = carry + f.read(min(CHUNK_BYTES, size - at))
            if len(raw) == len(carry):
                raise DataError(f"{path} changed while it was being read (now shorter than {size:,} bytes): "
                                f"prepare it again once it is complete")
            at_raw = at - len(carry)
            at += len(raw) - len(carry)
            cut = len(raw)
            if at < size:  # keep a character cut by the chunk's end for the next chunk
                back = 0
                while back < 4 and back < len(raw) and raw[len(raw) - 1 - back] & 0xC0 == 0x80:
                    back += 1
                cut = len(raw) - back - 1 if back < len(raw) and raw[len(raw) - 1 - back] >= 0xC0 else len(raw)
            piece, carry = raw[:cut], raw[cut:]
            if piece.isascii():
                points = np.frombuffer(piece, np.uint8)  # ASCII: the bytes are the code points
            else:
                try:
                    points = np.frombuffer(piece.decode("utf-8").encode("utf-32-le"), np.uint32)
                except UnicodeDecodeError as e:
                    raise DataError(f"{path} is not UTF-8 text (bad byte at offset {at_raw + e.start:,})") from None
            if at_raw == 0 and len(points) and points[0] == BOM:
                points = points[1:]
            yield at_raw, points
        if carry:
            raise DataError(f"{path} is not UTF-8 text (a character cut short at offset {size - len(carry):,})")


@dataclass
class Source:
    """One source file as the first pass saw it."""

    path: str  # absolute path
    size: int  # bytes
    mtime_ns: int  # modification time
    chars: int = 0  # characters (a byte order mark left out)
    split: str = "cut"  # "train", "validation" or "cut" (in the character-cut stream)
    chunks: list = field(default_factory=list)  # (byte offset, characters before it in this file)


class Progress:
    """MB/s on stderr: a line that updates in a terminal, one line per pass otherwise."""

    def __init__(self, label: str, total: int, quiet: bool = False):
        self.label, self.total, self.done, self.quiet = label, total, 0, quiet
        self.started = self.shown = time.perf_counter()

    def to(self, done: int) -> None:
        """Records `done` bytes read so far."""
        self.done = done
        now = time.perf_counter()
        if not self.quiet and sys.stderr.isatty() and now - self.shown > 0.5:
            self.shown = now
            sys.stderr.write(f"\r{self.line(now)}")
            sys.stderr.flush()

    def line(self, now: float) -> str:
        rate = self.done / 1e6 / max(now - self.started, 1e-9)
        return f"{self.label}: {self.done / 1e6:,.1f} of {self.total / 1e6:,.1f} MB, {rate:,.0f} MB/s"

    def end(self) -> float:
        """Prints the final line; returns MB/s."""
        now = time.perf_counter()
        if not self.quiet:
            sys.stderr.write(("\r" if sys.stderr.isatty() else "") + self.line(now) +
                             f", {now - self.started:.1f} s\n")
        return self.done / 1e6 / max(now - self.started, 1e-9)


def stat_sources(files: list[str], root: str) -> list[Source]:
    """Each file's size and mtime, and its split (by file where that leaves both splits some files)."""
    sources = []
    for path in files:
        st = os.stat(path)
        sources.append(Source(path, st.st_size, st.st_mtime_ns))
    if len(sources) > 1:
        held_out = [zlib.crc32(os.path.relpath(s.path, root).encode("utf-8")) % 10 == 0 for s in sources]
        if 0 < sum(held_out) < len(sources):
            for s, out in zip(sources, held_out):
                s.split = "validation" if out else "train"
    return sources


def count_pass(sources: list[Source], quiet: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Pass 1: validates the UTF-8 and counts every character, per split.

    Returns:
        (training counts, validation counts), int64 (CODE_POINTS,) each; characters of the cut stream
        all count as training here (see `cut_position`).
    """
    counts = {"train": np.zeros(CODE_POINTS, np.int64), "validation": np.zeros(CODE_POINTS, np.int64)}
    progress = Progress("prepare, pass 1 of 2 (counting)", sum(s.size for s in sources), quiet)
    base = 0
    for s in sources:
        target = counts["validation" if s.split == "validation" else "train"]
        for offset, points in code_points(s.path, s.size):
            s.chunks.append((offset, s.chars))
            s.chars += len(points)
            if len(points):
                found = np.bincount(points)
                target[: len(found)] += found
            progress.to(base + offset)
        base += s.size
        progress.to(base)
    progress.end()
    return counts["train"], counts["validation"]


def cut_position(sources: list[Source]) -> int:
    """Characters of the cut stream (the sources split "cut", in order) that train: the first 90%."""
    return int(sum(s.chars for s in sources if s.split == "cut") * TRAIN_FRACTION)


def move_tail(sources: list[Source], cut: int, train: np.ndarray, validation: np.ndarray) -> None:
    """Moves the counts of the cut stream's characters after `cut` from `train` to `validation` (re-reads only
    that last tenth)."""
    before = 0
    for s in (s for s in sources if s.split == "cut"):
        if s.chars and before + s.chars > cut:  # (a file without characters has nothing to move)
            skip = max(cut - before, 0)  # characters of this file that train
            offset, chars = max((c for c in s.chunks if c[1] <= skip), key=lambda c: c[1])
            for _, points in code_points(s.path, s.size, offset):
                tail = points[max(skip - chars, 0):]
                chars += len(points)
                if len(tail):
                    found = np.bincount(tail)
                    train[: len(found)] -= found
                    validation[: len(found)] += found
        before += s.chars


def choose_vocabulary(train: np.ndarray, max_vocab: int = 0) -> Vocabulary:
    """<unk> then the training characters in code point order; with `max_vocab`, only the `max_vocab` most
    frequent of them (ties by code point), the rest becoming <unk>."""
    seen = np.flatnonzero(train)
    if max_vocab and len(seen) > max_vocab:
        order = np.lexsort((seen, -train[seen]))  # by count, most first; ties by code point
        seen = np.sort(seen[order[:max_vocab]])
    return Vocabulary.build([chr(int(c)) for c in seen])


def lookup_table(vocab: Vocabulary, dtype: np.dtype) -> np.ndarray:
    """Code point -> id, (CODE_POINTS,) of `dtype`; a character outside the vocabulary gets <unk>'s id."""
    table = np.full(CODE_POINTS, vocab.unk_id, dtype)
    for i, token in enumerate(vocab.tokens):
        if token != UNK and len(token) == 1:
            table[ord(token)] = i
    return table
