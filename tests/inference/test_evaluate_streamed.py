"""`evaluate --text` and `--data` stream a text or a prepared corpus of any size (a temporary id file, positional
reads), give the figure of the same text read whole, and `--max-chars` caps what is measured, said in the output."""

import numpy as np
import pytest

from kerasrnn import evaluate
from kerasrnn.inference.evaluation import evaluate_loss, evaluate_run
from kerasrnn.models.loading import load_run
from pipelines import scan
from pipelines.encoded import encoded_text
from pipelines.io import DataError, read_text

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak. Ω\n" * 40  # Ω: not in the vocabulary


def test_a_streamed_text_gives_the_figure_of_the_text_in_memory_and_caps(tiny_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(scan, "CHUNK_BYTES", 1000)  # many chunks
    path = tmp_path / "t.txt"
    path.write_text(TEXT, encoding="utf-8")
    run = load_run(tiny_run)
    whole = evaluate_loss(run.model, run.vocab.encode(TEXT), run.config.seq_len)
    result = evaluate_run(tiny_run, str(path))
    assert result["characters"] == len(TEXT) and result["data"] == str(path)
    assert abs(result["loss_nats"] - whole) < 1e-4 and "'Ω'" in capsys.readouterr().err
    first = evaluate_loss(run.model, run.vocab.encode(TEXT[:1000]), run.config.seq_len)
    assert evaluate.main([tiny_run, "--text", str(path), "--max-chars", "1000"]) == 0
    out = capsys.readouterr().out
    assert f"the first 1,000 characters of {path} (--max-chars)" in out and f"{first:.4f} nats/char" in out
    assert "(--max-chars)" not in evaluate_run(tiny_run, str(path), max_chars=len(TEXT))["data"]  # all of it


def test_a_prepared_corpus_of_another_vocabulary_is_read_in_the_runs(tiny_run, tmp_path, capsys):
    from pipelines.prepare import prepare

    path = tmp_path / "other.txt"
    path.write_text(TEXT * 2, encoding="utf-8")
    data = prepare(str(path), str(tmp_path / "data"), quiet=True)  # a vocabulary of this text's characters only
    run = load_run(tiny_run)
    assert data.vocab.tokens != run.vocab.tokens
    validation = (TEXT * 2)[len(data.train):]
    expected = evaluate_loss(run.model, run.vocab.encode(validation), run.config.seq_len)
    result = evaluate_run(tiny_run, data_dir=str(tmp_path / "data"))
    assert result["characters"] == len(validation) and abs(result["loss_nats"] - expected) < 1e-4
    assert "'Ω'" in capsys.readouterr().err
    capped = evaluate_run(tiny_run, data_dir=str(tmp_path / "data"), max_chars=500)
    assert capped["characters"] == 500
    assert capped["data"] == f"the first 500 of {len(validation):,} characters of the validation split of " \
                             f"{tmp_path / 'data'} (--max-chars)"


def test_the_encoded_text_holds_a_chunk_at_a_time(tmp_path, monkeypatch):
    from pipelines.vocab import Vocabulary

    monkeypatch.setattr(scan, "CHUNK_BYTES", 2**20)
    path = tmp_path / "big.txt"
    with open(path, "w", encoding="ascii") as f:
        for _ in range(32):
            f.write("abcdefgh" * 2**17)  # 32 MiB in all
    before = resident()
    with encoded_text(str(path), Vocabulary.build("abcdefgh")) as text:
        assert len(text.ids) == 32 * 2**20 and not text.unknown and not text.capped
        assert text.ids.read(2**20 - 3, 6).tolist() == [6, 7, 8, 1, 2, 3]
        assert resident() - before < 16 * 2**20  # the text read whole: 32 MiB of text, 128 MiB of int32 ids
        ids_file = text.ids.names[0]
    import os

    assert not os.path.exists(ids_file)  # removed on leaving


def test_bad_texts_and_options_are_one_line(tiny_run, tiny_export, tmp_path, capsys):
    from pipelines.vocab import Vocabulary

    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="is empty"):
        with encoded_text(str(empty), Vocabulary.build("ab")):
            pass
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"abc\xff")
    with pytest.raises(DataError, match="not UTF-8"):
        with encoded_text(str(bad), Vocabulary.build("ab")):
            pass
    with pytest.raises(DataError, match="expected a text file"):
        with encoded_text(str(tmp_path), Vocabulary.build("ab")):
            pass
    assert evaluate.main([tiny_export, "--max-chars", "100"]) == 2
    assert "--max-chars measure a run" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        evaluate.main([tiny_run, "--text", str(bad), "--data", str(tmp_path)])


def test_a_text_too_big_to_read_whole_says_what_streams(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("x" * 100, encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_text(str(path), max_bytes=50)
    assert "evaluate RUN --text stream a text of any size" in str(e.value) and "kerasrnn reads" not in str(e.value)


def resident() -> int:
    """This process' resident memory in bytes."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
