"""The JSON files a run or an export holds (config.json, vocab.json, manifest.json), read and checked
before anything uses them: every failure is one line naming the file and the field (a `DataError`).

    read_json_object(path)              a JSON object from a file (not a list, no NaN, not a directory)
    Fields(data, source).get(name, ...) one field, type- and range-checked
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from pipelines.io import DataError, missing_cause

MAX_JSON_BYTES = 64 * 2**20  # a config, vocabulary or manifest is a few kilobytes; more is not one of ours
MISSING = object()  # `Fields.get`'s default: the field must be present
KINDS = {"int": "an integer", "number": "a number", "str": "a string", "bool": "true or false",
         "list": "a list", "dict": "an object", "str_list": "a list of strings"}


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


class DuplicateKey(ValueError):
    """A JSON object names one key twice (which of the two counts is ambiguous)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    found = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(key)
        found[key] = value
    return found


def read_json_object(path: str) -> dict:
    """Reads a file that must hold one JSON object.

    Raises:
        DataError: missing, a directory, too large, not UTF-8, not JSON (NaN and Infinity included),
            or not an object.
    """
    if not os.path.exists(path):
        raise DataError(missing_cause(path))
    if not os.path.isfile(path):
        raise DataError(f"{path} is not a file")
    try:
        if os.path.getsize(path) > MAX_JSON_BYTES:
            raise DataError(f"{path} is larger than {MAX_JSON_BYTES // 2**20} MB: not a kerasrnn file")
        if not os.access(path, os.R_OK):
            raise PermissionError(13, "permission denied", path)
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}") from None
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise DataError(f"{path} is not UTF-8 text") from None
    except DuplicateKey as e:
        raise DataError(f"{path} names the field {str(e)!r} twice: keep one") from None
    except (ValueError, RecursionError) as e:
        raise DataError(f"{path} is not valid JSON ({str(e).splitlines()[0][:120]})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path} must hold a JSON object, not {type(data).__name__ if data is not None else 'null'}")
    return data


def _is(value: Any, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "str_list":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, {"str": str, "bool": bool, "list": list, "dict": dict}[kind])


class Fields:
    """Typed, checked access to the fields of one JSON object read from `source` (a file name for messages)."""

    def __init__(self, data: Any, source: str):
        if not isinstance(data, dict):
            raise DataError(f"{source} must hold a JSON object, not {type(data).__name__}")
        self.data, self.source = data, source

    def error(self, name: str, reason: str) -> DataError:
        """A one-line error about field `name` (to raise)."""
        return DataError(f"{self.source}: field {name!r} {reason}")

    def get(self, name: str, kind: str, default: Any = MISSING, lo: float | None = None, hi: float | None = None,
            nullable: bool = False, choices=None) -> Any:
        """The field's value, checked.

        Args:
            name: the field.
            kind: one of KINDS ("int", "number", "str", "bool", "list", "dict", "str_list").
            default: what a missing field gives (default: a missing field is an error).
            lo, hi: the range of a number (inclusive), or of a string's or list's length.
            nullable: null is allowed.
            choices: the values allowed.
        Raises:
            DataError: naming the file and the field.
        """
        if name not in self.data:
            if default is MISSING:
                raise self.error(name, "is missing")
            return default
        value = self.data[name]
        if value is None and nullable:
            return None
        if not _is(value, kind):
            raise self.error(name, f"must be {KINDS[kind]} (got {_short(value)})")
        size = value if kind in ("int", "number") else len(value) if kind in ("str", "list", "str_list") else None
        if size is not None and ((lo is not None and size < lo) or (hi is not None and size > hi)):
            what = "be" if kind in ("int", "number") else "have a length"
            raise self.error(name, f"must {what} {_bounds(lo, hi)} (got {_short(value)})")
        if choices is not None and value not in choices:
            raise self.error(name, f"must be one of {', '.join(map(str, choices))} (got {_short(value)})")
        return value

    def index(self, name: str, size: int, default: Any = MISSING, nullable: bool = False) -> int | None:
        """An integer field that must be an index into something of `size` items."""
        return self.get(name, "int", default, lo=0, hi=size - 1, nullable=nullable)


def _bounds(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"from {lo:g} to {hi:g}"
    return f"at least {lo:g}" if lo is not None else f"at most {hi:g}"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, float) or math.isfinite(value) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."
