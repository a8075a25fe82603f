"""The run configuration: one dataclass, saved as config.json in every run directory.

Sampling, evaluation and export rebuild the model from this file, never from flags.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from pipelines.io import atomic_write_json
from pipelines.surnames import AMBIGUOUS

CELLS = ("simplernn", "lstm", "gru")  # recurrent layer kinds
# What a task uses for every flag not given on the command line (the Shakespeare task: the Config defaults).
TASK_DEFAULTS = {"sentence": {"units": 32, "embedding_dim": 0, "dropout": 0.0, "learning_rate": 0.02,
                              "epochs": 1000, "warmup_steps": 0, "batch_size": 256},
                 "surnames": {"units": 128, "embedding_dim": 64, "dropout": 0.4, "learning_rate": 3e-3,
                              "epochs": 15, "warmup_steps": 20, "batch_size": 64, "bidirectional": True},
                 "surname-generation": {"units": 128, "embedding_dim": 32, "dropout": 0.2,
                                        "learning_rate": 3e-3, "epochs": 25, "warmup_steps": 20,
                                        "batch_size": 64},
                 "korean": {"dataset": "korean", "units": 384, "epochs": 10}}
RNN_IMPLS = ("fast", "keras")  # recurrent layer implementations (see kerasrnn.models.fast_rnn)
# a corpus language model; one sentence predicted exactly; surname -> nationality; new surnames;
# a language model of Korean keyboard keys (kerasrnn.tasks.korean)
TASKS = ("shakespeare", "sentence", "surnames", "surname-generation", "korean")
CORPUS_TASKS = ("shakespeare", "korean")  # language models of a corpus (kerasrnn.tasks.language_model's training)
SURNAME_TASKS = ("surnames", "surname-generation")  # the tasks on pipelines/data/names
TRAIN_ON = ("train", "train+validation")  # what a surname classifier learns from
CLASS_WEIGHTS = ("none", "balanced")  # surnames: class weights in the loss (balanced: n / (classes * count))


@dataclass
class Config:
    """Everything that defines a training run. Defaults are the default Shakespeare run."""

    task: str = "shakespeare"  # what to train: one of TASKS ("shakespeare": a corpus; see kerasrnn.tasks.registry)
    dataset: str = "shakespeare"  # bundled corpus name or "tfds:NAME" (the korean task: "korean", its own corpus)
    text: str | None = None  # a UTF-8 text file to train on instead of `dataset` (sentence task: or the sentence)
    data_dir: str | None = None  # TFDS data directory (for --dataset tfds:NAME)
    cell: str = "gru"  # recurrent layer: simplernn, lstm or gru
    rnn_impl: str = "fast"  # "fast": the Keras layers with kerasrnn's faster CPU loop; "keras": the stock layers
    units: int = 384  # hidden units per recurrent layer
    layers: int = 1  # stacked recurrent layers
    embedding_dim: int = 64  # embedding size; 0 feeds one-hot vectors instead
    dropout: float = 0.2  # dropout on each recurrent layer's output
    seq_len: int = 100  # characters per training window (backprop through time length)
    batch_size: int = 64  # windows per batch
    epochs: int = 9  # passes over the training windows
    learning_rate: float = 3e-3  # peak Adam learning rate
    warmup_steps: int = 20  # linear warm-up steps before the cosine decay
    min_lr_ratio: float = 0.02  # final learning rate as a share of the peak
    clipnorm: float = 5.0  # clip each gradient's norm (0 = off)
    seed: int = 1337  # seed for weights, shuffling and dropout
    checkpoint_every: int = 50  # training steps between the resume checkpoints
    tbptt: bool = False  # truncated BPTT: consecutive chunks, the state carried between batches
    print_every: int = 10  # sentence task: epochs between printouts of the predicted string
    mixed_precision: bool = False  # float16 compute on a GPU (logits stay float32)
    bidirectional: bool = False  # surnames: read each name both ways (Bidirectional RNN)
    class_weight: str = "none"  # surnames: "none" or "balanced" (weights n / (classes * count) in the loss)
    class_weight_power: float = 1.0  # surnames: the balanced weights raised to this power (0.5: their square root)
    conditioned: bool = False  # surname-generation: the nationality sets the initial state
    ambiguous: str = "rarest"  # surnames: a name of several nationalities is labelled "rarest" (its rarest) or "all"
    max_len: int = 32  # surname tasks: longest name the model reads (longer ones are cut, with a notice)
    train_names: int = 0  # surname tasks: train on only this many training names, evenly spread (0 = all)
    train_on: str = "train"  # surnames: learn from "train", or "train+validation" (a release: the last epoch is kept)
    vocab_size: int = 0  # filled in from the vocabulary when training starts
    labels: list = field(default_factory=list)  # surname tasks: the class names, in id order (from the data)

    def validate(self) -> None:
        """Raises ValueError with a one-line reason when a field is out of range."""
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}: choose from {', '.join(TASKS)}")
        if self.cell not in CELLS:
            raise ValueError(f"unknown cell {self.cell!r}: choose from {', '.join(CELLS)}")
        if self.rnn_impl not in RNN_IMPLS:
            raise ValueError(f"unknown --rnn-impl {self.rnn_impl!r}: choose from {', '.join(RNN_IMPLS)}")
        if self.class_weight not in CLASS_WEIGHTS:
            raise ValueError(f"unknown --class-weight {self.class_weight!r}: choose from {', '.join(CLASS_WEIGHTS)}")
        if self.task == "korean" and (self.text or self.dataset != "korean"):
            raise ValueError("the korean task trains on the bundled Korean corpus: leave out --text and --dataset")
        if self.embedding_dim == 0 and self.task in SURNAME_TASKS:
            raise ValueError("the surname tasks need an embedding (--embedding-dim 1 or more): it masks the padding")
        for name in ("units", "layers", "seq_len", "batch_size", "epochs", "checkpoint_every", "print_every",
                     "max_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
        if self.ambiguous not in AMBIGUOUS:
            raise ValueError(f"unknown --ambiguous {self.ambiguous!r}: choose from {', '.join(AMBIGUOUS)}")
        if self.train_names < 0:
            raise ValueError("--train-names must be 0 (all) or more")
        if not 0.0 < self.class_weight_power <= 1.0:
            raise ValueError("--class-weight-power must be in (0, 1]")
        if self.train_on not in TRAIN_ON:
            raise ValueError(f"unknown --train-on {self.train_on!r}: choose from {', '.join(TRAIN_ON)}")
        if self.train_on != "train" and self.task != "surnames":
            raise ValueError(f"--train-on {self.train_on} is for --task surnames only")
        if self.embedding_dim < 0:
            raise ValueError("--embedding-dim must be 0 (one-hot) or more")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("--dropout must be in [0, 1)")
        if self.learning_rate <= 0:
            raise ValueError("--learning-rate must be positive")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def save(self, path: str) -> None:
        """Writes the config as JSON, atomically."""
        atomic_write_json(path, self.to_dict())

    @classmethod
    def from_dict(cls, data: dict) -> "Config":
        """Builds a config from a dict, ignoring keys this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def load(cls, path: str) -> "Config":
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))
