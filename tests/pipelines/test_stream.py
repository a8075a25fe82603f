"""Windows streamed from shard files (`pipelines.stream`): the batches of the in-memory pipeline, bit for bit,
for a corpus whose windows fit the shuffle buffer; a bounded buffer for a bigger one; shards per worker."""

import os

import numpy as np
import pytest

from pipelines.io import DataError
from pipelines.shards import Split, in_memory
from pipelines.stream import tbptt_dataset, window_dataset, worker_shards
from pipelines.text import lm_dataset, stream_dataset


def batches(ds):
    return [(x.numpy(), y.numpy()) for x, y in ds]


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(p[0], q[0]) and np.array_equal(p[1], q[1]) for p, q in zip(a, b))


@pytest.mark.parametrize("random_offset", [False, True])
@pytest.mark.parametrize("in_graph", [True, False], ids=["one tensor", "memory maps"])
def test_the_same_batches_as_the_in_memory_pipeline_every_epoch(random_offset, in_graph, monkeypatch):
    from pipelines import stream

    if not in_graph:
        monkeypatch.setattr(stream, "IN_GRAPH_IDS", 0)  # read a batch at a time, as a big corpus is
    ids = np.random.RandomState(0).randint(0, 66, 20_011).astype(np.uint8)
    old = lm_dataset(ids, 50, 16, shuffle=True, seed=1337, random_offset=random_offset)
    sharded = Split([ids[:7000], ids[7000:7001], ids[7001:]])  # windows cross the shard files
    new = window_dataset(sharded, 50, 16, shuffle=True, seed=1337, random_offset=random_offset)
    assert int(old.cardinality()) == int(new.cardinality())
    for _ in range(2):  # a new order each epoch, the same in both
        assert same(batches(old), batches(new))
    val_old = lm_dataset(ids, 50, 16, shuffle=False, drop_remainder=False)
    assert same(batches(val_old), batches(window_dataset(sharded, 50, 16, shuffle=False, drop_remainder=False)))


@pytest.mark.parametrize("make", [
    lambda ids: window_dataset(in_memory(ids), 50, 16),
    lambda ids: window_dataset(in_memory(ids), 50, 16, random_offset=True),
    lambda ids: tbptt_dataset(in_memory(ids), 50, 16),
    lambda ids: lm_dataset(ids, 50, 16),
], ids=["windows", "random offsets", "tbptt", "in memory"])
def test_training_pipelines_run_on_one_private_thread_without_autotuning(make):
    # autotuning made every epoch after the first wait 10-12 s for its first batch (TensorFlow 2.21)
    options = make(np.zeros(5000, np.uint8)).options()
    assert options.autotune.enabled is False
    assert options.threading.private_threadpool_size == 1


def test_a_split_bigger_than_the_buffer_targets_each_character_at_most_once_and_mixes():
    ids = np.arange(200_001)  # ids are positions
    ds = window_dataset(in_memory(ids), 10, 8, shuffle=True, seed=3, buffer=500)
    epochs = []
    for _ in range(2):
        starts = np.concatenate([x[:, 0] for x, y in batches(ds)])
        assert len(starts) == len(set(starts.tolist())) == int(ds.cardinality()) * 8
        epochs.append(starts)
    assert not np.array_equal(epochs[0], epochs[1])
    assert np.abs(np.diff(epochs[0][:100])).mean() > 20_000  # spread over the text, not read in order


def test_tbptt_chunks_are_the_in_memory_ones():
    ids = np.arange(5003)
    assert same(batches(stream_dataset(ids, 20, 8)), batches(tbptt_dataset(Split([ids[:999], ids[999:]]), 20, 8)))


def test_max_chars_and_too_short():
    ds = window_dataset(in_memory(np.arange(10_000)), 9, 4, shuffle=False, drop_remainder=False, max_chars=100)
    assert np.concatenate([y.ravel() for _, y in batches(ds)]).max() < 100
    with pytest.raises(DataError, match="shorter than 11"):
        window_dataset(in_memory(np.arange(10)), 10, 4)


def test_workers_read_their_own_shard_files_when_there_are_enough():
    split = Split([np.arange(i * 100, (i + 1) * 100) for i in range(5)])
    mine, line = worker_shards(split, 2, 1)
    assert "FILE" in line and np.asarray(mine).tolist() == list(range(100, 200)) + list(range(300, 400))
    mine, line = worker_shards(split, 6, 0)
    assert mine is None and "DATA" in line


def shard_files(folder, ids, cuts, dtype=np.uint16):
    """A split of shard files holding `ids` cut at `cuts`, as `open_prepared` opens them."""
    from pipelines.shards import ShardFile

    parts, names = [], []
    for i, (a, b) in enumerate(zip([0, *cuts], [*cuts, len(ids)])):
        path = str(folder / f"train-{i:05d}.bin")
        np.asarray(ids[a:b], dtype).tofile(path)
        parts.append(ShardFile(path, dtype, b - a))
        names.append(path)
    return Split(parts, names)


@pytest.mark.parametrize("in_graph", [True, False], ids=["one tensor", "shard files"])
def test_shard_files_give_the_batches_of_ids_in_memory(tmp_path, in_graph, monkeypatch):
    from pipelines import stream

    if not in_graph:
        monkeypatch.setattr(stream, "IN_GRAPH_IDS", 0)
    ids = np.random.RandomState(1).randint(0, 300, 9_001)
    files = shard_files(tmp_path, ids, [4000, 4001, 6000])  # windows cross the files; one file of one id
    assert np.array_equal(np.asarray(files), ids) and np.array_equal(files[3990:4010], ids[3990:4010])
    starts = np.array([0, 3950, 3999, 4000, 5990, 8950])
    assert np.array_equal(files.windows(starts, 51), ids[starts[:, None] + np.arange(51)])
    for shuffle in (True, False):
        assert same(batches(window_dataset(files, 50, 16, shuffle=shuffle, drop_remainder=False)),
                    batches(window_dataset(in_memory(ids), 50, 16, shuffle=shuffle, drop_remainder=False)))
    assert same(batches(tbptt_dataset(files, 20, 8)), batches(tbptt_dataset(in_memory(ids), 20, 8)))
    head = files.parts[0][:10]  # a view: nothing read
    assert len(head) == 10 and np.array_equal(np.asarray(head), ids[:10])


def test_a_shard_file_shorter_than_its_index_is_one_clear_error(tmp_path):
    files = shard_files(tmp_path, np.arange(1000), [])
    os.truncate(files.names[0], 1000)  # 500 ids of 2 bytes left
    with pytest.raises(DataError, match="shorter than its index.json says"):
        files.windows(np.array([600]), 11)


def test_reading_windows_all_over_a_shard_file_leaves_resident_memory_flat(tmp_path):
    """A memory-mapped file counted every page a window touched (here up to the whole 64 MiB) in resident memory."""
    ids = np.zeros(64 * 2**20, np.uint8)
    files = shard_files(tmp_path, ids, [], np.uint8)
    del ids
    before = resident()
    starts = np.random.RandomState(0).randint(0, len(files) - 200, (100, 200))  # 20,000 windows over the file
    for row in starts:
        files.windows(row, 101)
    assert resident() - before < 8 * 2**20


def resident() -> int:
    """This process' resident memory in bytes."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
