"""The classic exercise: learn to predict every next character of one sentence (many-to-many).

    python -m kerasrnn.fit --task sentence --sentence "hihello" --cell simplernn
    python -m kerasrnn.fit --task sentence                       # "seoul is the capital of south korea"
    python -m kerasrnn.fit --task sentence --text paragraph.txt --seq-len 10     # a file

The input is the sentence without its last character, the target the sentence without its
first: "hihell" -> "ihello". With --seq-len shorter than the sentence, the text is cut into
overlapping windows (stride 1), the sliding-window version of the exercise. Every
`--print-every` epochs the loss and the model's whole predicted string are printed next to the
target, and training stops as soon as that string is exact (greedy): with windows, the first
window's predictions and then each window's last one, the character it sees with most context.

The run directory (config, vocabulary, model, metrics) works with `kerasrnn.sample` like any
other: `--top-k 1` primed with the first character replays the sentence.
"""

from __future__ import annotations

import dataclasses
import os
import time

import keras
import numpy as np

from kerasrnn.core import runs
from kerasrnn.core.runs import create_run
from kerasrnn.core.config import Config
from kerasrnn.training.callbacks import save_model_atomically
from kerasrnn.models.char_model import build_model, input_note
from pipelines.io import DataError, atomic_write_json, read_text
from pipelines.text import make_windows
from pipelines.vocab import Vocabulary

DEFAULT_SENTENCE = "seoul is the capital of south korea"
MAX_SENTENCE_BYTES = 2**20  # the task learns a sentence or a paragraph: stride-1 windows hold seq_len ids a character,
# and the run's metrics.json records the whole text


def sentence_text(config: Config) -> str:
    """The sentence to learn: `config.sentence`, else the contents of the file `config.text`, else the default.

    Raises:
        DataError: a missing or unreadable --text file (a sentence itself is given with --sentence), or a
            sentence shorter than 2 characters.
    """
    if config.sentence is not None:
        text = config.sentence
    elif config.text is not None:
        if not os.path.lexists(config.text):
            raise DataError(f"no such file: {config.text} (to learn a sentence given on the command line, "
                            f"use --sentence instead of --text)")
        text = read_text(config.text, MAX_SENTENCE_BYTES, too_big="the most the sentence task learns (it learns one "
                         "sentence or paragraph, in windows a character apart); to train on a text of any size, leave "
                         "out --task sentence").rstrip("\n")
    else:
        text = DEFAULT_SENTENCE
    if len(text) < 2:
        raise DataError(f"the sentence must have at least 2 characters (got {text!r})")
    return text


def whole_prediction(windows_pred: np.ndarray) -> np.ndarray:
    """The predicted string of the whole text from stride-1 windows: the first window, then each window's last."""
    return np.concatenate([windows_pred[0], windows_pred[1:, -1]])


class SentenceMonitor(keras.callbacks.Callback):
    """Prints the predicted string every `every` epochs and stops training when it is exact.

    Args:
        inputs, targets: (windows, seq_len) ids.
        vocab: to print characters.
        every: epochs between printouts.
        log: print function.
        stop: stop training at the first exact epoch (off: train the whole budget, note the epoch).
    """

    def __init__(self, inputs, targets, vocab: Vocabulary, every: int, log=print, stop: bool = True):
        super().__init__()
        self.inputs, self.targets, self.vocab, self.every, self.log = inputs, targets, vocab, every, log
        self.stop = stop
        self.want = whole_prediction(targets)  # the whole target string, as ids
        self.want_text = vocab.decode(self.want)
        self.exact_epoch = None
        self.history: list[dict] = []

    def on_epoch_end(self, epoch, logs=None):
        pred = np.argmax(self.model.predict_on_batch(self.inputs), axis=-1)  # (windows, seq_len), compiled
        exact = bool((whole_prediction(pred) == self.want).all())
        loss = float(logs["loss"])
        self.history.append({"epoch": epoch + 1, "loss_nats": round(loss, 5),
                             "accuracy": round(float((pred == self.targets).mean()), 4)})
        if exact or (epoch + 1) % self.every == 0:
            got = self.vocab.decode(whole_prediction(pred))
            self.log(f"epoch {epoch + 1:4d}  loss {loss:.4f}  predicted {got!r}  target {self.want_text!r}")
        if exact and self.exact_epoch is None:
            self.exact_epoch = epoch + 1
            self.model.stop_training = self.stop


def prepare(config: Config, text: str):
    """The vocabulary, stride-1 windows and compiled model for learning `text` (Adam at a constant rate).

    Returns:
        (config with vocab_size and seq_len filled in, vocab, inputs, targets (windows, seq_len), model).
    """
    vocab = Vocabulary.build(text)
    whole = len(text) - 1
    config = dataclasses.replace(config, vocab_size=len(vocab), seq_len=min(config.seq_len or whole, whole))
    windows = make_windows(vocab.encode(text), config.seq_len, stride=1)  # (windows, seq_len + 1)
    model = build_model(config)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=config.clipnorm or None),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return config, vocab, windows[:, :-1], windows[:, 1:], model


def train_sentence(config: Config, run_dir: str, command: str = "", log=print) -> dict:
    """Trains on one sentence until it is predicted exactly (or `config.epochs` pass).

    Returns:
        The `final` record of metrics.json: `exact_epoch` (None when never exact), loss, accuracy.
    """
    runs.check_new_run_dir(run_dir)
    text = sentence_text(config)
    config, vocab, inputs, targets, model = prepare(config, text)
    create_run(config, vocab, run_dir)  # after every check: a refused sentence leaves nothing behind
    log(f"{config.cell.upper()} {config.layers}x{config.units}, "
        f"{input_note(config)} inputs, "
        f"{model.count_params():,} parameters; {len(text)} characters, {len(vocab) - 1} distinct, "
        f"{len(inputs)} window(s) of {config.seq_len}")
    monitor = SentenceMonitor(inputs, targets, vocab, config.print_every, log)
    start = time.perf_counter()
    model.fit(inputs, targets, batch_size=config.batch_size, epochs=config.epochs, shuffle=False,
              callbacks=[monitor], verbose=0)
    seconds = time.perf_counter() - start
    save_model_atomically(model, os.path.join(run_dir, runs.BEST_MODEL))
    last = monitor.history[-1]
    final = {"exact_epoch": monitor.exact_epoch, "epochs": last["epoch"], "loss_nats": last["loss_nats"],
             "accuracy": last["accuracy"], "wall_s": round(seconds, 2)}
    atomic_write_json(os.path.join(run_dir, runs.METRICS),
                      {"command": command, "task": "sentence", "text": text, "params": model.count_params(),
                       "epochs": monitor.history, "final": final})
    if monitor.exact_epoch:
        log(f"exact after {monitor.exact_epoch} epochs ({seconds:.1f} s); run: {run_dir}")
    else:
        log(f"not exact after {last['epoch']} epochs (accuracy {last['accuracy']:.3f}); run: {run_dir}")
    return final
