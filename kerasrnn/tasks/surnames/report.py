"""Reports on surname generators: sampled surnames printed (`python -m kerasrnn.sample`) and scored
against a classifier (`python -m kerasrnn.surname_eval`): test figures, novelty, and the share of
samples classified as the requested nationality."""

from __future__ import annotations

import numpy as np

from kerasrnn.core.cli import UsageError
from kerasrnn.models.loading import Run, load_run
from kerasrnn.tasks.surnames.inference import SurnameClassifier, class_id, nationality_share, novelty
from kerasrnn.tasks.surnames.training import draw_samples, generator_figures, requested_classes
from pipelines.io import atomic_write_json
from pipelines.surnames import SPLITS, load_surnames


def print_surnames(run: Run, count: int, nationality: str | None = None, seed: int = 1337,
                   temperature: float = 0.8, top_k: int = 0, top_p: float = 1.0) -> None:
    """Prints `count` surnames of a surname-generation run, one per line (of `nationality`, or of each
    nationality in turn, named after each name, for a conditioned generator).

    Raises:
        UsageError: a nationality for an unconditioned generator, or an unknown one.
    """
    config = run.config
    if nationality and not config.conditioned:
        raise UsageError(f"{run.path} is an unconditioned generator: it takes no --nationality")
    if nationality:
        requested = np.full(count, class_id(config.labels, nationality), np.int32)
    else:
        requested = requested_classes(config, count)
    names = draw_samples(run, requested, seed, temperature, top_k, top_p)
    for name, r in zip(names, requested):
        print(f"{name}\t({config.labels[r]})" if config.conditioned and not nationality else name)


def evaluate_generator(run, classifier, data: dict, samples: int, temperature: float, seed: int) -> dict:
    """The figures of one generator run (see the module doc)."""
    requested = requested_classes(run.config, samples)
    names = draw_samples(run, requested, seed, temperature)
    known = {s for split in SPLITS for s, _ in data[split]}
    test = generator_figures(run.model, run.config, run.vocab, data["test"])
    return {"run": run.path, "conditioned": run.config.conditioned, "cell": run.config.cell,
            "units": run.config.units, "test_loss_nats": test["loss_nats"], "test_bpc": test["bpc"],
            "test_next_char_accuracy": test["accuracy"], "samples": samples, "temperature": temperature,
            "novelty": round(novelty(names, known), 4),
            "requested_nationality_share": round(nationality_share(classifier, names, list(requested)), 4),
            "examples": names[:18]}


def evaluate_generators(classifier_dir: str, generator_dirs: list[str], samples: int, temperature: float,
                        seed: int, out: str | None = None) -> list[dict]:
    """Scores each generator run (`evaluate_generator`), prints one line each, and writes JSON to `out`.

    Raises:
        UsageError: a run that is not a surname generator (or the classifier not a classifier).
    """
    classifier = SurnameClassifier(load_run(classifier_dir), warn=lambda line: None)
    data = load_surnames()
    rows = []
    for path in generator_dirs:
        run = load_run(path)
        if run.config.task != "surname-generation":
            raise UsageError(f"{path} is a {run.config.task!r} run, not a surname generator")
        row = evaluate_generator(run, classifier, data, samples, temperature, seed)
        rows.append(row)
        print(f"{path}: {'conditioned' if row['conditioned'] else 'unconditioned'} {row['cell']}-{row['units']}, "
              f"test {row['test_loss_nats']:.4f} nats/char = {row['test_bpc']:.4f} bits/char, next-char "
              f"accuracy {row['test_next_char_accuracy']:.4f}; of {row['samples']} samples {row['novelty']:.1%} "
              f"new, {row['requested_nationality_share']:.1%} classified as the requested nationality")
    if out:
        atomic_write_json(out, {"classifier": classifier_dir, "generators": rows})
    return rows
