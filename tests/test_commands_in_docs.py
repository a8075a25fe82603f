"""Every shell command of the documentation still exists and takes the flags it is shown with.

The fenced ```bash / ```shell / ```sh blocks of README.md, docs/*.md and exported/README.md are cut
into simple commands (`\\` continuations joined, comments dropped, split at `&&`, `||`, `;`, `|`,
redirections and environment-variable prefixes set aside). For each `python -m MODULE ...` (any
python: `python`, `python3`, `.venv/bin/python`) the module must exist, and every flag it uses must be
one that `python -m MODULE [SUBCOMMAND] --help` lists (the flags after `--` of `kerasrnn.launch` are
`kerasrnn.fit`'s); `python FILE.py` must name a file of the repository; `pip install -e ".[EXTRA]"` an
extra of pyproject.toml. The cheap commands (word completion and classification with the release
exports, the one-sentence lesson, training on a slice of text with tiny flags appended, then
evaluating and sampling that run) also run for real, in document order, in a fresh temporary
directory per page, and must exit 0.
"""

from __future__ import annotations

import functools
import glob
import importlib.util
import os
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = sorted(["README.md", "exported/README.md",
                *(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))])
SHELL_FENCES = {"bash", "shell", "sh", "console"}
SEPARATORS = {"&&", "||", ";", "|"}
REDIRECTS = re.compile(r"^(\d?>>?|<|&>|2>&1)$")
PYTHONS = re.compile(r"^(\S*/)?python(3(\.\d+)?)?$")
FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
# appended to a training run here (argparse keeps the last value): a model that trains in seconds
TINY_FIT = ["--units", "16", "--embedding-dim", "8", "--seq-len", "32", "--batch-size", "256",
            "--epochs", "1", "--verbose", "0"]
HELP_ARGS = {"pytest": ["--noconftest", "--help"]}  # the conftest imports TensorFlow: 30 s for a help text
LITERT_MODULES = {"kerasrnn.complete", "kerasrnn.classify"}  # no TensorFlow: a second or two each
TF_MODULES = {"kerasrnn.fit", "kerasrnn.evaluate", "kerasrnn.sample"}  # TensorFlow: the slow test


@dataclass
class Command:
    """One simple command of a fenced block: where it is, its environment prefix and its words."""

    page: str
    line: int  # 1-based line of the block's first line of the command
    env: list[str]
    words: list[str]
    stdout_to: str | None = None  # the file of a `> FILE` redirection

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {shlex.join(self.env + self.words)}"


def shell_blocks(text: str):
    """(first line number, lines) of each fenced shell block of a Markdown text."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = re.match(r"^\s*(`{3,}|~{3,})\s*([\w-]*)", lines[i])
        if not match:
            i += 1
            continue
        fence, lang, start = match.group(1), match.group(2).lower(), i + 1
        i += 1
        body = []
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1
        if lang in SHELL_FENCES:
            yield start + 1, body


def commands_of(page: str, text: str) -> list[Command]:
    """The simple commands of every fenced shell block of a page."""
    out = []
    for first, body in shell_blocks(text):
        logical, start = "", None
        for n, raw in enumerate(body):
            line = raw[2:] if raw.startswith("$ ") else raw
            start = first + n if start is None else start
            if line.rstrip().endswith("\\"):
                logical += line.rstrip()[:-1] + " "
                continue
            logical += line
            out += split_line(page, start, logical)
            logical, start = "", None
    return out


def split_line(page: str, line: int, text: str) -> list[Command]:
    """A logical shell line cut into its simple commands."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    words, out = [], []
    for token in list(lexer) + [";"]:
        if token in SEPARATORS or token in {"(", ")"}:
            if words:
                env = []
                while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
                    env.append(words.pop(0))
                if words:
                    out.append(Command(page, line, env, words))
            words = []
        else:
            words.append(token)
    for command in out:  # a redirection and its target are not arguments
        kept, skip = [], None
        for w in command.words:
            if skip:
                if skip == ">":
                    command.stdout_to = w
                skip = None
            elif REDIRECTS.match(w) or w in {">", ">>", "<"}:
                skip = w
            else:
                kept.append(w)
        command.words = kept
    return out


def all_commands() -> list[Command]:
    """Every simple command of every page, in page and line order."""
    out = []
    for page in PAGES:
        with open(os.path.join(ROOT, page), encoding="utf-8") as f:
            out += commands_of(page, f.read())
    return out


def python_call(words: list[str]) -> tuple[str, str | None, list[str]] | None:
    """('module'|'file', name, arguments) of a python command, else None."""
    i = 0
    while i < len(words) and words[i] in {"time", "/usr/bin/time", "nice", "-v"}:
        i += 1
    if i >= len(words) or not PYTHONS.match(words[i]):
        return None
    rest = words[i + 1:]
    if rest[:1] == ["-m"] and len(rest) > 1:
        return "module", rest[1], rest[2:]
    if rest and rest[0].endswith(".py"):
        return "file", rest[0], rest[1:]
    return "other", None, rest


@functools.lru_cache(maxsize=None)
def help_text(module: str, sub: str | None = None) -> str:
    """`python -m MODULE [SUB] --help`, run once, from the repository root."""
    args = [sys.executable, "-m", module] + ([sub] if sub else []) + HELP_ARGS.get(module, ["--help"])
    env = dict(os.environ, PYTHONPATH=ROOT, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 0, f"`{' '.join(args[1:])}` failed:\n{done.stderr[-2000:]}"
    return done.stdout


def subcommands(text: str) -> set[str]:
    """The subcommands a help text lists: argparse's {a,b,c} or click's "Commands:" section."""
    found = set()
    positional = re.search(r"positional arguments:\n((?:  .*\n?)*)", text)
    for group in re.findall(r"^  \{([\w,-]+)\}", positional.group(1) if positional else "", re.M):
        found.update(group.split(","))
    if "Commands:" in text:
        for line in text.split("Commands:", 1)[1].splitlines()[1:]:
            if not line.startswith("  ") or not line.strip():
                break
            found.add(line.split()[0])
    return found


def flags_used(args: list[str]) -> list[str]:
    """The flags among a command's arguments (`--a=b` gives --a; negative numbers are values)."""
    return [a.split("=", 1)[0] for a in args
            if a.startswith("-") and a != "--" and not re.match(r"^-\d", a) and len(a) > 1]


def problems_of(command: Command) -> list[str]:
    """What is wrong with one command: a missing module or file, an unknown flag or extra."""
    words = command.words
    if re.match(r"^(\S*/)?pip3?$", words[0]) or words[:3] in (["python", "-m", "pip"],):
        extras = re.findall(r"\.\[([\w,-]+)\]", " ".join(words))
        with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
            declared = tomllib.load(f)["project"]["optional-dependencies"]
        return [f"pip extra {e!r} is not in pyproject.toml" for group in extras for e in group.split(",")
                if e not in declared]
    call = python_call(words)
    if call is None or call[0] == "other":
        return []
    kind, name, args = call
    if kind == "file":
        return [] if os.path.isfile(os.path.join(ROOT, name)) else [f"no file {name}"]
    if name == "pip":
        return problems_of(Command(command.page, command.line, [], ["pip"] + args))
    sys.path.insert(0, ROOT)
    try:
        if importlib.util.find_spec(name) is None:
            return [f"no module {name}"]
    except ModuleNotFoundError:
        return [f"no module {name}"]
    finally:
        sys.path.remove(ROOT)
    checks = [(name, args)]
    if name == "kerasrnn.launch" and "--" in args:
        cut = args.index("--")
        checks = [(name, args[:cut]), ("kerasrnn.fit", args[cut + 1:])]
    out = []
    for module, module_args in checks:
        text = help_text(module)
        positional = [a for a in module_args if not a.startswith("-")]
        sub = positional[0] if positional and positional[0] in subcommands(text) else None
        if sub:
            text = help_text(module, sub)
        known = set(FLAG.findall(text))
        out += [f"{module}{' ' + sub if sub else ''} has no flag {flag}" for flag in flags_used(module_args)
                if flag not in known]
    return out


COMMANDS = all_commands()


def test_every_page_has_its_commands_found():
    pages = {c.page for c in COMMANDS}
    assert {"README.md", "docs/getting-started.md", "docs/own-data.md", "docs/export.md"} <= pages
    assert sum(python_call(c.words) is not None for c in COMMANDS) >= 60


@pytest.mark.parametrize("page", PAGES)
def test_every_command_exists_and_takes_its_flags(page):
    wrong = [f"{c}\n    {p}" for c in COMMANDS if c.page == page for p in problems_of(c)]
    assert not wrong, "\n".join(wrong)


def runnable(command: Command, here: str, modules: set[str]) -> list[str] | None:
    """The words to run for real (python replaced, tiny flags added), or None for a command left to
    the flag check: long trainings, exports, servers, interactive ones, or paths that do not exist here."""
    if command.env:
        return None
    if command.words[0] == "head":
        return command.words if TF_MODULES & modules else None
    call = python_call(command.words)
    if call is None or call[0] != "module" or call[1] not in modules:
        return None
    _, module, args = call
    if "--interactive" in args or "--resume" in args or "--file" in args:
        return None
    positional = [a for a in args if not a.startswith("-")]
    if module in {"kerasrnn.complete", "kerasrnn.classify", "kerasrnn.evaluate", "kerasrnn.sample"}:
        target = positional[0] if positional else ""
        if not os.path.isdir(os.path.join(here, target)):
            return None
        if module == "kerasrnn.evaluate" and target.startswith("exported/"):
            return None  # reads the whole validation split: the flag check is enough
    extra = []
    if module == "kerasrnn.fit":
        if "--text" in args and "--task" not in args:
            if not os.path.isfile(os.path.join(here, args[args.index("--text") + 1])):
                return None
            extra = TINY_FIT
        elif not ("--sentence" in args and "--task" in args):
            return None
    return [sys.executable, "-m", module, *args, *extra]


def run_page(page: str, here, modules: set[str]) -> int:
    """Runs the page's runnable commands in document order in `here`; returns how many ran."""
    for name in ("exported", "pipelines"):
        os.symlink(os.path.join(ROOT, name), here / name)
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    ran = 0
    for command in (c for c in COMMANDS if c.page == page):
        words = runnable(command, str(here), modules)
        if words is None:
            continue
        done = subprocess.run(words, cwd=here, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command}\nexit {done.returncode}\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr, f"{command}\n{done.stderr[-3000:]}"
        if command.stdout_to:
            (here / command.stdout_to).write_text(done.stdout, encoding="utf-8")
        ran += 1
    return ran


@pytest.mark.parametrize("page", ["README.md", "docs/export.md", "docs/surnames.md", "docs/korean.md",
                                  "exported/README.md"])
def test_completion_commands_run_as_written(page, tmp_path):
    assert run_page(page, tmp_path, LITERT_MODULES) >= 1


@pytest.mark.slow
@pytest.mark.parametrize("page", ["README.md", "docs/own-data.md", "docs/exercises.md"])
def test_training_commands_run_as_written(page, tmp_path):
    """Training on a slice of text (tiny flags appended), evaluating and sampling it, the sentence lesson."""
    assert run_page(page, tmp_path, TF_MODULES) >= 2


def test_the_parser_reads_continuations_prefixes_and_comments():
    text = "```bash\nA=1 B='x y' \\\n  .venv/bin/python -m kerasrnn.fit --cell gru \\\n  --epochs 2   # a comment --nope\n" \
           "cd web && npm ci && cd ..\nhead -c 10 f.txt > out.txt\n```\n```python\nprint('--not-shell')\n```\n"
    commands = commands_of("x.md", text)
    assert [c.words for c in commands] == [[".venv/bin/python", "-m", "kerasrnn.fit", "--cell", "gru", "--epochs", "2"],
                                           ["cd", "web"], ["npm", "ci"], ["cd", ".."], ["head", "-c", "10", "f.txt"]]
    assert commands[0].env == ["A=1", "B=x y"] and commands[0].line == 2 and commands[-1].stdout_to == "out.txt"
    assert problems_of(commands[0]) == []
    renamed = Command("x.md", 1, [], ["python", "-m", "kerasrnn.fit", "--epoch", "2"])
    assert problems_of(renamed) == ["kerasrnn.fit has no flag --epoch"]
