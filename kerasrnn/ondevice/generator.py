"""A surname generator export (`kerasrnn.export` of a `--task surname-generation` run) read with numpy and
LiteRT only: the `start` (nationality -> state) and `step` signatures of its `.tflite` file.

    generator = ExportedGenerator("exported/surnames-generator")
    generator.sample([generator.class_id("Japanese")] * 10, seed=7)   # ten new surnames

This is what `python -m kerasrnn.sample EXPORT --nationality Japanese -n 10` runs; it draws as the Keras
run does (`kerasrnn.tasks.surnames.inference.sample_surnames`): all names in one batch, from the start
token until the end token, the other special tokens never drawn.
"""

from __future__ import annotations

import numpy as np

from kerasrnn.core.cli import UsageError, silenced_stderr
from kerasrnn.inference.samplers import sample_until_end
from kerasrnn.ondevice.litert import STEP, TFLITE_FILES, load_manifest, open_signature, verify_file, width
from pipelines.io import DataError
from pipelines.vocab import BOS, EOS, Vocabulary

START = "start"  # the signature that turns nationality ids into start states
TASK = "surname-generation"


class ExportedGenerator:
    """New surnames from an export directory.

    Args:
        model_dir: the export directory.
        model: "float" or "int8" (the `.tflite` file).
        threads: interpreter threads.
    Raises:
        UsageError: not a surname generator export, or a missing, corrupt or mismatched file.
        DataError: a manifest field that disagrees with the model.
    """

    def __init__(self, model_dir: str, model: str = "float", threads: int = 1):
        if model not in TFLITE_FILES:
            raise UsageError(f"unknown model {model!r}: choose from {', '.join(TFLITE_FILES)}")
        manifest = load_manifest(model_dir, task=TASK)
        if not isinstance(manifest.get("labels"), list) or not isinstance(manifest.get("max_len"), int):
            raise DataError(f"{model_dir}: its manifest.json lacks the generator's 'labels' or 'max_len'")
        path = verify_file(model_dir, manifest, TFLITE_FILES[model])
        interpreter, self._step = open_signature(path, STEP, ["token", "state"], ["logits", "state"], threads)
        if START not in interpreter.get_signature_list():
            raise UsageError(f"{path} has no {START!r} signature: not a surname generator")
        _, self._start = open_signature(path, START, ["nationality"], ["state"], threads)
        self.labels, self.max_len = manifest["labels"], manifest["max_len"]
        self.conditioned = bool(manifest.get("conditioned"))
        self.vocab = Vocabulary(manifest["vocabulary"], manifest.get("specials", []))
        if width(self._step.get_output_details(), "logits") != len(self.vocab.tokens):
            raise DataError(f"{model_dir}: its manifest's vocabulary does not match the logits of {path}")
        with silenced_stderr():  # LiteRT announces its XNNPACK delegate on the first call
            self.start_states(np.zeros(1, np.int32))

    def class_id(self, nationality: str) -> int:
        """The id of a nationality (case-insensitive).

        Raises:
            UsageError: an unknown nationality (listing the known ones), or any for an unconditioned generator.
        """
        if not self.conditioned:
            raise UsageError("this is an unconditioned generator: it takes no --nationality")
        lowered = {label.lower(): i for i, label in enumerate(self.labels)}
        if nationality.lower() not in lowered:
            raise UsageError(f"unknown nationality {nationality!r}: choose from {', '.join(self.labels)}")
        return lowered[nationality.lower()]

    def start_states(self, nationality: np.ndarray) -> np.ndarray:
        """(batch,) nationality ids -> (batch, S) start states."""
        return np.asarray(self._start(nationality=np.asarray(nationality, np.int32))["state"])

    def sample(self, nationality: list[int] | np.ndarray, seed: int = 1337, temperature: float = 1.0,
               top_k: int = 0, top_p: float = 1.0) -> list[str]:
        """One new surname per nationality id, all drawn in one batch (ids are ignored when unconditioned)."""
        rng = np.random.default_rng(seed)
        states = self.start_states(np.asarray(nationality, np.int32))  # (batch, S)
        banned = [self.vocab.id_of(t) for t in self.vocab.specials if t != EOS]

        def step(tokens: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            result = self._step(token=tokens, state=states.astype(np.float32))
            return result["logits"], result["state"]  # (batch, vocab), (batch, S)

        out = sample_until_end(step, states, self.vocab.id_of(BOS), self.vocab.id_of(EOS), banned, self.max_len,
                               rng, temperature, top_k, top_p)
        return [self.vocab.decode(ids) for ids in out]
