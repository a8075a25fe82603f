"""Character language-model data: corpora and the tf.data window pipelines.

A corpus is one long string cut by characters: the first 90% trains, the last
10% validates (the char-rnn and nanoGPT convention; `pipelines.bundled`). Each split is cut into
windows of `seq_len + 1` characters with stride `seq_len`, so every character
after the first is a target exactly once per epoch and no window crosses the cut:

    text  "abcdefg", seq_len 3  ->  windows "abcd", "defg"
    input "abc" -> target "bcd";  input "def" -> target "efg"

With `random_offset` the training windows start at a fresh random offset in [0, seq_len) each
epoch, so the model does not see the same cut of the text every epoch (nanoGPT draws each window
at a random start; this keeps every character a target at most once per epoch).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from pipelines.bundled import BUNDLED, bundled_path, split_text
from pipelines.io import DataError, read_text
from pipelines.stream import stream_chunks
from pipelines.tfds_names import check_tfds_name


@dataclass
class Corpus:
    """A text corpus already cut into its training and validation parts."""

    source: str  # where it came from: "shakespeare", "file:PATH" or "tfds:NAME"
    train: str  # training text
    validation: str  # validation text


def load_corpus(dataset: str = "shakespeare", text_file: str | None = None,
                data_dir: str | None = None) -> Corpus:
    """Loads the corpus to train on.

    Args:
        dataset: a bundled corpus name ("shakespeare") or "tfds:NAME" for a TFDS text data set.
        text_file: a UTF-8 text file; when given it wins over `dataset`.
        data_dir: the TFDS data directory (TFDS's default when None).
    Returns:
        The corpus, split 90/10 (or by the TFDS data set's own splits).
    Raises:
        DataError: missing, non-UTF-8 or empty file, or an unknown data set.
    """
    if text_file:
        train, validation = split_text(read_text(text_file))
        return Corpus(f"file:{os.path.abspath(text_file)}", train, validation)
    if dataset.startswith("tfds:"):
        check_tfds_name(dataset[len("tfds:"):])  # before TFDS (slow to import) is asked
        from pipelines.tfds_builders import load_tfds_corpus  # TFDS is slow to import

        train, validation = load_tfds_corpus(dataset[len("tfds:"):], data_dir=data_dir)
        return Corpus(dataset, train, validation)
    if dataset in BUNDLED:
        train, validation = split_text(read_text(bundled_path(dataset)))
        return Corpus(dataset, train, validation)
    if dataset == "korean":
        raise DataError("the Korean corpus is read as keyboard keys, by --task korean only: its run's figures are in "
                        "metrics.json (final), or evaluate it on a text of keys with --text")
    names = ", ".join(sorted(BUNDLED))
    raise DataError(f"unknown dataset {dataset!r}: use one of {names}, tfds:NAME, or --text FILE")


def make_windows(ids: np.ndarray, seq_len: int, stride: int | None = None) -> np.ndarray:
    """Cuts a 1-D id array into windows of `seq_len + 1` ids, `stride` apart (default `seq_len`).

    Args:
        ids: int array of shape (n,).
        seq_len: the model's input length.
        stride: ids between window starts; 1 gives the overlapping windows of the sentence exercise.
    Returns:
        int32 array of shape (windows, seq_len + 1); the leftover tail is dropped.
    """
    stride = stride or seq_len
    count = (len(ids) - 1 - seq_len) // stride + 1 if len(ids) > seq_len else 0
    if count < 1:
        raise DataError(
            f"text of {len(ids)} characters is shorter than one window of {seq_len + 1} "
            f"(lower --seq-len or use a longer text)"
        )
    index = np.arange(seq_len + 1)[None, :] + stride * np.arange(count)[:, None]
    return np.asarray(ids, dtype=np.int32)[index]


def offset_windows(ids: np.ndarray, seq_len: int, seed: int):
    """Windows of `seq_len + 1` ids, `seq_len` apart, from a random offset in [0, seq_len) drawn afresh
    each time the dataset is iterated (each epoch of `model.fit`).

    Every epoch holds the same number of windows (the count at the largest offset), so the steps per
    epoch stay fixed.

    Returns:
        An unbatched dataset of int32 windows, shape (seq_len + 1,), in text order.
    """
    import tensorflow as tf

    count = (len(ids) - seq_len) // seq_len  # windows that fit at every offset, the largest (seq_len - 1) too
    if count < 1:
        raise DataError(f"text of {len(ids)} characters is too short for random offsets with windows of "
                        f"{seq_len + 1} (needs {2 * seq_len}; lower --seq-len or use a longer text)")
    text = tf.constant(np.asarray(ids, np.int32))
    starts = seq_len * tf.range(count)[:, None] + tf.range(seq_len + 1)[None, :]  # (count, seq_len + 1)

    def windows_at(draw):
        offset = tf.cast(draw % seq_len, tf.int32)
        return tf.data.Dataset.from_tensor_slices(tf.gather(text, offset + starts))

    draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
    return draws.flat_map(windows_at).apply(tf.data.experimental.assert_cardinality(count))


def lm_dataset(ids: np.ndarray, seq_len: int, batch_size: int, shuffle: bool = True,
               seed: int = 1337, drop_remainder: bool = True, random_offset: bool = False):
    """The tf.data pipeline of (input, target) batches for a character language model.

    Args:
        ids: encoded text, shape (n,).
        seq_len: characters per training window.
        batch_size: windows per batch.
        shuffle: reshuffle the windows every epoch (training) or keep their order (evaluation).
        seed: shuffling seed.
        drop_remainder: drop the last incomplete batch (keeps every training batch the same shape).
        random_offset: start the windows at a random offset drawn afresh each epoch (`offset_windows`).
    Returns:
        A dataset of (inputs, targets), each int32 of shape (batch, seq_len).
    """
    import tensorflow as tf

    def split_input_target(window):
        return window[:-1], window[1:]

    if random_offset:  # new windows each epoch: nothing to cache
        ds = offset_windows(ids, seq_len, seed).map(split_input_target, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        windows = make_windows(ids, seq_len)  # (windows, seq_len + 1)
        ds = tf.data.Dataset.from_tensor_slices(windows)
        ds = ds.map(split_input_target, num_parallel_calls=tf.data.AUTOTUNE).cache()
    count = int(ds.cardinality())
    if shuffle:
        ds = ds.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder and count >= batch_size)
    options = tf.data.Options()
    options.threading.private_threadpool_size = 1  # the pipeline is cheap: leave the cores to training
    options.threading.max_intra_op_parallelism = 1
    options.autotune.enabled = False  # as in pipelines.stream: autotuning stalled each new epoch's iterator
    return ds.prefetch(tf.data.AUTOTUNE).with_options(options)


def stream_dataset(ids: np.ndarray, seq_len: int, batch_size: int):
    """Consecutive chunks for truncated backpropagation through time (char-rnn's way).

    The text is cut into `batch_size` contiguous streams; batch k holds chunk k of every stream,
    so row b of batch k+1 continues row b of batch k and a stateful model carries its state on.

    Returns:
        A dataset of (inputs, targets), each int32 (batch_size, seq_len), in order.
    """
    import tensorflow as tf

    stream = (len(ids) - 1) // batch_size  # characters per stream (plus one for the last target)
    chunks = stream_chunks(len(ids), seq_len, batch_size)
    streams = np.asarray(ids[: batch_size * stream], np.int32).reshape(batch_size, stream)
    x = streams[:, : chunks * seq_len].reshape(batch_size, chunks, seq_len).transpose(1, 0, 2)
    y = streams[:, 1: chunks * seq_len + 1].reshape(batch_size, chunks, seq_len).transpose(1, 0, 2)
    return tf.data.Dataset.from_tensor_slices((x, y)).prefetch(tf.data.AUTOTUNE)
