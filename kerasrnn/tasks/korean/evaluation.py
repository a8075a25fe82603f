"""The key model's figures on a whole split, the state carried: nats per key and bits per character.

Unlike the training windows (each starting from a zero state), every key is predicted from all the
keys before it in its stream, as the n-gram baseline predicts it from its whole history: the split's
keys, after a line break (the exports' start text), are cut into `STREAMS` contiguous streams read
side by side, each from a zero state (so 31 of some 240,000 keys lose their context).

    model_nats(model, config, ids)   a Keras model (a stateful copy, chunks of CHUNK keys)
    step_nats(step, ids, size)       any step function (LiteRT, SavedModel), one key at a time
    figures(total_nats, stream)      {keys, characters, nats_per_key, bits_per_char}
"""

from __future__ import annotations

import math

import numpy as np

from kerasrnn.core.config import Config
from kerasrnn.inference.samplers import log_softmax
from kerasrnn.tasks.korean.corpus import KeyStream
from pipelines.vocab import Vocabulary

STREAMS = 32  # streams read side by side
CHUNK = 256  # keys per call of the stateful Keras model
START = "\n"  # what every split is read after (the exports' start text)


def stream_layout(ids: np.ndarray, streams: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets of `ids` cut into contiguous streams, padded at the end.

    Returns:
        inputs int32 (streams, length) and targets int64 (streams, length), -1 where padded;
        the targets are ids[1:], each exactly once.
    """
    n = len(ids) - 1
    streams = max(1, min(streams, n))
    length = -(-n // streams)  # targets per stream
    inputs = np.zeros(streams * length, np.int32)
    targets = np.full(streams * length, -1, np.int64)
    inputs[:n], targets[:n] = ids[:-1], ids[1:]
    return inputs.reshape(streams, length), targets.reshape(streams, length)


def _picked_nats(logits: np.ndarray, targets: np.ndarray) -> float:
    """Total -log p of the targets (-1: padding, skipped); logits (streams, time, vocab)."""
    mask = targets >= 0  # (streams, time)
    picked = np.take_along_axis(log_softmax(logits), np.where(mask, targets, 0)[..., None], axis=-1)[..., 0]
    return -float(picked[mask].sum())


def model_nats(model, config: Config, ids: np.ndarray, streams: int = STREAMS) -> float:
    """Total nats of ids[1:] under a Keras sequence model, the state carried through each stream."""
    from kerasrnn.models.char_model import build_model

    inputs, targets = stream_layout(ids, streams)
    stateful = build_model(config, stateful_batch=len(inputs))
    stateful.set_weights(model.get_weights())
    total = 0.0
    for start in range(0, inputs.shape[1], CHUNK):
        logits = np.asarray(stateful.predict_on_batch(inputs[:, start:start + CHUNK]))  # (streams, time, vocab)
        total += _picked_nats(logits, targets[:, start:start + CHUNK])
    return total


def step_nats(step, ids: np.ndarray, size: int, streams: int = STREAMS) -> float:
    """Total nats of ids[1:] through a step function (tokens, state) -> (logits, state), the state carried."""
    inputs, targets = stream_layout(ids, streams)
    state = np.zeros((len(inputs), size), np.float32)  # (streams, S)
    total = 0.0
    for t in range(inputs.shape[1]):
        logits, state = step(inputs[:, t], state)  # (streams, vocab), (streams, S)
        total += _picked_nats(np.asarray(logits)[:, None], targets[:, t:t + 1])
    return total


def figures(total_nats: float, stream: KeyStream) -> dict:
    """Nats per key and bits per NFC character of a split from its total nats."""
    return {"keys": len(stream.keys), "characters": len(stream.text),
            "nats_per_key": round(total_nats / len(stream.keys), 5),
            "bits_per_char": round(total_nats / math.log(2) / len(stream.text), 5)}


def split_ids(vocab: Vocabulary, stream: KeyStream) -> np.ndarray:
    """The ids a split is read as: START, then its keys (keys outside the vocabulary -> the unknown id)."""
    return vocab.encode(START + stream.keys)
