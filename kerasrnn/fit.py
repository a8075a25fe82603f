"""`python -m kerasrnn.fit`: train a character model (Shakespeare by default) with model.fit.

Examples:
    python -m kerasrnn.fit --cell gru
    python -m kerasrnn.fit --task surnames --cell gru             # surname -> nationality
    python -m kerasrnn.fit --task surname-generation --conditioned  # new surnames of a nationality
    python -m kerasrnn.fit --task korean --cell gru                 # Korean keyboard keys (autocomplete)
    python -m kerasrnn.fit --cell lstm --units 256 --layers 2 --epochs 10
    python -m kerasrnn.fit --text my_book.txt --run-dir runs/book
    python -m kerasrnn.fit --data data/mails --max-val-chars 2000000
    python -m kerasrnn.fit --run-dir runs/book --resume
    python -m kerasrnn.fit --task sentence --sentence "hihello" --cell simplernn
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys

from kerasrnn.core import cli, deps

deps.require("kerasrnn.fit", "numpy")  # before the imports below, which need it: one line, not a traceback

from kerasrnn.core.config import CELLS, CLASS_WEIGHTS, CORPUS_TASKS, LIMITS, TASK_DEFAULTS, TASKS, TRAIN_ON, Config  # noqa: E402
from kerasrnn.training.strategies import STRATEGIES, tf_config  # noqa: E402
from pipelines.surnames import AMBIGUOUS  # noqa: E402


def _flags(task: str) -> str:
    shown = {True: "", 0: " (the whole sentence)"}  # a flag that is on; the sentence task's --seq-len 0
    return ", ".join(f"--{k.replace('_', '-')}" + (shown[v] if k in ("bidirectional", "seq_len") else f" {v}")
                     for k, v in TASK_DEFAULTS[task].items())


TASK_FLAGS = "; ".join(f"{task}: {_flags(task)}" for task in TASK_DEFAULTS)

DEFAULTS = Config()


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.fit", __doc__.splitlines()[0])
    d = DEFAULTS

    def number(flag: str, help: str, **kwargs) -> None:  # a numeric Config field: its type checks its range
        name = flag[2:].replace("-", "_")
        p.add_argument(flag, type=LIMITS[name], default=getattr(d, name), help=help, **kwargs)

    p.add_argument("--task", default=d.task,
                   help=f"what to train ({', '.join(TASKS)}); the other tasks have their own defaults for "
                        f"the flags not given: {TASK_FLAGS}")
    p.add_argument("--cell", default=d.cell, help=f"recurrent layer ({', '.join(CELLS)})")
    p.add_argument("--rnn-impl", default=d.rnn_impl,
                   help="fast: Keras layers with kerasrnn's faster CPU training loop (same mathematics); "
                        "keras: the stock layers")
    number("--units", "hidden units per recurrent layer")
    number("--layers", "stacked recurrent layers")
    number("--embedding-dim", "embedding size; 0 feeds one-hot vectors")
    number("--dropout", "dropout after each recurrent layer")
    number("--seq-len", "characters per training window")
    number("--batch-size", "windows per batch")
    number("--epochs", "passes over the training text")
    number("--learning-rate", "peak Adam learning rate (warm-up, then cosine decay)")
    number("--warmup-steps", "training steps of linear warm-up to the peak learning rate")
    number("--clipnorm", "gradient norm clipping (0 = off)")
    number("--weight-decay", "AdamW weight decay of the weight matrices and embeddings (0: plain Adam)")
    number("--ema", "keep an exponential moving average of the weights with this momentum (e.g. 0.999) and "
                    "validate and save it instead of the last weights (0: off)")
    number("--seed", "seed for weights, shuffling and dropout")
    p.add_argument("--text", type=cli.utf8, default=d.text,
                   help="train on this UTF-8 text file, directory of files or quoted glob instead of --dataset, "
                        "prepared once into the cache ($KERASRNN_CACHE, else ~/.cache/kerasrnn/corpora) and streamed "
                        "from there (sentence task: the file holding the text); config.json stores its absolute path")
    p.add_argument("--data", type=cli.utf8, default=d.data,
                   help="train on a corpus prepared by python -m pipelines.prepare (a folder with index.json)")
    number("--max-vocab", "keep the N most frequent characters of the training text; the rest become <unk> "
                          "(0: all)")
    number("--max-val-chars", "validate on the first N characters of the validation split only, for huge "
                              "corpora (0: all; said in the output)")
    p.add_argument("--sentence", type=cli.utf8, default=d.sentence,
                   help="sentence task: the sentence itself, e.g. --sentence \"hihello\" (default: the seoul "
                        "sentence)")
    p.add_argument("--dataset", default=d.dataset,
                   help="bundled corpus (shakespeare) or tfds:NAME for a TensorFlow Datasets text set")
    p.add_argument("--data-dir", type=cli.utf8, default=d.data_dir, help="TFDS data directory for --dataset tfds:NAME")
    number("--checkpoint-every", "training steps between the checkpoints that --resume continues from")
    p.add_argument("--tbptt", action="store_true",
                   help="truncated backprop through time: train on consecutive chunks, carrying the state "
                        "between batches (stateful, the char-rnn way), instead of independent shuffled windows")
    p.add_argument("--random-offsets", action=argparse.BooleanOptionalAction, default=d.random_offsets,
                   help="corpus tasks: start the training windows at a new random offset each epoch, so each "
                        "epoch cuts the text differently (a regulariser for long runs; off: the same windows every epoch)")
    number("--print-every", "sentence task: epochs between printouts of the predicted string")
    p.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=d.bidirectional,
                   help="surnames: read each name in both directions (Bidirectional RNN; the surnames task's "
                        "default, --no-bidirectional turns it off)")
    p.add_argument("--class-weight", default=d.class_weight, choices=CLASS_WEIGHTS,
                   help="surnames: 'balanced' weighs each class's names by n / (classes * count) in the loss")
    number("--class-weight-power", "surnames: with --class-weight balanced, raise each weight to this power "
                                   "(1 = balanced; smaller = milder, between balanced and none)")
    p.add_argument("--ambiguous", default=d.ambiguous, choices=AMBIGUOUS,
                   help="surnames: label a surname listed under several nationalities with its rarest one "
                        "(one right answer per name), or keep all its pairs")
    p.add_argument("--conditioned", action="store_true",
                   help="surname-generation: the nationality sets the initial state (for an LSTM h and c)")
    number("--max-len", "surname tasks: longest name the model reads (longer names are cut, with a notice)")
    number("--train-names", "surname tasks: train on only this many training names, evenly spread (0 = all); "
                            "for quick checks, the test figures still use the whole test split")
    p.add_argument("--train-on", default=d.train_on, choices=TRAIN_ON,
                   help="surnames: the split(s) the classifier learns from; train+validation makes a release "
                        "model once the flags are chosen on validation (it keeps the last epoch and reports "
                        "test figures only)")
    p.add_argument("--mixed-precision", action="store_true", help="float16 compute (for GPUs)")
    p.add_argument("--jit-compile", action=argparse.BooleanOptionalAction, default=d.jit_compile,
                   help="on a CPU, compile each training step of a corpus model without dropout with XLA "
                        "(faster, same losses; with dropout, XLA's random numbers are slower, so TensorFlow's "
                        "own kernels train it, as --no-jit-compile does always)")
    p.add_argument("--route", default=d.route,
                   help="corpus tasks on a CPU: how each training step runs: xla (compiled with XLA), tf "
                        "(TensorFlow's kernels), xla-bf16 or tf-bf16 (the recurrent products in bfloat16, on CPUs "
                        "with avx512_bf16 or amx_bf16); auto: the fastest of those that apply, measured at the "
                        "start and cached per machine and model shape")
    p.add_argument("--precision", default=d.precision,
                   help="corpus tasks: the recurrent layers' matrix products in float32 or bfloat16 (state, loss "
                        "and weights stay float32; exports are float32); auto: bfloat16 too where the start-up probe measures "
                        "it faster (off by default: on an AVX512-BF16 CPU a probe of a few steps chose bfloat16 "
                        "where a whole epoch was slower); a --route with -bf16 needs no --precision")
    p.add_argument("--strategy", default="auto", choices=STRATEGIES,
                   help="where the corpus model trains (tf.distribute): auto = mirrored over the GPUs when there "
                        "are several, else one device; multi-worker reads TF_CONFIG (see python -m "
                        "kerasrnn.launch); --batch-size is per replica")
    p.add_argument("--run-dir", type=cli.utf8, default=None,
                   help="where to write the run (default: a new runs/<cell>-<time>, or runs/<task>-<cell>-<time> "
                        "for the other tasks); locked while fit writes it")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted run in --run-dir from its last checkpoint: the epoch that was "
                        "interrupted runs again from its start (Keras restores the epoch, not the batch), with "
                        "the weights and optimizer of the checkpoint (at most --checkpoint-every steps old)")
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
    return Config(**values)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = "python -m kerasrnn.fit " + shlex.join(sys.argv[1:] if argv is None else argv)

    def body() -> int:
        tfds = ["tensorflow_datasets"] if args.dataset.startswith("tfds:") else []
        cli.check_packages(*deps.TENSORFLOW, "matplotlib", *tfds, prog="kerasrnn.fit")  # the curves are plotted last
        from kerasrnn.core import locks, runs

        config = config_from_args(args, given_flags(sys.argv[1:] if argv is None else argv))
        cluster = args.strategy == "multi-worker"
        if cluster and not args.run_dir:
            raise cli.UsageError("--strategy multi-worker needs --run-dir (every worker must name the same run)")
        if cluster:
            try:
                tf_config()  # its structure, before TensorFlow starts
            except ValueError as e:
                raise cli.UsageError(str(e)) from None
        if args.resume and not args.run_dir:
            raise cli.UsageError("--resume needs --run-dir (the run to continue)")
        if args.resume and os.path.exists(os.path.join(args.run_dir, runs.CONFIG)):
            config.task = runs.load_config_and_vocab(args.run_dir)[0].task  # the run's own task, not the flag's
        elif not args.resume:
            try:
                config.validate()
            except ValueError as e:
                raise cli.UsageError(str(e)) from None
        if config.task not in CORPUS_TASKS and args.strategy not in ("auto", "one-device"):
            raise cli.UsageError(f"--strategy {args.strategy} trains corpus models (--task {' or '.join(CORPUS_TASKS)}); "
                                 f"the {config.task} task trains in a minute on one device")
        if config.tbptt and args.strategy in ("mirrored", "multi-worker"):
            raise cli.UsageError("--tbptt carries one state per batch row: it trains on one device only "
                                 "(--strategy one-device)")
        if config.task == "sentence" and args.resume:
            raise cli.UsageError("the sentence task trains in seconds: it has no --resume")
        if args.data_dir:  # TFDS downloads and prepares data there: never inside a run or an export
            from kerasrnn.core import outputs

            try:
                outputs.check_not_inside_other(args.data_dir, "--data-dir")
            except outputs.OutputRefused as e:
                raise cli.UsageError(str(e)) from None
        if args.run_dir and not args.resume and not cluster:
            runs.check_new_run_dir(args.run_dir)  # before TensorFlow starts; claimed atomically once all is checked
        cli.quiet_tensorflow()
        from kerasrnn.tasks import registry

        run_dir = cli.writing(args.run_dir or runs.new_run_dir(prefix=runs.default_prefix(config)))
        try:
            registry.train(config, run_dir, resume=args.resume, verbose=args.verbose, command=command,
                           strategy=args.strategy)
        except BaseException:
            runs.discard_unstarted(run_dir)  # refused or failed before training started: leave nothing behind
            raise
        finally:
            locks.release_all()
        return 0

    return cli.run(body, "kerasrnn.fit")


if __name__ == "__main__":
    sys.exit(main())
