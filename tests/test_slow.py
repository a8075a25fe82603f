"""Long checks, left out of CI's default run: `python -m pytest -m slow`."""

import json
import os

import pytest

from kerasrnn import fit


@pytest.mark.slow
def test_default_model_learns_shakespeare_in_one_epoch(tmp_path):
    """The default configuration, one epoch on the whole corpus (about a minute on 2 cores)."""
    run_dir = str(tmp_path / "run")
    assert fit.main(["--run-dir", run_dir, "--epochs", "1", "--verbose", "0"]) == 0
    final = json.load(open(os.path.join(run_dir, "metrics.json")))["final"]
    assert final["val_loss_nats"] < 2.4  # measured 2.207; uniform guessing is ln 66 = 4.19
