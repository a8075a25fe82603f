import numpy as np
import pytest

from pipelines.io import DataError, read_text
from pipelines.bundled import TRAIN_FRACTION, split_text
from pipelines.text import lm_dataset, load_corpus, make_windows


def test_windows_overlap_by_one_and_drop_the_tail():
    ids = np.arange(10)
    w = make_windows(ids, 3)
    assert w.tolist() == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    assert make_windows(np.arange(9), 3).tolist() == [[0, 1, 2, 3], [3, 4, 5, 6]]


def test_every_character_after_the_first_is_a_target_once():
    ids = np.arange(101)
    ds = lm_dataset(ids, seq_len=10, batch_size=3, shuffle=True, seed=1, drop_remainder=False)
    targets = np.concatenate([y.numpy().ravel() for _, y in ds])
    assert sorted(targets.tolist()) == list(range(1, 101))
    for x, y in ds:
        np.testing.assert_array_equal(x.numpy() + 1, y.numpy())  # ids are positions here


def test_exact_batches_without_shuffle():
    ds = lm_dataset(np.arange(13), seq_len=4, batch_size=2, shuffle=False, drop_remainder=False)
    batches = [(x.numpy().tolist(), y.numpy().tolist()) for x, y in ds]
    assert batches == [
        ([[0, 1, 2, 3], [4, 5, 6, 7]], [[1, 2, 3, 4], [5, 6, 7, 8]]),
        ([[8, 9, 10, 11]], [[9, 10, 11, 12]]),
    ]


def test_shuffle_is_seeded_and_reshuffles_each_epoch():
    def order(seed):
        ds = lm_dataset(np.arange(401), seq_len=4, batch_size=100, shuffle=True, seed=seed)
        return [tuple(x.numpy()[:, 0]) for x in (b[0] for b in ds)], [tuple(b[0].numpy()[:, 0]) for b in ds]

    first, second = order(7)
    assert order(7) == (first, second)
    assert first != second  # a new order every epoch
    assert order(8)[0] != first


def test_random_offsets_move_the_windows_each_epoch_and_keep_their_count():
    ids = np.arange(1003)  # ids are positions: a window's first id is its start
    ds = lm_dataset(ids, seq_len=10, batch_size=7, shuffle=True, seed=5, random_offset=True)
    steps = int(ds.cardinality())
    assert steps == len(make_windows(ids[9:], 10)) // 7 == 14  # the count that fits at every offset

    def epoch():
        starts, batches = set(), 0
        for x, y in ds:
            x, y = x.numpy(), y.numpy()
            np.testing.assert_array_equal(x + 1, y)  # still input -> the next character
            np.testing.assert_array_equal(np.diff(x, axis=1), 1)  # contiguous text
            starts |= set(x[:, 0].tolist())
            batches += 1
        offsets = {s % 10 for s in starts}
        assert len(offsets) == 1 and batches == steps  # one offset per epoch, every window `seq_len` apart
        return offsets.pop()

    offsets = [epoch() for _ in range(8)]
    assert len(set(offsets)) > 1  # a new offset drawn each epoch
    again = lm_dataset(ids, seq_len=10, batch_size=7, shuffle=True, seed=5, random_offset=True)
    first = next(iter(again))[0].numpy()[:, 0] % 10
    assert set(first.tolist()) == {offsets[0]}  # seeded: the same first offset


def test_random_offsets_count_the_windows_of_the_largest_offset_and_refuse_a_short_text():
    for n in (20, 21, 29, 30, 57):  # 2 * seq_len is the shortest text with a window at every offset
        ds = lm_dataset(np.arange(n), seq_len=10, batch_size=1, random_offset=True)
        assert int(ds.cardinality()) == len(make_windows(np.arange(n)[9:], 10))
    with pytest.raises(DataError, match="text of 19 characters is too short for random offsets"):
        lm_dataset(np.arange(19), seq_len=10, batch_size=1, random_offset=True)


def test_random_offsets_are_for_a_corpus_tasks_shuffled_windows():
    from kerasrnn.core.config import Config, ConfigError

    Config(random_offsets=True).validate()
    for bad in (Config(random_offsets=True, tbptt=True), Config(task="surnames", random_offsets=True)):
        with pytest.raises(ConfigError, match="--random-offsets"):
            bad.validate()


def test_split_is_ninety_ten_by_characters():
    text = "".join(chr(ord("a") + i % 26) for i in range(1000))
    train, val = split_text(text)
    assert len(train) == int(1000 * TRAIN_FRACTION) and train + val == text


def test_no_window_crosses_the_cut():
    from kerasrnn.core.config import Config
    from kerasrnn.tasks.language_model.training import make_datasets

    corpus = load_corpus("shakespeare")
    assert len(corpus.train) == 1003854 and len(corpus.validation) == 111540
    cut = len(corpus.train)
    positions = np.arange(cut + len(corpus.validation), dtype=np.int32)  # each id is its position
    train_ds, val_ds = make_datasets(Config(seq_len=100, batch_size=256), positions[:cut], positions[cut:])
    train_targets = np.concatenate([y.numpy().ravel() for _, y in train_ds])
    val_inputs = np.concatenate([x.numpy().ravel() for x, _ in val_ds])
    assert train_targets.max() < cut and val_inputs.min() == cut
    assert len(train_targets) == (cut - 1) // 100 // 256 * 256 * 100  # full batches only
    val_targets = np.concatenate([y.numpy().ravel() for _, y in val_ds])
    assert len(val_targets) == (len(corpus.validation) - 1) // 100 * 100  # every window


def test_text_file_is_split_the_same_way(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("x" * 90 + "y" * 10, encoding="utf-8")
    c = load_corpus(text_file=str(p))
    assert c.train == "x" * 90 and c.validation == "y" * 10 and c.source.startswith("file:")


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"\xff\xfe\x00bad", "not UTF-8"),
    (b"   \n\n", "empty"),
])
def test_bad_text_files(tmp_path, content, message):
    p = tmp_path / "t.txt"
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_text(str(p))


def test_too_short_text_is_an_error():
    with pytest.raises(DataError, match="shorter than one window"):
        make_windows(np.arange(5), 10)


def test_unknown_dataset_is_an_error():
    with pytest.raises(DataError, match="unknown dataset"):
        load_corpus("nonsense")


def test_tfds_builder_reads_the_bundled_corpus_offline(tmp_path):
    corpus = load_corpus("tfds:kerasrnn_tiny_shakespeare", data_dir=str(tmp_path))
    direct = load_corpus("shakespeare")
    assert corpus.train == direct.train and corpus.validation == direct.validation


def test_unknown_tfds_dataset_is_an_error(tmp_path):
    with pytest.raises(DataError, match="unknown TFDS dataset"):
        load_corpus("tfds:no_such_dataset_anywhere", data_dir=str(tmp_path))


def test_stride_one_windows_overlap():
    windows = make_windows(np.arange(7), 3, stride=1)
    assert windows.tolist() == [[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]]
    assert make_windows(np.arange(8), 3).tolist() == [[0, 1, 2, 3], [3, 4, 5, 6]]  # the stride defaults to seq_len
