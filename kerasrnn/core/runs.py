"""The run directory: what a training run writes, creating it, and reading its config and vocabulary back.

    runs/<name>/
      config.json     the Config the run was trained with
      vocab.json      the character vocabulary (ids in order, unknown id)
      best.keras      the model with the lowest validation loss so far
      backup/         the checkpoint that --resume continues from (removed when training ends)
      history.csv     Keras' per-epoch log (epochs counted from 1, as in metrics.json)
      logs/           TensorBoard logs
      metrics.json    per-epoch figures and, under "final", the run's result
      curves.png      train and validation loss per epoch
      confusion.png   surname classifiers: the test confusion matrix, rows normalised
      confusion.json  (its counts and shares; the per-class figures are in metrics.json)
      .lock           while a process writes the run: its pid and host (`kerasrnn.core.locks`)
"""

from __future__ import annotations

import os
import shutil
import time

from kerasrnn.core import locks
from kerasrnn.core.cli import UsageError, check_output_dir
from kerasrnn.core.config import Config
from kerasrnn.core.files import describe_missing
from kerasrnn.core.outputs import OutputRefused, check_not_inside_other
from pipelines.io import DataError
from pipelines.schema import read_json_object
from pipelines.vocab import Vocabulary

CONFIG = "config.json"
VOCAB = "vocab.json"
BEST_MODEL = "best.keras"
BACKUP_DIR = "backup"
HISTORY = "history.csv"
LOGS_DIR = "logs"
METRICS = "metrics.json"
CURVES = "curves.png"
LOCK = ".lock"
_created: set[str] = set()  # run directories (and runs/ folders) this process created
_claimed: set[str] = set()  # new run directories this process claimed (emptied again if training never started)


def new_run_dir(root: str = "runs", prefix: str = "run") -> str:
    """Creates and returns a fresh directory under `root`, e.g. runs/gru-20261123-101500 (with -2, -3, ... when
    that name is taken: each is created with one mkdir, so two processes never get the same one)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        check_not_inside_other(root, "the runs folder")  # e.g. fit started from inside another run
    except OutputRefused as e:
        raise UsageError(str(e)) from None
    try:
        if not os.path.isdir(root):
            os.makedirs(root)
            _created.add(os.path.abspath(root))  # removed again with the run if it stays empty
    except OSError as e:
        raise UsageError(f"cannot create {root}: {e.strerror}") from None
    for n in range(1, 1000):
        path = os.path.join(root, f"{prefix}-{stamp}" + (f"-{n}" if n > 1 else ""))
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        except OSError as e:
            raise UsageError(f"cannot create a run directory in {root}: {e.strerror}") from None
        _created.add(os.path.abspath(path))
        return path
    raise UsageError(f"no free run directory name {prefix}-{stamp}-N in {root}")


def default_prefix(config: Config) -> str:
    """The name a new run gets before its time stamp: the cell for a corpus model (runs/gru-...), else the task
    and the cell (runs/sentence-gru-..., runs/surnames-gru-...)."""
    return config.cell if config.task == "shakespeare" else f"{config.task}-{config.cell}"


def read_metrics(run_dir: str) -> dict:
    """The run's metrics.json, or an empty record when there is none yet.

    Raises:
        DataError: an unreadable metrics.json, or one without its list of epochs.
    """
    path = os.path.join(run_dir, METRICS)
    if not os.path.exists(path):
        return {"epochs": []}
    record = read_json_object(path)
    if not isinstance(record.get("epochs"), list) or not all(isinstance(r, dict) for r in record["epochs"]):
        raise DataError(f"{path}: field 'epochs' must be a list of objects")
    return record


def load_config_and_vocab(run_dir: str) -> tuple[Config, Vocabulary]:
    """Reads config.json and vocab.json of a run, each checked against its schema and against the other.

    Raises:
        UsageError: not a run directory. DataError: a bad file or field (one line naming both).
    """
    if not run_dir:
        raise UsageError("the run directory is empty: name a run directory")
    describe_missing(run_dir, "run directory")
    for name in (CONFIG, VOCAB):
        if not os.path.exists(os.path.join(run_dir, name)):
            raise UsageError(f"{run_dir} is not a kerasrnn run (no {name})")
    config = Config.load(os.path.join(run_dir, CONFIG))
    vocab = Vocabulary.load(os.path.join(run_dir, VOCAB))
    if not config.vocab_size:
        raise DataError(f"{os.path.join(run_dir, CONFIG)}: field 'vocab_size' is missing or 0: not the config "
                        f"kerasrnn.fit wrote for this run")
    if config.vocab_size != len(vocab):
        raise DataError(f"{os.path.join(run_dir, VOCAB)}: field 'tokens' lists {len(vocab)} tokens, but "
                        f"{CONFIG}'s vocab_size is {config.vocab_size}")
    return config, vocab


def training_text(config: Config, run_dir: str) -> str | None:
    """The run's --text file as a path that exists from here: config.json stores it absolute; an older run's
    relative one is looked for from the current directory, then from the run directory and the two above it.

    Raises:
        DataError: the file is in none of those places.
    """
    text = config.text
    if not text or os.path.isabs(text) or config.task == "sentence" or any(c in text for c in "*?["):
        return text
    tried = [text] + [os.path.join(run_dir, *[os.pardir] * up, text) for up in range(3)]
    for path in tried:
        if os.path.exists(path):
            return os.path.abspath(path)
    raise DataError(f"the run's training text {text!r} ({CONFIG}: 'text', relative to where fit ran) is not in "
                    f"{os.getcwd()} nor beside {run_dir}: run from the directory fit ran in")


def run_corpus(config: Config, run_dir: str):
    """The corpus a run trained on (`pipelines.text.load_corpus`), its --text file found by `training_text`."""
    from pipelines.text import load_corpus

    return load_corpus(config.dataset, training_text(config, run_dir), config.data_dir)


def corpus_data(corpus, vocab: Vocabulary | None = None, max_vocab: int = 0):
    """A corpus of strings (`pipelines.text.Corpus`) as ids in memory (`pipelines.shards.Prepared`), encoded with
    `vocab`, or with the vocabulary of its training text (its `max_vocab` most frequent characters when set)."""
    from collections import Counter

    from pipelines.shards import Prepared, in_memory

    if vocab is None:
        chars = Counter(corpus.train)
        if max_vocab and len(chars) > max_vocab:
            chars = dict(sorted(chars.items(), key=lambda kv: (-kv[1], kv[0]))[:max_vocab])
        vocab = Vocabulary.build(chars.keys())
    return Prepared(corpus.source, vocab, in_memory(vocab.encode(corpus.train)),
                    in_memory(vocab.encode(corpus.validation, warn=True)))


def run_data(config: Config, run_dir: str, vocab: Vocabulary | None = None):
    """The corpus a run trains on, as ids (`pipelines.shards.Prepared`): its --data folder, its --text prepared in
    the cache (`pipelines.prepare.prepare_cached`: reused while the text is unchanged), or a bundled or TFDS corpus
    encoded in memory. With `vocab` (a run's own), the ids must be of that vocabulary.

    Raises:
        DataError: unreadable data, or data whose vocabulary is not the run's (its text changed since).
    """
    from pipelines.prepare import prepare_cached
    from pipelines.shards import open_prepared

    if config.data:
        data = open_prepared(config.data)
        if config.max_vocab and data.index.get("max_vocab") != config.max_vocab:
            raise DataError(f"{config.data} was prepared with --max-vocab {data.index.get('max_vocab')}, not "
                            f"{config.max_vocab}: prepare it again with that cap, or leave out --max-vocab")
    elif config.text and config.task != "sentence":
        data = prepare_cached(training_text(config, run_dir), config.max_vocab)
    else:
        return corpus_data(run_corpus(config, run_dir), vocab, config.max_vocab)
    if vocab is not None and data.vocab.tokens != vocab.tokens:
        raise DataError(f"the run's training data {data.source.split(':', 1)[1]} has changed since it was trained "
                        f"(its vocabulary is not the run's {VOCAB})")
    return data


def _entries(run_dir: str) -> list[str]:
    """What a run directory holds, its lock file left out."""
    return [name for name in os.listdir(run_dir) if name != LOCK]


def check_new_run_dir(run_dir: str) -> None:
    """Raises UsageError when `run_dir` cannot be a new run: it holds files, it is a file, or it is somewhere
    nothing can be created (under a file, a read-only or virtual file system). Writes nothing."""
    if not run_dir:
        raise UsageError("--run-dir is empty: name a folder")
    try:
        check_not_inside_other(run_dir, "--run-dir", include_self=False)
    except OutputRefused as e:
        raise UsageError(str(e)) from None
    if os.path.isdir(run_dir):
        if _entries(run_dir):
            raise UsageError(f"run directory {run_dir} already exists: pass --resume to continue it, "
                             f"or choose another --run-dir")
        return
    check_output_dir(run_dir, "--run-dir")


def claim_run_dir(run_dir: str) -> None:
    """Makes `run_dir` this process's new run: creates it (one mkdir; an existing empty one is taken too) and
    its lock, then checks that it is still empty. Nothing else can claim it until the process ends.

    Raises:
        UsageError: it holds a run, another process is writing it, or it cannot be created.
    """
    check_new_run_dir(run_dir)
    missing, folder = [], os.path.abspath(run_dir)
    while not os.path.lexists(folder):  # the run and the parents that fit makes for it
        missing.append(folder)
        folder = os.path.dirname(folder)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(run_dir)), exist_ok=True)
        os.mkdir(run_dir)
        _created.update(missing)
    except FileExistsError:
        pass  # an empty directory (checked above, and again under the lock below)
    except OSError as e:
        raise UsageError(f"cannot create run directory {run_dir}: {e.strerror}") from None
    try:
        lock_run(run_dir)
    except UsageError:
        _created.difference_update(missing)  # another process won the folder: it is not ours to remove
        raise
    _claimed.add(os.path.abspath(run_dir))  # from here on, its files are this process's
    if _entries(run_dir):  # a run written by another process between the first check and the lock
        _claimed.discard(os.path.abspath(run_dir))
        locks.release(os.path.join(run_dir, LOCK))
        raise UsageError(f"run directory {run_dir} already exists: pass --resume to continue it, "
                         f"or choose another --run-dir")


def lock_run(run_dir: str) -> None:
    """Takes the run directory's lock for this process (released when it ends).

    Raises:
        UsageError: another process is writing the run.
    """
    locks.acquire(os.path.join(run_dir, LOCK), f"run directory {run_dir}")


def discard_unstarted(run_dir: str) -> None:
    """Empties a new run directory this process claimed when training never got as far as a checkpoint, a
    metrics record or a model (refused or failed before it started), and removes it if this process created
    it: the same command can then be run again. Only while this process holds the run's lock: a process that
    lost the race for a new run directory leaves the winner's files alone."""
    path = os.path.abspath(run_dir)
    lock = os.path.join(path, LOCK)
    ours = locks.holds(lock) if path in _claimed else path in _created and not os.path.lexists(lock)
    if not ours or not os.path.isdir(path) or \
            any(os.path.exists(os.path.join(path, name)) for name in (METRICS, BEST_MODEL, BACKUP_DIR)):
        return
    locks.release(os.path.join(path, LOCK))
    for name in (CONFIG, VOCAB, HISTORY):
        if os.path.isfile(os.path.join(path, name)):
            os.remove(os.path.join(path, name))
    shutil.rmtree(os.path.join(path, LOGS_DIR), ignore_errors=True)
    folder = path
    while folder in _created:  # the run, and the folders made for it (only while nothing else is in them)
        try:
            os.rmdir(folder)
        except OSError:
            break
        _created.discard(folder)
        folder = os.path.dirname(folder)
    _claimed.discard(path)


def create_run(config: Config, vocab: Vocabulary, run_dir: str) -> None:
    """Claims a new run directory (`claim_run_dir`) and writes its config and vocabulary (filling in
    `config.vocab_size`)."""
    claim_run_dir(run_dir)
    config.vocab_size = len(vocab)
    if config.text:
        config.text = os.path.abspath(config.text)  # evaluate and export find it from any directory
    if config.data:
        config.data = os.path.abspath(config.data)
    config.save(os.path.join(run_dir, CONFIG))
    vocab.save(os.path.join(run_dir, VOCAB))


def training_done(run_dir: str, record: dict, config: Config) -> bool:
    """Whether the record holds every epoch of the config: a run killed after its last epoch and before
    its final figures, which resuming should finish without training again (best.keras is saved before
    an epoch is recorded). When it does, the backup that is no longer needed is removed."""
    done = max((r.get("epoch", 0) for r in record["epochs"]), default=0) >= config.epochs
    if done:
        shutil.rmtree(os.path.join(run_dir, BACKUP_DIR), ignore_errors=True)
    return done


def sweep_stale_temp_files(run_dir: str) -> list[str]:
    """Removes the temporary files (`.tmp-*`) an earlier process killed while writing left in the run directory
    and its backup/ (call it holding the run's lock: no live process is writing them). Returns their names."""
    removed = []
    for folder in (run_dir, os.path.join(run_dir, BACKUP_DIR)):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            if name.startswith(".tmp-") and os.path.isfile(path) and not os.path.islink(path):
                os.remove(path)
                removed.append(os.path.relpath(path, run_dir))
    return removed


def reopen_run(run_dir: str, lock: bool = True) -> tuple[Config, Vocabulary, dict]:
    """The saved config, vocabulary and metrics record of an interrupted run (they win over the flags);
    with `lock`, the run is locked for this process first.

    Raises:
        UsageError: no run there, another process is writing it, or it has finished.
    """
    if not os.path.exists(os.path.join(run_dir, CONFIG)):
        raise UsageError(f"nothing to resume: {run_dir} holds no {CONFIG}")
    if lock:
        lock_run(run_dir)
        sweep_stale_temp_files(run_dir)  # left by a process killed while writing (a best.keras being saved)
    config, vocab = load_config_and_vocab(run_dir)
    record = read_metrics(run_dir)
    if "final" in record:
        raise UsageError(f"{run_dir} has finished all {config.epochs} epochs; nothing to resume")
    return config, vocab, record
