"""tf.data pipelines that stream windows from a corpus split (`pipelines.shards.Split`): the shard files read a
batch of windows at a time with positional reads, nothing of the corpus held (no `.cache()`, no array of windows,
no memory map, whose touched pages would count in resident memory).

Windows are `seq_len + 1` ids, `seq_len` apart, as `pipelines.text.make_windows` cuts them; a window is
known by its number, so an epoch shuffles numbers: every window of a split whose windows fit the shuffle
buffer is shuffled as one (the same order as shuffling the windows themselves), a bigger split is read
in blocks of windows taken in a random order, several at a time (interleaved), through the bounded buffer.
With `random_offset` the windows start at a random offset in [0, seq_len) drawn afresh each epoch; they are
shuffled through the bounded buffer alone, so in a split of more than `SHUFFLE_WINDOWS` windows an epoch's early
batches come from the first part of the text (the block order above applies without `random_offset` only).
Every character is a target at most once an epoch.
"""

from __future__ import annotations

import numpy as np

from pipelines.io import DataError
from pipelines.shards import Split

SHUFFLE_WINDOWS = 100_000  # windows in the shuffle buffer (800 KB of window numbers)
BLOCK_WINDOWS = 1024  # consecutive windows read as one block by a big split's shuffle
CYCLE_BLOCKS = 16  # blocks interleaved at a time
IN_GRAPH_IDS = 32 * 2**20  # a split of at most this many ids is held as one tensor (32 MiB of uint8 ids); bigger ones
# are read from their shard files a batch at a time


def window_count(length: int, seq_len: int, random_offset: bool = False) -> int:
    """Windows of a split of `length` ids (at every offset, with `random_offset`)."""
    if random_offset:
        return (length - seq_len) // seq_len
    return (length - 1 - seq_len) // seq_len + 1 if length > seq_len else 0


def _options(ds):
    import tensorflow as tf

    options = tf.data.Options()
    options.threading.private_threadpool_size = 1  # the pipeline is cheap: leave the cores to training
    options.threading.max_intra_op_parallelism = 1
    # No autotuning: with it, each epoch after the first began with a 10-12 s wait in TensorFlow 2.21 (a new
    # iterator stalled before its first batch, both cores idle), a quarter of the default run; a pipeline this
    # cheap has nothing to tune.
    options.autotune.enabled = False
    return ds.with_options(options)


def _numbers(count: int, shuffle: bool, seed: int, buffer: int):
    """Window numbers 0..count-1: in order, shuffled as one (count <= buffer), or by interleaved blocks."""
    import tensorflow as tf

    numbers = tf.data.Dataset.range(count)
    if not shuffle:
        return numbers
    if count <= buffer:
        return numbers.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    blocks = -(-count // BLOCK_WINDOWS)
    order = tf.data.Dataset.range(blocks).shuffle(blocks, seed=seed, reshuffle_each_iteration=True)
    spread = order.interleave(lambda b: tf.data.Dataset.range(b * BLOCK_WINDOWS, tf.minimum((b + 1) * BLOCK_WINDOWS, count)),
                              cycle_length=CYCLE_BLOCKS, block_length=1)
    spread = spread.apply(tf.data.experimental.assert_cardinality(count))
    return spread.shuffle(buffer, seed=seed + 1, reshuffle_each_iteration=True)


def window_dataset(split: Split, seq_len: int, batch_size: int, shuffle: bool = True, seed: int = 1337,
                   drop_remainder: bool = True, random_offset: bool = False, max_chars: int = 0,
                   buffer: int = SHUFFLE_WINDOWS):
    """(inputs, targets) batches, each int32 (batch, seq_len), streamed from `split`.

    Args:
        split: the ids.
        seq_len: characters per window.
        batch_size: windows per batch.
        shuffle: a new order every epoch (training) or text order (evaluation).
        seed: the shuffle's and the offsets' seed.
        drop_remainder: drop the last incomplete batch (kept when there is no full batch).
        random_offset: the windows start at a new random offset each epoch.
        max_chars: read only the first `max_chars` ids (0: all).
        buffer: the shuffle buffer, in windows.
    Raises:
        DataError: the split is shorter than one window.
    """
    import tensorflow as tf

    length = min(len(split), max_chars) if max_chars else len(split)
    count = window_count(length, seq_len, random_offset)
    if count < 1:
        need = 2 * seq_len if random_offset else seq_len + 1
        raise DataError(f"text of {length} characters is shorter than {need} (one window of {seq_len + 1}"
                        f"{' at every offset' if random_offset else ''}; lower --seq-len or use a longer text)")

    def read(numbers, offset):  # (B,) window numbers, (B,) offsets -> (B, seq_len + 1) ids
        return split.windows(numbers * seq_len + offset, seq_len + 1)

    if length <= IN_GRAPH_IDS:  # small: the ids as one constant, gathered by TensorFlow (no Python per batch)
        text = tf.constant(split.read(0, length, split.dtype))
        span = tf.range(seq_len + 1, dtype=tf.int64)[None, :]

        def to_batch(numbers, offset):
            ids = tf.cast(tf.gather(text, (numbers * seq_len + offset)[:, None] + span), tf.int32)
            return ids[:, :-1], ids[:, 1:]
    else:
        def to_batch(numbers, offset):
            ids = tf.numpy_function(read, [numbers, offset], tf.int32, stateful=False)
            ids.set_shape([None, seq_len + 1])
            return ids[:, :-1], ids[:, 1:]

    if random_offset:
        draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
        numbered = draws.flat_map(lambda d: tf.data.Dataset.range(count).map(lambda n: (n, d % seq_len)))
        numbered = numbered.apply(tf.data.experimental.assert_cardinality(count))
        if shuffle:
            numbered = numbered.shuffle(min(count, buffer), seed=seed, reshuffle_each_iteration=True)
        ds = numbered.batch(batch_size, drop_remainder=drop_remainder and count >= batch_size)
        ds = ds.map(to_batch, num_parallel_calls=tf.data.AUTOTUNE)
    else:  # window numbers batched first: a map per window cost four fifths of the pipeline's CPU time
        ds = _numbers(count, shuffle, seed, buffer).batch(batch_size,
                                                          drop_remainder=drop_remainder and count >= batch_size)
        ds = ds.map(lambda numbers: to_batch(numbers, tf.constant(0, tf.int64)), num_parallel_calls=tf.data.AUTOTUNE)
    return _options(ds.prefetch(tf.data.AUTOTUNE))


def stream_chunks(length: int, seq_len: int, batch_size: int) -> int:
    """Chunks per stream when `length` ids are cut into `batch_size` streams (`tbptt_dataset`).

    Raises:
        DataError: not even one chunk of seq_len + 1 characters per stream.
    """
    stream = (length - 1) // batch_size
    chunks = (stream - 1) // seq_len if stream > 1 else 0
    if chunks < 1:
        raise DataError(f"text of {length} characters is too short for {batch_size} streams of "
                        f"{seq_len + 1} characters (lower --batch-size or --seq-len)")
    return chunks


def tbptt_dataset(split: Split, seq_len: int, batch_size: int):
    """Consecutive chunks for truncated backpropagation through time: the split is cut into `batch_size`
    contiguous streams and batch k holds chunk k of every stream (`pipelines.text.stream_dataset`'s batches).

    Returns:
        (inputs, targets), each int32 (batch_size, seq_len), in order.
    """
    import tensorflow as tf

    stream = (len(split) - 1) // batch_size  # characters per stream (plus one for the last target)
    chunks = stream_chunks(len(split), seq_len, batch_size)
    rows = np.arange(batch_size, dtype=np.int64) * stream  # (batch,) where each stream starts

    def read(k):
        return split.windows(rows + k * seq_len, seq_len + 1)

    def to_batch(k):
        ids = tf.numpy_function(read, [k], tf.int32, stateful=False)
        ids.set_shape([batch_size, seq_len + 1])
        return ids[:, :-1], ids[:, 1:]

    return _options(tf.data.Dataset.range(chunks).map(to_batch).prefetch(tf.data.AUTOTUNE))


def worker_shards(split: Split, workers: int, index: int) -> tuple[Split | None, str]:
    """A multi-worker job's reading plan: with at least as many shard files as workers each worker reads its
    own files (shards i with i % workers == index: sharded by FILE, nothing of the others read), else every
    worker reads the whole split and the batches are divided (by DATA).

    Returns:
        (this worker's split, or None when sharding by DATA; the line that says which, for the log).
    """
    files = len(split.parts)
    if workers > 1 and files >= workers:
        mine = list(range(index, files, workers))
        return Split([split.parts[i] for i in mine], [split.names[i] for i in mine]), \
            f"input sharded by FILE: {files} shard files, this worker (#{index}) reads {len(mine)} ({mine})"
    return None, f"input sharded by DATA: {files} shard file(s) for {workers} workers, each reads every file " \
                 f"and keeps its share of each batch"
