"""A prepared corpus on disk: shard files of character ids and the `index.json` that describes them (no TensorFlow).

    DIR/
      index.json          format, vocabulary, id dtype, per split its shards (ids, sha256), the sources
                          (paths, sizes, mtimes) and the split rule; written last, so a folder without it
                          is an unfinished prepare
      train-00000.bin     the training ids, uint8 (vocabularies of up to 256 tokens), uint16 or uint32
      validation-00000.bin

A split is one sequence of ids cut into shards of at most `shard_bytes` bytes; `Split` reads it back with positional
reads (`ShardFile`: only the windows asked for are read, nothing is mapped) or wraps ids already in memory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from pipelines.io import DataError, atomic_write_json
from pipelines.schema import read_json_object
from pipelines.vocab import Vocabulary

INDEX = "index.json"
FORMAT = "kerasrnn-corpus"  # index.json's "format"
VERSION = 1  # index.json's "version"
SPLITS = ("train", "validation")
SHARD_BYTES = 256 * 2**20  # the default size of a shard file


def id_dtype(vocab_size: int) -> np.dtype:
    """The smallest unsigned type that holds every id of a vocabulary of `vocab_size` tokens."""
    return np.dtype(np.uint8 if vocab_size <= 2**8 else np.uint16 if vocab_size <= 2**16 else np.uint32)


def shard_name(split: str, number: int) -> str:
    """The file name of a split's shard, e.g. train-00003.bin."""
    return f"{split}-{number:05d}.bin"


class _Handle:
    """A file opened for reading on first use, closed when no `ShardFile` holds it any more."""

    def __init__(self, path: str):
        self.path, self._fd = path, None

    def fd(self) -> int:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY)
            except OSError as e:
                raise DataError(f"cannot read {self.path}: {e.strerror}") from None
        return self._fd

    def __del__(self):
        if self._fd is not None:
            os.close(self._fd)


class ShardFile:
    """The ids of one shard file, read with positional reads (`os.pread`), a window at a time.

    Nothing is mapped: the memory map this replaces counted every page a shuffled window had touched in the
    process' resident memory, which so grew with the corpus; read, the pages stay in the system's page cache.
    `file[a:b]` is a view of part of the file (nothing read); `read` and `gather` read ids in the file's dtype.
    """

    def __init__(self, path: str, dtype: np.dtype, count: int, start: int = 0, handle: "_Handle | None" = None):
        self.path, self.dtype, self.count, self.start = path, np.dtype(dtype), count, start  # start: first id
        self._handle = handle or _Handle(path)  # the open file, shared with views

    def __len__(self) -> int:
        return self.count

    def _fd(self) -> int:
        return self._handle.fd()

    def read(self, start: int, count: int) -> np.ndarray:
        """ids[start : start + count] in the file's dtype (shorter at the end)."""
        count = max(min(count, self.count - start), 0)
        size = self.dtype.itemsize
        raw = os.pread(self._fd(), count * size, (self.start + start) * size) if count else b""
        if len(raw) != count * size:
            raise DataError(f"{self.path} is shorter than its index.json says: it changed after it was prepared "
                            f"(prepare the corpus again)")
        return np.frombuffer(raw, self.dtype)

    def gather(self, starts: np.ndarray, length: int) -> np.ndarray:
        """The windows of `length` ids at each of `starts` (B,), (B, length) in the file's dtype."""
        out = np.empty((len(starts), length), self.dtype)
        for row, start in enumerate(starts.tolist()):
            out[row] = self.read(start, length)
        return out

    def __getitem__(self, key: slice) -> "ShardFile":
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("a shard file is read by contiguous slices")
        start, stop, _ = key.indices(self.count)
        return ShardFile(self.path, self.dtype, max(stop - start, 0), self.start + start, self._handle)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        ids = self.read(0, self.count)
        return ids if dtype is None else ids.astype(dtype)


class Split:
    """One split of a corpus: a sequence of ids held in one or more parts (shard files or arrays).

    `len(split)` is its number of ids; `split[a:b]` and `windows` read int32 ids, crossing parts as needed.
    """

    def __init__(self, parts: list, names: list[str] | None = None, table: np.ndarray | None = None):
        self.parts = [p for p in parts]  # each (n_i,) ids: a ShardFile or an array of any integer dtype
        self.names = names or [f"part {i}" for i in range(len(parts))]  # the shard files, for messages
        self.offsets = np.cumsum([0] + [len(p) for p in self.parts])  # (parts + 1,): where each part starts
        self.table = table  # (vocab,) int32: each stored id read as another vocabulary's (None: as stored)

    def __len__(self) -> int:
        return int(self.offsets[-1])

    @property
    def dtype(self) -> np.dtype:
        """The smallest type that holds every id read (the stored one, int32 when mapped)."""
        return np.dtype(self.parts[0].dtype if self.parts and self.table is None else np.int32)

    def head(self, count: int) -> "Split":
        """The first `count` ids, as a split of the same files (nothing read)."""
        parts, names, left = [], [], count
        for part, name in zip(self.parts, self.names):
            if left <= 0:
                break
            parts.append(part[:left])
            names.append(name)
            left -= len(parts[-1])
        return Split(parts, names, self.table)

    def mapped(self, table: np.ndarray) -> "Split":
        """The same ids read through `table` (stored id -> id), e.g. into a run's vocabulary."""
        return Split(self.parts, self.names, np.asarray(table, np.int32))

    def read(self, start: int, count: int, dtype=np.int32) -> np.ndarray:
        """ids[start : start + count] as `dtype` (shorter at the end of the split)."""
        end = min(start + count, len(self))
        out, at = [], start
        while at < end:
            part = int(np.searchsorted(self.offsets, at, side="right")) - 1
            stop = min(end, int(self.offsets[part + 1]))
            out.append(_ids(self.parts[part], int(at - self.offsets[part]), int(stop - at)))
            at = stop
        ids = np.concatenate(out) if out else np.zeros(0, self.dtype)
        return (ids if self.table is None else self.table[ids]).astype(dtype, copy=False)

    def __getitem__(self, key: slice) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("a Split is read by contiguous slices")
        start, stop, _ = key.indices(len(self))
        return self.read(start, max(stop - start, 0))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        ids = self.read(0, len(self))
        return ids if dtype is None else ids.astype(dtype)

    def windows(self, starts: np.ndarray, length: int) -> np.ndarray:
        """The windows of `length` ids at each of `starts` (B,), int32 (B, length); each must lie inside the split."""
        starts = np.asarray(starts, np.int64)
        out = np.empty((len(starts), length), np.int32)
        first = np.searchsorted(self.offsets, starts, side="right") - 1  # (B,) the part each window starts in
        inside = starts + length <= self.offsets[np.minimum(first + 1, len(self.parts))]  # (B,) ends in it too
        for part in np.unique(first[inside]).tolist():
            rows = np.flatnonzero(inside & (first == part))
            local = starts[rows] - self.offsets[part]
            piece = self.parts[part]
            out[rows] = piece.gather(local, length) if isinstance(piece, ShardFile) else \
                piece[local[:, None] + np.arange(length)[None, :]]
        if self.table is not None:
            out[inside] = self.table[out[inside]]
        for row in np.flatnonzero(~inside).tolist():  # a window that crosses into the next part (read() maps it)
            out[row] = self.read(int(starts[row]), length)
        return out


def _ids(part, start: int, count: int) -> np.ndarray:
    """part[start : start + count] of a shard file or an array."""
    return part.read(start, count) if isinstance(part, ShardFile) else part[start: start + count]


def in_memory(ids: np.ndarray) -> Split:
    """A split of ids already in memory."""
    return Split([np.asarray(ids)], ["memory"])


@dataclass
class Prepared:
    """A corpus as ids: its vocabulary and its two splits (from a prepared folder, or made in memory)."""

    source: str  # what it was made from: "shakespeare", "file:PATH", "data:DIR", ...
    vocab: Vocabulary  # the ids' vocabulary
    train: Split  # training ids
    validation: Split  # validation ids
    directory: str | None = None  # the prepared folder (None: in memory)
    index: dict | None = None  # its index.json

    def fingerprint(self) -> str | None:
        """A digest of every shard's sha256 (None in memory): two preparations of the same text share it."""
        if not self.index:
            return None
        import hashlib

        shards = [s.get("sha256", "") for split in SPLITS for s in self.index[split]["shards"]]
        return hashlib.sha256(" ".join(shards).encode()).hexdigest()[:32]


def write_index(folder: str, record: dict) -> None:
    """Writes index.json (atomically; the last file a prepare writes)."""
    atomic_write_json(os.path.join(folder, INDEX), {"format": FORMAT, "version": VERSION, **record})


def read_index(folder: str) -> dict:
    """The checked index.json of a prepared folder.

    Raises:
        DataError: no index (not prepared, or a prepare that did not finish), another format or a bad field.
    """
    path = os.path.join(folder, INDEX)
    if not os.path.isdir(folder):
        raise DataError(f"no such prepared corpus: {folder}")
    if not os.path.isfile(path):
        raise DataError(f"{folder} holds no {INDEX}: not a prepared corpus, or its prepare did not finish "
                        f"(run python -m pipelines.prepare again)")
    index = read_json_object(path)
    if index.get("format") != FORMAT or index.get("version") != VERSION:
        raise DataError(f"{path} is not a kerasrnn corpus index of version {VERSION}")
    for split in SPLITS:
        shards = index.get(split, {}).get("shards") if isinstance(index.get(split), dict) else None
        if not isinstance(shards, list) or not all(isinstance(s, dict) and isinstance(s.get("file"), str) and
                                                   isinstance(s.get("count"), int) for s in shards):
            raise DataError(f"{path}: field {split!r} must hold a list of shards with 'file' and 'count'")
    return index


def open_prepared(folder: str) -> Prepared:
    """Opens a prepared folder: its vocabulary and its shard files (sizes checked, nothing read).

    Raises:
        DataError: an unfinished or damaged folder (a shard missing or of the wrong size), in one line.
    """
    index = read_index(folder)
    vocab = Vocabulary.from_dict(index.get("vocabulary"), os.path.join(folder, INDEX))
    dtype = id_dtype(len(vocab))
    splits = {}
    for split in SPLITS:
        parts, names = [], []
        for shard in index[split]["shards"]:
            path = os.path.join(folder, os.path.basename(shard["file"]))
            want = shard["count"] * dtype.itemsize
            size = os.path.getsize(path) if os.path.isfile(path) else None
            if size != want:
                found = "is missing" if size is None else f"has {size:,} bytes, not {want:,}"
                raise DataError(f"prepared corpus {folder} is damaged: {os.path.basename(path)} {found} "
                                f"(prepare it again)")
            parts.append(ShardFile(path, dtype, shard["count"]) if want else np.zeros(0, dtype))
            names.append(path)
        splits[split] = Split(parts, names)
    return Prepared(f"data:{os.path.abspath(folder)}", vocab, splits["train"], splits["validation"],
                    os.path.abspath(folder), index)
