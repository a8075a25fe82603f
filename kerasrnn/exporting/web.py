"""The browser's copies of a step model: `.tflite` files at batch 1 with every shape fixed, for LiteRT.js.

    model_web.tflite        float32: "step" (the surname generator: also "start") at batch 1
    model_web_int8.tflite   the same with dynamic-range int8 weights (left out by export --no-int8)

Why a second pair of files: LiteRT.js 2.5.3 (WebAssembly, the page in `web/`) rejects a [1, S] tensor
for an input declared [-1, S] ("TensorBuffer ranked tensor type Float32[1, 640] does not match expected
ranked tensor type Float32[-1, 640]"), and a batch above 1 on the dynamic model corrupts its heap. So
the page steps one row at a time, and the export writes these files from a SavedModel whose
signatures fix the batch at 1 (`keras.export.ExportArchive`, then the same converter settings as
`model.tflite`). They compute what `model.tflite` and `model_int8.tflite` compute, row by row.

    write_web_files(tmp, add_endpoints, signatures)   the batch-1 SavedModel -> the two files, checked static
    open_web_steps(tmp, int8)                         {file: its "step" in LiteRT}; `batch1` runs it at any batch
    check_web_parity(outputs, expected, ...)          the float file vs Keras, the int8 one vs model_int8.tflite
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Callable

import keras
import numpy as np

from kerasrnn.core.cli import ExportFailed
from kerasrnn.exporting.archive import check_parity, write_tflite_files
from kerasrnn.ondevice import litert

WEB_BATCH = 1  # the only batch LiteRT.js 2.5.3 runs these models at
WEB_RUNTIME = "LiteRT.js 2.5.3 (@litertjs/core, WebAssembly CPU); the page is web/, served by python -m kerasrnn.web"


def write_web_files(tmp: str, add_endpoints: Callable[[keras.export.ExportArchive, int], None],
                    signatures: tuple[str, ...] = (litert.STEP,), int8: bool = True) -> None:
    """Writes `model_web.tflite` (and with `int8` `model_web_int8.tflite`) in `tmp`.

    Args:
        add_endpoints: adds the signatures to an ExportArchive at the given batch (for example
            `lambda archive, batch: add_step_endpoint(archive, model, config, batch)`).
        signatures: the signatures the files keep.
    Raises:
        ExportFailed: the conversion failed, or a file still has a dynamic shape.
    """
    archive = keras.export.ExportArchive()
    add_endpoints(archive, WEB_BATCH)
    source = tempfile.mkdtemp(dir=tmp, prefix=".web-")  # removed with tmp on failure
    archive.write_out(source, verbose=False)
    write_tflite_files(tmp, signatures, source=source, int8=int8, names=litert.WEB_FILES)
    shutil.rmtree(source)
    for name in litert.tflite_files(int8, litert.WEB_FILES).values():
        check_static(os.path.join(tmp, name), signatures)


def check_static(path: str, signatures: tuple[str, ...]) -> None:
    """Raises ExportFailed unless the file has exactly `signatures`, every input and output shape fixed
    at batch WEB_BATCH (no -1 in any shape signature)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path)
    found = interpreter.get_signature_list()
    if sorted(found) != sorted(signatures):
        raise ExportFailed(f"check failed: {os.path.basename(path)} has signatures {sorted(found)}, "
                           f"expected {sorted(signatures)}")
    for key in signatures:
        runner = interpreter.get_signature_runner(key)
        for name, detail in {**runner.get_input_details(), **runner.get_output_details()}.items():
            shape = [int(d) for d in detail["shape_signature"]]
            if min(shape, default=1) < 1 or shape[:1] != [WEB_BATCH]:
                raise ExportFailed(f"check failed: {os.path.basename(path)} {key}/{name} has shape {shape}, "
                                   f"not fixed at batch {WEB_BATCH}")


def batch1(step: Callable) -> Callable:
    """A batch-1 step function as one for any batch: each row is stepped on its own, in order.

    step: (tokens (1,), state (1, S)) -> (logits (1, vocab), state (1, S)); returns the same for (batch,).
    """
    def rows(tokens: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        outs = [step(tokens[i:i + 1], state[i:i + 1]) for i in range(len(tokens))]
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])  # (batch, vocab), (batch, S)

    return rows


def open_web_steps(tmp: str, int8: bool = True) -> dict[str, litert.LiteStep]:
    """The web files' "step" signatures in LiteRT: {file name: LiteStep} (batch 1; wrap with `batch1`)."""
    return {name: litert.LiteStep(os.path.join(tmp, name))
            for name in litert.tflite_files(int8, litert.WEB_FILES).values()}


def check_web_parity(outputs: dict[str, np.ndarray], expected: np.ndarray, what: str, log,
                     mask: np.ndarray | None = None) -> None:
    """The float web file's outputs against Keras', the int8 one's against `model_int8.tflite`'s.

    Args:
        outputs: {file name: its outputs}, for the web files and `model_int8.tflite` where written.
        expected: Keras' outputs, the same shape.
        what: what the outputs are, for the log ("step logits on 200 characters").
        mask: the positions compared (None: all).
    Raises:
        ExportFailed: a difference above PARITY_ATOL.
    """
    for kind, name in litert.WEB_FILES.items():
        if name in outputs:
            against = "Keras" if kind == "float" else litert.TFLITE_FILES[kind]
            diff = np.abs(outputs[name] - (expected if kind == "float" else outputs[against]))
            check_parity(name, what, float((diff if mask is None else diff[mask]).max()), log, against=against)


def web_record(signatures: tuple[str, ...] = (litert.STEP,), int8: bool = True) -> dict:
    """The manifest's "web" entry: which files the browser loads, their signatures, and the runtime."""
    return {"files": litert.tflite_files(int8, litert.WEB_FILES), "batch": WEB_BATCH,
            "signatures": f"{', '.join(signatures)} as in model.tflite, with the batch fixed at {WEB_BATCH}",
            "runtime": WEB_RUNTIME}
