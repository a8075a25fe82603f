"""Exporting a Korean key model: the character model's export, over keys, with its own figures.

The files, signatures and checks are those of `kerasrnn.tasks.language_model.export` (the tokens are
keys: "serving_default" takes its prefixes as keys, e.g. 'ㄱㅣ' for '기'), the browser's batch-1 files
`model_web.tflite` and `model_web_int8.tflite` included (`kerasrnn.exporting.web`; the page in `web/` types
Hangul as keys with the manifest's "keyboard" tables). Added:

- every `.tflite` file is measured on the whole validation and test splits with the state carried
  (`kerasrnn.tasks.korean.evaluation.step_nats`): nats per key and bits per character, which must
  agree with the Keras model's (`CARRIED_ATOL` nats/key), and int8 may lose at most
  `INT8_MAX_EXTRA_BPC` bits per character to float;
- the manifest says what the tokens are: "input": "keys-2beolsik", "keys" (the 33 jamo keys of the
  layout), "keyboard" (the tables that type text as keys and compose them back, for a program
  without kerasrnn), and holds those figures and the 5-gram baseline's (from the run's metrics.json).
"""

from __future__ import annotations

import os
import time

from kerasrnn.core.cli import ExportFailed
from kerasrnn.core.runs import read_metrics
from kerasrnn.exporting.archive import INT8_MAX_EXTRA_BPC
from kerasrnn.models.char_model import state_size
from kerasrnn.models.loading import Run
from kerasrnn.ondevice import litert
from kerasrnn.ondevice.hangul import KEYBOARD, KEYS, keyboard_tables
from kerasrnn.tasks.korean import evaluation
from kerasrnn.tasks.korean.baseline import ORDER
from kerasrnn.tasks.korean.corpus import SPLIT_RULE, key_corpus, key_streams
from kerasrnn.tasks.korean.training import EVALUATED, korean_figures
from kerasrnn.tasks.language_model.export import PARITY_CHARS, manifest_for, verify, write_model_files

CARRIED_ATOL = 1e-3  # max |nats/key difference| between a float .tflite file and Keras on a whole split
INPUT_NOTE = ("the tokens are the keys of the Korean 2-beolsik keyboard: type text as keys "
              "(kerasrnn.ondevice.hangul.text_to_keys: '기억' -> 'ㄱㅣㅇㅓㄱ') and show keys as text with keys_to_text")


def carried_figures(tmp: str, run: Run, streams: dict, keras_figures: dict, log) -> dict:
    """Each `.tflite` file's figures on the validation and test splits (state carried), checked.

    Raises:
        ExportFailed: float differs from Keras, or int8 loses too much to float.
    """
    out = {}
    for kind, name in litert.TFLITE_FILES.items():
        if not os.path.exists(os.path.join(tmp, name)):
            continue
        step = litert.LiteStep(os.path.join(tmp, name))
        out[name] = {split: evaluation.figures(
            evaluation.step_nats(step, evaluation.split_ids(run.vocab, streams[split]), state_size(run.config)),
            streams[split]) for split in EVALUATED}
        for split in EVALUATED:
            got = out[name][split]
            log(f"  {name} {split} (whole split, state carried): {got['nats_per_key']:.4f} nats/key = "
                f"{got['bits_per_char']:.4f} bits/char")
            if kind == "float":
                err = abs(got["nats_per_key"] - keras_figures[split]["nats_per_key"])
                if not err <= CARRIED_ATOL:
                    raise ExportFailed(f"check failed: {name} differs from Keras on the {split} split by {err:.2e} "
                                       f"nats/key (> {CARRIED_ATOL:g})")
    int8 = litert.TFLITE_FILES["int8"]
    if int8 in out:
        float_ = out[litert.TFLITE_FILES["float"]]
        extra = max(out[int8][s]["bits_per_char"] - float_[s]["bits_per_char"] for s in EVALUATED)
        log(f"  check int8 vs float: at most {extra:+.4f} bits/char")
        if not extra <= INT8_MAX_EXTRA_BPC:
            raise ExportFailed(f"check failed: the int8 model loses {extra:.4f} bits/char to the float one "
                               f"(> {INT8_MAX_EXTRA_BPC})")
    return out


def export_korean_model(run: Run, tmp: str, log, started: float, int8: bool = True) -> dict:
    """Writes and verifies a Korean key model's export in `tmp`; returns its manifest."""
    streams = key_streams()
    corpus = key_corpus(streams=streams)
    val_ids = run.vocab.encode(corpus.validation)
    write_model_files(run, tmp, int8=int8)
    losses = verify(run, tmp, corpus.validation[:PARITY_CHARS], val_ids, log, int8=int8)
    final = read_metrics(run.path).get("final", {})
    if not all(split in final for split in EVALUATED):  # a run trained before these figures existed
        final = {**final, **korean_figures(run, streams)}
    files = carried_figures(tmp, run, streams, final, log)
    manifest = manifest_for(run, tmp, corpus, losses, time.perf_counter() - started)
    for name, figures in files.items():  # flat, as every file entry: validation_nats_per_key, ...
        manifest["files"][name].update({f"{split}_{k}": v for split in EVALUATED for k, v in figures[split].items()
                                         if k in ("nats_per_key", "bits_per_char")})
    manifest["training_data"].update(
        split=SPLIT_RULE, **{f"{split}_{unit}": len(getattr(streams[split], attr)) for split in ("train", "validation")
                             for unit, attr in (("chars", "text"), ("keys", "keys"))})
    manifest.update({
        "task": "korean", "input": KEYBOARD, "keys": list(KEYS), "input_note": INPUT_NOTE, "keyboard": keyboard_tables(),
        **{split: final[split] for split in EVALUATED},
        f"baseline_{ORDER}gram": final[f"baseline_{ORDER}gram"],
        "evaluation": final.get("evaluation", ""),
        "export_seconds": round(time.perf_counter() - started, 1),
    })
    return manifest
