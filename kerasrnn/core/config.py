"""The run configuration: one dataclass, saved as config.json in every run directory.

Sampling, evaluation and export rebuild the model from this file, never from flags.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from kerasrnn.core.cli import Range
from pipelines.io import DataError, atomic_write_json
from pipelines.schema import Fields, read_json_object
from pipelines.surnames import AMBIGUOUS
from pipelines.tfds_names import check_tfds_name

CELLS = ("simplernn", "lstm", "gru")  # recurrent layer kinds
# What a task uses for every flag not given on the command line (the Shakespeare task: the Config defaults).
TASK_DEFAULTS = {"sentence": {"units": 32, "embedding_dim": 0, "dropout": 0.0, "learning_rate": 0.02,
                              "epochs": 1000, "warmup_steps": 0, "batch_size": 256, "seq_len": 0},
                 "surnames": {"units": 128, "embedding_dim": 64, "dropout": 0.4, "learning_rate": 3e-3,
                              "epochs": 15, "warmup_steps": 20, "batch_size": 64, "bidirectional": True},
                 "surname-generation": {"units": 128, "embedding_dim": 32, "dropout": 0.2,
                                        "learning_rate": 3e-3, "epochs": 25, "warmup_steps": 20,
                                        "batch_size": 64},
                 "korean": {"dataset": "korean", "units": 256, "epochs": 10, "dropout": 0.2, "learning_rate": 3e-3}}
ROUTE_NAMES = ("auto", "xla", "tf", "xla-bf16", "tf-bf16")  # training routes (kerasrnn.training.routes)
PRECISIONS = ("auto", "float32", "bfloat16")  # the fast loop's matrix products (auto: the faster measured)
RNN_IMPLS = ("fast", "keras")  # recurrent layer implementations (see kerasrnn.models.fast_rnn)
# a corpus language model; one sentence predicted exactly; surname -> nationality; new surnames;
# a language model of Korean keyboard keys (kerasrnn.tasks.korean)
TASKS = ("shakespeare", "sentence", "surnames", "surname-generation", "korean")
CORPUS_TASKS = ("shakespeare", "korean")  # language models of a corpus (kerasrnn.tasks.language_model's training)
SURNAME_TASKS = ("surnames", "surname-generation")  # the tasks on pipelines/data/names
TRAIN_ON = ("train", "train+validation")  # what a surname classifier learns from
CLASS_WEIGHTS = ("none", "balanced")  # surnames: class weights in the loss (balanced: n / (classes * count))
MAX_UNITS = 4096  # widest recurrent layer or embedding (a GRU of 4,096 units already holds 50 million weights)
# The range of every numeric field, checked on the command line (argparse) and in config.json (`Config.from_dict`).
LIMITS = {
    "units": Range(int, 1, MAX_UNITS), "layers": Range(int, 1, 8), "embedding_dim": Range(int, 0, MAX_UNITS),
    "dropout": Range(float, 0.0, 1.0, hi_open=True), "seq_len": Range(int, 1, 100_000),
    "batch_size": Range(int, 1, 8192), "epochs": Range(int, 1, 100_000),
    "learning_rate": Range(float, 0.0, 10.0, lo_open=True),
    "warmup_steps": Range(int, 0, 1_000_000), "min_lr_ratio": Range(float, 0.0, 1.0),
    "clipnorm": Range(float, 0.0, 1e6), "seed": Range(int, 0, 2**31 - 1),
    "weight_decay": Range(float, 0.0, 1.0), "ema": Range(float, 0.0, 1.0, hi_open=True),
    "checkpoint_every": Range(int, 1, 1_000_000), "print_every": Range(int, 1, 1_000_000),
    "class_weight_power": Range(float, 0.0, 1.0, lo_open=True), "max_len": Range(int, 1, 1000),
    "train_names": Range(int, 0, 10_000_000), "vocab_size": Range(int, 0, 2**21),
    "max_vocab": Range(int, 0, 2**21), "max_val_chars": Range(int, 0, 2**62),
}
# The JSON kind of each annotation a Config field has (see `pipelines.schema`).
JSON_KINDS = {"int": "int", "float": "number", "str": "str", "str | None": "str", "bool": "bool", "list": "str_list"}


class ConfigError(ValueError):
    """A config field out of its range or choices; the message names the flag (`--units must be ...`)."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.field = name


@dataclass
class Config:
    """Everything that defines a training run. Defaults are the default Shakespeare run."""

    task: str = "shakespeare"  # what to train: one of TASKS ("shakespeare": a corpus; see kerasrnn.tasks.registry)
    dataset: str = "shakespeare"  # bundled corpus name or "tfds:NAME" (the korean task: "korean", its own corpus)
    text: str | None = None  # a UTF-8 text file, directory or glob to train on instead of `dataset` (stored absolute)
    data: str | None = None  # a corpus prepared by `python -m pipelines.prepare` to train on (stored absolute)
    max_vocab: int = 0  # keep the N most frequent training characters, the rest become <unk> (0: all)
    max_val_chars: int = 0  # validate on the first N characters of the validation split only (0: all)
    sentence: str | None = None  # sentence task: the sentence itself (instead of a --text file)
    data_dir: str | None = None  # TFDS data directory (for --dataset tfds:NAME)
    cell: str = "gru"  # recurrent layer: simplernn, lstm or gru
    rnn_impl: str = "fast"  # "fast": the Keras layers with kerasrnn's faster CPU loop; "keras": the stock layers
    units: int = 384  # hidden units per recurrent layer
    layers: int = 1  # stacked recurrent layers
    embedding_dim: int = 64  # embedding size; 0 feeds one-hot vectors instead
    dropout: float = 0.0  # dropout on each recurrent layer's output (0: none, and the step compiles with XLA)
    seq_len: int = 100  # characters per training window (backprop through time length; sentence task: 0 = all)
    batch_size: int = 64  # windows per batch
    epochs: int = 5  # passes over the training windows
    learning_rate: float = 5e-3  # peak Adam learning rate
    warmup_steps: int = 20  # linear warm-up steps before the cosine decay
    min_lr_ratio: float = 0.02  # final learning rate as a share of the peak
    clipnorm: float = 5.0  # clip each gradient's norm (0 = off)
    weight_decay: float = 0.0  # AdamW's decoupled weight decay of the weight matrices (0: plain Adam)
    ema: float = 0.0  # momentum of an exponential moving average of the weights, used to validate and save (0: off)
    seed: int = 1337  # seed for weights, shuffling and dropout
    checkpoint_every: int = 50  # training steps between the resume checkpoints
    random_offsets: bool = False  # corpus tasks: the training windows start at a new random offset each epoch
    tbptt: bool = False  # truncated BPTT: consecutive chunks, the state carried between batches
    print_every: int = 10  # sentence task: epochs between printouts of the predicted string
    mixed_precision: bool = False  # float16 compute on a GPU (logits stay float32)
    jit_compile: bool = True  # on a CPU, compile a corpus model's training step with XLA (see training.fitting)
    route: str = "auto"  # corpus tasks on a CPU: how the step runs (auto: the fastest measured; see training.routes)
    precision: str = "float32"  # corpus tasks: the fast loop's matrix products (float32, bfloat16, auto: the faster)
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
        """Raises ConfigError with a one-line reason when a field is out of its range or choices."""
        for name, choices in (("task", TASKS), ("cell", CELLS), ("rnn_impl", RNN_IMPLS),
                              ("class_weight", CLASS_WEIGHTS), ("ambiguous", AMBIGUOUS), ("train_on", TRAIN_ON),
                              ("route", ROUTE_NAMES), ("precision", PRECISIONS)):
            value = getattr(self, name)
            if value not in choices:
                noun = name if name in ("task", "cell") else f"--{name.replace('_', '-')}"
                raise ConfigError(name, f"unknown {noun} {value!r}: choose from {', '.join(choices)}")
        for name, limit in LIMITS.items():
            value = getattr(self, name)
            if not (limit.contains(value) or (name == "seq_len" and value == 0 and self.task == "sentence")):
                raise ConfigError(name, f"--{name.replace('_', '-')} {limit.complaint(value)}")
        if self.text and self.data:
            raise ConfigError("data", "--text and --data both name the training text: give one")
        if self.task == "korean" and (self.text or self.data or self.dataset != "korean"):
            raise ConfigError("dataset", "the korean task trains on the bundled Korean corpus: leave out --text and --dataset")
        if self.dataset.startswith("tfds:"):
            try:
                check_tfds_name(self.dataset[len("tfds:"):])
            except DataError as e:
                raise ConfigError("dataset", str(e)) from None
        if self.embedding_dim == 0 and self.task in SURNAME_TASKS:
            raise ConfigError("embedding_dim", "the surname tasks need an embedding (--embedding-dim 1 or more): "
                                               "it masks the padding")
        if self.random_offsets and (self.task not in CORPUS_TASKS or self.tbptt):
            raise ConfigError("random_offsets", "--random-offsets moves a corpus task's shuffled training windows: "
                                                "leave it out with --tbptt and the other tasks")
        if (self.route != "auto" or self.precision != "float32") and self.task not in CORPUS_TASKS:
            name = "route" if self.route != "auto" else "precision"
            raise ConfigError(name, f"--{name} is for the corpus tasks (--task {' or '.join(CORPUS_TASKS)})")
        if self.train_on != "train" and self.task != "surnames":
            raise ConfigError("train_on", f"--train-on {self.train_on} is for --task surnames only")
        for name in ("data", "max_vocab", "max_val_chars"):
            if getattr(self, name) and self.task != "shakespeare":
                raise ConfigError(name, f"--{name.replace('_', '-')} is for the corpus language model (--task shakespeare)")
        if self.sentence is not None and (self.task != "sentence" or self.text is not None):
            raise ConfigError("sentence", "--sentence is for --task sentence, instead of --text FILE")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def save(self, path: str) -> None:
        """Writes the config as JSON, atomically."""
        atomic_write_json(path, self.to_dict())

    @classmethod
    def from_dict(cls, data, source: str = "config.json") -> "Config":
        """Builds a config from a dict read from `source`, each field type- and range-checked (keys this
        version does not know are ignored; a missing field takes its default, as in an older run).

        Raises:
            DataError: one line naming `source` and the field.
        """
        fields = Fields(data, source)
        values = {}
        for f in dataclasses.fields(cls):
            default = f.default_factory() if f.default is dataclasses.MISSING else f.default
            value = fields.get(f.name, JSON_KINDS[f.type], default, nullable=f.type.endswith("| None"))
            values[f.name] = float(value) if f.type == "float" else value
        config = cls(**values)
        try:
            config.validate()
        except ConfigError as e:
            raise fields.error(e.field, f"= {getattr(config, e.field)!r}: {e}") from None
        if config.task in SURNAME_TASKS and not config.labels:
            raise fields.error("labels", "is empty: a surname run lists its classes")
        return config

    @classmethod
    def load(cls, path: str) -> "Config":
        """Reads and checks a config.json (see `from_dict`).

        Raises:
            DataError: an unreadable file or a bad field, in one line.
        """
        return cls.from_dict(read_json_object(path), path)

