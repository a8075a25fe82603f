"""Side-by-side training of model variants on one task and budget: the work behind `python -m kerasrnn.compare`.

On Shakespeare every variant trains through the real pipeline for the same wall-clock budget,
with the validation loss measured every `EVAL_STEPS` steps (a curve against time). On a
sentence every variant trains for the same number of epochs (a curve against epochs, and the
epoch where the prediction became exact).
"""

from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np

from kerasrnn.callbacks import bits
from kerasrnn.config import Config
from kerasrnn.models import build_model, input_note, state_size

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
    from kerasrnn.training import compile_model
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
    from kerasrnn.sentence import SentenceMonitor, prepare

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
