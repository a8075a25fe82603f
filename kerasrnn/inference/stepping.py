"""Text generation with carried state: one compiled step per character, never re-running the prefix."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import tensorflow as tf

from kerasrnn.core.config import Config
from kerasrnn.models.char_model import build_step_model, state_size
from kerasrnn.inference.samplers import sample
from pipelines.vocab import Vocabulary


class Stepper:
    """Runs the step model of a trained sequence model, one character per call.

    Args:
        model: the sequence model (from `build_model` or a run's best.keras).
        config: its config.
    """

    def __init__(self, model, config: Config):
        self.config = config
        self.state_size = state_size(config)
        step_model = build_step_model(model, config)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.int32),
                                      tf.TensorSpec([None, self.state_size], tf.float32)])
        def step(token, state):
            out = step_model({"token": token, "state": state}, training=False)
            return out["logits"], out["state"]

        self._step = step

    def zero_state(self, batch: int = 1) -> np.ndarray:
        """The start state, (batch, S) zeros."""
        return np.zeros((batch, self.state_size), np.float32)

    def step(self, tokens: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step: tokens (batch,) and state (batch, S) -> logits (batch, vocab), new state."""
        logits, state = self._step(np.asarray(tokens, np.int32), np.asarray(state, np.float32))
        return logits.numpy(), state.numpy()

    def feed(self, ids: np.ndarray, state: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Feeds a 1-D id sequence to a batch-1 state.

        Returns:
            The logits after the last id, (vocab,), and the state after it, (1, S).
        """
        state = self.zero_state() if state is None else state
        logits = np.zeros((self.config.vocab_size,), np.float32)
        for i in ids:
            out, state = self.step(np.array([i]), state)
            logits = out[0]
        return logits, state


def generate(stepper: Stepper, vocab: Vocabulary, prime: str, length: int, seed: int = 1337,
             temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> Iterator[str]:
    """Yields `length` generated characters after `prime`, one at a time.

    Args:
        stepper: the model's step runner.
        vocab: its vocabulary (prime characters outside it map to the unknown id, with a warning).
        prime: text to start from (must not be empty).
        length: characters to generate.
        seed: sampling seed.
        temperature, top_k, top_p: sampling settings (see `kerasrnn.inference.samplers.sample`).
    """
    rng = np.random.default_rng(seed)
    banned = [vocab.id_of(t) for t in vocab.specials]
    logits, state = stepper.feed(vocab.encode(prime, warn=True))
    for _ in range(length):
        token = sample(logits, rng, temperature, top_k, top_p, banned=banned)
        yield vocab.tokens[token]
        out, state = stepper.step(np.array([token]), state)
        logits = out[0]
