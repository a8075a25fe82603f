"""Resuming a run killed just after an epoch ended: that epoch is not trained again, history.csv has one row per
epoch, and the temporary files of a killed save do not stay behind."""

import csv
import os

import pytest

from kerasrnn import fit
from kerasrnn.training import callbacks
from conftest import TINY_ARGS

ARGS = [*TINY_ARGS[:-4], "--epochs", "3", "--verbose", "0"]


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs (no clean-up, no on_train_end)."""


def history_epochs(run_dir) -> list[int]:
    with open(os.path.join(run_dir, "history.csv"), newline="") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def trained_epochs(monkeypatch) -> list[int]:
    """The epochs (counted from 1) that this process trains from now on."""
    seen = []
    real = callbacks.MetricsLogger.on_epoch_end
    monkeypatch.setattr(callbacks.MetricsLogger, "on_epoch_end",
                        lambda self, epoch, logs=None: (seen.append(epoch + 1), real(self, epoch, logs))[1])
    return seen


@pytest.mark.parametrize("killed_before_backup", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_a_run_killed_after_an_epoch_resumes_with_the_next(killed_before_backup, tiny_text, tmp_path, monkeypatch):
    run = str(tmp_path / "run")
    real = callbacks.EpochEndBackup.on_epoch_end

    def kill_after_first(self, epoch, logs=None):
        if not killed_before_backup:
            real(self, epoch, logs)
        raise Killed()  # just after epoch 1 (and, or not, its backup) was written

    with monkeypatch.context() as m:
        m.setattr(callbacks.EpochEndBackup, "on_epoch_end", kill_after_first)
        with pytest.raises(Killed):
            fit.main(["--text", tiny_text, "--run-dir", run, *ARGS])
    assert history_epochs(run) == [1]
    open(os.path.join(run, ".tmp-abc123.keras"), "wb").close()  # as a kill while saving best.keras leaves it
    seen = trained_epochs(monkeypatch)
    assert fit.main(["--run-dir", run, "--resume", "--verbose", "0"]) == 0
    assert seen == ([1, 2, 3] if killed_before_backup else [2, 3])
    assert history_epochs(run) == [1, 2, 3]
    assert not [n for n in os.listdir(run) if n.startswith(".tmp-")]


def test_trimming_keeps_the_header_and_one_row_per_epoch(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss\n1,3.0\n1,2.9\n2,2.5\n3,2.2\n")
    callbacks.trim_history(str(path), 2)
    assert path.read_text() == "epoch,loss\n1,3.0\n2,2.5\n"
