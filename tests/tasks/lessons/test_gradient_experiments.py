"""Vanishing and exploding gradients: the measured effects, not just the files."""

import json
import math

import numpy as np

from kerasrnn import gradients
from kerasrnn.tasks.lessons import gradient_experiments


def test_simplernn_gradients_vanish_faster_than_lstm_on_the_same_input():
    norms = gradient_experiments.untrained_gradient_norms(length=40, units=16)
    decay = {cell: norms[cell][0] / norms[cell][-1] for cell in norms}  # 39 steps back vs the nearest step
    assert decay["simplernn"] < decay["lstm"] / 10
    assert all(len(v) == 40 and v[-1] > 0 for v in norms.values())


def test_one_unit_derivative_vanishes_and_matches_autodiff():
    result = gradient_experiments.one_unit(steps=12)
    np.testing.assert_allclose(result["chain_rule"], result["autodiff"], rtol=1e-9)
    chain = np.abs(result["chain_rule"])
    assert (np.diff(chain) < 0).all() and chain[4] < 1e-10


def test_clipping_tames_an_exploding_linear_recurrence():
    free = gradient_experiments.exploding(None, steps=5)
    clipped = gradient_experiments.exploding(1.0, steps=30)
    assert not all(math.isfinite(v) for v in free)
    assert all(math.isfinite(v) for v in clipped) and clipped[-1] < clipped[0] * 1e-6


def test_long_range_task_is_learned_at_a_short_distance():
    assert gradient_experiments.long_range_task("simplernn", length=5, steps=150) > 0.9


def test_gradients_command_writes_its_measurements(tmp_path, capsys):
    out = tmp_path / "g"
    assert gradients.main(["--length", "30", "--units", "8", "--skip-long-range", "--out", str(out)]) == 0
    result = json.loads((out / "gradients.json").read_text())
    assert sorted(result["untrained"]) == ["gru", "lstm", "simplernn"]
    assert len(result["untrained"]["lstm"]) == 30 and "long_range" not in result
    assert (out / "gradient-norms.png").stat().st_size > 1000
    assert "one unit" in capsys.readouterr().out


def test_an_output_that_is_a_file_is_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "taken").write_text("mine")
    assert gradients.main(["--out", str(tmp_path / "taken"), "--skip-long-range"]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "is a file, not a directory" in err and err.count("\n") == 1
    assert (tmp_path / "taken").read_text() == "mine"
