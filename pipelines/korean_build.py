"""`python -m pipelines.korean_build`: rebuild the bundled Korean corpus from Debian packages and a wheel.

Run once by a maintainer, never by users (they read `pipelines/data/korean/` with `pipelines.korean`).
Standard library only; needs `apt-get` and `dpkg-deb` (Debian/Ubuntu, package lists present:
`apt-get update`) and pip. Nothing is installed: `apt-get download` and `dpkg-deb -x` fetch and
unpack the four `-ko` packages into --work, and `pip download konlpy==0.6.0 --no-deps` fetches the
wheel, whose sha256 is checked.

Steps: read each source (`pipelines.korean_sources`), drop exact repeats of a line across the
software documents (first occurrence kept: help, LibreOffice, Firefox, Thunderbird; the constitution
is kept whole), split by document, write `korean.jsonl.gz` (gzip -9, no time stamp: the same input
gives the same bytes), `split.json` and `build.json`.

The split: within each source, the documents (sorted by id) are shuffled with a generator seeded by
"<seed>:<source>" and laid end to end; each goes to the split (train the first 80% of the characters,
then validation 10%, then test 10%) that holds its middle character. A single document (the
constitution) goes to train.

Example:
    python -m pipelines.korean_build --work build/korean --reuse
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from pipelines import korean_sources as sources
from pipelines.io import atomic_write_bytes, atomic_write_json
from pipelines.korean import BUILD_FILE, CORPUS_FILE, KOREAN_DIR, SPLIT_FILE, SPLITS
from pipelines.korean_sources import Document

DEB_PACKAGES = ("libreoffice-help-ko", "libreoffice-l10n-ko", "firefox-esr-l10n-ko", "thunderbird-l10n-ko")
KONLPY_WHEEL = "konlpy-0.6.0-py2.py3-none-any.whl"
KONLPY_SHA256 = "0b7928059e20eb1c72f6fe65a3d12c104fae9e68173904e16beef869cf0ea590"
SHARES = {"train": 0.8, "validation": 0.1, "test": 0.1}  # of each source's characters
SEED = 20261128
WHOLE_SOURCES = ("kolaw",)  # kept whole: not deduplicated against the software text


def _run(cmd: list[str], cwd: Path) -> str:
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(work: Path, reuse: bool) -> tuple[dict, Path]:
    """Downloads the .debs and the wheel into `work` and unpacks the .debs under work/root (no install).

    Returns:
        ({package: file, version, sha256, bytes}, the wheel's path).
    """
    work.mkdir(parents=True, exist_ok=True)
    if not (reuse and all(list(work.glob(f"{p}_*.deb")) for p in DEB_PACKAGES)):
        for old in work.glob("*.deb"):
            old.unlink()
        _run(["apt-get", "download", *DEB_PACKAGES], work)
    wheel = work / KONLPY_WHEEL
    if not (reuse and wheel.exists()):
        _run([sys.executable, "-m", "pip", "download", "konlpy==0.6.0", "--no-deps", "--only-binary=:all:",
              "-d", str(work), "-q"], work)
    if sha256(wheel) != KONLPY_SHA256:
        raise SystemExit(f"{wheel}: sha256 differs from the recorded {KONLPY_SHA256}")
    packages = {}
    for p in DEB_PACKAGES:
        (deb,) = work.glob(f"{p}_*.deb")
        target = work / "root" / p
        if not (reuse and target.exists()):
            _run(["rm", "-rf", str(target)], work)
            target.mkdir(parents=True)
            _run(["dpkg-deb", "-x", str(deb), str(target)], work)
        packages[p] = {"file": deb.name, "version": _run(["dpkg-deb", "-f", str(deb), "Version"], work).strip(),
                       "sha256": sha256(deb), "bytes": deb.stat().st_size}
    packages["konlpy"] = {"file": wheel.name, "version": "0.6.0", "sha256": KONLPY_SHA256,
                          "bytes": wheel.stat().st_size}
    return packages, wheel


def read_sources(root: Path, packages: dict, wheel: Path) -> list[Document]:
    """Every document, in the order that deduplication keeps first occurrences."""
    docs = sources.help_documents(root / "libreoffice-help-ko", packages["libreoffice-help-ko"]["version"])
    for p in DEB_PACKAGES[1:]:
        docs += sources.ui_documents(root / p, p, packages[p]["version"])
    return docs + sources.kolaw_documents(wheel)


def dedupe_lines(docs: list[Document]) -> int:
    """Drops exact repeats of a line across the software documents, in place; returns lines dropped."""
    seen: set[str] = set()
    dropped = 0
    for d in docs:
        if d.source in WHOLE_SOURCES:
            continue
        keep = []
        for line in d.text.split("\n"):
            if line in seen:
                dropped += 1
            else:
                seen.add(line)
                keep.append(line)
        d.text = "\n".join(keep)
    return dropped


def split_documents(docs: list[Document], seed: int = SEED) -> dict[str, list[str]]:
    """Split name -> sorted document ids: SHARES of each source's characters, by document (see the module doc)."""
    out: dict[str, list[str]] = {name: [] for name in SPLITS}
    for source in sorted({d.source for d in docs}):
        group = sorted((d for d in docs if d.source == source), key=lambda d: d.id)
        random.Random(f"{seed}:{source}").shuffle(group)
        total, start = sum(len(d.text) for d in group), 0
        for d in group:
            middle = (start + len(d.text) / 2) / total
            start += len(d.text)
            bound = 0.0
            for name in SPLITS:
                bound += SHARES[name]
                if middle < bound or name == SPLITS[-1]:
                    out[name].append(d.id)
                    break
    return {name: sorted(ids) for name, ids in out.items()}


def statistics(docs: list[Document], split: dict[str, list[str]]) -> dict:
    """Character and document counts of the corpus, per source and split."""
    by_id = {d.id: d for d in docs}
    chars = Counter("\n".join(d.text for d in docs))
    per = {name: Counter() for name in ("characters", "documents")}
    for d in docs:
        per["characters"][d.source] += len(d.text)
        per["documents"][d.source] += 1
    return {
        "documents": len(docs), "characters": sum(per["characters"].values()),
        "hangul_syllables": sum(n for c, n in chars.items() if 0xAC00 <= ord(c) <= 0xD7A3),
        "lines": sum(d.text.count("\n") + 1 for d in docs), "distinct_characters": len(chars),
        "distinct_hangul_syllables": sum(1 for c in chars if 0xAC00 <= ord(c) <= 0xD7A3),
        "characters_per_source": dict(sorted(per["characters"].items())),
        "documents_per_source": dict(sorted(per["documents"].items())),
        "characters_per_split": {s: sum(len(by_id[i].text) for i in ids) for s, ids in split.items()},
        "documents_per_split": {s: len(ids) for s, ids in split.items()},
        "characters_per_source_and_split": {
            src: {s: sum(len(by_id[i].text) for i in ids if by_id[i].source == src) for s, ids in split.items()}
            for src in sorted(per["characters"])},
    }


def build(work: Path, out: str, seed: int = SEED, reuse: bool = False) -> dict:
    """Fetches, reads, cleans, deduplicates, splits and writes the corpus into `out`; returns build.json."""
    started = time.perf_counter()
    packages, wheel = fetch(work.resolve(), reuse)
    docs = read_sources(work.resolve() / "root", packages, wheel)
    dropped = dedupe_lines(docs)
    docs = [d for d in docs if d.text]
    split = split_documents(docs, seed)
    lines = "".join(json.dumps(asdict(d), ensure_ascii=False) + "\n" for d in docs).encode("utf-8")
    atomic_write_bytes(os.path.join(out, CORPUS_FILE), gzip.compress(lines, 9, mtime=0))
    stats = statistics(docs, split)
    atomic_write_json(os.path.join(out, SPLIT_FILE), {
        "seed": seed, "shares": SHARES, "unit": "document, within each source",
        "characters": stats["characters_per_split"], **split})
    record = {"command": "python -m pipelines.korean_build " + " ".join(sys.argv[1:]), "packages": packages,
              "licences": sources.LICENCES, "duplicate_lines_dropped": dropped, **dict(sources.DROPPED),
              "stats": stats, "jsonl_bytes": len(lines),
              "corpus_sha256": hashlib.sha256(lines).hexdigest(), "seconds": round(time.perf_counter() - started, 1)}
    atomic_write_json(os.path.join(out, BUILD_FILE), record)
    return record


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="pipelines.korean_build", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--work", default=os.path.join("build", "korean"), help="where downloads are unpacked")
    p.add_argument("--out", default=KOREAN_DIR, help="where the corpus is written")
    p.add_argument("--seed", type=int, default=SEED, help="seed of the document split")
    p.add_argument("--reuse", action="store_true", help="reuse the downloads already in --work")
    args = p.parse_args(argv)
    record = build(Path(args.work), args.out, args.seed, args.reuse)
    print(json.dumps({k: record[k] for k in ("packages", "stats", "seconds")}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
