"""A surname classifier export (`kerasrnn.export` of a `--task surnames` run) read with numpy and LiteRT only:
the `classify` signature of its `.tflite` file, tokens int32 (batch, max_len), 0-padded -> probs (batch, classes).

    classifier = ExportedClassifier("exported/surnames-classifier")
    classifier.top(["Nakamura", "Schmidt"], k=3)   # [[("Japanese", 0.98), ...], ...]

Names are read as in training (NFC, stripped, cut to the manifest's max_len, unseen characters as <unk>,
each with a notice); this is what `python -m kerasrnn.classify EXPORT NAME...` runs.
"""

from __future__ import annotations

import os

import numpy as np

from kerasrnn.core.cli import UsageError, silenced_stderr
from kerasrnn.ondevice.litert import (MANIFEST, TFLITE_FILES, choose_kind, invalid_model, load_manifest,
                                      open_signature, verify_file, width)
from pipelines.io import DataError
from pipelines.surnames import names_to_ids
from pipelines.vocab import Vocabulary

CLASSIFY = "classify"  # the signature of the classifier's .tflite files


class ExportedClassifier:
    """Nationality probabilities of surnames from an export directory.

    Args:
        model_dir: the export directory.
        model: "float", "int8" (the `.tflite` file; an export made with --no-int8 has only the float one), or
            None: the int8 file where the manifest shows it as accurate as the float one (`default_kind`).
        threads: interpreter threads.
        warn: where notices about long names and unseen characters go (default: stderr).
    Raises:
        UsageError: not a surname classifier export, or a missing, corrupt or mismatched file.
        DataError: a manifest field that disagrees with the model.
    """

    def __init__(self, model_dir: str, model: str | None = None, threads: int = 1, warn=None):
        if model is not None and model not in TFLITE_FILES:
            raise UsageError(f"unknown model {model!r}: choose from {', '.join(TFLITE_FILES)}")
        manifest = load_manifest(model_dir, task="surnames")
        self.kind = model = choose_kind(manifest, model)  # "float" or "int8": the file that runs
        path = verify_file(model_dir, manifest, TFLITE_FILES[model])
        _, self._runner = open_signature(path, CLASSIFY, ["tokens"], ["probs"], threads)
        self.labels, self.max_len, self.warn = manifest["labels"], manifest["max_len"], warn
        self.vocab = Vocabulary(manifest["vocabulary"], manifest.get("specials", []))
        source = os.path.join(model_dir, MANIFEST)
        self.path = path
        with invalid_model(path):
            shapes = (width(self._runner.get_input_details(), "tokens"),
                      width(self._runner.get_output_details(), "probs"))
        for field, want, got in (("max_len", self.max_len, shapes[0]), ("labels", len(self.labels), shapes[1])):
            if want != got:
                raise DataError(f"{source}: field {field!r} says {want}, but {path} has {got}")
        with silenced_stderr(), invalid_model(path):  # LiteRT announces its XNNPACK delegate on the first call
            self._runner(tokens=np.zeros((1, self.max_len), np.int32))

    def probs(self, names: list[str]) -> np.ndarray:
        """Class probabilities, (len(names), classes), in `labels` order."""
        ids = names_to_ids(names, self.vocab, self.max_len, self.warn, pad_to=self.max_len)  # (batch, max_len)
        with invalid_model(self.path):
            return np.asarray(self._runner(tokens=ids)["probs"])

    def top(self, names: list[str], k: int = 3) -> list[list[tuple[str, float]]]:
        """The k likeliest nationalities of each name, with their probabilities."""
        return [[(self.labels[i], float(row[i])) for i in np.argsort(-row)[:k]] for row in self.probs(names)]
