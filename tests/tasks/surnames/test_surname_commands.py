"""The surname commands as a user runs them: fit, classify, sample, and every bad input."""

import json
import os

import pytest

from conftest import SURNAME_ARGS, run_main
from kerasrnn import classify, fit, sample


@pytest.mark.parametrize("cell", ["simplernn", "lstm", "gru"])
def test_each_cell_beats_the_majority_class(cell, tmp_path, capsys):
    run_dir = str(tmp_path / cell)
    assert fit.main(["--task", "surnames", "--cell", cell, "--no-bidirectional", "--run-dir", run_dir,
                     *SURNAME_ARGS]) == 0
    record = json.load(open(os.path.join(run_dir, "metrics.json"), encoding="utf-8"))
    final = record["final"]
    assert final["test_accuracy"] > final["majority_baseline_accuracy"] + 0.05, final
    assert record["epochs"][-1]["train_loss_nats"] < record["epochs"][0]["train_loss_nats"]
    test = record["test"]
    assert len(test["per_class"]) == 18 and test["examples"] == 2617  # one label per test surname (rarest)
    assert sum(map(sum, test["confusion_matrix"]["counts"])) == 2617
    for name in ("confusion.png", "confusion.json", "best.keras", "curves.png", "history.csv"):
        assert os.path.exists(os.path.join(run_dir, name)), name
    assert "macro-F1" in capsys.readouterr().out


def test_classify_prints_the_top_three(surname_classifier, tmp_path, capsys):
    names = tmp_path / "names.txt"
    names.write_text("Schmidt\n\nIvanov\n", encoding="utf-8")
    assert classify.main([surname_classifier, "Nakamura", "O'Neill", "--file", str(names)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["Nakamura", "O'Neill", "Schmidt", "Ivanov"]
    for line in lines:
        probs = [float(x) for x in line.split("\t")[1].split()[1::2]]
        assert len(probs) == 3 and probs == sorted(probs, reverse=True) and sum(probs) <= 1.0001


def test_unseen_characters_and_long_names_get_a_notice(surname_classifier, capsys):
    long = "Ivanov" * 10
    assert classify.main([surname_classifier, "12345", "😀", "김철수", long]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 4
    assert err.count("read as <unk>") == 3 and "longer than the model's 32 characters" in err


@pytest.mark.parametrize("argv,message", [
    (["{run}", ""], "an empty name"),
    (["{run}", "   "], "an empty name"),
    (["{run}"], "give at least one name"),
    (["{run}", "--file", "/no/such/file.txt"], "no such file"),
    (["/no/such/run", "Ivanov"], "no such run directory"),
])
def test_classify_bad_input_is_one_line_and_status_2(surname_classifier, argv, message, capsys):
    assert classify.main([a.format(run=surname_classifier) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_sample_invents_surnames_of_a_nationality(surname_generator, capsys):
    assert sample.main([surname_generator, "--nationality", "japanese", "-n", "10", "--temperature", "0.7"]) == 0
    names = capsys.readouterr().out.splitlines()
    assert len(names) == 10 and all(0 < len(n) <= 32 and "<" not in n for n in names)


def test_sample_refuses_an_unknown_nationality_listing_the_valid_ones(surname_generator, capsys):
    assert sample.main([surname_generator, "--nationality", "Klingon"]) == 2
    err = capsys.readouterr().err
    assert "unknown nationality 'Klingon'" in err and "Japanese" in err and "Vietnamese" in err


def test_the_wrong_kind_of_run_is_a_clear_error(surname_classifier, surname_generator, capsys):
    assert classify.main([surname_generator, "Ivanov"]) == 2
    assert "not a surname classifier" in capsys.readouterr().err
    assert sample.main([surname_classifier]) == 2
    assert "is a classifier" in capsys.readouterr().err


def test_fit_rejects_bad_surname_options(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_main("kerasrnn.fit", "--task", "surnames", "--class-weight", "heavy")
    assert result.returncode == 2 and "invalid choice: 'heavy'" in result.stderr
    result = run_main("kerasrnn.fit", "--task", "surnames", "--embedding-dim", "0")
    assert result.returncode == 2 and "need an embedding" in result.stderr and "Traceback" not in result.stderr
    result = run_main("kerasrnn.fit", "--task", "surnames", "--class-weight-power", "0")
    assert result.returncode == 2 and "--class-weight-power must be in (0, 1]" in result.stderr
    result = run_main("kerasrnn.fit", "--task", "surname-generation", "--train-on", "train+validation")
    assert result.returncode == 2 and "for --task surnames only" in result.stderr and "Traceback" not in result.stderr
    assert os.listdir(tmp_path) == []  # refused before any run directory was made


def test_train_on_train_and_validation_learns_the_validation_names(tmp_path):
    from kerasrnn.core.config import Config
    from kerasrnn.tasks.surnames.training import learning_split, load_data

    config = Config(task="surnames", train_on="train+validation")
    data = load_data(config)
    merged = learning_split(config, data)
    assert merged["train"] == data["train"] + data["validation"] and merged["test"] == data["test"]
    run_dir = str(tmp_path / "release")
    assert fit.main(["--task", "surnames", "--train-on", "train+validation", "--run-dir", run_dir,
                     "--units", "16", "--embedding-dim", "8", "--train-names", "600", "--epochs", "2",
                     "--verbose", "0"]) == 0
    record = json.load(open(os.path.join(run_dir, "metrics.json"), encoding="utf-8"))
    final = record["final"]
    assert final["train_on"] == "train+validation" and final["val_accuracy"] is None
    assert final["best_epoch"] == 2 and final["test_accuracy"] > 0  # the last epoch, measured on test
    assert all("val_accuracy" not in epoch for epoch in record["epochs"])
    assert os.path.exists(os.path.join(run_dir, "best.keras"))


def test_surname_eval_refuses_an_unwritable_report_before_evaluating(tmp_path, capsys, monkeypatch):
    from kerasrnn import surname_eval
    from kerasrnn.tasks.surnames import report

    monkeypatch.setattr(report, "evaluate_generators", lambda *a, **k: pytest.fail("evaluated before the check"))
    assert surname_eval.main(["--classifier", "c", "g", "--out", str(tmp_path)]) == 2  # a directory
    err = capsys.readouterr().err
    assert "is a directory, not a file" in err and err.count("\n") == 1
    with pytest.raises(SystemExit) as info:
        surname_eval.main(["--classifier", "c", "g", "--temperature", "nan"])
    assert info.value.code == 2 and "--temperature must be in [0.01, 100] (got nan)" in capsys.readouterr().err
