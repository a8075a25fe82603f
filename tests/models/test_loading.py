"""Loading a run back: its model file checked before Keras opens it (no hang, bounded memory), config.json checked
against best.keras, and every refusal naming its real cause in one line."""

import json
import os
import shutil
import signal
import zipfile

import pytest

from kerasrnn import fit, sample
from kerasrnn.core.cli import UsageError
from kerasrnn.models.loading import load_run
from pipelines.io import DataError
from conftest import TINY_ARGS


@pytest.fixture
def run(tiny_run, tmp_path):
    """A copy of the session's tiny run, to damage."""
    copy = tmp_path / "run"
    shutil.copytree(tiny_run, copy)
    return copy


@pytest.fixture(autouse=True)
def no_hang():
    """Fails a test that would hang (a FIFO read blocks forever) instead of stopping the suite."""
    def hung(*_):
        raise TimeoutError("hung")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def test_a_fifo_or_a_device_is_refused_without_reading_it(run):
    best = run / "best.keras"
    best.unlink()
    os.mkfifo(best)
    with pytest.raises(UsageError, match="is a FIFO"):
        load_run(str(run))
    best.unlink()
    os.symlink("/dev/zero", best)
    with pytest.raises(UsageError, match="is a character device"):
        load_run(str(run))


def test_a_zip_bomb_is_refused_from_its_central_directory(run):
    best = run / "best.keras"
    best.unlink()
    with zipfile.ZipFile(best, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("model.weights.h5", "w", force_zip64=True) as f:
            block = bytes(1 << 20)
            for _ in range(64):  # 64 MiB of zeros, about 64 KB compressed
                f.write(block)
    assert best.stat().st_size < 1 << 20
    with pytest.raises(UsageError, match="zip bomb"):
        load_run(str(run))


def test_a_lambda_layer_and_an_unreadable_file_are_named(run, monkeypatch):
    import keras

    inputs = keras.Input((2,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(run / "best.keras")
    with pytest.raises(UsageError, match="Lambda layer"):
        load_run(str(run))
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p).endswith("best.keras") and
                        mode == os.R_OK else real(p, mode, **kw))
    with pytest.raises(UsageError, match="permission denied"):
        load_run(str(run))


def test_a_folder_that_cannot_be_entered_a_loop_and_an_empty_name_are_named(run, tmp_path, monkeypatch):
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    with pytest.raises(UsageError, match="loop of symbolic links"):
        load_run(str(loop))
    os.remove(run / "best.keras")
    os.symlink("best.keras", run / "best.keras")
    with pytest.raises(UsageError, match="loop of symbolic links"):
        load_run(str(run))
    with pytest.raises(UsageError, match="the run directory is empty"):
        load_run("")
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if os.path.abspath(p) == str(tmp_path) and
                        mode == os.X_OK else real(p, mode, **kw))  # as if mode 700 and another user's
    with pytest.raises(UsageError, match=f"permission denied: cannot enter the folder {tmp_path}"):
        load_run(str(run))


def edit_config(run, change):
    path = run / "config.json"
    data = json.loads(path.read_text())
    path.write_text(json.dumps(change(data)))


@pytest.mark.parametrize("change, message", [
    (lambda c: {**c, "units": c["units"] * 2}, "disagrees with .*best.keras: the config says 1 GRU layer"),
    (lambda c: {**c, "layers": 2}, "the config says 2 GRU layer"),
    (lambda c: {**c, "cell": "lstm"}, "the config says 1 LSTM layer"),
    (lambda c: {**c, "embedding_dim": 7}, "embedding_dim is 7 in the config"),
    (lambda c: {}, "field 'vocab_size' is missing"),
])
def test_a_config_that_disagrees_with_the_model_is_one_line(run, change, message, capsys):
    edit_config(run, change)
    with pytest.raises((DataError, UsageError), match=message):
        load_run(str(run))
    assert sample.main([str(run), "-n", "5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err


def test_a_duplicate_key_and_a_resume_of_an_empty_config_are_one_line(run, capsys):
    text = (run / "config.json").read_text()
    (run / "config.json").write_text(text.replace('"units":', '"units": 8, "units":', 1))
    with pytest.raises(DataError, match="names the field 'units' twice"):
        load_run(str(run))
    (run / "config.json").write_text("{}")
    (run / "metrics.json").write_text('{"epochs": []}')  # not finished: resumable
    assert fit.main(["--run-dir", str(run), "--resume", *TINY_ARGS]) == 2
    err = capsys.readouterr().err
    assert "field 'vocab_size' is missing" in err and err.count("\n") == 1, err


def test_a_best_model_from_another_run_is_named(run, tmp_path, tiny_text, capsys):
    other = tmp_path / "other"
    args = [a if a != "32" else "24" for a in TINY_ARGS]  # 24 units, windows of 24
    assert fit.main(["--text", tiny_text, "--run-dir", str(other), *args[:-4], "--epochs", "1", "--verbose", "0"]) == 0
    shutil.copy(other / "best.keras", run / "best.keras")
    with pytest.raises(DataError, match="the config says 1 GRU layer.s. of 32 units, the model has GRU of 24"):
        load_run(str(run))
