"""An exported model directory, read with numpy and the LiteRT runtime only (no TensorFlow, no Keras).

    exported/NAME/
      manifest.json       vocabulary, state size, model shape, training data, and per file:
                          bytes, sha256, validation loss (nats/char and bits/char)
      model.tflite        float32 step model, signature "step"
      model_int8.tflite   the same with dynamic-range int8 weights (left out by export --no-int8)
      model_web.tflite, model_web_int8.tflite   the same at batch 1, every shape fixed: for LiteRT.js in
                          the browser (`web/`), which rejects a dynamic batch (`kerasrnn.exporting.web`)
      saved_model/        for TensorFlow: signatures "serving_default" (strings) and "step"

The "step" signature: token (batch,) int32, state (batch, S) float32
-> logits (batch, vocab) float32, state (batch, S) float32. A zero state is the start
state; every prefix is read as if it followed the manifest's `start_text` (a line break).

This module and `kerasrnn.complete` import nothing but the standard library, numpy and
`ai_edge_litert`, so they run where only the LiteRT runtime is installed (a phone, a
small server); a test checks it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os

import numpy as np

from kerasrnn.core.cli import UsageError, silenced_stderr
from kerasrnn.core.config import MAX_UNITS, TASKS
from pipelines.io import DataError
from pipelines.schema import Fields, read_json_object
from pipelines.vocab import MAX_TOKENS, UNK

FORMAT = "kerasrnn-export"  # the manifest's "format": what marks a folder as one of our exports
MANIFEST = "manifest.json"
SAVED_MODEL = "saved_model"
TFLITE_FILES = {"float": "model.tflite", "int8": "model_int8.tflite"}  # --model choice -> file
WEB_FILES = {"float": "model_web.tflite", "int8": "model_web_int8.tflite"}  # the browser's batch-1 files
STEP = "step"  # the signature every exported model has
LANGUAGE_MODEL_TASKS = ("shakespeare", "sentence", "korean")  # exports with a language model's "step" signature
MANIFEST_VERSION = 1  # bumped when the manifest's meaning changes
INT8_DEFAULT_MAX_EXTRA_BITS = 0.01  # the int8 file is the default when it loses at most this many bits/char
INT8_DEFAULT_MAX_ACCURACY_DROP = 0.001  # ... or, for a classifier (no bits figure), this much test accuracy


def tflite_files(int8: bool = True, names: dict[str, str] = TFLITE_FILES) -> dict[str, str]:
    """The `.tflite` files an export writes (of `names`, or WEB_FILES): always the float one, the int8
    one unless `int8` is off."""
    return {kind: name for kind, name in names.items() if int8 or kind == "float"}


def sha256_path(path: str) -> str:
    """SHA-256 of a file, or of a directory (every file's relative path and bytes, in sorted order)."""
    digest = hashlib.sha256()
    if os.path.isdir(path):
        files = sorted(os.path.relpath(os.path.join(d, f), path)
                       for d, _, names in os.walk(path) for f in names)
    else:
        files = [None]
    for rel in files:
        full = path if rel is None else os.path.join(path, rel)
        if rel is not None:
            digest.update(rel.replace(os.sep, "/").encode() + b"\0")
        with open(full, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def size_path(path: str) -> int:
    """Bytes of a file, or of all files under a directory."""
    if not os.path.isdir(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, names in os.walk(path) for f in names)


def read_manifest_json(path: str) -> dict:
    """A manifest.json as a JSON object, unchecked (see `check_manifest`).

    Raises:
        UsageError: unreadable, not JSON, or not an object.
    """
    try:
        return read_json_object(path)
    except DataError as e:
        raise UsageError(f"{path} is corrupt or incomplete: {str(e).removeprefix(path).strip()}") from None


def check_manifest(manifest: dict, path: str) -> dict:
    """Checks a manifest against its schema: the fields every export has, and those of its task.

    Returns:
        The manifest, with "task" filled in ("shakespeare" for a character language model).
    Raises:
        DataError: one line naming `path` and the field.
    """
    f = Fields(manifest, path)
    f.get("format", "str", choices=(FORMAT,))
    task = f.get("task", "str", "shakespeare", choices=TASKS)
    vocabulary = f.get("vocabulary", "str_list", lo=1, hi=MAX_TOKENS)
    if len(set(vocabulary)) != len(vocabulary):
        raise f.error("vocabulary", "lists a token twice")
    specials = f.get("specials", "str_list", [])
    if set(specials) - set(vocabulary):
        raise f.error("specials", f"lists {sorted(set(specials) - set(vocabulary))[0]!r}, not in the vocabulary")
    if f.get("vocab_size", "int", len(vocabulary)) != len(vocabulary):
        raise f.error("vocab_size", f"is {manifest['vocab_size']}, but 'vocabulary' lists {len(vocabulary)} tokens")
    if vocabulary[f.index("unk_id", len(vocabulary))] != UNK:
        raise f.error("unk_id", f"must be the index of {UNK!r} in the vocabulary")
    for name in ("pad_id", "bos_id", "eos_id"):
        f.index(name, len(vocabulary), None, nullable=True)
    files = f.get("files", "dict")
    for name, entry in files.items():
        record = Fields(entry, f"{path}: files[{name!r}]")
        record.get("sha256", "str", lo=64, hi=64)
        record.get("bytes", "int", lo=0)
    if task == "surnames":
        f.get("labels", "str_list", lo=1, hi=10_000)
        f.get("max_len", "int", lo=1, hi=1000)
    else:
        f.get("state_size", "int", lo=1, hi=8 * 2 * MAX_UNITS)
    if task in LANGUAGE_MODEL_TASKS:
        f.get("start_text", "str", hi=10_000)
    if task == "korean":
        f.get("input", "str")
        f.get("keys", "str_list", lo=1, hi=10_000)
    manifest["task"] = task
    return manifest


def load_manifest(model_dir: str, task: str = "shakespeare") -> dict:
    """Reads and checks an export's manifest.json (`check_manifest`), of a character (or keyboard key)
    language model or, with `task="surnames"`, of a surname classifier.

    Raises:
        UsageError: not an export directory, or an export of another task. DataError: a bad field.
    """
    path = os.path.join(model_dir, MANIFEST)
    if not os.path.isdir(model_dir):
        raise UsageError(f"no such model directory: {model_dir}")
    if not os.path.exists(path):
        raise UsageError(f"{model_dir} is not a kerasrnn export (no {MANIFEST})")
    manifest = check_manifest(read_manifest_json(path), path)
    if manifest["task"] != task and not {manifest["task"], task} <= set(LANGUAGE_MODEL_TASKS):
        wanted = "a surname classifier" if task == "surnames" else "a character language model"
        raise UsageError(f"{model_dir} is a {manifest['task']} export, not {wanted} "
                         f"(see its manifest.json for its signatures)")
    return manifest


def verify_file(model_dir: str, manifest: dict, name: str) -> str:
    """Checks that an exported file exists and matches the manifest's sha256.

    Returns:
        The file's path.
    Raises:
        UsageError: the file is missing or its checksum differs (corrupt or replaced).
    """
    path = os.path.join(model_dir, name)
    entry = manifest["files"].get(name)
    if entry is None:
        raise UsageError(f"{model_dir}: the manifest lists no {name}")
    if not os.path.exists(path):
        raise UsageError(f"missing model file: {path}")
    if os.path.isdir(path):
        for folder, dirs, names in os.walk(path):  # only folders and regular files: a FIFO inside would hang
            if any(not os.path.isfile(os.path.join(folder, n)) or os.path.islink(os.path.join(folder, n))
                   for n in names) or any(os.path.islink(os.path.join(folder, d)) for d in dirs):
                raise UsageError(f"{path} holds a link or something that is not a regular file: corrupt or "
                                 f"replaced")
    if not (os.path.isfile(path) or os.path.isdir(path)) or size_path(path) != entry["bytes"]:
        raise UsageError(f"{path} does not match its size in {MANIFEST}: corrupt or replaced")
    if sha256_path(path) != entry["sha256"]:
        raise UsageError(f"{path} does not match its sha256 in {MANIFEST}: corrupt or replaced")
    return path


def open_signature(path: str, signature: str, inputs: list[str], outputs: list[str], threads: int = 1):
    """A `.tflite` file in the LiteRT interpreter and the runner of one of its signatures.

    Args:
        path: the `.tflite` file.
        signature: the signature's name; `inputs` and `outputs` its tensor names (any order).
        threads: CPU threads for the interpreter (XNNPACK).
    Returns:
        (interpreter, signature runner).
    Raises:
        UsageError: an unreadable file, or one without that signature.
    """
    from ai_edge_litert.interpreter import Interpreter

    with invalid_model(path):
        interpreter = Interpreter(model_path=path, num_threads=threads)
        signatures = interpreter.get_signature_list()
    if signature not in signatures:
        raise UsageError(f"{path} has no {signature!r} signature (it has: {', '.join(signatures) or 'none'})")
    wanted = {"inputs": sorted(inputs), "outputs": sorted(outputs)}
    if {k: sorted(signatures[signature][k]) for k in wanted} != wanted:
        raise UsageError(f"{path}: the {signature!r} signature has inputs {signatures[signature]['inputs']} and "
                         f"outputs {signatures[signature]['outputs']}; expected {', '.join(inputs)} -> "
                         f"{', '.join(outputs)}")
    with invalid_model(path):
        return interpreter, interpreter.get_signature_runner(signature)


MODEL_ERRORS = (RuntimeError, ValueError, IndexError, KeyError, TypeError)  # what LiteRT raises on a bad model


@contextlib.contextmanager
def invalid_model(path: str):
    """Turns what the interpreter raises on a damaged `.tflite` file (in loading, preparing or running it) into
    one UsageError naming `path`."""
    try:
        yield
    except MODEL_ERRORS as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UsageError(f"cannot load {path}: not a valid .tflite model ({first})") from None


def width(details: dict, name: str) -> int:
    """The last dimension of a signature tensor, from its input or output details."""
    return int(details[name]["shape_signature"][-1])


class LiteStep:
    """The "step" signature of a `.tflite` file in the LiteRT interpreter.

    Args:
        path: the `.tflite` file.
        threads: CPU threads for the interpreter (XNNPACK).
    Raises:
        UsageError: an unreadable file, or one without the "step" signature.
    """

    def __init__(self, path: str, threads: int = 1):
        self.path = path  # the .tflite file that runs
        self.kind: str | None = None  # "float" or "int8" when opened from an export by `open_step`
        self._threads = threads
        # Two interpreters: one at batch 1 (a keystroke), one for larger batches (the completion search's beams),
        # opened on first use. Resizing one interpreter between the two re-plans its tensors twice a keystroke.
        (self.interpreter, self._runner), self._batched = self._open(), None
        with invalid_model(path):
            self.state_size = width(self._runner.get_input_details(), "state")
            self.vocab_size = width(self._runner.get_output_details(), "logits")
            if self.state_size < 1 or self.vocab_size < 1:
                raise ValueError(f"a state of {self.state_size} and {self.vocab_size} logits")
            with silenced_stderr():  # LiteRT announces its XNNPACK delegate on the first call
                self(np.zeros(1, np.int32), self.zero_state())

    def _open(self):
        return open_signature(self.path, STEP, ["token", "state"], ["logits", "state"], self._threads)

    def zero_state(self, batch: int = 1) -> np.ndarray:
        """The start state, (batch, S) zeros."""
        return np.zeros((batch, self.state_size), np.float32)

    def __call__(self, tokens: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step: tokens (batch,) int32, state (batch, S) -> logits (batch, vocab), new state (batch, S)."""
        tokens = np.asarray(tokens, np.int32)
        runner = self._runner
        if len(tokens) != 1:
            if self._batched is None:
                self._batched = self._open()[1]
            runner = self._batched
        try:  # inline, not `invalid_model`: this is the hot path (one call per keystroke)
            out = runner(token=tokens, state=np.asarray(state, np.float32))
        except (RuntimeError, ValueError) as e:  # a damaged model that failed only now (another batch size)
            with invalid_model(self.path):
                raise e from None
        return out["logits"], out["state"]


def _bits_figures(entry: dict) -> dict[str, float]:
    """A file's held-out figures in bits (per character, or per key): the manifest fields ending in "bpc" or
    "bits_per_char"."""
    return {k: v for k, v in entry.items() if k.endswith(("bpc", "bits_per_char")) and isinstance(v, (int, float))}


def default_kind(manifest: dict, names: dict[str, str] = TFLITE_FILES) -> str:
    """The file a device runs unless told otherwise: "int8" where the manifest lists the int8 file and shows
    it within INT8_DEFAULT_MAX_EXTRA_BITS bits/char of the float file on every held-out figure both record
    (a classifier: within INT8_DEFAULT_MAX_ACCURACY_DROP test accuracy); else "float".

    Args:
        manifest: an export's manifest.json.
        names: kind -> file name (TFLITE_FILES, or WEB_FILES for the browser's files).
    """
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(isinstance(files.get(names[k]), dict) for k in ("float", "int8")):
        return "float"
    float_, int8 = files[names["float"]], files[names["int8"]]
    a, b = _bits_figures(float_), _bits_figures(int8)
    shared = set(a) & set(b)
    if shared:
        return "int8" if all(b[k] - a[k] <= INT8_DEFAULT_MAX_EXTRA_BITS for k in shared) else "float"
    accuracy = [e.get("test_accuracy") for e in (float_, int8)]
    if all(isinstance(v, (int, float)) for v in accuracy) and accuracy[0] - accuracy[1] <= INT8_DEFAULT_MAX_ACCURACY_DROP:
        return "int8"
    return "float"


def choose_kind(manifest: dict, model: str | None, names: dict[str, str] = TFLITE_FILES) -> str:
    """`model` ("float" or "int8") as asked, or `default_kind` when None.

    Raises:
        UsageError: an unknown kind.
    """
    if model is None:
        return default_kind(manifest, names)
    if model not in names:
        raise UsageError(f"unknown model {model!r}: choose from {', '.join(names)}")
    return model


def open_step(model_dir: str, model: str | None = None, threads: int = 1) -> tuple[dict, LiteStep]:
    """Loads an export's manifest and one of its `.tflite` files, checksum verified.

    Args:
        model_dir: the export directory.
        model: "float", "int8", or None: int8 where the manifest shows it as good as float (`default_kind`).
        threads: interpreter threads.
    Returns:
        (manifest, step runner); the runner's `kind` and `file` say which file runs.
    """
    manifest = load_manifest(model_dir)
    model = choose_kind(manifest, model)
    path = verify_file(model_dir, manifest, TFLITE_FILES[model])
    step = LiteStep(path, threads)
    source = os.path.join(model_dir, MANIFEST)
    if step.state_size != manifest["state_size"]:
        raise DataError(f"{source}: field 'state_size' is {manifest['state_size']}, but {path} carries a state "
                        f"of {step.state_size}")
    if step.vocab_size != len(manifest["vocabulary"]):
        raise DataError(f"{source}: field 'vocabulary' lists {len(manifest['vocabulary'])} tokens, but {path} "
                        f"returns {step.vocab_size} logits")
    step.kind = model
    return manifest, step


class Encoder:
    """Characters to ids by an export's vocabulary; unknown characters (and special tokens) -> the unknown id."""

    def __init__(self, manifest: dict):
        specials = set(manifest.get("specials", []))
        self.index = {t: i for i, t in enumerate(manifest["vocabulary"]) if t not in specials}
        self.unk_id = manifest["unk_id"]

    def __call__(self, text: str) -> list[int]:
        return [self.index.get(c, self.unk_id) for c in text]
