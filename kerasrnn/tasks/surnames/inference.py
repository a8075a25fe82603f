"""Using trained surname models: classify names, sample new surnames, and score the samples.

    names_to_ids(names, vocab, max_len)          ids (batch, time), padded with 0 (from pipelines.surnames)
    SurnameClassifier(run).probs(names)          (batch, classes) probabilities
    sample_surnames(stepper, vocab, states, ...) new surnames, all drawn in one batch
    novelty(samples, known)                      the share of samples not in the data
    nationality_share(classifier, samples, requested)  the share classified as requested
"""

from __future__ import annotations

import numpy as np

from kerasrnn.core.cli import UsageError
from kerasrnn.inference.samplers import sample_until_end, softmax
from pipelines.surnames import names_to_ids
from pipelines.vocab import BOS, EOS, Vocabulary


class SurnameClassifier:
    """A trained nationality classifier (a `--task surnames` run) on raw names.

    Args:
        run: the loaded run (`kerasrnn.models.loading.load_run`).
        warn: where notices about long names and unknown characters go (default: stderr).
    """

    def __init__(self, run, warn=None):
        if run.config.task != "surnames":
            raise UsageError(f"{run.path} is a {run.config.task!r} run, not a surname classifier (--task surnames)")
        self.run, self.labels, self.warn = run, run.config.labels, warn

    def probs(self, names: list[str], batch_size: int = 1024) -> np.ndarray:
        """Class probabilities, (len(names), classes), in `labels` order."""
        out = []
        for start in range(0, len(names), batch_size):
            ids = names_to_ids(names[start:start + batch_size], self.run.vocab, self.run.config.max_len, self.warn)
            out.append(softmax(np.asarray(self.run.model(ids, training=False))))  # (batch, classes)
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)))

    def top(self, names: list[str], k: int = 3) -> list[list[tuple[str, float]]]:
        """The k likeliest nationalities of each name, with their probabilities."""
        probs = self.probs(names)
        return [[(self.labels[i], float(row[i])) for i in np.argsort(-row)[:k]] for row in probs]


def class_id(labels: list[str], nationality: str) -> int:
    """The class id of a nationality name (case-insensitive).

    Raises:
        UsageError: an unknown nationality, listing the valid ones.
    """
    lowered = {label.lower(): i for i, label in enumerate(labels)}
    if nationality.lower() not in lowered:
        raise UsageError(f"unknown nationality {nationality!r}: choose from {', '.join(labels)}")
    return lowered[nationality.lower()]


def sample_surnames(stepper, vocab: Vocabulary, states: np.ndarray, max_len: int, seed: int = 1337,
                    temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> list[str]:
    """Draws one surname per start state, all in one batch, each ending at the end token.

    Args:
        stepper: the generator's `kerasrnn.inference.stepping.Stepper`.
        vocab: its vocabulary.
        states: (batch, S) start states (`surname_models.start_state`).
        max_len: the most characters a surname may have (a longer one is cut there).
        seed, temperature, top_k, top_p: sampling settings (`kerasrnn.inference.samplers.sample`).
    Returns:
        The surnames, one per state.
    """
    rng = np.random.default_rng(seed)
    banned = [vocab.id_of(t) for t in vocab.specials if t != EOS]
    out = sample_until_end(stepper.step, states, vocab.id_of(BOS), vocab.id_of(EOS), banned, max_len, rng,
                           temperature, top_k, top_p)
    return [vocab.decode(ids) for ids in out]


def novelty(samples: list[str], known: set[str]) -> float:
    """The share of samples that are not known surnames (0 for no samples)."""
    return sum(s not in known for s in samples) / max(len(samples), 1)


def nationality_share(classifier: SurnameClassifier, samples: list[str], requested: list[int]) -> float:
    """The share of samples the classifier assigns to the nationality requested for each (empty ones miss)."""
    kept = [(s, r) for s, r in zip(samples, requested) if s.strip()]
    if not kept:
        return 0.0
    predicted = np.argmax(classifier.probs([s for s, _ in kept]), axis=-1)
    return float(np.sum(predicted == np.array([r for _, r in kept]))) / len(samples)
