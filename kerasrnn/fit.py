"""`python -m kerasrnn.fit`: train a character model (Shakespeare by default) with model.fit.

Examples:
    python -m kerasrnn.fit --cell gru
    python -m kerasrnn.fit --task surnames --cell gru             # surname -> nationality
    python -m kerasrnn.fit --task surname-generation --conditioned  # new surnames of a nationality
    python -m kerasrnn.fit --task korean --cell gru                 # Korean keyboard keys (autocomplete)
    python -m kerasrnn.fit --cell lstm --units 256 --layers 2 --epochs 10
    python -m kerasrnn.fit --text my_book.txt --run-dir runs/book
    python -m kerasrnn.fit --run-dir runs/book --resume
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys

from kerasrnn.core import cli
from kerasrnn.core.config import CELLS, CLASS_WEIGHTS, CORPUS_TASKS, TASK_DEFAULTS, TASKS, TRAIN_ON, Config
from kerasrnn.training.strategies import STRATEGIES
from pipelines.surnames import AMBIGUOUS


def _flags(task: str) -> str:
    return ", ".join(f"{k.replace('_', '-')} {v}" for k, v in TASK_DEFAULTS[task].items())


TASK_FLAGS = "; ".join(f"{task}: {_flags(task)}" for task in TASK_DEFAULTS) + \
             " (sentence: and seq-len the whole sentence)"

DEFAULTS = Config()


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.fit", __doc__.splitlines()[0])
    d = DEFAULTS
    p.add_argument("--task", default=d.task,
                   help=f"what to train ({', '.join(TASKS)}); the other tasks have their own defaults for "
                        f"the flags not given: {TASK_FLAGS}")
    p.add_argument("--cell", default=d.cell, help=f"recurrent layer ({', '.join(CELLS)})")
    p.add_argument("--rnn-impl", default=d.rnn_impl,
                   help="fast: Keras layers with kerasrnn's faster CPU training loop (same mathematics); "
                        "keras: the stock layers")
    p.add_argument("--units", type=int, default=d.units, help="hidden units per recurrent layer")
    p.add_argument("--layers", type=int, default=d.layers, help="stacked recurrent layers")
    p.add_argument("--embedding-dim", type=int, default=d.embedding_dim,
                   help="embedding size; 0 feeds one-hot vectors")
    p.add_argument("--dropout", type=float, default=d.dropout, help="dropout after each recurrent layer")
    p.add_argument("--seq-len", type=int, default=d.seq_len, help="characters per training window")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="windows per batch")
    p.add_argument("--epochs", type=int, default=d.epochs, help="passes over the training text")
    p.add_argument("--learning-rate", type=float, default=d.learning_rate,
                   help="peak Adam learning rate (warm-up, then cosine decay)")
    p.add_argument("--clipnorm", type=float, default=d.clipnorm, help="gradient norm clipping (0 = off)")
    p.add_argument("--seed", type=int, default=d.seed, help="seed for weights, shuffling and dropout")
    p.add_argument("--text", default=d.text, help="train on this UTF-8 text file instead of --dataset")
    p.add_argument("--dataset", default=d.dataset,
                   help="bundled corpus (shakespeare) or tfds:NAME for a TensorFlow Datasets text set")
    p.add_argument("--data-dir", default=d.data_dir, help="TFDS data directory for --dataset tfds:NAME")
    p.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every,
                   help="training steps between the checkpoints that --resume continues from")
    p.add_argument("--tbptt", action="store_true",
                   help="truncated backprop through time: train on consecutive chunks, carrying the state "
                        "between batches (stateful, the char-rnn way), instead of independent shuffled windows")
    p.add_argument("--print-every", type=int, default=d.print_every,
                   help="sentence task: epochs between printouts of the predicted string")
    p.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=d.bidirectional,
                   help="surnames: read each name in both directions (Bidirectional RNN; the surnames task's "
                        "default, --no-bidirectional turns it off)")
    p.add_argument("--class-weight", default=d.class_weight, choices=CLASS_WEIGHTS,
                   help="surnames: 'balanced' weighs each class's names by n / (classes * count) in the loss")
    p.add_argument("--class-weight-power", type=float, default=d.class_weight_power,
                   help="surnames: with --class-weight balanced, raise each weight to this power in (0, 1] "
                        "(1 = balanced; smaller = milder, between balanced and none)")
    p.add_argument("--ambiguous", default=d.ambiguous, choices=AMBIGUOUS,
                   help="surnames: label a surname listed under several nationalities with its rarest one "
                        "(one right answer per name), or keep all its pairs")
    p.add_argument("--conditioned", action="store_true",
                   help="surname-generation: the nationality sets the initial state (for an LSTM h and c)")
    p.add_argument("--max-len", type=int, default=d.max_len,
                   help="surname tasks: longest name the model reads (longer names are cut, with a notice)")
    p.add_argument("--train-names", type=int, default=d.train_names,
                   help="surname tasks: train on only this many training names, evenly spread (0 = all); "
                        "for quick checks, the test figures still use the whole test split")
    p.add_argument("--train-on", default=d.train_on, choices=TRAIN_ON,
                   help="surnames: the split(s) the classifier learns from; train+validation makes a release "
                        "model once the flags are chosen on validation (it keeps the last epoch and reports "
                        "test figures only)")
    p.add_argument("--mixed-precision", action="store_true", help="float16 compute (for GPUs)")
    p.add_argument("--strategy", default="auto", choices=STRATEGIES,
                   help="where the corpus model trains (tf.distribute): auto = mirrored over the GPUs when there "
                        "are several, else one device; multi-worker reads TF_CONFIG (see python -m "
                        "kerasrnn.launch); --batch-size is per replica")
    p.add_argument("--run-dir", default=None, help="where to write the run (default: a new runs/<cell>-<time>)")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted run in --run-dir from its last checkpoint")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                   help="Keras progress: 0 silent, 1 progress bar, 2 one line per epoch")
    return p


def given_flags(argv: list[str]) -> set[str]:
    """The Config fields named on the command line (e.g. {"units"} for `--units 8`)."""
    names = {a.split("=", 1)[0][2:].removeprefix("no-").replace("-", "_") for a in argv if a.startswith("--")}
    return names & {f.name for f in dataclasses.fields(Config)}


def config_from_args(args, given: set[str] | None = None) -> Config:
    """The Config that the parsed flags describe; a task's own defaults fill the flags not given."""
    fields = {f.name for f in dataclasses.fields(Config)}
    values = {k: v for k, v in vars(args).items() if k in fields}
    values.update({k: v for k, v in TASK_DEFAULTS.get(values.get("task"), {}).items() if k not in (given or set())})
    if values.get("task") == "sentence":
        if "seq_len" not in (given or set()):
            values["seq_len"] = 10**9  # the whole sentence (cut to its length when it is read)
    return Config(**values)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = "python -m kerasrnn.fit " + shlex.join(sys.argv[1:] if argv is None else argv)

    def body() -> int:
        config = config_from_args(args, given_flags(sys.argv[1:] if argv is None else argv))
        if args.strategy == "multi-worker" and not args.run_dir:
            raise cli.UsageError("--strategy multi-worker needs --run-dir (every worker must name the same run)")
        if args.resume and not args.run_dir:
            raise cli.UsageError("--resume needs --run-dir (the run to continue)")
        if not args.resume:
            try:
                config.validate()
            except ValueError as e:
                raise cli.UsageError(str(e)) from None
        cli.quiet_tensorflow()
        from kerasrnn.tasks import registry
        from kerasrnn.core import runs

        run_dir = args.run_dir or runs.new_run_dir(prefix=config.cell)
        if args.resume and os.path.exists(os.path.join(run_dir, runs.CONFIG)):
            config.task = runs.load_config_and_vocab(run_dir)[0].task  # the run's own task, not the flag's
        if config.task not in CORPUS_TASKS and args.strategy not in ("auto", "one-device"):
            raise cli.UsageError(f"--strategy {args.strategy} trains corpus models (--task {' or '.join(CORPUS_TASKS)}); "
                                 f"the {config.task} task trains in a minute on one device")
        if config.task == "sentence" and args.resume:
            raise cli.UsageError("the sentence task trains in seconds: it has no --resume")
        registry.train(config, run_dir, resume=args.resume, verbose=args.verbose, command=command,
                       strategy=args.strategy)
        return 0

    return cli.run(body, "kerasrnn.fit")


if __name__ == "__main__":
    sys.exit(main())
