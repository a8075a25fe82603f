"""The bundled Korean corpus: its documents and the fixed document-level split (no TensorFlow).

    pipelines/data/korean/
      korean.jsonl.gz   one document a line: id, source, package, version, licence, text
                        (NFC lines joined by "\\n"; see SOURCES.md)
      split.json        the sorted document ids of train, validation and test (about 80/10/10 of
                        the characters of each source, by document, seeded)
      build.json        the packages (versions, sha256), licences and figures of the build

    load_documents()    id -> Document
    load_split()        split name -> document ids
    split_texts()       split name -> its documents joined by DOCUMENT_SEPARATOR, in split order

Built once by a maintainer with `python -m pipelines.korean_build` (from Debian packages and the
konlpy wheel); users only read it.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import fields

from pipelines.bundled import DATA_DIR
from pipelines.io import DataError
from pipelines.korean_sources import Document

KOREAN_DIR = os.path.join(DATA_DIR, "korean")
CORPUS_FILE = "korean.jsonl.gz"
SPLIT_FILE = "split.json"
BUILD_FILE = "build.json"
SPLITS = ("train", "validation", "test")
DOCUMENT_SEPARATOR = "\n"  # between two documents of a split, as between two lines of one


def load_documents(folder: str = KOREAN_DIR) -> dict[str, Document]:
    """Every document of the corpus, by id, in file order.

    Raises:
        DataError: the file is missing or corrupt.
    """
    path = os.path.join(folder, CORPUS_FILE)
    if not os.path.exists(path):
        raise DataError(f"no Korean corpus at {path} (a maintainer builds it: python -m pipelines.korean_build)")
    names = {f.name for f in fields(Document)}
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            docs = [Document(**{k: v for k, v in json.loads(line).items() if k in names}) for line in f]
    except (OSError, EOFError, ValueError, TypeError) as e:
        raise DataError(f"{path} is corrupt ({type(e).__name__}: {e})") from None
    return {d.id: d for d in docs}


def load_split(folder: str = KOREAN_DIR) -> dict[str, list[str]]:
    """Split name -> its document ids (sorted).

    Raises:
        DataError: the file is missing or lacks a split.
    """
    path = os.path.join(folder, SPLIT_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return {name: list(data[name]) for name in SPLITS}
    except (OSError, ValueError, KeyError) as e:
        raise DataError(f"cannot read the Korean split {path} ({type(e).__name__}: {e})") from None


def split_texts(folder: str = KOREAN_DIR) -> dict[str, str]:
    """Split name -> the text of its documents joined by DOCUMENT_SEPARATOR.

    Raises:
        DataError: missing files, or a split naming a document the corpus lacks.
    """
    docs, split = load_documents(folder), load_split(folder)
    missing = sorted({i for ids in split.values() for i in ids} - docs.keys())
    if missing:
        raise DataError(f"the Korean split names {len(missing)} document(s) not in the corpus, e.g. {missing[0]}")
    return {name: DOCUMENT_SEPARATOR.join(docs[i].text for i in ids) for name, ids in split.items()}
