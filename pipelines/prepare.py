"""`python -m pipelines.prepare PATH --out DIR`: encode a text corpus of any size once into shard files of ids.

PATH is a UTF-8 file, a directory (every file under it) or a quoted glob. Two streaming passes (count the
characters and check the UTF-8; then write the ids), a few MB in memory whatever the corpus' size; progress
with MB/s on stderr. `fit --text PATH` does the same into a cache folder, reused while the sources are unchanged.

Examples:
    python -m pipelines.prepare my_mails/ --out data/mails
    python -m pipelines.prepare "notes/**/*.txt" --out data/notes --max-vocab 500
    python -m kerasrnn.fit --data data/mails
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import time

import numpy as np

from pipelines import scan
from pipelines.io import DataError, user_cache_dir
from pipelines.shards import INDEX, SHARD_BYTES, SPLITS, Prepared, id_dtype, open_prepared, shard_name, write_index

PARTIAL = ".partial"  # in a folder while a prepare writes it (removed once its index is written)
LOCK = ".lock"  # held (flock) while a process prepares the folder; a second one waits
OURS = re.compile(r"^(train|validation)-\d{5}\.bin$|^\.tmp-")  # the files a prepare writes (and may remove)
MAX_SHARDS = 100_000  # shard files a prepare may write (a tiny --shard-mb would fill the folder with millions)
QUIET_BYTES = 10**7  # fit prepares sources smaller than this without progress lines (unless in a terminal)
CACHE_ENV = "KERASRNN_CACHE"  # overrides where `fit --text` keeps prepared corpora
SPLIT_RULE = ("one file (or files of which too few validate): the first 90% of the characters train, the last 10% "
              "validate; several files: a file validates when the CRC-32 of its relative path is 0 mod 10")


class ShardWriter:
    """Appends ids to a split's shard files of at most `shard_bytes` bytes each, every one written as .tmp-*
    and renamed once complete."""

    def __init__(self, folder: str, split: str, dtype: np.dtype, shard_bytes: int):
        self.folder, self.split, self.dtype = folder, split, dtype
        self.per_shard = max(shard_bytes // dtype.itemsize, 1)  # ids per shard
        self.shards: list[dict] = []
        self.file = None

    def write(self, ids: np.ndarray) -> None:
        ids = ids.astype(self.dtype, copy=False)
        while len(ids):
            if self.file is None:
                self.name = shard_name(self.split, len(self.shards))
                self.file = open(os.path.join(self.folder, ".tmp-" + self.name), "wb")
                self.count, self.hash = 0, hashlib.sha256()
            take = ids[: self.per_shard - self.count]
            data = take.tobytes()
            self.file.write(data)
            self.hash.update(data)
            self.count += len(take)
            ids = ids[len(take):]
            if self.count == self.per_shard:
                self.close()

    def close(self) -> list[dict]:
        """Finishes the open shard; returns every shard's record."""
        if self.file is not None:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.replace(os.path.join(self.folder, ".tmp-" + self.name), os.path.join(self.folder, self.name))
            self.shards.append({"file": self.name, "count": self.count, "sha256": self.hash.hexdigest()})
            self.file = None
        return self.shards


def source_records(sources: list[scan.Source]) -> list[dict]:
    return [{"path": s.path, "size": s.size, "mtime_ns": s.mtime_ns, "chars": s.chars, "split": s.split}
            for s in sources]


def check_free_space(folder: str, need: int) -> None:
    """Raises DataError when the disk of `folder` has less than `need` bytes free."""
    free = shutil.disk_usage(folder).free
    if free < need:
        raise DataError(f"not enough free disk space in {folder}: the prepared corpus needs {need / 1e6:,.0f} MB, "
                        f"{free / 1e6:,.0f} MB are free (free some, or prepare elsewhere with --out or {CACHE_ENV})")


def encode(folder: str, sources: list[scan.Source], max_vocab: int = 0, shard_bytes: int = SHARD_BYTES,
           quiet: bool | None = False) -> dict:
    """Both passes over `sources`, writing the shards into `folder` (already claimed); returns the index record.

    Raises:
        DataError: bad UTF-8, no characters, a source that changed while it was read, too little disk space.
    """
    started = time.perf_counter()
    if quiet is None:
        quiet = sum(s.size for s in sources) < QUIET_BYTES and not sys.stderr.isatty()
    train_counts, val_counts = scan.count_pass(sources, quiet)
    cut = scan.cut_position(sources)
    scan.move_tail(sources, cut, train_counts, val_counts)
    names = ", ".join(os.path.basename(s.path) for s in sources[:3]) + (", ..." if len(sources) > 3 else "")
    seen = np.flatnonzero(train_counts + val_counts)
    if not len(seen) or all(chr(int(c)).isspace() for c in seen):
        raise DataError(f"{names} is empty: no characters but white space, nothing to train on")
    vocab = scan.choose_vocabulary(train_counts, max_vocab)
    dtype = id_dtype(len(vocab))
    table = scan.lookup_table(vocab, dtype)
    total = int((train_counts + val_counts).sum())
    per_shard = max(shard_bytes // dtype.itemsize, 1)  # ids per shard (as ShardWriter cuts them)
    if total > MAX_SHARDS * per_shard:
        raise DataError(f"shards of {shard_bytes:,} bytes would make {-(-total // per_shard):,} files of "
                        f"{total:,} ids, more than {MAX_SHARDS:,}: give a larger --shard-mb")
    check_free_space(folder, total * dtype.itemsize + 2**20)
    writers = {split: ShardWriter(folder, split, dtype, shard_bytes) for split in SPLITS}
    progress = scan.Progress("prepare, pass 2 of 2 (writing ids)", sum(s.size for s in sources), quiet)
    base, streamed = 0, 0  # bytes of the sources done; characters of the cut stream written
    for s in sources:
        for offset, points in scan.code_points(s.path, s.size):
            ids = table[points]
            if s.split == "cut":
                keep = min(max(cut - streamed, 0), len(ids))
                writers["train"].write(ids[:keep])
                writers["validation"].write(ids[keep:])
                streamed += len(ids)
            else:
                writers[s.split].write(ids)
            progress.to(base + offset)
        base += s.size
        progress.to(base)
        now = os.stat(s.path)
        if (now.st_size, now.st_mtime_ns) != (s.size, s.mtime_ns):
            raise DataError(f"{s.path} changed while it was being prepared ({s.size:,} -> {now.st_size:,} bytes): "
                            f"prepare it again once it is complete")
    seconds = time.perf_counter() - started
    mb_s = progress.end()
    shards = {split: w.close() for split, w in writers.items()}
    known = [ord(t) for t in vocab.tokens if len(t) == 1]  # the code points of the vocabulary (<unk> left out)
    unknown = {split: int(counts.sum() - counts[known].sum())  # characters that became <unk>
               for split, counts in (("train", train_counts), ("validation", val_counts))}
    return {"vocabulary": json.loads(vocab.to_json()), "dtype": dtype.name, "max_vocab": max_vocab,
            "split_rule": SPLIT_RULE,
            **{split: {"chars": sum(x["count"] for x in shards[split]), "shards": shards[split]} for split in SPLITS},
            "unknown": unknown, "sources": source_records(sources),
            "prepare": {"seconds": round(seconds, 2), "mb_per_s": round(mb_s, 1)}}


def up_to_date(index: dict, sources: list[scan.Source], max_vocab: int) -> bool:
    """Whether a finished index was made from exactly these files, unchanged (size and mtime), with `max_vocab`."""
    old = [(r.get("path"), r.get("size"), r.get("mtime_ns")) for r in index.get("sources", [])]
    return old == [(s.path, s.size, s.mtime_ns) for s in sources] and index.get("max_vocab", 0) == max_vocab


def clear_ours(folder: str) -> None:
    """Removes what an unfinished prepare left in its folder (shards and temporary files only)."""
    for name in os.listdir(folder):
        if OURS.match(name):
            os.remove(os.path.join(folder, name))


def prepare(path: str, out: str, max_vocab: int = 0, shard_bytes: int = SHARD_BYTES, owned: bool = False,
            quiet: bool | None = False) -> Prepared:
    """Prepares PATH into `out` (reusing it when it is already up to date) and opens it.

    Args:
        owned: `out` is a cache folder kerasrnn made: a stale corpus there is replaced. Otherwise `out` must be
            new, empty, an unfinished prepare, or a finished one of the same sources.
    Raises:
        DataError: bad sources or output folder, in one line.
    """
    files, root = scan.list_sources(path, exclude=out)
    if os.path.lexists(out) and not os.path.isdir(out):
        raise DataError(f"--out {out} is a file, not a directory")
    foreign = [n for n in (os.listdir(out) if os.path.isdir(out) else [])
               if n not in (LOCK, PARTIAL, INDEX) and not OURS.match(n)]
    if foreign:
        raise DataError(f"--out {out} already holds other files ({sorted(foreign)[0]}): give a new or empty folder")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create the folder {out}: {e.strerror}") from None
    with open(os.path.join(out, LOCK), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another process preparing {out} ...", file=sys.stderr)
            fcntl.flock(lock, fcntl.LOCK_EX)
        sources = scan.stat_sources(files, root)
        if os.path.isfile(os.path.join(out, INDEX)):
            try:
                with open(os.path.join(out, INDEX), encoding="utf-8") as f:
                    index = json.load(f)
            except (OSError, ValueError):
                index = {}  # unreadable: not the same corpus
            if isinstance(index, dict) and up_to_date(index, sources, max_vocab):
                try:
                    return open_prepared(out)
                except DataError:
                    pass  # a shard missing or cut short since: prepared again below
            elif not owned:
                raise DataError(f"--out {out} holds a corpus prepared from other sources or options: choose another "
                                f"--out (or remove that folder)")
            os.remove(os.path.join(out, INDEX))
        open(os.path.join(out, PARTIAL), "w").close()
        clear_ours(out)  # an earlier prepare that did not finish: start clean
        try:
            record = encode(out, sources, max_vocab, shard_bytes, quiet)
        except BaseException:
            clear_ours(out)  # refused or interrupted: no shards left behind (the folder stays an unfinished prepare)
            raise
        write_index(out, record)
        os.remove(os.path.join(out, PARTIAL))
        return open_prepared(out)  # (under the lock: another process may prepare the folder again once it is free)


def cache_root() -> str:
    """Where `fit --text` keeps prepared corpora: $KERASRNN_CACHE, else $XDG_CACHE_HOME/kerasrnn/corpora (~/.cache)."""
    if os.environ.get(CACHE_ENV):
        return os.environ[CACHE_ENV]
    return os.path.join(user_cache_dir(), "kerasrnn", "corpora")


def cache_folder(path: str, max_vocab: int = 0) -> str:
    """The cache folder of a source PATH and vocabulary cap (one per absolute path and cap)."""
    key = hashlib.sha256(json.dumps([os.path.abspath(path), max_vocab]).encode()).hexdigest()[:16]
    return os.path.join(cache_root(), f"{os.path.basename(os.path.abspath(path).rstrip('/'))[:40]}-{key}")


def prepare_cached(path: str, max_vocab: int = 0, shard_bytes: int = SHARD_BYTES, quiet: bool | None = None) -> Prepared:
    """PATH prepared in the cache (`cache_folder`): reused while its sources are unchanged, else prepared again
    (with progress lines for sources of QUIET_BYTES or more, unless `quiet` says)."""
    prepared = prepare(path, cache_folder(path, max_vocab), max_vocab, shard_bytes, owned=True, quiet=quiet)
    prepared.source = f"file:{os.path.abspath(path)}"
    return prepared


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="pipelines.prepare", description=__doc__.splitlines()[0])
    p.add_argument("path", help="a UTF-8 text file, a directory of them, or a quoted glob (\"notes/**/*.txt\")")
    p.add_argument("--out", required=True, help="the folder to write (new or empty; rerun to continue an "
                                                "unfinished one); train with python -m kerasrnn.fit --data DIR")
    p.add_argument("--max-vocab", type=int, default=0, help="keep the N most frequent characters of the training "
                                                            "split, the rest become <unk> (0: keep all)")
    p.add_argument("--shard-mb", type=float, default=SHARD_BYTES / 2**20, help="size of a shard file in MiB")
    args = p.parse_args(argv)
    if args.max_vocab < 0 or not 0 < args.shard_mb <= 65536:
        p.error("--max-vocab must be 0 or more and --shard-mb in (0, 65536]")
    try:
        prepared = prepare(args.path, args.out, args.max_vocab, int(args.shard_mb * 2**20))
    except DataError as e:
        print(f"pipelines.prepare: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"pipelines.prepare: error: {e.strerror or e}" + (f" ({e.filename})" if e.filename else ""),
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pipelines.prepare: interrupted (run it again to start over)", file=sys.stderr)
        return 130
    index = prepared.index
    print(f"{args.out}: {index['train']['chars']:,} training and {index['validation']['chars']:,} validation "
          f"characters in {len(index['train']['shards']) + len(index['validation']['shards'])} shard(s), "
          f"vocabulary {len(prepared.vocab):,} ({index['dtype']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
