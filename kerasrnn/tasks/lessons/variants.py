"""Model variants trained side by side on one task and budget: the work behind `python -m kerasrnn.compare`.

On Shakespeare every variant trains through the real pipeline for the same wall-clock budget,
with the validation loss measured every `EVAL_STEPS` steps (a curve against time). On a
sentence every variant trains for the same number of epochs (a curve against epochs, and the
epoch where the prediction became exact).
"""

from __future__ import annotations

import dataclasses
import os
import time

import keras
import numpy as np

from kerasrnn.core.cli import UsageError
from kerasrnn.core.config import CELLS, TASK_DEFAULTS, Config
from kerasrnn.inference.evaluation import bits
from kerasrnn.models.char_model import build_model, input_note, state_size

EVAL_STEPS = 40  # Shakespeare: training steps between validation measurements
GATES = {"simplernn": 1, "lstm": 4, "gru": 3}  # weight blocks per recurrent layer


def rnn_params(cell: str, units: int, inputs: int) -> int:
    """Parameters of one recurrent layer (Keras' GRU has a second bias row)."""
    g = GATES[cell]
    return g * (inputs * units + units * units + units) + (g * units if cell == "gru" else 0)


def model_params(config: Config) -> int:
    """Parameters of `build_model(config)`, by formula."""
    first = config.embedding_dim or config.vocab_size
    total = config.vocab_size * config.embedding_dim + config.units * config.vocab_size + config.vocab_size
    for i in range(config.layers):
        total += rnn_params(config.cell, config.units, first if i == 0 else config.units)
    return total


def units_for_params(config: Config, target: int) -> int:
    """The units that bring `config`'s model closest to `target` parameters."""
    return min(range(4, 2049), key=lambda u: abs(model_params(dataclasses.replace(config, units=u)) - target))


class _Curve(keras.callbacks.Callback):
    """Records (seconds of training, validation loss) after every epoch and stops at the time budget."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds, self.points, self.steps, self.train_time = seconds, [], 0, 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.train_time += time.perf_counter() - self._start
        self.steps += 1
        if self.train_time >= self.seconds:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.points.append((round(self.train_time, 2), round(float(logs["val_loss"]), 5)))


def train_for_time(config: Config, train_ids: np.ndarray, val_ids: np.ndarray, seconds: float) -> dict:
    """Trains one variant for `seconds` of training time; the validation curve against time and the rate."""
    from kerasrnn.training.fitting import compile_model
    from pipelines.text import lm_dataset

    model = build_model(config)
    train_ds = lm_dataset(train_ids, config.seq_len, config.batch_size, seed=config.seed).repeat()
    val_ds = lm_dataset(val_ids, config.seq_len, config.batch_size * 2, shuffle=False, drop_remainder=False)
    steps_estimate = 100_000  # the cosine schedule is stretched far past the budget: a near-constant rate
    compile_model(model, config, steps_estimate)
    curve = _Curve(seconds)
    model.fit(train_ds, validation_data=val_ds, epochs=10_000, steps_per_epoch=EVAL_STEPS, callbacks=[curve],
              verbose=0, shuffle=False)
    final = curve.points[-1][1]
    return {"params": model.count_params(), "curve": curve.points, "val_loss_nats": final, "val_bpc": round(bits(final), 4),
            "chars_per_s": round(curve.steps * config.batch_size * config.seq_len / curve.train_time),
            "train_seconds": round(curve.train_time, 1), "steps": curve.steps}


def train_sentence_variant(config: Config, text: str, epochs: int) -> dict:
    """Trains one variant on a sentence for `epochs`; the loss per epoch and the first exact epoch."""
    from kerasrnn.tasks.lessons.sentence import SentenceMonitor, prepare

    config, vocab, inputs, targets, model = prepare(config, text)
    monitor = SentenceMonitor(inputs, targets, vocab, every=10**9, log=lambda *_: None, stop=False)
    model.fit(inputs, targets, batch_size=config.batch_size, epochs=epochs, shuffle=False, callbacks=[monitor],
              verbose=0)
    losses = [h["loss_nats"] for h in monitor.history]
    return {"params": model.count_params(), "curve": list(enumerate(losses, 1)), "loss_nats": losses[-1],
            "exact_epoch": monitor.exact_epoch}


def state_note(config: Config) -> str:
    """A short description of a variant's model, e.g. 'GRU 384, embedding 64'."""
    return f"{config.cell} {config.layers}x{config.units}, {input_note(config)}, state {state_size(config)}"


def choose_variants(task: str, cells: str | None, inputs: str | None, cell: str = "gru", units: int | None = None,
                    embedding_dim: int = 64, match: str = "params") -> list[tuple[str, Config]]:
    """(label, config) of each variant: the `inputs` encodings ("onehot,embedding") of `cell`, or the
    `cells` (default: all three) with `match` "params" (units that bring each to the parameter count of
    `cell` with `units`) or "units" (the same units for all).

    Raises:
        UsageError: an unknown input, cell or match.
    """
    if cell not in CELLS:
        raise UsageError(f"unknown --cell {cell!r}: choose from {', '.join(CELLS)}")
    sentence = task == "sentence"
    base = Config(task=task, cell=cell, units=units or (32 if sentence else 384), embedding_dim=embedding_dim,
                  vocab_size=66)
    if sentence:
        base = dataclasses.replace(base, **{k: v for k, v in TASK_DEFAULTS["sentence"].items()
                                            if k not in ("units", "embedding_dim", "epochs")})
    if inputs is not None:
        names = [n.strip() for n in inputs.split(",")]
        if not names or set(names) - {"onehot", "embedding"} or len(set(names)) != len(names):
            raise UsageError(f"--inputs takes onehot and/or embedding, each once (got {inputs!r})")
        return [(n, dataclasses.replace(base, embedding_dim=0 if n == "onehot" else embedding_dim)) for n in names]
    chosen = [c.strip() for c in (",".join(CELLS) if cells is None else cells).split(",")]
    if set(chosen) - set(CELLS):
        raise UsageError(f"unknown cell in --cells {cells!r}: choose from {', '.join(CELLS)}")
    if len(set(chosen)) != len(chosen):
        raise UsageError(f"--cells names a cell twice ({cells!r})")
    if match not in ("params", "units"):
        raise UsageError(f"--match takes params or units (got {match!r})")
    target = model_params(base) if match == "params" else None
    out = []
    for name in chosen:
        config = dataclasses.replace(base, cell=name)
        if target is not None:
            config = dataclasses.replace(config, units=units_for_params(config, target))
        out.append((name, config))
    return out


def plot(results: dict, path: str, sentence: bool) -> None:
    """One PNG: each variant's loss curve (against training time, or against epochs)."""
    from kerasrnn.core.plots import new_figure, save_figure

    fig, ax = new_figure(figsize=(7, 4))
    for label, r in results.items():
        xs, ys = zip(*r["curve"])
        ax.plot(xs, ys, marker="" if sentence else ".", label=f"{label} ({r['params']:,} params)")
    ax.set_xlabel("epoch" if sentence else "training seconds")
    ax.set_ylabel("training loss (nats/char)" if sentence else "validation loss (nats/char)")
    if sentence:
        ax.set_yscale("log")
    save_figure(fig, path, [ax])


def compare(chosen: list[tuple[str, Config]], out: str, text: str | None = None, minutes: float = 2.0,
            epochs: int = 200, record: dict | None = None, sentence: str | None = None) -> dict:
    """Trains every variant (a sentence for `epochs`, else Shakespeare for `minutes` each), writes
    compare.json and compare.png into `out`, and prints a Markdown table.

    Args:
        chosen: the variants (`choose_variants`); their task decides the budget.
        text: the sentence task's file (default: the seoul sentence).
        sentence: the sentence task's sentence itself (instead of `text`).
        record: what to store as "args" in compare.json (the command's flags).
    Returns:
        The results, by variant label.
    """
    from pipelines.io import atomic_write_json

    on_sentence = chosen[0][1].task == "sentence"
    results = {}
    if on_sentence:
        from kerasrnn.tasks.lessons.sentence import sentence_text

        sentence_chars = sentence_text(Config(task="sentence", text=text, sentence=sentence))
        for label, config in chosen:
            results[label] = {"model": state_note(config), **train_sentence_variant(config, sentence_chars, epochs)}
        header = f"| variant | model | parameters | epochs to exact | loss after {epochs} epochs |"
        rows = [f"| {k} | {r['model']} | {r['params']:,} | {r['exact_epoch'] or 'never'} | {r['loss_nats']:.4f} |"
                for k, r in results.items()]
    else:
        from pipelines.text import load_corpus
        from pipelines.vocab import Vocabulary

        corpus = load_corpus("shakespeare")
        vocab = Vocabulary.build(corpus.train)
        train_ids, val_ids = vocab.encode(corpus.train), vocab.encode(corpus.validation)
        for label, config in chosen:
            config = dataclasses.replace(config, vocab_size=len(vocab))
            note = state_note(config)
            print(f"training {label}: {note} for {minutes:g} min ...", flush=True)
            results[label] = {"model": note, **train_for_time(config, train_ids, val_ids, minutes * 60)}
        header = "| variant | model | parameters | characters/s | validation bits/char (nats) | training time |"
        rows = [f"| {k} | {r['model']} | {r['params']:,} | {r['chars_per_s']:,} | "
                f"{r['val_bpc']:.4f} ({r['val_loss_nats']:.4f}) | {r['train_seconds']:.0f} s |"
                for k, r in results.items()]
    os.makedirs(out, exist_ok=True)
    atomic_write_json(os.path.join(out, "compare.json"), {"args": record or {}, "results": results})
    plot(results, os.path.join(out, "compare.png"), on_sentence)
    separator = "|" + " --- |" * (header.count("|") - 1)
    print("\n".join([header, separator, *rows]))
    print(f"wrote {out}/compare.json and compare.png")
    return results
