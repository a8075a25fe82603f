"""Preparing a corpus into shard files (`pipelines.prepare`): the same ids as reading it whole, the split rule,
bad input in one line, and an unfinished, concurrent or stale prepare never leaving a corrupt corpus."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from pipelines import prepare as prep
from pipelines import scan
from pipelines.bundled import bundled_path
from pipelines.io import DataError
from pipelines.shards import INDEX, open_prepared
from pipelines.text import load_corpus
from pipelines.vocab import Vocabulary

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_prepare(*args, env=None):
    return subprocess.run([sys.executable, "-m", "pipelines.prepare", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT, **(env or {})}, timeout=120)


def test_bundled_shakespeare_prepares_to_the_ids_of_today(tmp_path, monkeypatch):
    monkeypatch.setattr(scan, "CHUNK_BYTES", 100_003)  # many chunks, cut inside the split's chunk
    data = prep.prepare(bundled_path("shakespeare"), str(tmp_path / "sh"), shard_bytes=300_000, quiet=True)
    corpus = load_corpus("shakespeare")
    vocab = Vocabulary.build(corpus.train)
    assert data.vocab.tokens == vocab.tokens and len(vocab) == 66
    assert len(data.train.parts) == 4 and data.index["dtype"] == "uint8"
    np.testing.assert_array_equal(np.asarray(data.train), vocab.encode(corpus.train))
    np.testing.assert_array_equal(np.asarray(data.validation), vocab.encode(corpus.validation))
    for shard in data.index["train"]["shards"]:
        digest = hashlib.sha256(open(tmp_path / "sh" / shard["file"], "rb").read()).hexdigest()
        assert digest == shard["sha256"]


def test_multibyte_characters_cut_by_chunks_and_a_byte_order_mark(tmp_path, monkeypatch):
    monkeypatch.setattr(scan, "CHUNK_BYTES", 7)
    text = "가나다 é ü 😀 abc\n" * 50
    (tmp_path / "k.txt").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    data = prep.prepare(str(tmp_path / "k.txt"), str(tmp_path / "out"), quiet=True)
    cut = int(len(text) * 0.9)
    assert data.vocab.decode(np.asarray(data.train)) == text[:cut]
    assert data.vocab.decode(np.asarray(data.validation)) == text[cut:]


def test_max_vocab_keeps_the_most_frequent_ties_by_code_point(tmp_path):
    (tmp_path / "t.txt").write_text("aaaabbbcccdde" * 10 + "z", encoding="utf-8")
    data = prep.prepare(str(tmp_path / "t.txt"), str(tmp_path / "out"), max_vocab=2, quiet=True)
    assert data.vocab.tokens == ["<unk>", "a", "b"]  # b and c both 30 times: b by code point
    assert data.index["unknown"]["train"] > 0 and int(np.asarray(data.train).max()) == 2


def test_a_directory_splits_by_file_reproducibly(tmp_path):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    for i in range(30):
        (folder / ("sub" if i % 2 else "") / f"d{i:02d}.txt").write_text(f"document {i}\n" * 20, encoding="utf-8")
    (folder / ".hidden").write_text("never read", encoding="utf-8")
    data = prep.prepare(str(folder), str(tmp_path / "out"), quiet=True)
    splits = {os.path.relpath(s["path"], folder): s["split"] for s in data.index["sources"]}
    assert len(splits) == 30 and set(splits.values()) == {"train", "validation"}
    held = sorted(p for p, s in splits.items() if s == "validation")
    again = prep.prepare(str(folder / "**" / "*.txt"), str(tmp_path / "glob"), quiet=True)  # the same files by a glob
    assert sorted(os.path.relpath(s["path"], folder) for s in again.index["sources"] if s["split"] == "validation") == held
    text = data.vocab.decode(np.asarray(data.validation))
    assert text == "".join((folder / p).read_text(encoding="utf-8") for p in sorted(held, key=lambda p: str(folder / p)))


@pytest.mark.parametrize("content, message", [
    (b"good text " * 1000 + b"\xff more", "not UTF-8 text (bad byte at offset 10,000)"),
    (b"abc \xe4\xb8", "not UTF-8 text (bad byte at offset 4)"),
    (b"  \n\t\n ", "is empty"),
    (b"", "is empty"),
])
def test_bad_sources_are_one_line(tmp_path, monkeypatch, content, message):
    monkeypatch.setattr(scan, "CHUNK_BYTES", 4096)
    (tmp_path / "bad.txt").write_bytes(content)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")) as e:
        prep.prepare(str(tmp_path / "bad.txt"), str(tmp_path / "out"), quiet=True)
    assert "bad.txt" in str(e.value)
    assert not os.path.exists(tmp_path / "out" / INDEX)


def test_a_nul_byte_and_one_repeated_character_are_text(tmp_path):
    (tmp_path / "nul.txt").write_bytes(b"ab\x00cd" * 100)
    data = prep.prepare(str(tmp_path / "nul.txt"), str(tmp_path / "out"), quiet=True)
    assert "\x00" in data.vocab.tokens
    (tmp_path / "one.txt").write_bytes(b"x" * 100_000)
    data = prep.prepare(str(tmp_path / "one.txt"), str(tmp_path / "one"), shard_bytes=30_000, quiet=True)
    assert data.vocab.tokens == ["<unk>", "x"] and len(data.train) == 90_000 and len(data.train.parts) == 3


def test_a_file_growing_while_prepared_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "log.txt"
    path.write_text("line of a log\n" * 1000, encoding="utf-8")
    real = scan.code_points

    def growing(p, size, start=0):
        for item in real(p, size, start):
            with open(path, "a", encoding="utf-8") as f:
                f.write("a new line\n")
            yield item

    monkeypatch.setattr(scan, "code_points", growing)
    with pytest.raises(DataError, match="changed while it was being prepared"):
        prep.prepare(str(path), str(tmp_path / "out"), shard_bytes=4000, quiet=True)
    assert not os.path.exists(tmp_path / "out" / INDEX)
    assert not [n for n in os.listdir(tmp_path / "out") if prep.OURS.match(n)]  # no half-written shards left


def test_an_interrupted_prepare_leaves_no_index_and_a_rerun_starts_clean(tmp_path, monkeypatch):
    (tmp_path / "t.txt").write_text("some text to prepare\n" * 5000, encoding="utf-8")
    out = tmp_path / "out"
    real = prep.ShardWriter.close

    def killed(self):
        if self.split == "validation":
            raise KeyboardInterrupt
        return real(self)

    monkeypatch.setattr(prep.ShardWriter, "close", killed)
    with pytest.raises(KeyboardInterrupt):
        prep.prepare(str(tmp_path / "t.txt"), str(out), shard_bytes=10_000, quiet=True)
    assert not (out / INDEX).exists() and (out / prep.PARTIAL).exists()
    with pytest.raises(DataError, match="holds no index.json"):
        open_prepared(str(out))
    monkeypatch.setattr(prep.ShardWriter, "close", real)
    data = prep.prepare(str(tmp_path / "t.txt"), str(out), shard_bytes=10_000, quiet=True)
    assert len(data.train) + len(data.validation) == 21 * 5000 and not (out / prep.PARTIAL).exists()
    assert sorted(n for n in os.listdir(out) if n.endswith(".bin")) == \
        sorted(s["file"] for split in ("train", "validation") for s in data.index[split]["shards"])


def test_out_must_be_new_empty_or_the_same_corpus(tmp_path):
    (tmp_path / "a.txt").write_text("alpha text\n" * 100, encoding="utf-8")
    (tmp_path / "b.txt").write_text("beta text\n" * 100, encoding="utf-8")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(DataError, match="already holds other files"):
        prep.prepare(str(tmp_path / "a.txt"), str(tmp_path / "mine"), quiet=True)
    assert os.listdir(tmp_path / "mine") == ["notes.txt"]
    prep.prepare(str(tmp_path / "a.txt"), str(tmp_path / "out"), quiet=True)
    before = os.stat(tmp_path / "out" / INDEX).st_mtime_ns
    prep.prepare(str(tmp_path / "a.txt"), str(tmp_path / "out"), quiet=True)  # up to date: nothing rewritten
    assert os.stat(tmp_path / "out" / INDEX).st_mtime_ns == before
    with pytest.raises(DataError, match="prepared from other sources"):
        prep.prepare(str(tmp_path / "b.txt"), str(tmp_path / "out"), quiet=True)


def test_shards_so_small_they_would_be_too_many_files_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(prep, "MAX_SHARDS", 50)
    (tmp_path / "t.txt").write_text("text\n" * 100, encoding="utf-8")
    with pytest.raises(DataError, match="would make 500 files of 500 ids, more than 50: give a larger --shard-mb"):
        prep.prepare(str(tmp_path / "t.txt"), str(tmp_path / "out"), shard_bytes=1, quiet=True)
    assert not [n for n in os.listdir(tmp_path / "out") if prep.OURS.match(n)]
    assert len(prep.prepare(str(tmp_path / "t.txt"), str(tmp_path / "out"), shard_bytes=10, quiet=True).train.parts) == 45


def test_too_little_disk_space_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "t.txt").write_text("text\n" * 1000, encoding="utf-8")
    monkeypatch.setattr(prep.shutil, "disk_usage", lambda p: type("U", (), {"free": 100})())
    with pytest.raises(DataError, match="not enough free disk space .* needs"):
        prep.prepare(str(tmp_path / "t.txt"), str(tmp_path / "out"), quiet=True)


def test_the_cache_is_reused_and_a_changed_or_truncated_source_prepared_again(tmp_path, monkeypatch):
    monkeypatch.setenv(prep.CACHE_ENV, str(tmp_path / "cache"))
    path = tmp_path / "t.txt"
    path.write_text("first version\n" * 200, encoding="utf-8")
    first = prep.prepare_cached(str(path), quiet=True)
    assert first.directory.startswith(str(tmp_path / "cache")) and first.source == f"file:{path}"
    stamp = os.stat(os.path.join(first.directory, INDEX)).st_mtime_ns
    assert os.stat(os.path.join(prep.prepare_cached(str(path), quiet=True).directory, INDEX)).st_mtime_ns == stamp
    path.write_text("first version\n" * 100, encoding="utf-8")  # truncated
    again = prep.prepare_cached(str(path), quiet=True)
    assert len(again.train) + len(again.validation) == 14 * 100
    path.write_text("changed text!\n" * 100, encoding="utf-8")  # the same size, another text
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))
    assert "!" in prep.prepare_cached(str(path), quiet=True).vocab.tokens


def test_two_concurrent_prepares_of_one_source_give_one_sound_corpus(tmp_path):
    (tmp_path / "t.txt").write_text("".join(f"line {i} of a shared text\n" for i in range(200_000)), encoding="utf-8")
    args = [str(tmp_path / "t.txt"), "--out", str(tmp_path / "out"), "--shard-mb", "0.5"]
    env = {**os.environ, "PYTHONPATH": ROOT}
    procs = [subprocess.Popen([sys.executable, "-m", "pipelines.prepare", *args], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert [r[2] for r in results] == [0, 0], results
    data = open_prepared(str(tmp_path / "out"))
    text = (tmp_path / "t.txt").read_text(encoding="utf-8")
    assert data.vocab.decode(np.asarray(data.train)) + data.vocab.decode(np.asarray(data.validation)) == text
    for shard in data.index["train"]["shards"] + data.index["validation"]["shards"]:
        assert hashlib.sha256(open(tmp_path / "out" / shard["file"], "rb").read()).hexdigest() == shard["sha256"]


def test_the_command_prints_a_summary_or_one_line(tmp_path):
    (tmp_path / "t.txt").write_text("hello world\n" * 100, encoding="utf-8")
    done = run_prepare(str(tmp_path / "t.txt"), "--out", str(tmp_path / "out"))
    assert done.returncode == 0 and "1,080 training and 120 validation characters" in done.stdout
    assert "MB/s" in done.stderr
    index = json.loads((tmp_path / "out" / INDEX).read_text(encoding="utf-8"))
    assert index["sources"][0]["size"] == 1200 and index["dtype"] == "uint8"
    (tmp_path / "bad.txt").write_bytes(b"\xc3\x28 broken")
    bad = run_prepare(str(tmp_path / "bad.txt"), "--out", str(tmp_path / "bad"))
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "bad byte at offset 0" in bad.stderr
    missing = run_prepare(str(tmp_path / "none.txt"), "--out", str(tmp_path / "x"))
    assert missing.returncode == 2 and "no such file" in missing.stderr and "Traceback" not in missing.stderr


def test_an_empty_file_after_the_cut_and_a_loop_of_links(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("hello world\n" * 100, encoding="utf-8")  # no file's CRC-32 is 0 mod 10:
    (folder / "b.txt").write_text("more text\n" * 100, encoding="utf-8")  # one stream cut at 90%
    (folder / "c.txt").write_text("", encoding="utf-8")  # after the cut, no characters
    os.symlink("..", folder / "loop")  # a glob's ** must not read the files again through it
    for path in (folder, folder / "**" / "*.txt"):
        data = prep.prepare(str(path), str(tmp_path / f"out{len(str(path))}"), quiet=True)
        assert len(data.train) + len(data.validation) == 12 * 100 + 10 * 100
        assert [os.path.basename(s["path"]) for s in data.index["sources"]] == ["a.txt", "b.txt", "c.txt"]
    os.symlink("self", tmp_path / "self")
    with pytest.raises(DataError, match="loop of symbolic links"):
        prep.prepare(str(tmp_path / "self"), str(tmp_path / "out"), quiet=True)


def test_a_damaged_corpus_of_unchanged_sources_is_prepared_again(tmp_path, monkeypatch):
    monkeypatch.setenv(prep.CACHE_ENV, str(tmp_path / "cache"))
    (tmp_path / "t.txt").write_text("some text to prepare\n" * 500, encoding="utf-8")
    for make in (lambda: prep.prepare_cached(str(tmp_path / "t.txt"), quiet=True),
                 lambda: prep.prepare(str(tmp_path / "t.txt"), str(tmp_path / "out"), quiet=True)):
        first = make()
        os.truncate(os.path.join(first.directory, first.index["validation"]["shards"][0]["file"]), 7)
        with pytest.raises(DataError, match="is damaged"):
            open_prepared(first.directory)
        again = make()
        assert len(again.train) + len(again.validation) == 21 * 500 and again.fingerprint() == first.fingerprint()


def test_a_file_name_that_is_not_utf8_is_one_line(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(12):
        (folder / f"d{i}.txt").write_text(f"document {i}\n", encoding="utf-8")
    with open(os.path.join(os.fsencode(folder), b"x\xff.txt"), "wb") as f:
        f.write(b"text\n")
    for path in (folder, folder / "*.txt"):
        with pytest.raises(DataError, match=r"docs/x\\xff.txt: a file name that is not UTF-8: rename it"):
            prep.prepare(str(path), str(tmp_path / "out"), quiet=True)
