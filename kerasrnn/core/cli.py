"""What every command line shares: one-line errors with exit status 2, and a quiet TensorFlow import."""

from __future__ import annotations

import argparse
import contextlib
import errno
import math
import os
import re
import sys
from typing import Callable

from kerasrnn.core.deps import TENSORFLOW, missing_message
from pipelines.io import DataError

EXIT_USAGE = 2  # bad input or options
EXIT_FAILED = 1  # the work itself failed (for example a NaN loss)


class UsageError(Exception):
    """Bad options or arguments: reported as one line on stderr, exit status 2."""


class Failed(Exception):
    """The work itself failed (not the input): one line on stderr, exit status 1."""


class TrainingFailed(Failed):
    """Training could not go on (for example the loss became NaN)."""


class ExportFailed(Failed):
    """An export did not pass one of its checks; nothing was written."""


class Range:
    """An argparse `type`: a number within [lo, hi] (`lo_open`, `hi_open`: the bound itself is out), NaN and
    infinities refused.

    `--help` names the range next to the default (see `HelpFormatter`).
    """

    def __init__(self, kind: type, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False):
        self.kind, self.lo, self.hi, self.lo_open, self.hi_open = kind, lo, hi, lo_open, hi_open

    def contains(self, value) -> bool:
        """Whether `value` (already a number) lies in the range."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        if self.kind is int and not isinstance(value, int):
            return False
        return (self.lo < value if self.lo_open else self.lo <= value) and \
            (value < self.hi if self.hi_open else value <= self.hi)

    def describe(self) -> str:
        """The range for --help, e.g. "an integer, 1 to 4,096" or "a number in (0, 10]"."""
        if self.kind is int:
            return f"an integer, {self.lo:,} to {self.hi:,}"
        return f"a number in {self.interval()}"

    def interval(self) -> str:
        """The range in interval notation, e.g. "(0, 10]"."""
        return f"{'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}{')' if self.hi_open else ']'}"

    def complaint(self, value) -> str:
        """Why `value` is refused, e.g. "must be at least 1 and at most 4,096 (got 0)"."""
        if self.kind is int and isinstance(value, int) and not isinstance(value, bool):
            return f"must be at least {self.lo:,} and at most {self.hi:,} (got {value!r})"
        if self.kind is int:
            return f"must be an integer from {self.lo:,} to {self.hi:,} (got {value!r})"
        return f"must be in {self.interval()} (got {value!r})"

    def __call__(self, text: str):
        try:
            value = self.kind(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(self.complaint(text)) from None
        if not self.contains(value):
            raise argparse.ArgumentTypeError(self.complaint(value))
        return value

    def __repr__(self) -> str:  # argparse names the type in some messages
        return self.describe()


def utf8(text: str) -> str:
    """An argparse `type` for file names and for text that is written into files: valid UTF-8, as TensorFlow,
    LiteRT and JSON need (bytes that are not UTF-8 arrive as lone surrogates and are refused in one line)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown = text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
        raise argparse.ArgumentTypeError(f"must be UTF-8 (got '{shown}'): name files and write text in UTF-8") \
            from None
    return text


TEMPERATURE = Range(float, 0.01, 100.0)  # sampling temperatures (below 0.01 the logits / t overflow)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's range (a `Range` type) and its default once: not when the help already
    explains it, not for a required flag, not when it is None."""

    def _get_help_string(self, action):
        text = action.help or ""
        notes = []
        if isinstance(action.type, Range):
            notes.append(action.type.describe())
        if "%(default)" not in text and "(default" not in text and not action.required \
                and action.default not in (None, argparse.SUPPRESS) \
                and (action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE)):
            notes.append("default: %(default)s")
        return f"{text} ({'; '.join(notes)})" if notes else text


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (no usage block) and exits 2."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        message = re.sub(r"^argument (-[^:]*): must be", r"\1 must be", message)  # "--units must be ..."
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")

    def _get_values(self, action, arg_strings):  # noqa: D102 - argparse's hook
        if action.nargs is None and arg_strings == ["--"]:  # `--flag=--`: the value "--", not an empty list
            return self._get_value(action, "--")
        return super()._get_values(action, arg_strings)

    def parse_known_args(self, args=None, namespace=None):  # noqa: D102 - argparse's hook
        printable_output()
        if args is not None and any(isinstance(a, str) and "\0" in a for a in args):
            self.error("an argument contains a NUL character")  # no command line can hold one
        return super().parse_known_args(args, namespace)


def parser(prog: str, description: str) -> ArgumentParser:
    """An ArgumentParser whose --help shows every flag's default and range."""
    return ArgumentParser(prog=prog, description=description, formatter_class=HelpFormatter)


def printable_output() -> None:
    """Lets stdout and stderr write any string: characters the terminal cannot take (a lone surrogate
    from undecodable bytes in a file name or argument) are written as backslash escapes, never raised."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and getattr(stream, "errors", None) == "strict":
            stream.reconfigure(errors="backslashreplace")


def check_output_dir(path: str, flag: str, files: tuple[str, ...] = (), force: bool | None = None,
                     owned: str | None = None) -> None:
    """Raises UsageError (before any work) unless the folder `path` may be written (the rule of
    `kerasrnn.core.outputs`): not a file, not inside a run directory or export other than `owned`, files can
    be made there; and each of `files` (the names the command writes into it) passes `check_output_file`.

    Args:
        force: None when the command has no --force; else whether it was given.
    """
    from kerasrnn.core import outputs

    try:
        outputs.check_dir(path, flag, files, force, owned)
    except outputs.OutputRefused as e:
        raise UsageError(str(e)) from None


def check_output_file(path: str, flag: str, force: bool | None = None, owned: str | None = None) -> None:
    """Raises UsageError (before any work) unless the file `path` may be written (the rule of
    `kerasrnn.core.outputs`): it does not exist yet (or `force` was given and it is a regular file), it is not
    inside a run directory or export other than `owned`, and its folder is, or can be, one where files can be
    made.

    Args:
        force: None when the command has no --force; else whether it was given.
    """
    from kerasrnn.core import outputs

    try:
        outputs.check_file(path, flag, force, owned)
    except outputs.OutputRefused as e:
        raise UsageError(str(e)) from None


FORCE_HELP = "replace output files that already exist (only regular files; never inside a run or an export)"


TF_WILDCARDS = "*?["  # TensorFlow's file functions read these in a path as a glob pattern (no way to quote them)


def check_tf_path(path: str, flag: str) -> str:
    """Returns `path` unless it, or its absolute form, holds a character that TensorFlow reads as a wildcard
    (`TF_WILDCARDS`): TensorFlow could not write and read back a SavedModel or data folder there.

    Raises:
        UsageError: one line naming the flag and the characters.
    """
    full = os.path.abspath(path)
    found = "".join(c for c in TF_WILDCARDS if c in full)
    if not found:
        return path
    shown, them = " ".join(found), "it" if len(found) == 1 else "them"
    if any(c in path for c in found):
        raise UsageError(f"{flag} {path}: TensorFlow reads {shown} in a path as a wildcard; choose a name "
                         f"without {them}")
    raise UsageError(f"{flag} {path}: TensorFlow reads {shown} in a path as a wildcard, and the full path {full} "
                     f"holds {them}; work in a folder whose path has none")


def check_packages(*packages: str, prog: str | None = None) -> None:
    """Raises UsageError (one line: the first missing package and the command that installs it) unless every
    package can be imported; nothing is imported to check (`kerasrnn.core.deps`)."""
    message = missing_message(packages, prog)
    if message:
        raise UsageError(message)


@contextlib.contextmanager
def silenced_stderr():
    """Sends file descriptor 2 to /dev/null for the block: native libraries print there directly."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_tensorflow() -> None:
    """Imports TensorFlow and Keras with their native start-up chatter silenced.

    TensorFlow's C++ libraries print several lines to stderr when they load and when
    they first look for a GPU, before any log setting applies. Commands call this
    first so that their own messages (and one-line errors) are what the user sees.
    Set KERASRNN_TF_LOGS=1 to see TensorFlow's messages.

    Raises:
        UsageError: TensorFlow, Keras or numpy is not installed (one line naming it and the install command).
    """
    check_packages(*TENSORFLOW)
    if os.environ.get("KERASRNN_TF_LOGS") == "1" or "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with silenced_stderr():
        import tensorflow as tf
        import keras  # noqa: F401

        tf.config.list_physical_devices("GPU")  # the CUDA probe prints here


def run(body: Callable[[], int | None], prog: str) -> int:
    """Runs a command's body, turning expected failures into one line on stderr.

    Returns:
        The exit status: the body's, or 2 for bad input, 1 for a failed run (also: out of memory, a file
        that could not be written), 130 on Ctrl-C.
    """
    OUTPUTS.clear()
    try:
        return body() or 0
    except (UsageError, DataError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Failed as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout went away (`... | head`): nothing more to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as e:  # the disk or the system refused a write or a read (full, read-only, gone)
        if disk_full(e):
            print(f"{prog}: error: {disk_full_message(e)}", file=sys.stderr)
            return EXIT_FAILED
        where = f" ({e.filename})" if e.filename else ""
        print(f"{prog}: error: {e.strerror or e}{where}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as e:
        if disk_full(e):  # TensorFlow's file writers raise ResourceExhaustedError: "PATH; No space left on device"
            print(f"{prog}: error: {disk_full_message(e)}", file=sys.stderr)
            return EXIT_FAILED
        if not out_of_memory(e):
            raise
        print(f"{prog}: error: out of memory ({type(e).__name__}); try smaller sizes "
              f"(--units, --layers, --batch-size, --seq-len)", file=sys.stderr)
        return EXIT_FAILED


NO_SPACE = (errno.ENOSPC, errno.EDQUOT)  # a full disk, a full quota
NO_SPACE_TEXT = tuple(os.strerror(n) for n in NO_SPACE)  # "No space left on device", "Disk quota exceeded"
OUTPUTS: list[str] = []  # what this command writes (see `writing`): named when a full disk gives no file name


def writing(path: str) -> str:
    """Notes that the command writes `path` (named if the disk fills up without saying where); returns `path`."""
    OUTPUTS.append(path)
    return path


def disk_full(e: BaseException) -> bool:
    """Whether `e` says the disk (or the quota) is full: an OSError, or TensorFlow's error naming ENOSPC."""
    if isinstance(e, OSError) and e.errno in NO_SPACE:
        return True
    return any(text in str(e) for text in NO_SPACE_TEXT)


def disk_full_message(e: BaseException) -> str:
    """One line: the disk is full, the file that could not be written, and the free space where it was."""
    where = OUTPUTS[-1] if OUTPUTS else getattr(e, "filename", None)  # the output named by the user, if noted
    if not where:
        text = str(e).strip().splitlines()[0] if str(e).strip() else ""
        for reason in NO_SPACE_TEXT:  # TensorFlow: "PATH; No space left on device"
            if reason in text and text.index(reason) > 2:
                where = text[:text.index(reason)].rstrip("; :")
    if not where:
        return "the disk is full (no space left on device); free some space and run the command again"
    folder = os.path.dirname(os.path.abspath(os.fsdecode(where)))
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    while not os.path.ismount(folder):
        folder = os.path.dirname(folder)
    try:
        import shutil

        free = f" has {shutil.disk_usage(folder).free / 1e6:,.1f} MB free"
    except OSError:
        free = ""
    return (f"the disk is full: no space left to write {where} (the file system mounted at {folder}{free}); "
            f"free some space or write elsewhere")


def out_of_memory(e: BaseException) -> bool:
    """Whether `e` is Python's MemoryError or TensorFlow's ResourceExhaustedError (without importing TensorFlow)."""
    tf = sys.modules.get("tensorflow")
    return isinstance(e, MemoryError) or (tf is not None and isinstance(e, tf.errors.ResourceExhaustedError))
