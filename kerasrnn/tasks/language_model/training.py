"""Training a character language model of a corpus with `model.fit` (`python -m kerasrnn.fit`, the
default task), on one device, mirrored over several, or on a multi-worker cluster."""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from kerasrnn.core import runs
from kerasrnn.core.cli import TrainingFailed, UsageError
from kerasrnn.core.config import Config
from kerasrnn.inference.evaluation import bits, evaluate_loss
from kerasrnn.inference.stepping import Stepper, generate
from kerasrnn.models.char_model import build_model
from kerasrnn.models.loading import load_run
from kerasrnn.training.callbacks import Backup, StatefulValidation, plot_curves
from kerasrnn.training import routes
from kerasrnn.training.memory import check_model_memory
from kerasrnn.training.fitting import check_finite, compile_model, device_name, fit_callbacks, uses_xla
from kerasrnn.training.multi_worker import fit_distributed
from kerasrnn.training.strategies import describe, is_chief, make_strategy
from pipelines.io import DataError, atomic_write_json
from pipelines.shards import Prepared, Split, in_memory
from pipelines.stream import stream_chunks, tbptt_dataset, window_count, window_dataset, worker_shards
from pipelines.text import Corpus
from pipelines.vocab import Vocabulary

SAMPLE_CHARS = 300  # characters of the sample printed when training ends
CorpusFn = Callable[[Config, str], "Corpus | Prepared"]  # a run's config and directory -> the corpus it trains on


def config_corpus(config: Config, run_dir: str) -> Prepared:
    """The corpus a run's config names, as ids (`runs.run_data`): a --data folder, a --text prepared in the
    cache, a TFDS data set or a bundled corpus."""
    return runs.run_data(config, run_dir)


def as_data(corpus: Corpus | Prepared, config: Config, vocab: Vocabulary | None = None) -> Prepared:
    """A corpus as ids: a prepared one as it is (its vocabulary must be `vocab` when given), one of strings
    encoded in memory."""
    if isinstance(corpus, Prepared):
        if vocab is not None and corpus.vocab.tokens != vocab.tokens:
            raise DataError(f"the run's training data {corpus.source} has changed since it was trained "
                            f"(its vocabulary is not the run's {runs.VOCAB})")
        return corpus
    return runs.corpus_data(corpus, vocab, config.max_vocab)


def open_run(config: Config, run_dir: str, resume: bool, write: bool = True,
             corpus_fn: CorpusFn = config_corpus) -> tuple[Config, Vocabulary, Prepared, dict]:
    """Creates a new run directory, or reopens one to resume; `write=False` (a cluster's non-chief
    worker) builds the same config and vocabulary without writing anything.

    Returns:
        The config, vocabulary, corpus as ids (`corpus_fn` of the config) and the metrics record so far.
    Raises:
        UsageError: an existing directory without --resume, or --resume of a finished run.
    """
    if resume:
        config, vocab, record = runs.reopen_run(run_dir, lock=write)
        data = as_data(corpus_fn(config, run_dir), config, vocab)
        if record.get("data_fingerprint") not in (None, data.fingerprint()):
            raise DataError(f"the run's training data {data.source.split(':', 1)[-1]} has changed since it was "
                            f"trained (its ids differ): train a new run on it")
        check_model_memory(config, len(vocab))
        return config, vocab, data, record
    if write:
        runs.check_new_run_dir(run_dir)
    config.validate()
    data = as_data(corpus_fn(config, run_dir), config)
    vocab = data.vocab
    config.vocab_size = len(vocab)
    check_lengths(data.train, validation_split(data, config), config.seq_len)  # refused before anything is written
    if config.tbptt:
        stream_chunks(len(data.train), config.seq_len, config.batch_size)
    check_model_memory(config, len(vocab))
    if write:
        runs.create_run(config, vocab, run_dir)
    return config, vocab, data, {"epochs": []}


def validation_split(data: Prepared, config: Config) -> Split:
    """The validation ids measured: the whole split, or its first --max-val-chars."""
    if config.max_val_chars and len(data.validation) > config.max_val_chars:
        return data.validation.head(config.max_val_chars)
    return data.validation


def restarted_job(run_dir: str, chief: bool) -> bool:
    """Whether a cluster job was restarted on its unfinished run (and so continues it). The chief knows one by
    the run's config; another worker by the chief's backup, which this job cannot have written yet (its first
    step needs every worker), whereas the config may already be the one this job's chief has just written."""
    marker = os.path.join(run_dir, runs.CONFIG if chief else runs.BACKUP_DIR)
    return os.path.exists(marker) and "final" not in runs.read_metrics(run_dir)


def check_lengths(train_ids, val_ids, seq_len: int) -> None:
    """Raises DataError unless each split (ids, or the text itself) holds at least one window of seq_len + 1
    characters."""
    for name, ids in (("training", train_ids), ("validation", val_ids)):
        if len(ids) < seq_len + 1:
            raise DataError(
                f"text too short: its {name} part has {len(ids)} characters, fewer than one "
                f"window of {seq_len + 1} (--seq-len {seq_len}); use a longer text or a smaller --seq-len")


def make_datasets(config: Config, train_ids, val_ids, replicas: int = 1):
    """The training pipeline (shuffled, full batches; with --tbptt consecutive chunks in order) and the
    validation pipeline (in order, every window), batched by the global batch (batch size × replicas), both
    streamed from the ids (`pipelines.stream`; a `Split` of shard files, or an array).

    Each split is windowed on its own, so no window crosses the train/validation cut.
    """
    train_ids = train_ids if isinstance(train_ids, Split) else in_memory(train_ids)
    val_ids = val_ids if isinstance(val_ids, Split) else in_memory(val_ids)
    batch = config.batch_size * replicas
    if config.tbptt:
        train_ds = tbptt_dataset(train_ids, config.seq_len, batch)
    else:
        train_ds = window_dataset(train_ids, config.seq_len, batch, shuffle=True, seed=config.seed,
                                  random_offset=config.random_offsets)
    val_ds = window_dataset(val_ids, config.seq_len, batch, shuffle=False, drop_remainder=False)
    return train_ds, val_ds


def train(config: Config, run_dir: str, resume: bool = False, verbose: int | str = "auto",
          command: str = "", strategy: str = "one-device", corpus_fn: CorpusFn = config_corpus,
          render: Callable[[str], str] | None = None, unit: str = "char") -> dict:
    """Trains (or resumes) a run and writes everything into `run_dir`.

    Args:
        config: the run's config (ignored when resuming: the saved one is used).
        run_dir: the run directory.
        resume: continue an interrupted run from its last checkpoint (implied for a cluster job
            restarted on an unfinished run).
        verbose: Keras progress output (0 silent, 1 progress bar, 2 one line per epoch).
        command: the command line, recorded in metrics.json.
        strategy: a `kerasrnn.training.strategies.STRATEGIES` name.
        corpus_fn: the corpus of a config (a task with its own data, such as the Korean keys).
        render: turns the final sample's tokens into the text shown (None: printed as they come).
        unit: what a token is, in the printed losses ("char"; the Korean keys: "key").
    Returns:
        The `final` figures written to metrics.json (a non-chief worker: its last epoch's figures).
    Raises:
        UsageError, DataError: bad options or data. TrainingFailed: the loss became NaN.
    """
    try:
        dist = make_strategy(strategy)  # first: a multi-worker strategy must precede other TF work
    except ValueError as e:
        raise UsageError(str(e)) from None
    cluster = isinstance(dist, tf.distribute.MultiWorkerMirroredStrategy)
    chief = is_chief() if cluster else True
    if cluster and not resume:
        resume = restarted_job(run_dir, chief)
    config, vocab, data, record = open_run(config, run_dir, resume, write=chief, corpus_fn=corpus_fn)
    if config.tbptt and (cluster or strategy == "mirrored" or dist.num_replicas_in_sync > 1):
        raise UsageError("--tbptt carries one state per batch row: it trains on one device only "
                         "(--strategy one-device)")
    if config.mixed_precision and cluster:
        raise UsageError("--mixed-precision runs with model.fit (one device or mirrored), not multi-worker")
    out_dir = run_dir if chief else tempfile.mkdtemp(prefix="kerasrnn-worker-")  # a worker's own writes
    train_ids, val_ids = data.train, validation_split(data, config)
    check_lengths(train_ids, val_ids, config.seq_len)
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    replicas = dist.num_replicas_in_sync
    train_ds, val_ds = make_datasets(config, train_ids, val_ids, replicas)
    steps, train_fn = int(train_ds.cardinality()), None
    if cluster:
        steps, train_fn = file_sharding(config, train_ids, dist, steps)

    with dist.scope():
        model = build_model(config)  # what is saved and evaluated
        fitted = build_model(config, stateful_batch=config.batch_size) if config.tbptt else model
        compile_model(fitted, config, steps * config.epochs)
    device = device_name()
    if device == "CPU" and replicas == 1 and not cluster and not config.tbptt and not config.mixed_precision:
        probe_ds = lambda: make_datasets(config, train_ids, val_ids)[0]  # noqa: E731 - its own shuffle state
        record["route"] = choose_route(config, fitted, probe_ds, steps * config.epochs)
    elif config.route != "auto" or config.precision == "bfloat16":
        raise UsageError("--route and --precision bfloat16 choose how one CPU trains: leave them out with a GPU, "
                         "several devices, --tbptt or --mixed-precision")
    record.update(command=command or record.get("command", ""), data=data.source, data_fingerprint=data.fingerprint(),
                  train_chars=len(data.train), val_chars=len(val_ids),
                  vocab_size=len(vocab), params=model.count_params(), device=device,
                  strategy=describe(dist), global_batch=config.batch_size * replicas)
    print(f"{config.cell.upper()} {config.layers}x{config.units}, {model.count_params():,} parameters, "
          f"{len(data.train):,} training characters ({steps} steps/epoch){capped(data, val_ids)}, on {device} "
          f"({describe(dist)}); "
          f"run: {run_dir}{'' if chief else f' (this worker writes to {out_dir})'}")

    per_step = config.batch_size * replicas * config.seq_len
    backup = Backup(os.path.join(run_dir, runs.BACKUP_DIR), chief, save_freq=config.checkpoint_every,
                    double_checkpoint=True)  # in a cluster the chief's, read by every worker
    callbacks = fit_callbacks(config, out_dir, record, model, per_step, resume, backup=backup)
    if config.tbptt:  # the stateful model cannot validate itself: a stateless twin does, first
        callbacks.insert(0, StatefulValidation(model, lambda twin: evaluate_loss(twin, val_ids, config.seq_len)))
        val_ds = None
    if cluster:
        try:
            history = fit_distributed(fitted, dist, train_ds, val_ds, config.epochs, callbacks,
                                      config.batch_size * replicas, verbose, train_fn=train_fn, steps=steps)
        except (tf.errors.UnavailableError, tf.errors.AbortedError, tf.errors.DeadlineExceededError) as e:
            raise TrainingFailed(f"lost a worker of the cluster ({type(e).__name__}); run the job again to "
                                 f"resume from the last backup") from None
        check_finite(history, run_dir, record, config)
    elif not (resume and runs.training_done(run_dir, record, config)):  # else: only the final figures
        history = fitted.fit(train_ds, validation_data=val_ds, epochs=config.epochs,
                             callbacks=callbacks, verbose=verbose, shuffle=False)
        check_finite(history, run_dir, record, config)
    if not chief:
        shutil.rmtree(out_dir, ignore_errors=True)
        return record["epochs"][-1] if record["epochs"] else {}
    return finish(run_dir, config, vocab, val_ids, record, render, unit)


def capped(data: Prepared, val_ids) -> str:
    """What the printed line says of a validation split cut by --max-val-chars (else nothing)."""
    return "" if len(val_ids) == len(data.validation) else \
        f", validating on the first {len(val_ids):,} of {len(data.validation):,} validation characters (--max-val-chars)"


def file_sharding(config: Config, train_ids: Split, dist, steps: int):
    """A multi-worker job's training input: each worker reads its own shard files when there are at least as
    many as workers (FILE), else every worker reads every file and keeps its share of each batch (DATA); said in
    the log. Returns (steps per epoch, the per-worker dataset function for FILE, or None for DATA)."""
    resolver = dist.extended._cluster_resolver
    spec = resolver.cluster_spec().as_dict()
    chiefs = len(spec.get("chief", []))  # the chief, when there is one, is input pipeline 0
    workers = len(spec.get("worker", [])) + chiefs
    index = int(resolver.task_id) + (chiefs if resolver.task_type == "worker" else 0)
    mine, plan = worker_shards(train_ids, workers, index)
    print(plan)
    if mine is None:
        return steps, None
    local = dist.num_replicas_in_sync // workers  # replicas of one worker
    each = [len(worker_shards(train_ids, workers, w)[0]) for w in range(workers)]
    steps = min(window_count(n, config.seq_len, config.random_offsets) // (config.batch_size * local) for n in each)
    if steps < 1:
        raise DataError(f"a worker's shards hold fewer than one batch of windows: prepare the corpus with smaller "
                        f"shards (--shard-mb) or train with fewer workers")

    def train_fn(context):  # one worker's pipeline: its own files, batched per replica
        ds = window_dataset(mine, config.seq_len, context.get_per_replica_batch_size(config.batch_size * dist.num_replicas_in_sync),
                            shuffle=True, seed=config.seed, random_offset=config.random_offsets)
        return ds.take(steps * local)

    return steps, train_fn


def choose_route(config: Config, model: keras.Model, probe_ds: Callable, total_steps: int) -> dict:
    """Chooses the training route (`kerasrnn.training.routes`: forced, cached or measured on the first
    training batches, the model left as before the measuring), sets the model to it and prints it in one line.

    `probe_ds()` makes a training dataset of its own for the probe: iterating the run's own dataset would move
    its seeded reshuffle on, so that the first epoch would see the second epoch's order.

    Returns:
        The choice, for metrics.json: {"route", "how", "step_ms", "cache"}.
    """
    probe = None

    def measure(candidates: list[routes.Route]) -> dict[str, float]:
        nonlocal probe
        probe = routes.Probe(model, list(probe_ds().take(routes.PROBE_ROUNDS)))
        return probe(candidates)

    choice = routes.choose(config, routes.cpu_info(), uses_xla(config), measure, total_steps, routes.versions())
    route = routes.ROUTES[choice["route"]]
    if probe is not None:
        probe.finish(route)
    else:
        routes.apply_route(model, route)
    print(routes.describe_choice(choice))
    return choice


def finish(run_dir: str, config: Config, vocab: Vocabulary, val_ids: np.ndarray, record: dict,
           render: Callable[[str], str] | None = None, unit: str = "char") -> dict:
    """Evaluates the best model, writes `final` into metrics.json and curves.png, prints a sample."""
    run = load_run(run_dir)
    val_nats = evaluate_loss(run.model, val_ids, config.seq_len)
    epochs = record["epochs"]
    best = min(epochs, key=lambda r: r.get("val_loss_nats") or math.inf)
    rates = sorted(r["chars_per_s"] for r in epochs)
    record["final"] = {
        "val_loss_nats": round(val_nats, 5),
        "val_bpc": round(bits(val_nats), 5),
        "train_loss_nats": best.get("train_loss_nats"),
        "train_bpc": best.get("train_bpc"),
        "best_epoch": best["epoch"],
        "epochs": len(epochs),
        "chars_per_s": rates[len(rates) // 2],
        "wall_s": epochs[-1]["wall_s"],
    }
    atomic_write_json(os.path.join(run_dir, runs.METRICS), record)
    plot_curves(epochs, os.path.join(run_dir, runs.CURVES),
                f"{config.cell.upper()} {config.layers}x{config.units} on {record.get('data', '')}")
    final = record["final"]
    print(f"\nvalidation loss {final['val_loss_nats']:.4f} nats/{unit} = {final['val_bpc']:.4f} bits/{unit} "
          f"(best epoch {final['best_epoch']} of {final['epochs']}), {final['chars_per_s']:,} chars/s, "
          f"{final['wall_s'] / 60:.1f} min")
    prime = "\n" if "\n" in vocab.tokens else vocab.tokens[-1]
    print(f"sample (temperature 0.8):\n{'-' * 40}")
    tokens = generate(Stepper(run.model, config), vocab, prime, SAMPLE_CHARS, seed=config.seed, temperature=0.8)
    for ch in ([render("".join(tokens))] if render else tokens):
        sys.stdout.write(ch)
    sys.stdout.write(f"\n{'-' * 40}\n")
    sys.stdout.flush()
    return final
