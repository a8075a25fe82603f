"""Hostile input, property-based (hypothesis): every command's `main(argv)`, in this process, gets random
arguments — random bytes (as files, and as arguments decoded with surrogateescape, as Linux does), random
Unicode (emoji, RTL marks, NUL, lone surrogates) and random numbers for every numeric flag (its range read
from the parser: small valid values, out-of-range ones, NaN, infinities, garbage) — and must end with exit
status 0, 1 or 2, no traceback on stderr, and nothing changed outside its own output.

Nothing trains here: `keras.Model.fit` raises `Reached` (everything before it — parsing, checks, reading
the text, claiming and locking the run directory, building and compiling the model with the cheap sizes
drawn, the callbacks, and the clean-up when it stops — runs for real); the
commands whose work is long (compare, gradients, surname_eval, bench, launch) have their one library call
replaced by a stub that writes where the real one would (so an output path that should have been refused shows
up as a changed file), and web binds its server but never serves; sample, evaluate, complete and classify run for
real on the tiny fixtures; export writes a fake model file through the real export folder code.

Every example also checksums the user's other files (`decoy/`) and the runs and exports: an output flag may
create new files, replace an existing regular file only with --force, and never write inside a run or an
export the command does not own (`kerasrnn.core.outputs`). `test_every_output_flag_refuses_an_existing_file`
tries each output flag of each command's parser against an existing file, a run and an export.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import io
import os
import shutil
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerasrnn.core import cli, locks
from conftest import ROOT

COMMANDS = ["fit", "sample", "evaluate", "export", "complete", "classify", "surname_eval", "compare", "gradients",
            "bench", "launch", "web"]
SHIPPED_CLASSIFIER = os.path.join(ROOT, "exported", "surnames-classifier")
CHEAP = 8  # valid numbers are drawn from the bottom of each range (lo .. lo + CHEAP): real work stays small
OUTPUT_FLAGS = {"--run-dir", "--out", "--json", "--plot", "--data-dir"}  # where a command may write
INPUT_FLAGS = {"--text", "--file", "--prefix-file", "--prime-file"}  # files a command reads
SETTINGS = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


class Reached(Exception):
    """Raised where a model would start training: the command got through every check to real work."""


# ---- random values -------------------------------------------------------------------------------------------
HOSTILE = ["", " ", "\0", "\u202e", "\u200f", "😀", "👩‍👩‍👧", "\ufeff", "\udcff", "a\udc80b", "-", "--", "-x",
           "nan", "\n", "\r\n", "\t", "../..", "/", "~"]
TEXT = st.one_of(
    st.text(max_size=30),
    st.binary(max_size=30).map(lambda b: b.decode("utf-8", "surrogateescape")),  # bytes as Linux passes them
    st.sampled_from(HOSTILE),
    st.text(alphabet=st.sampled_from("a\u202e\u200f😀\0é\udcff "), max_size=12),
)
GARBAGE_NUMBERS = st.sampled_from(["nan", "NaN", "inf", "-inf", "1e999", "-1e999", "", " ", "x", "1.5", "0x10",
                                   "1e309", "9" * 5000, "-0", "1_000"])


def number_values(kind: cli.Range):
    """Strings for a numeric flag: cheap valid values, values outside its range, non-finite and garbage."""
    if kind.kind is int:
        lo, hi = int(kind.lo), int(kind.hi)
        valid = st.integers(lo, min(hi, lo + CHEAP))
        invalid = st.one_of(st.integers(max_value=lo - 1), st.integers(min_value=hi + 1))
    else:
        lo = kind.lo + (1e-3 if kind.lo_open else 0.0)
        top = min(kind.hi, kind.lo + CHEAP) - (1e-3 if kind.hi_open else 0.0)
        valid = st.floats(lo, top)
        invalid = st.one_of(st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not kind.contains(v)),
                            st.floats(max_value=kind.lo, exclude_max=not kind.lo_open))
    return mostly(valid.map(str), st.one_of(invalid.map(str), GARBAGE_NUMBERS, TEXT))


def mostly(usual, other):
    """`usual` two times in three, else `other`: most examples get past the first check, to the deeper ones."""
    return st.integers(0, 2).flatmap(lambda i: other if i == 0 else usual)


def path_values(flag: str, command: str):
    """Paths for a flag, by what it names: a model or run, an input file, or an output."""
    if flag in OUTPUT_FLAGS:
        return st.one_of(st.sampled_from(["out", "run", "export", "data.txt", "folder", "/proc/kerasrnn",
                                          "data.txt/below", "runs/new", "", "decoy", "decoy/notes.txt",
                                          "decoy/new.json", "run/config.json", "run/new.json", "run/best.keras",
                                          "export/manifest.json", "export/inner", "classifier/x.json"]),
                         TEXT.map(lambda s: "fresh-" + s.replace("/", "_").replace("\0", "")))
    if flag in INPUT_FLAGS:
        return mostly(st.sampled_from(["text.txt", "data.txt"]),
                      st.one_of(st.sampled_from(["/dev/zero", "folder", "missing.txt", "run/vocab.json", "empty.txt",
                                                 "names.txt"]), TEXT))
    return TEXT


def flag_values(action: argparse.Action, command: str):
    """The strategy for one optional flag's value (None for a switch)."""
    if action.nargs == 0:
        return None
    if isinstance(action.type, cli.Range):
        return number_values(action.type)
    if action.choices:
        return st.one_of(st.sampled_from([str(c) for c in action.choices]), TEXT)
    if action.dest == "dataset":
        return st.one_of(st.sampled_from(["shakespeare", "tfds:no_such_set"]), TEXT)
    if action.dest in ("model", "task", "cell", "match", "rnn_impl"):
        return st.one_of(st.sampled_from(["float", "int8", "sentence", "surnames", "shakespeare", "gru", "lstm",
                                          "params", "units", "keras", "fast"]), TEXT)
    option = next(o for o in action.option_strings if o.startswith("--"))
    return path_values(option, command)


OTHER_MODELS = st.one_of(st.sampled_from(["run", "export", "classifier", "missing", "folder", "data.txt", ""]), TEXT)
MODEL_OF = {"sample": "run", "evaluate": "run", "export": "run", "complete": "export", "classify": "classifier",
            "bench": "export", "surname_eval": "run"}  # the model each command takes


@st.composite
def argvs(draw, command: str):
    """A random command line for `command`: positionals, then a random subset of its flags (each maybe twice)."""
    module = importlib.import_module(f"kerasrnn.{command}")
    parser = module.build_parser()
    argv = []
    if command == "bench":
        what = draw(st.sampled_from(["train", "export", "web", "nonsense"]))
        argv.append(what)
        sub = parser._subparsers._group_actions[0].choices.get(what)
        parser = sub or parser
        if what == "export":
            argv.append(draw(mostly(st.just("export"), OTHER_MODELS)))
    elif command in MODEL_OF:
        argv += draw(st.lists(mostly(st.just(MODEL_OF[command]), OTHER_MODELS), min_size=1,
                              max_size=2 if command == "surname_eval" else 1))
    if command in ("complete", "classify"):
        words = mostly(st.sampled_from(["Nakamura", "ROMEO: wh", "O'Neill", "😀 é", "\u202eabc", "김철수", "x" * 100]),
                       TEXT)
        argv += draw(st.lists(words, max_size=1 if command == "complete" else 3))
    options = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    for action in draw(st.lists(st.sampled_from(options), max_size=4)) if options else []:
        argv.append(draw(st.sampled_from(action.option_strings)))
        values = flag_values(action, command)
        if values is not None:
            value = draw(values)
            if draw(st.booleans()) and not value.startswith("-"):
                argv.append(value)
            else:
                argv[-1] = f"{argv[-1]}={value}" if argv[-1].startswith("--") else argv[-1] + value
    if command == "launch":
        argv += ["--", *draw(st.lists(st.sampled_from(["--run-dir", "runs/two", "--epochs", "1", "--strategy",
                                                       "--units", "8"]), max_size=4))]
    if draw(st.integers(0, 9)) == 0:
        argv.insert(draw(st.integers(0, len(argv))), draw(TEXT))  # a stray argument anywhere
    return argv


# ---- the sandbox -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template(tiny_run, tiny_export, tiny_text, tmp_path_factory):
    """What every example starts from: a run, an export, the shipped classifier, some files and a folder."""
    root = tmp_path_factory.mktemp("hostile") / "template"
    shutil.copytree(tiny_run, root / "run")
    shutil.copytree(tiny_export, root / "export")
    shutil.copytree(SHIPPED_CLASSIFIER, root / "classifier")
    (root / "folder").mkdir()
    (root / "folder" / "mine.txt").write_text("not a run")
    (root / "empty.txt").write_text("")
    (root / "data.txt").write_bytes(b"")
    with open(tiny_text, encoding="utf-8") as f:
        (root / "text.txt").write_text(f.read(4000), encoding="utf-8")  # enough for a window of 8 to 100
    (root / "names.txt").write_text("Nakamura\n\nSchmidt\n😀\n" + "x" * 100 + "\n", encoding="utf-8")
    (root / "decoy").mkdir()  # the user's other files: no command may change them (but --force on a named one)
    (root / "decoy" / "notes.txt").write_text("the user's notes")
    (root / "decoy" / "photo.png").write_bytes(b"\x89PNG the user's photo")
    return root


def snapshot(root: str) -> dict[str, str]:
    """Every path under `root` -> "dir", or its bytes' sha256 (a link: where it points)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                found[rel] = "link:" + os.readlink(path)
            elif os.path.isdir(path):
                found[rel] = "dir"
            else:
                with open(path, "rb") as f:
                    found[rel] = hashlib.sha256(f.read()).hexdigest()
    return found


def own_outputs(command: str, argv: list[str]) -> list[str]:
    """What the command may create or change wholesale: fit its run directory, export its --out (and the hidden
    files beside it). The output files of the other commands are judged by `allowed_output`."""
    if command not in ("fit", "export"):
        return []
    flag = "--run-dir" if command == "fit" else "--out"
    outs = flag_values_in(argv, flag)
    if command == "fit":
        outs.append("runs")  # the default run directory
    if command == "export":
        outs.append("exported")
    paths = []
    for out in outs:
        rel = os.path.normpath(out) if out else "."
        paths += [rel, os.path.join(os.path.dirname(rel), "." + os.path.basename(rel))]
    return paths


def flag_values_in(argv: list[str], flag: str) -> list[str]:
    """Every value given to `flag` (as `--flag value` or `--flag=value`)."""
    return [v for a, v in zip(argv, argv[1:] + [""]) if a == flag] + \
        [a.split("=", 1)[1] for a in argv if a.startswith(flag + "=")]


def changed_outside(before: dict, after: dict, allowed: list[str]) -> list[str]:
    """Paths that changed and are neither an allowed output (or inside one, or a hidden file beside one) nor a
    new folder on the way to one."""
    def mine(rel: str) -> bool:
        for out in (a for a in allowed if a != "."):
            if rel == out or rel.startswith(out.rstrip(os.sep) + os.sep) or \
                    (os.path.basename(out).startswith(".") and rel.startswith(out + ".")):
                return True
            if rel not in before and after.get(rel) == "dir" and out.startswith(rel + os.sep):
                return True
        return False

    return sorted(rel for rel in set(before) | set(after) if before.get(rel) != after.get(rel) and not mine(rel))


FIXTURES = ("run", "export", "classifier")  # runs and exports no command here owns (but fit and export, by name)


def allowed_output(rel: str, before: dict, after: dict, argv: list[str]) -> bool:
    """Whether the change at `rel` is an output the rule allows: a new file or folder (under runs/, the default
    outputs, or at or below a path an output flag named), or an existing regular file replaced with --force;
    never inside one of the fixture runs or exports."""
    if rel.split(os.sep)[0] in FIXTURES:
        return False
    named = [os.path.normpath(v) for flag in ("--json", "--plot", "--out") for v in flag_values_in(argv, flag) if v]
    under = rel.startswith("runs" + os.sep) or rel == "runs" or \
        any(rel == n or rel.startswith(n + os.sep) or n.startswith(rel + os.sep) for n in named)
    if rel not in before:
        return under and rel in after
    return under and "--force" in argv and before[rel] != "dir" and after.get(rel) not in (None, "dir")


@pytest.fixture
def stubs(monkeypatch):
    """No training and no long work: see the module doc."""
    import keras

    def reached(*args, **kwargs):
        raise Reached()

    monkeypatch.setattr(keras.Model, "fit", reached)
    # web: the server is bound (port, host and folders checked for real) and closed at once, never served
    monkeypatch.setattr(importlib.import_module("kerasrnn.ondevice.web_server").PageServer, "serve_forever",
                        lambda self, *args, **kwargs: None)

    def fake_export(run, tmp, log, started, int8=True):
        with open(os.path.join(tmp, "model.tflite"), "wb") as f:
            f.write(b"fake")
        return {"format": "kerasrnn-export", "files": {}, "export_seconds": 0.0}

    monkeypatch.setattr(importlib.import_module("kerasrnn.tasks.language_model.export"), "export_char_model",
                        fake_export)
    monkeypatch.setattr(importlib.import_module("kerasrnn.tasks.surnames.export"), "export_surname_model",
                        fake_export)
    from pipelines.io import atomic_write_bytes

    def writes(*paths):  # the stub writes what the real work would, where the command told it to
        for path in paths:
            if path:
                atomic_write_bytes(path, b"stub")
        return 0

    def sweep_plot(args):
        return (args[5] or os.path.splitext(args[4])[0] + "-sizes.png") if args[3] else None

    for module, name, stub in [
            ("kerasrnn.tasks.lessons.variants", "compare",
             lambda chosen, out, **kw: writes(os.path.join(out, "compare.json"), os.path.join(out, "compare.png"))),
            ("kerasrnn.tasks.lessons.gradient_experiments", "run_all",
             lambda out, *a, **kw: writes(*(os.path.join(out, n) for n in ("gradients.json", "gradient-norms.png",
                                                                            "one-unit.png")))),
            ("kerasrnn.tasks.surnames.report", "evaluate_generators", lambda *a, **kw: writes(a[5])),
            ("kerasrnn.benchmarks.throughput", "run_and_report", lambda *a, **kw: writes(a[4], sweep_plot(a))),
            ("kerasrnn.benchmarks.latency", "run_and_report", lambda *a, **kw: writes(a[3])),
            ("kerasrnn.benchmarks.web_latency", "run_and_report", lambda *a, **kw: writes(a[5])),
            ("kerasrnn.benchmarks.data", "run_and_report", lambda *a, **kw: writes(a[3])),
            ("kerasrnn.training.local_cluster", "launch", lambda *a, **kw: 0)]:
        monkeypatch.setattr(importlib.import_module(module), name, stub)


def run_command(command: str, argv: list[str]) -> tuple[int | str, str]:
    """Runs `kerasrnn.<command>.main(argv)` with stdout and stderr as a terminal's (strict UTF-8) would be.

    Returns:
        (exit status, or "reached" when it got to training; what it wrote to stderr).
    """
    import keras

    main = importlib.import_module(f"kerasrnn.{command}").main
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    except Reached:
        code = "reached"
    finally:
        sys.stdout, sys.stderr = saved
        locks.release_all()
        keras.mixed_precision.set_global_policy("float32")  # --mixed-precision sets it for the process
    err.flush()
    return code, err.buffer.getvalue().decode("utf-8", "replace")


@pytest.mark.parametrize("command", COMMANDS)
def test_hostile_input_ends_cleanly(command, template, stubs, tmp_path):
    examples, outcomes = iter(range(10**6)), []

    @SETTINGS
    @given(argv=argvs(command), data=st.binary(max_size=2000))
    def check(argv, data):
        sandbox = tmp_path / f"example-{next(examples)}"
        shutil.copytree(template, sandbox, symlinks=True)
        (sandbox / "data.txt").write_bytes(data)  # random bytes for every file flag that names data.txt
        before = snapshot(str(sandbox))
        cwd = os.getcwd()
        os.chdir(sandbox)
        try:
            code, err = run_command(command, argv)
        finally:
            os.chdir(cwd)
        outcomes.append(code)
        if os.environ.get("KERASRNN_FUZZ_LOG"):
            print(command, code, ascii(argv), ascii(err[-200:]), file=sys.__stderr__)
        assert code in (0, 1, 2, None, "reached"), (argv, code, err)
        assert "Traceback" not in err, (argv, err)
        assert code in (0, None, "reached") or err.strip(), (argv, "an error status without a message")
        after = snapshot(str(sandbox))
        changed = [rel for rel in changed_outside(before, after, own_outputs(command, argv))
                   if not allowed_output(rel, before, after, argv)]
        assert not changed, (argv, code, changed)
        if "--force" not in argv:
            assert {k: v for k, v in after.items() if k.startswith("decoy" + os.sep) and k in before} == \
                {k: v for k, v in before.items() if k.startswith("decoy" + os.sep)}, argv
        shutil.rmtree(sandbox, ignore_errors=True)

    check()


# ---- named hostile cases: data set names, TF_CONFIG, strategies, glob characters in paths ---------------------
# Each must end in one line on stderr and exit status 2, before any training starts and before anything is written.
BAD_TFDS = ["tfds:", "tfds:../../etc/passwd", "tfds:tiny_shakespeare/x=1", "tfds:tiny_shakespeare:9.9.9",
            "tfds:tiny_shakespeare/..", "tfds:ns:tiny_shakespeare", "tfds:\u202etiny"]
BAD_TF_CONFIG = ['{"cluster": 5, "task": {"type": "worker", "index": 0}}',
                 '{"cluster": {"worker": "127.0.0.1:5000"}, "task": {"type": "worker", "index": 0}}',
                 '{"cluster": {"worker": [5000]}, "task": {"type": "worker", "index": 0}}',
                 '{"cluster": {"worker": ["127.0.0.1:99999"]}, "task": {"type": "worker", "index": 0}}',
                 '{"cluster": {"worker": ["127.0.0.1:5000"]}, "task": {"type": "worker", "index": 1}}',
                 '{"cluster": {"worker": ["127.0.0.1:5000"]}, "task": {"type": "worker", "index": -1}}',
                 '{"cluster": {"worker": ["127.0.0.1:5000"]}, "task": {"type": "worker", "index": "0"}}',
                 '{"cluster": {"worker": ["127.0.0.1:5000"]}, "task": {"type": "ps", "index": 0}}',
                 '{"cluster": {"worker": ["127.0.0.1:5000"]}, "task": [0]}',
                 '{"cluster": {"worker": ["127.0.0.1:5000", "127.0.0.1:5000"]}, '
                 '"task": {"type": "worker", "index": 0}}',
                 '{"cluster": {}, "task": {"type": "worker", "index": 0}}', '[]', '"x"', '{', 'null']


def one_line_refusal(command: str, argv: list[str], where) -> str:
    """Runs `command argv` in the folder `where`; asserts exit 2, one line, no traceback, nothing written."""
    before = snapshot(str(where))
    cwd = os.getcwd()
    os.chdir(where)
    try:
        code, err = run_command(command, argv)
    finally:
        os.chdir(cwd)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, (argv, code, err)
    assert snapshot(str(where)) == before, argv
    return err


@pytest.fixture
def no_training(monkeypatch):
    """`keras.Model.fit` raises Reached: a refusal must come before any training."""
    import keras

    def fit(*args, **kwargs):
        raise Reached()

    monkeypatch.setattr(keras.Model, "fit", fit)


@pytest.mark.parametrize("dataset", BAD_TFDS)
def test_bad_tfds_names_are_one_line(dataset, tmp_path, no_training):
    err = one_line_refusal("fit", ["--dataset", dataset, "--data-dir", str(tmp_path / "tfds"), "--run-dir",
                                   str(tmp_path / "run"), "--epochs", "1"], tmp_path)
    assert "tfds" in err.lower()


@pytest.mark.parametrize("value", BAD_TF_CONFIG)
def test_bad_tf_config_is_one_line(value, tmp_path, monkeypatch, no_training):
    monkeypatch.setenv("TF_CONFIG", value)
    err = one_line_refusal("fit", ["--strategy", "multi-worker", "--run-dir", str(tmp_path / "run")], tmp_path)
    assert "TF_CONFIG" in err


@pytest.mark.parametrize("strategy", ["mirrored", "multi-worker"])
def test_tbptt_with_a_distributed_strategy_is_refused_before_training(strategy, tmp_path, monkeypatch, no_training,
                                                                      tiny_text):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["127.0.0.1:5000"]}, "task": {"type": "worker", '
                                    '"index": 0}}')
    err = one_line_refusal("fit", ["--text", tiny_text, "--tbptt", "--strategy", strategy, "--run-dir",
                                   str(tmp_path / "run"), "--epochs", "1"], tmp_path)
    assert "--tbptt" in err and "one-device" in err


def test_gradients_length_is_bounded_and_the_bound_is_in_help(tmp_path, capsys):
    from kerasrnn import gradients

    err = one_line_refusal("gradients", ["--length", "10000", "--skip-long-range", "--out", str(tmp_path / "g")],
                           tmp_path)  # took minutes (more than 90 s) before it was bounded
    assert "--length must be at least 1 and at most 1,000" in err
    assert "1 to 1,000" in " ".join(gradients.build_parser().format_help().split())


@pytest.mark.parametrize("name", ["model[v2]", "model*", "model?"])
def test_tensorflow_wildcards_in_an_export_folder_are_one_line(name, tiny_run, tmp_path):
    err = one_line_refusal("export", [tiny_run, "--out", str(tmp_path / "exported" / name)], tmp_path)
    assert "wildcard" in err  # was two lines of TensorFlow's glob errors, after the conversion


def test_tensorflow_wildcards_in_the_working_folder_are_named(tiny_run, tmp_path):
    work = tmp_path / "work[1]"
    work.mkdir()
    err = one_line_refusal("export", [tiny_run, "--out", "exported"], work)  # a relative --out: made absolute
    assert str(work) in err and "wildcard" in err


def test_tensorflow_wildcards_in_an_export_to_benchmark_are_one_line(tiny_export, tmp_path):
    odd = tmp_path / "exp[1]"
    shutil.copytree(tiny_export, odd)
    assert "wildcard" in one_line_refusal("bench", ["export", str(odd), "--json", str(tmp_path / "b.json")], tmp_path)


def test_a_chromium_variable_naming_no_program_is_said_so(monkeypatch, tmp_path):
    from kerasrnn.benchmarks import browser

    monkeypatch.setenv(browser.CHROMIUM_ENV, str(tmp_path / "no-such-chromium"))
    reason = browser.missing(web_dir=None)
    if reason and "Playwright" in reason:
        pytest.skip(reason)
    assert reason == f"{browser.CHROMIUM_ENV}={tmp_path / 'no-such-chromium'} is not an executable file (unset it to " \
                     f"use chromium on PATH)"  # was "chromium is not installed"
def output_flag_cases():
    """(command, flag) for every option of every command's parser (and subcommand's) that names an output."""
    cases = []
    for command in COMMANDS:
        parser = importlib.import_module(f"kerasrnn.{command}").build_parser()
        parsers = {command: parser}
        if parser._subparsers:
            parsers = {f"{command} {name}": sub for name, sub in parser._subparsers._group_actions[0].choices.items()}
        for name, p in parsers.items():
            for action in p._actions:
                flag = next((o for o in action.option_strings if o in OUTPUT_FLAGS), None)
                if flag and action.nargs != 0:  # (evaluate's --json is a switch: JSON on stdout)
                    cases.append((name, flag))
    return cases


@pytest.mark.parametrize("name, flag", output_flag_cases())
@pytest.mark.parametrize("target", ["decoy/notes.txt", "run/config.json", "export/manifest.json", "run",
                                    "export"])
def test_every_output_flag_refuses_an_existing_file(name, flag, target, template, stubs, tmp_path, monkeypatch):
    command = name.split()[0]
    base = {"fit": ["--text", "text.txt"], "export": ["run"], "surname_eval": ["run", "--classifier", "classifier"],
            "bench train": ["train", "--sizes"], "bench export": ["export", "export"],
            "bench keystrokes": ["keystrokes", "export", "--text", "text.txt"], "bench web": ["web"]}
    sandbox = tmp_path / "sandbox"
    shutil.copytree(template, sandbox, symlinks=True)
    before = snapshot(str(sandbox))
    monkeypatch.chdir(sandbox)
    argv = [*base.get(name, []), flag, target]
    code, err = run_command(command, argv)
    after = snapshot(str(sandbox))
    assert not changed_outside(before, after, ["runs"] if command == "fit" else []), (argv, code, err)
    if flag != "--data-dir":
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, (argv, code, err)
