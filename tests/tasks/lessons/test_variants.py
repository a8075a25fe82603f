"""Comparisons: variants matched as asked, trained on the same budget, reported in a table."""

import dataclasses
import json
import math

import pytest

from kerasrnn import compare
from kerasrnn.tasks.lessons.variants import model_params, units_for_params
from kerasrnn.core.config import CELLS, Config
from kerasrnn.models.char_model import build_model


@pytest.mark.parametrize("cell", CELLS)
def test_parameter_matching_uses_the_real_count(cell):
    reference = Config(cell="gru", units=96, embedding_dim=16, layers=2, vocab_size=40)
    config = dataclasses.replace(reference, cell=cell)
    config = dataclasses.replace(config, units=units_for_params(config, model_params(reference)))
    assert model_params(config) == build_model(config).count_params()
    assert abs(model_params(config) - model_params(reference)) / model_params(reference) < 0.01


def test_onehot_vs_embedding_on_a_sentence(tmp_path, capsys):
    out = tmp_path / "c"
    assert compare.main(["--inputs", "onehot,embedding", "--task", "sentence", "--sentence", "hihello",
                         "--epochs", "80", "--out", str(out)]) == 0
    results = json.loads((out / "compare.json").read_text())["results"]
    assert list(results) == ["onehot", "embedding"]
    assert all(r["exact_epoch"] is not None and len(r["curve"]) == 80 for r in results.values())
    assert results["onehot"]["params"] < results["embedding"]["params"]
    table = capsys.readouterr().out
    assert "| onehot | gru 1x32, one-hot" in table and "| embedding | gru 1x32, embedding 64" in table


def test_cells_on_shakespeare_for_the_same_time(tmp_path):
    out = tmp_path / "c"
    assert compare.main(["--cells", "simplernn,gru", "--units", "32", "--minutes", "0.05", "--out", str(out)]) == 0
    results = json.loads((out / "compare.json").read_text())["results"]
    assert list(results) == ["simplernn", "gru"]
    for r in results.values():
        assert r["curve"] and math.isfinite(r["val_loss_nats"]) and r["val_loss_nats"] < math.log(66) + 1
        assert r["train_seconds"] >= 3 and r["chars_per_s"] > 0


def test_unknown_cells_are_one_line_errors(tmp_path, capsys):
    assert compare.main(["--cells", "gru,transformer", "--out", str(tmp_path)]) == 2
    assert "unknown cell in --cells" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--minutes", "nan"], "--minutes must be in (0, 600] (got nan)"),  # was: never stopped
    (["--minutes", "inf"], "--minutes must be in (0, 600] (got inf)"),
    (["--cells", ""], "unknown cell in --cells ''"),  # was: the default 6-minute comparison
    (["--cells", "gru,gru"], "--cells names a cell twice"),
    (["--inputs", ""], "--inputs takes onehot and/or embedding"),
    (["--task", "sentence", "--text", "missing.txt"], "use --sentence instead of --text"),
])
def test_bad_comparisons_are_refused_before_training(tmp_path, capsys, argv, message):
    try:
        code = compare.main([*argv, "--out", str(tmp_path / "c")])
    except SystemExit as e:  # refused by argparse
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "c").exists()
