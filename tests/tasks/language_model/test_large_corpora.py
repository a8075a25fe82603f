"""Training on prepared corpora: fit --data and --text streamed from shard files, --max-val-chars, and a model
too big for the memory refused before it is built (the vocabulary named, --max-vocab offered)."""

import json
import os

import pytest

from conftest import TINY_ARGS
from kerasrnn import fit
from kerasrnn.core.config import Config
from kerasrnn.core.cli import UsageError
from kerasrnn.training.memory import check_model_memory, parameter_count, training_bytes
from pipelines import prepare as prep


def every_code_point_text(path, count: int = 5000) -> str:
    """A text of `count` distinct code points (no surrogates), each twice."""
    chars = [chr(c) for c in range(0x4E00, 0x4E00 + count)]
    path.write_text("".join(chars) * 2 + "\n", encoding="utf-8")
    return str(path)


def test_parameters_are_counted_as_keras_builds_them():
    from kerasrnn.models.char_model import build_model

    for cell, layers, emb in (("gru", 1, 64), ("lstm", 2, 0), ("simplernn", 1, 8)):
        config = Config(cell=cell, layers=layers, units=24, embedding_dim=emb, vocab_size=70)
        assert parameter_count(config, 70) == build_model(config).count_params()


def test_a_vocabulary_of_a_million_characters_is_refused_naming_it():
    config = Config()  # the default GRU 384, batch 64 x 100
    with pytest.raises(UsageError) as e:
        check_model_memory(config, 1_112_065, available=20 * 10**9)
    message = str(e.value)
    assert message.startswith("the vocabulary has 1,112,064 characters: the model would need 499.8 M parameters") and \
        "--max-vocab 4096" in message and "\n" not in message
    check_model_memory(config, 4097, available=20 * 10**9)  # what it offers fits
    with pytest.raises(UsageError, match="use smaller --units"):
        check_model_memory(Config(units=4096, layers=8), 66, available=2 * 10**9)
    assert training_bytes(config, 66) < 10**9


@pytest.mark.parametrize("value", ["lots", "nan", "inf", "-5"])
def test_a_bad_memory_variable_is_one_line(monkeypatch, value):
    monkeypatch.setenv("KERASRNN_MEMORY_BYTES", value)
    with pytest.raises(UsageError, match="KERASRNN_MEMORY_BYTES must be a number of bytes"):
        check_model_memory(Config(), 66)


def test_fit_refuses_a_model_beyond_the_memory_before_building_it(tmp_path, monkeypatch, capsys):
    text = every_code_point_text(tmp_path / "han.txt")
    monkeypatch.setenv("KERASRNN_MEMORY_BYTES", str(250 * 10**6))
    run_dir = tmp_path / "run"
    assert fit.main(["--text", text, "--run-dir", str(run_dir), "--verbose", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the vocabulary has 5,000 characters" in err[0] and "--max-vocab 1000" in err[0], err
    assert not run_dir.exists()  # nothing left behind


@pytest.mark.slow
def test_fit_on_prepared_data_streams_and_caps_validation(tmp_path, tiny_text, capsys):
    data = tmp_path / "data"
    prep.prepare(tiny_text, str(data), shard_bytes=4000, quiet=True)  # 5 training shards
    run_dir = tmp_path / "run"
    assert fit.main(["--data", str(data), "--max-val-chars", "1000", "--max-vocab", "0", "--run-dir", str(run_dir),
                     *TINY_ARGS]) == 0
    out = capsys.readouterr().out
    assert "18,000 training characters" in out and "first 1,000 of 2,000 validation characters" in out
    record = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    assert record["data"] == f"data:{data}" and record["val_chars"] == 1000
    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    assert config["data"] == str(data) and config["max_val_chars"] == 1000
    from kerasrnn.inference.evaluation import evaluate_run

    result = evaluate_run(str(run_dir))
    assert result["characters"] == 1000 and "--max-val-chars" in result["data"]
    assert abs(result["loss_nats"] - record["final"]["val_loss_nats"]) < 1e-4


@pytest.mark.slow
def test_resuming_after_the_text_changed_is_one_line(tmp_path, tiny_text, capsys):
    text = tmp_path / "t.txt"
    text.write_text(open(tiny_text, encoding="utf-8").read(), encoding="utf-8")
    run_dir = tmp_path / "run"
    assert fit.main(["--text", str(text), "--run-dir", str(run_dir), *TINY_ARGS, "--epochs", "1"]) == 0
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    del metrics["final"]
    (run_dir / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    text.write_text(text.read_text(encoding="utf-8") + "\u00e9\u00e8 new characters", encoding="utf-8")
    capsys.readouterr()
    assert fit.main(["--run-dir", str(run_dir), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "has changed since it was trained" in err and err.strip().count("\n") == 0
    assert os.path.exists(run_dir / "best.keras")
