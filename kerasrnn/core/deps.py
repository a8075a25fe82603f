"""The third-party packages a command needs, checked before anything imports them: a missing one is one
line on stderr naming it and the command that installs it, exit status 2, never an import traceback.

    require("kerasrnn.fit", "numpy")        at the top of a command module, before the imports that need it
    cli.check_packages("tensorflow", ...)   inside a command's body (UsageError with `missing_message`)

Standard library only (`kerasrnn.core.cli` builds on it), so a command can check before importing anything.

Nothing is imported to check (`importlib.util.find_spec`), so checking TensorFlow costs no start-up time.
"""

from __future__ import annotations

import importlib.util
import sys

EXIT_USAGE = 2  # as kerasrnn.core.cli's: bad input or setup
INSTALL = "python3 -m venv .venv && .venv/bin/pip install -e {extra}"  # from the repository root
EXTRAS = {"playwright": '".[test]"', "hangulpy": '".[test]"', "torch": '".[bench]"'}  # import name -> what installs it
PIP_NAMES = {"ai_edge_litert": "ai-edge-litert", "tensorflow_datasets": "tensorflow-datasets"}  # where they differ
TENSORFLOW = ("numpy", "tensorflow", "keras")  # what training, evaluating, exporting and Keras runs import
LITERT = ("numpy", "ai_edge_litert")  # what an export needs on a phone-sized install (kerasrnn.ondevice)


def installed(name: str) -> bool:
    """Whether the top-level package `name` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken install, or a module object without a spec
        return False


def main_command() -> str | None:
    """The command this process runs (`python -m kerasrnn.fit`: "kerasrnn.fit"), or None."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", None) or ""
    return name if name.startswith("kerasrnn.") else None


def missing_message(packages: tuple[str, ...] | list[str], prog: str | None = None) -> str | None:
    """The line that names the first missing package and how to install it, or None when all are there."""
    absent = [p for p in packages if not installed(p)]
    if not absent:
        return None
    name = absent[0]
    prog = prog or main_command()
    extra = EXTRAS.get(name, ".")
    run = f", then run .venv/bin/python -m {prog} (or activate .venv first)" if prog else ""
    return (f"the package {PIP_NAMES.get(name, name)} is not installed for this Python ({sys.executable}): "
            f"install the project with `{INSTALL.format(extra=extra)}`{run}")


def require(prog: str, *packages: str) -> None:
    """At a command module's top: prints "prog: error: ..." and exits with status 2 when a package is missing."""
    message = missing_message(packages, prog)
    if message:
        print(f"{prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
