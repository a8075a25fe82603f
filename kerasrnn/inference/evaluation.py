"""Losses in nats and bits per character: of a Keras sequence model, a stateful copy carrying the
state, or any step function (SavedModel, LiteRT) fed one character at a time."""

from __future__ import annotations

import math
import sys

import numpy as np

from kerasrnn.core.config import Config
from kerasrnn.inference.samplers import log_softmax
from pipelines.io import DataError

LN2 = math.log(2.0)
DEFAULT_BATCH = 128  # windows per evaluation batch
LOSS_BATCH = 1024  # windows per step call when measuring a step function's loss


def bits(nats: float) -> float:
    """Nats per character to bits per character."""
    return nats / LN2


def evaluate_loss(model, ids, seq_len: int, batch_size: int = DEFAULT_BATCH) -> float:
    """Mean cross-entropy in nats per character of `model` on encoded text.

    The text is cut into windows as in training (stride `seq_len`, each window
    starting from a zero state); a text shorter than one window is one window.

    Args:
        model: a sequence model, tokens (batch, time) -> logits (batch, time, vocab).
        ids: encoded text, (n,) with n >= 2, or a `pipelines.shards.Split`.
        seq_len: window length.
        batch_size: windows per batch.
    Returns:
        Nats per character.
    """
    import keras

    from pipelines.shards import Split, in_memory
    from pipelines.stream import window_dataset

    if len(ids) < 2:
        raise DataError("text too short to evaluate: it needs at least 2 characters")
    seq_len = min(seq_len, len(ids) - 1)
    ids = ids if isinstance(ids, Split) else in_memory(ids)  # streamed: a prepared split is never read whole
    ds = window_dataset(ids, seq_len, batch_size, shuffle=False, drop_remainder=False)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return float(model.evaluate(ds, verbose=0))


def evaluate_carried(model, config: Config, ids, streams: int = 16) -> float:
    """Nats per character with the state carried through the text (as a `--tbptt` model was trained).

    The text is cut into `streams` contiguous streams read in chunks of `config.seq_len` by a
    stateful copy of `model`, so every character but the first of a stream has all its history.
    """
    import keras

    from kerasrnn.models.char_model import build_model
    from pipelines.shards import Split, in_memory
    from pipelines.stream import tbptt_dataset

    stateful = build_model(config, stateful_batch=streams)
    stateful.set_weights(model.get_weights())
    stateful.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ids = ids if isinstance(ids, Split) else in_memory(ids)
    return float(stateful.evaluate(tbptt_dataset(ids, config.seq_len, streams), verbose=0))


def evaluate_run(run_dir: str, text_file: str | None = None, carried: bool = False,
                 window: int | None = None, data_dir: str | None = None, max_chars: int = 0) -> dict:
    """Evaluates a run's best model on its validation split, a text file or a prepared corpus' validation split,
    all streamed: memory does not grow with their size.

    Args:
        text_file: a UTF-8 file of any size, encoded with the run's vocabulary into a temporary id file.
        carried: carry the state through the text (`evaluate_carried`) instead of windows.
        window: characters per window, each read from a zero state (default: the run's seq_len);
            256 measures the way nanoGPT does.
        data_dir: a prepared corpus (`pipelines.prepare`): its validation split.
        max_chars: measure only the first `max_chars` characters (0: all; the run's own validation split
            defaults to its --max-val-chars).
    Returns:
        {"run", "data", "state", "window", "characters", "loss_nats", "bpc"}.
    """
    from kerasrnn.core.cli import UsageError
    from kerasrnn.core.runs import run_data
    from kerasrnn.models.loading import load_run
    from pipelines.encoded import encoded_text
    from pipelines.shards import open_prepared

    run = load_run(run_dir)
    if run.config.task not in ("shakespeare", "sentence"):
        raise UsageError(f"{run_dir} is a {run.config.task} run: evaluate measures character language models "
                         f"(its test figures are in its metrics.json)")
    window = window or run.config.seq_len

    def measure(ids, data: str) -> dict:
        nats = evaluate_carried(run.model, run.config, ids) if carried else evaluate_loss(run.model, ids, window)
        return loss_record(run_dir, data, ids, nats, carried, window)

    if text_file:
        with encoded_text(text_file, run.vocab, max_chars) as text:
            if text.warning():
                print(text.warning(), file=sys.stderr)
            data = f"the first {len(text.ids):,} characters of {text_file} (--max-chars)" if text.capped else text_file
            return measure(text.ids, data)
    flag = "--max-chars"
    if data_dir:
        prepared = open_prepared(data_dir)
        ids, data = _remapped(prepared.validation, prepared.vocab, run.vocab), f"validation split of {data_dir}"
    elif run.config.task == "sentence":
        raise UsageError(f"{run_dir} learnt one sentence: it has no validation split; pass --text FILE")
    else:
        ids, data = run_data(run.config, run_dir, run.vocab).validation, "validation split"  # streamed
        if not max_chars and run.config.max_val_chars:
            max_chars, flag = run.config.max_val_chars, "--max-val-chars"
    if max_chars and len(ids) > max_chars:
        ids, data = ids.head(max_chars), f"the first {max_chars:,} of {len(ids):,} characters of the {data} ({flag})"
    return measure(ids, data)


def _remapped(split, vocab, run_vocab):
    """`split`, ids of `vocab`, read as ids of the run's vocabulary (a character it lacks as <unk>)."""
    if vocab.tokens == run_vocab.tokens:
        return split
    table = np.array([run_vocab.id_of(t) for t in vocab.tokens], np.int32)  # (len(vocab),) corpus id -> run id
    missing = [t for t in vocab.tokens if t not in run_vocab.specials and run_vocab.id_of(t) == run_vocab.unk_id]
    if missing:
        print(f"warning: {len(missing)} character(s) of the corpus not in the run's vocabulary mapped to <unk>: "
              f"{''.join(missing[:20])!r}", file=sys.stderr)
    return split.mapped(table)


def loss_record(model: str, data: str, text, nats: float, carried: bool, window: int) -> dict:
    """The record `evaluate` prints: what was measured, how, and the loss in nats and bits per character."""
    return {"run": model, "data": data, "state": "carried" if carried else f"windows of {window}",
            "window": None if carried else window, "characters": len(text),
            "loss_nats": round(nats, 5), "bpc": round(bits(nats), 5)}


def run_steps(step, ids: np.ndarray, state: np.ndarray) -> np.ndarray:
    """Feeds id columns through a step function carrying the state.

    Args:
        step: (tokens (batch,), state (batch, S)) -> (logits (batch, vocab), state).
        ids: (batch, time) ids.
        state: (batch, S) start state.
    Returns:
        Logits (batch, time, vocab).
    """
    out = []
    for t in range(ids.shape[1]):
        logits, state = step(ids[:, t], state)
        out.append(np.asarray(logits))
    return np.stack(out, axis=1)


def carried_step_loss(step, ids: np.ndarray, size: int, seq_len: int, streams: int = 16) -> float:
    """Loss in nats/char through a step function with the state carried through the text.

    The text is cut into `streams` contiguous streams stepped side by side from a zero state, over
    exactly the characters `evaluate_carried` covers (whole chunks of `seq_len` per stream, as
    `pipelines.text.stream_dataset` cuts them), so the two figures are directly comparable.
    """
    stride = (len(ids) - 1) // streams  # characters per stream
    length = (stride - 1) // seq_len * seq_len if stride > 1 else 0  # targets per stream
    if length < 1:
        raise DataError(f"text of {len(ids)} characters is too short for {streams} streams of "
                        f"{seq_len + 1} characters")
    rows = np.asarray(ids[:streams * stride], np.int64).reshape(streams, stride)
    inputs, targets = rows[:, :length].astype(np.int32), rows[:, 1:length + 1]  # (streams, length) each
    state = np.zeros((streams, size), np.float32)
    total = 0.0
    for t in range(length):
        logits, state = step(inputs[:, t], state)
        total -= float(np.take_along_axis(log_softmax(logits), targets[:, t, None], axis=-1).sum())
    return total / targets.size


def step_loss(step, ids: np.ndarray, seq_len: int, size: int) -> float:
    """Loss in nats/char through a step function, on the windows `evaluate_loss` uses.

    Each window starts from a zero state, as in training and in `evaluate_loss`, so the
    figure is directly comparable with the Keras model's.
    """
    from pipelines.text import make_windows

    windows = make_windows(ids, min(seq_len, len(ids) - 1))  # (windows, seq_len + 1)
    total, count = 0.0, 0
    for start in range(0, len(windows), LOSS_BATCH):
        chunk = windows[start:start + LOSS_BATCH]
        log_probs = log_softmax(run_steps(step, chunk[:, :-1], np.zeros((len(chunk), size), np.float32)))
        picked = np.take_along_axis(log_probs, chunk[:, 1:, None].astype(np.int64), axis=-1)
        total -= float(picked.sum())
        count += picked.size
    return total / count
