"""Training the surname models with `model.fit`: `--task surnames` and `--task surname-generation`.

A surname run directory holds what a Shakespeare run holds (config.json with the class labels,
vocab.json, best.keras, metrics.json, history.csv, logs/, curves.png, backup/ while training)
and, for the classifier, confusion.png and confusion.json. After training, the best model is
measured on the test split:

    classifier: accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix
    generator:  loss per character (nats and bits), next-character accuracy, and the novelty
                of SAMPLES sampled surnames (the share not in the data)
"""

from __future__ import annotations

import os
import time
from collections import Counter

import keras
import numpy as np
import tensorflow as tf

from kerasrnn.core import runs
from kerasrnn.core.config import Config
from kerasrnn.inference.evaluation import bits
from kerasrnn.inference.stepping import Stepper
from kerasrnn.models.loading import load_run
from kerasrnn.models.surname_models import build_classifier, build_generator, model_kind, start_state
from kerasrnn.tasks.surnames.inference import novelty, sample_surnames
from kerasrnn.tasks.surnames.metrics import (balanced_class_weights, classification_report, next_char_counts,
                                             plot_confusion)
from kerasrnn.training.callbacks import plot_curves
from kerasrnn.training.fitting import check_finite, compile_model, device_name, fit_callbacks
from pipelines import surnames as S
from pipelines.io import atomic_write_json
from pipelines.vocab import Vocabulary

CONFUSION_PNG = "confusion.png"
CONFUSION_JSON = "confusion.json"
SAMPLES = 1000  # surnames sampled to measure novelty
SAMPLE_TEMPERATURE = 0.7  # their temperature
EVAL_BATCH = 512  # names per evaluation batch


def open_surname_run(config: Config, run_dir: str, resume: bool) -> tuple[Config, Vocabulary, dict, dict]:
    """Creates a surname run (labels and vocabulary from the training split) or reopens one.

    Returns:
        The config, vocabulary, the split pairs ({"train", "validation", "test"}) and the record so far.
    """
    if resume:
        config, vocab, record = runs.reopen_run(run_dir)
        return config, vocab, subset(learning_split(config, load_data(config)), config.train_names), record
    runs.check_new_run_dir(run_dir)
    config.validate()
    data = load_data(config)
    config.labels = S.nationalities(data["train"])
    vocab = S.surname_vocabulary(data["train"])
    runs.create_run(config, vocab, run_dir)
    return config, vocab, subset(learning_split(config, data), config.train_names), {"epochs": []}


def load_data(config: Config) -> dict:
    """The split pairs a run learns from: the classifier labels ambiguous names by `config.ambiguous`."""
    return S.load_surnames(ambiguous=config.ambiguous if config.task == "surnames" else "all")


def learning_split(config: Config, data: dict) -> dict:
    """The split as training sees it: with `--train-on train+validation` the validation names join the
    training ones (the labels and vocabulary still come from the training split alone)."""
    if config.train_on == "train":
        return data
    return {**data, "train": data["train"] + data["validation"]}


def subset(data: dict, n: int) -> dict:
    """The split with only `n` training pairs, evenly spread over the sorted list (n = 0: all)."""
    if not n or n >= len(data["train"]):
        return data
    keep = np.linspace(0, len(data["train"]) - 1, n).round().astype(int)
    return {**data, "train": [data["train"][i] for i in keep]}


def make_dataset(config: Config, vocab: Vocabulary, pairs, shuffle: bool = False,
                 batch_size: int | None = None) -> tf.data.Dataset:
    """The task's (inputs, targets) batches of `pairs`, in the model's input names."""
    batch_size = batch_size or config.batch_size
    if config.task == "surnames":
        return S.classification_dataset(pairs, vocab, config.labels, batch_size, shuffle=shuffle,
                                        seed=config.seed, max_len=config.max_len)
    ds = S.generation_dataset(pairs, vocab, config.labels, batch_size, shuffle=shuffle, seed=config.seed,
                              max_len=config.max_len)
    if config.conditioned:
        return ds.map(lambda x, y: ({"tokens": x["ids"], "nationality": x["nationality"]}, y))
    return ds.map(lambda x, y: ({"tokens": x["ids"]}, y))


def class_weights(config: Config, pairs) -> dict[int, float] | None:
    """The loss weight of each class for `--class-weight` (None: every name counts alike)."""
    if config.class_weight == "none":
        return None
    return balanced_class_weights(S.class_ids(pairs, config.labels), len(config.labels), config.class_weight_power)


def train_surnames(config: Config, run_dir: str, resume: bool = False, verbose: int | str = "auto",
                   command: str = "") -> dict:
    """Trains (or resumes) a surname classifier or generator and measures it on the test split.

    Returns:
        The `final` figures written to metrics.json.
    Raises:
        UsageError, DataError: bad options or data. TrainingFailed: the loss became NaN.
    """
    config, vocab, data, record = open_surname_run(config, run_dir, resume)
    classifier = config.task == "surnames"
    model = build_classifier(config) if classifier else build_generator(config)
    held_out = config.train_on == "train"  # else the validation names are training names
    train_ds = make_dataset(config, vocab, data["train"], shuffle=True)
    val_ds = make_dataset(config, vocab, data["validation"], batch_size=EVAL_BATCH) if held_out else None
    steps = int(train_ds.cardinality())
    compile_model(model, config, steps * config.epochs, metrics=["accuracy"] if classifier else None)
    device = device_name()
    chars = sum(len(s[:config.max_len]) + 1 for s, _ in data["train"])  # targets: each name and its end
    record.update(command=command or record.get("command", ""), task=config.task, data="bundled surnames",
                  split={s: len(data[s]) for s in S.SPLITS}, vocab_size=len(vocab), labels=config.labels,
                  params=model.count_params(), device=device)
    print(f"{model_kind(config)} {config.layers}x{config.units} {'classifier' if classifier else 'generator'}"
          f"{' conditioned on nationality' if config.conditioned and not classifier else ''}, "
          f"{model.count_params():,} parameters, {len(data['train']):,} training names ({steps} steps/epoch), "
          f"on {device}; run: {run_dir}")
    per_step = config.batch_size if classifier else chars / steps
    callbacks = fit_callbacks(config, run_dir, record, model, per_step, resume,
                                       unit="names" if classifier else "chars",
                                       monitor=("val_accuracy" if classifier else "val_loss") if held_out else None)
    if not (resume and runs.training_done(run_dir, record, config)):  # else: only the final figures
        history = model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, callbacks=callbacks,
                            verbose=verbose, shuffle=False,
                            class_weight=class_weights(config, data["train"]) if classifier else None)
        check_finite(history, run_dir, record, config)
    finish = finish_classifier if classifier else finish_generator
    return finish(run_dir, data, record)


def predict_classes(model: keras.Model, config: Config, vocab: Vocabulary, pairs) -> tuple[np.ndarray, np.ndarray]:
    """(true class ids, predicted class ids) of `pairs`."""
    ds = make_dataset(config, vocab, pairs, batch_size=EVAL_BATCH)
    logits = model.predict(ds, verbose=0)  # (names, classes)
    return S.class_ids(pairs, config.labels), np.argmax(logits, axis=-1)


def _summary(record: dict, key: str = "val_loss_nats") -> dict:
    epochs = record["epochs"]
    if not any(r.get(key) is not None for r in epochs):  # nothing held out: the last epoch is kept
        best = epochs[-1]
    elif key == "val_loss_nats":
        best = min(epochs, key=lambda r: r.get(key) or np.inf)
    else:
        best = max(epochs, key=lambda r: r.get(key) or -np.inf)
    return {"best_epoch": best["epoch"], "epochs": len(epochs), "wall_s": epochs[-1]["wall_s"]}


def finish_classifier(run_dir: str, data: dict, record: dict) -> dict:
    """Measures the best classifier on validation and test; writes metrics.json and the confusion matrix."""
    run = load_run(run_dir)
    config = run.config
    held_out = ("validation",) if config.train_on == "train" else ()  # validation names it never learnt from
    reports = {split: classification_report(*predict_classes(run.model, config, run.vocab, data[split]),
                                            config.labels) for split in (*held_out, "test")}
    test, val = reports["test"], reports.get("validation", {})
    counts = Counter(label for _, label in data["train"])
    majority = max(config.labels, key=counts.__getitem__)
    record["test"] = test
    record["final"] = {
        "test_accuracy": test["accuracy"], "test_macro_f1": test["macro_f1"],
        "val_accuracy": val.get("accuracy"), "val_macro_f1": val.get("macro_f1"), "train_on": config.train_on,
        "majority_baseline_accuracy": round(sum(1 for _, x in data["test"] if x == majority) / len(data["test"]), 5),
        "class_weight": config.class_weight, "class_weight_power": config.class_weight_power,
        "ambiguous": config.ambiguous, **_summary(record, "val_accuracy")}
    atomic_write_json(os.path.join(run_dir, CONFUSION_JSON), test["confusion_matrix"])
    kind = model_kind(config)
    plot_confusion(test, os.path.join(run_dir, CONFUSION_PNG),
                   f"{kind}-{config.units} test: accuracy {test['accuracy']:.3f}, macro-F1 {test['macro_f1']:.3f}")
    plot_curves(record["epochs"], os.path.join(run_dir, runs.CURVES), f"{kind}-{config.units} surname classifier")
    atomic_write_json(os.path.join(run_dir, runs.METRICS), record)
    print(f"\n{'nationality':12s} {'precision':>9s} {'recall':>7s} {'F1':>6s} {'names':>6s}")
    for label, row in test["per_class"].items():
        print(f"{label:12s} {row['precision']:9.3f} {row['recall']:7.3f} {row['f1']:6.3f} {row['support']:6d}")
    final = record["final"]
    print(f"test: accuracy {final['test_accuracy']:.4f}, macro-F1 {final['test_macro_f1']:.4f} "
          f"(majority class {final['majority_baseline_accuracy']:.4f}); best epoch {final['best_epoch']}, "
          f"{final['wall_s'] / 60:.1f} min; confusion matrix: {os.path.join(run_dir, CONFUSION_PNG)}")
    return final


def generator_figures(model: keras.Model, config: Config, vocab: Vocabulary, pairs) -> dict:
    """Loss per character (nats, bits) and next-character accuracy on `pairs`, the end token included."""
    total, hits, count = 0.0, 0, 0
    for x, y in make_dataset(config, vocab, pairs, batch_size=EVAL_BATCH):
        nll, right, chars = next_char_counts(model(x, training=False).numpy(), y.numpy())
        total, hits, count = total + nll, hits + right, count + chars
    nats = total / count
    return {"loss_nats": round(nats, 5), "bpc": round(bits(nats), 5), "accuracy": round(hits / count, 5),
            "chars": count}


def requested_classes(config: Config, n: int) -> np.ndarray:
    """The nationality requested for each of n samples: the classes in turn (n / classes each)."""
    return np.arange(n, dtype=np.int32) % len(config.labels)


def draw_samples(run, requested: np.ndarray, seed: int, temperature: float = SAMPLE_TEMPERATURE,
                 top_k: int = 0, top_p: float = 1.0) -> list[str]:
    """One surname from a generator run per requested class id (ignored when unconditioned), in one batch."""
    states = start_state(run.model, run.config, requested)
    return sample_surnames(Stepper(run.model, run.config), run.vocab, states, run.config.max_len, seed=seed,
                           temperature=temperature, top_k=top_k, top_p=top_p)


def finish_generator(run_dir: str, data: dict, record: dict) -> dict:
    """Measures the best generator on validation and test and the novelty of SAMPLES samples; prints some."""
    run = load_run(run_dir)
    config = run.config
    test = generator_figures(run.model, config, run.vocab, data["test"])
    val = generator_figures(run.model, config, run.vocab, data["validation"])
    started = time.perf_counter()
    requested = requested_classes(config, SAMPLES)
    samples = draw_samples(run, requested, config.seed)
    known = {s for split in S.SPLITS for s, _ in data[split]}
    record["test"] = test
    record["final"] = {
        "test_loss_nats": test["loss_nats"], "test_bpc": test["bpc"], "test_next_char_accuracy": test["accuracy"],
        "val_loss_nats": val["loss_nats"], "val_next_char_accuracy": val["accuracy"],
        "samples": SAMPLES, "sample_temperature": SAMPLE_TEMPERATURE, "novelty": round(novelty(samples, known), 4),
        "sampling_s": round(time.perf_counter() - started, 2), **_summary(record)}
    plot_curves(record["epochs"], os.path.join(run_dir, runs.CURVES),
                f"{model_kind(config)}-{config.units} surname generator"
                f"{' (conditioned)' if config.conditioned else ''}")
    atomic_write_json(os.path.join(run_dir, runs.METRICS), record)
    final = record["final"]
    print(f"\ntest: {final['test_loss_nats']:.4f} nats/char = {final['test_bpc']:.4f} bits/char, next-character "
          f"accuracy {final['test_next_char_accuracy']:.4f}; {final['novelty']:.1%} of {SAMPLES} samples are new "
          f"surnames; best epoch {final['best_epoch']}, {final['wall_s'] / 60:.1f} min")
    shown = [f"{s} ({config.labels[r]})" if config.conditioned else s
             for s, r in zip(samples[:len(config.labels)], requested)]
    print(f"samples (temperature {SAMPLE_TEMPERATURE}): " + ", ".join(shown))
    return final
