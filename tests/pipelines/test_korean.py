"""The bundled Korean corpus: documents, sources and licences, and the fixed document-level split."""

import gzip
import json
import os
import re

import pytest

from pipelines import korean
from pipelines.io import DataError
from pipelines.korean_build import SEED, split_documents


@pytest.fixture(scope="module")
def documents():
    return korean.load_documents()


def test_the_corpus_is_small_clean_nfc_text_from_the_listed_packages(documents):
    import unicodedata

    assert os.path.getsize(os.path.join(korean.KOREAN_DIR, korean.CORPUS_FILE)) < 1_000_000
    sources = {d.source for d in documents.values()}
    assert sources == {"help", "libreoffice-ui", "firefox-ui", "thunderbird-ui", "kolaw"}  # no kobill
    assert all(d.package != "konlpy" or d.source == "kolaw" for d in documents.values())
    assert sum(len(d.text) for d in documents.values()) > 1_200_000
    accelerator = re.compile(r"\([_~&][A-Za-z0-9]\)")  # (_N) (~N) (&N) of interface strings
    for d in documents.values():
        assert d.text and d.text == unicodedata.normalize("NFC", d.text) and d.licence
        assert "\r" not in d.text and "%s" not in d.text and "\u318d" not in d.text  # (ㆍ became ·)
        assert d.source == "help" or not accelerator.search(d.text), d.id
    with open(os.path.join(korean.KOREAN_DIR, korean.BUILD_FILE), encoding="utf-8") as f:
        build = json.load(f)
    assert set(build["packages"]) == {"libreoffice-help-ko", "libreoffice-l10n-ko", "firefox-esr-l10n-ko",
                                      "thunderbird-l10n-ko", "konlpy"}
    assert all(len(p["sha256"]) == 64 for p in build["packages"].values())


def test_the_split_is_by_document_disjoint_complete_and_reproducible(documents):
    split = korean.load_split()
    parts = [set(split[name]) for name in korean.SPLITS]
    assert sum(map(len, parts)) == len(set().union(*parts)) == len(documents)
    chars = {name: sum(len(documents[i].text) for i in split[name]) for name in korean.SPLITS}
    total = sum(chars.values())
    assert 0.78 < chars["train"] / total < 0.82 and 0.09 < chars["test"] / total < 0.11
    assert "konlpy:kolaw/constitution.txt" in split["train"]
    assert split_documents(list(documents.values()), SEED) == split  # the file is what the rule gives
    texts = korean.split_texts()
    assert texts["test"].count("\n") >= len(split["test"]) - 1  # documents joined by line breaks
    assert texts["validation"].startswith(documents[split["validation"][0]].text)


def test_missing_or_corrupt_files_are_data_errors(tmp_path):
    with pytest.raises(DataError, match="no Korean corpus"):
        korean.load_documents(str(tmp_path))
    (tmp_path / korean.CORPUS_FILE).write_bytes(gzip.compress(b'{"id": "a", "text": '))
    with pytest.raises(DataError, match="corrupt"):
        korean.load_documents(str(tmp_path))
    with pytest.raises(DataError, match="cannot read the Korean split"):
        korean.load_split(str(tmp_path))
