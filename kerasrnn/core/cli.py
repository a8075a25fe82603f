"""What every command line shares: one-line errors with exit status 2, and a quiet TensorFlow import."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Callable

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


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (no usage block) and exits 2."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def parser(prog: str, description: str) -> ArgumentParser:
    """An ArgumentParser whose --help shows every flag's default."""
    return ArgumentParser(prog=prog, description=description,
                          formatter_class=argparse.ArgumentDefaultsHelpFormatter)


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
    """
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
        The exit status: the body's, or 2 for bad input, 1 for a failed run, 130 on Ctrl-C.
    """
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
