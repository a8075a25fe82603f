"""The shared command line: numeric ranges (NaN and infinities refused) named in --help, each default shown
once, NUL refused, unusable output paths refused before any work, failures of the system in one line."""

import math
import os

import pytest

from kerasrnn.core import cli
from conftest import run_cli

COMMANDS = ["fit", "sample", "evaluate", "export", "complete", "classify", "surname_eval", "compare", "gradients",
            "launch"]


def parse(*argv):
    p = cli.parser("prog", "a test")
    p.add_argument("--units", type=cli.Range(int, 1, 4096), default=384, help="hidden units")
    p.add_argument("--rate", type=cli.Range(float, 0.0, 10.0, lo_open=True), default=1.0, help="a rate")
    p.add_argument("--out", default=None, help="where (default: somewhere chosen)")
    p.add_argument("--must", required=False, help="a flag")
    return p.parse_args(list(argv))


@pytest.mark.parametrize("argv, message", [
    (["--units", "1000000"], "--units must be at least 1 and at most 4,096 (got 1000000)"),
    (["--units", "0"], "--units must be at least 1"),
    (["--units", "1.5"], "--units must be an integer from 1 to 4,096 (got '1.5')"),
    (["--rate", "nan"], "--rate must be in (0, 10] (got nan)"),
    (["--rate", "inf"], "--rate must be in (0, 10] (got inf)"),
    (["--rate=-inf"], "--rate must be in (0, 10] (got -inf)"),
    (["--rate", "0"], "--rate must be in (0, 10] (got 0.0)"),
    (["--out", "a\0b"], "an argument contains a NUL character"),
])
def test_out_of_range_numbers_are_one_line_and_status_2(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        parse(*argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and err.count("\n") == 1


def test_in_range_numbers_pass():
    args = parse("--units", "4096", "--rate", "1e-9")
    assert args.units == 4096 and math.isclose(args.rate, 1e-9)


def help_entries(text: str) -> dict[str, str]:
    """Each option of a --help text -> its whole entry on one line."""
    entries = {}
    for chunk in text.split("\n  -")[1:]:
        flag = "-" + chunk.split()[0].rstrip(",")
        entries[flag] = " ".join(chunk.split())
    return entries


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_each_default_once_and_every_numeric_range(command):
    out = run_cli(f"kerasrnn.{command}", "--help")
    assert out.returncode == 0, out.stderr
    entries = help_entries(out.stdout)
    for flag, entry in entries.items():
        assert "(default: None)" not in entry and entry.count("(default") + entry.count("; default:") <= 1, entry
    if command == "surname_eval":
        assert "default" not in entries["--classifier"]  # required: no default to show
    if command == "fit":
        assert "warmup-steps" in entries["--task"] and "--warmup-steps" in entries  # a flag now
        for flag in ("--units", "--layers", "--epochs", "--seq-len", "--learning-rate", "--clipnorm", "--seed",
                     "--dropout", "--batch-size"):
            assert "an integer," in entries[flag] or "a number in" in entries[flag], entries[flag]
        assert "runs the interrupted epoch again" in " ".join(entries["--resume"].split()) or \
            "interrupted runs again" in entries["--resume"]
    if command == "launch":
        assert "a local multi-worker cluster on this machine." in " ".join(out.stdout.split())
    if command == "complete":
        assert "an integer, 1 to 64" in entries["--threads"] and "an integer, 1 to 20" in entries["-k"]


def test_unusable_output_paths_are_refused_before_any_work(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    for check, path, message in [
        (cli.check_output_dir, tmp_path / "file", "is a file, not a directory"),
        (cli.check_output_dir, tmp_path / "file" / "sub", "is a file, not a directory"),
        (cli.check_output_dir, "/proc/kerasrnn-test", "cannot write in /proc"),
        (cli.check_output_file, tmp_path / "dir", "is a directory, not a file"),
        (cli.check_output_file, tmp_path / "file" / "x.json", "is a file, not a directory"),
    ]:
        with pytest.raises(cli.UsageError, match=message):
            check(str(path), "--out")
    cli.check_output_dir(str(tmp_path / "new" / "deeper"), "--out")
    cli.check_output_file(str(tmp_path / "dir" / "x.json"), "--out")
    assert sorted(os.listdir(tmp_path)) == ["dir", "file"] and os.listdir(tmp_path / "dir") == []  # nothing made


def test_system_failures_are_one_line(capsys):
    def disk_full():
        raise OSError(28, "No space left on device", "runs/a/best.keras")

    def out_of_memory():
        raise MemoryError()

    assert cli.run(disk_full, "prog") == 1
    err = capsys.readouterr().err
    assert err.startswith("prog: error: the disk is full: no space left to write runs/a/best.keras (the file system ")
    assert err.count("\n") == 1
    assert cli.run(out_of_memory, "prog") == 1
    assert capsys.readouterr().err.startswith("prog: error: out of memory (MemoryError)")
    with pytest.raises(ZeroDivisionError):  # a bug is not hidden
        cli.run(lambda: 1 / 0, "prog")


def test_names_that_are_not_utf8_are_refused_before_tensorflow_sees_them(capsys):
    from kerasrnn import export, fit

    undecodable = b"runs/\xff".decode("utf-8", "surrogateescape")  # how Linux passes such a file name
    for main, argv, flag in [(export.main, [undecodable], "argument run_dir"),
                             (export.main, ["runs/a", "--out", undecodable], "--out"),
                             (fit.main, ["--run-dir", undecodable], "--run-dir"),
                             (fit.main, ["--task", "sentence", "--sentence", "ab\udcff"], "--sentence")]:
        with pytest.raises(SystemExit) as info:  # was: a UnicodeEncodeError traceback from TensorFlow
            main(argv)
        err = capsys.readouterr().err
        assert info.value.code == 2 and flag in err and "must be UTF-8 (got '" in err and "\\udcff" in err, err
        assert err.count("\n") == 1


def test_a_flag_given_the_value_double_dash_gets_that_value_not_a_list():
    from kerasrnn import export, web

    assert web.build_parser().parse_args(["--models=--"]).models == "--"
    assert export.build_parser().parse_args(["run", "--out=--"]).out == "--"
