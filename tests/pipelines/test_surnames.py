"""The surname data: reading, the saved split, and exact padded pipelines."""

import json
from collections import Counter

import keras
import numpy as np
import pytest

from pipelines import surnames as S
from pipelines.io import DataError


@pytest.fixture(scope="module")
def pairs():
    return S.read_pairs()


def test_reading_normalises_strips_and_deduplicates(tmp_path):
    (tmp_path / "French.txt").write_text("Cafe\u0301 \nCafé\n\n  Dupont\nDupont\n", encoding="utf-8")
    (tmp_path / "Portugese.txt").write_text("Dupont\n", encoding="utf-8")
    assert S.read_pairs(str(tmp_path)) == [("Café", "French"), ("Dupont", "French"), ("Dupont", "Portuguese")]


def test_bundled_data_has_18_classes(pairs):
    labels = S.nationalities(pairs)
    assert len(labels) == 18 and "Portuguese" in labels and len(pairs) == len(set(pairs))


def test_split_is_by_surname_stratified_and_saved(pairs):
    split = S.make_split(pairs)
    seen = [name for s in S.SPLITS for name in split[s]]
    assert len(seen) == len(set(seen)) == len({n for n, _ in pairs})  # each surname in exactly one split
    saved = json.load(open(S.SPLIT_FILE, encoding="utf-8"))
    assert {s: saved[s] for s in S.SPLITS} == split  # the committed file is the current one
    by_split = S.load_surnames()
    for label in S.nationalities(pairs):
        n = {s: sum(1 for _, lab in by_split[s] if lab == label) for s in S.SPLITS}
        total = sum(n.values())
        assert abs(n["train"] / total - 0.70) < 0.06 and n["test"] >= 1, (label, n)
    multi = [name for name, c in Counter(n for n, _ in pairs).items() if c > 1]
    where = {name: s for s in S.SPLITS for name in split[s]}
    for name in multi:  # all the pairs of an ambiguous surname sit in its one split
        assert sum(1 for s in S.SPLITS for n, _ in by_split[s] if n == name) == \
               sum(1 for n, _ in by_split[where[name]] if n == name)


def test_a_stale_split_file_is_a_clear_error(tmp_path):
    path = tmp_path / "split.json"
    path.write_text(json.dumps({"train": ["Nobody"], "validation": [], "test": []}))
    with pytest.raises(DataError, match="does not match the data"):
        S.load_surnames(split_path=str(path))


def test_pipelines_pad_with_zero_and_add_start_and_end():
    data = [("Abe", "Japanese"), ("Nakamura", "Japanese"), ("Zé", "Portuguese")]
    vocab = S.surname_vocabulary(data)
    assert vocab.pad_id == 0
    labels = ["Japanese", "Portuguese"]
    ids, classes = next(iter(S.classification_dataset(data, vocab, labels, batch_size=3)))
    assert ids.shape == (3, 8) and classes.numpy().tolist() == [0, 0, 1]
    assert ids.numpy()[0].tolist() == [*vocab.encode("Abe"), 0, 0, 0, 0, 0]
    x, y = next(iter(S.generation_dataset(data, vocab, labels, batch_size=3)))
    bos, eos = vocab.id_of("<s>"), vocab.id_of("</s>")
    assert x["ids"].numpy()[2].tolist() == [bos, *vocab.encode("Zé"), 0, 0, 0, 0, 0, 0]
    assert y.numpy()[2].tolist() == [*vocab.encode("Zé"), eos, 0, 0, 0, 0, 0, 0]
    assert x["nationality"].numpy().tolist() == [0, 0, 1]


def test_masked_padding_never_changes_the_result():
    vocab = S.surname_vocabulary([("Abe", "x"), ("Nakamura", "x")])
    tokens = keras.Input((None,), dtype="int32")
    h = keras.layers.GRU(8)(keras.layers.Embedding(len(vocab), 4, mask_zero=True)(tokens))
    model = keras.Model(tokens, h)
    alone = model(vocab.encode("Abe")[None]).numpy()
    padded = model(np.array([[*vocab.encode("Abe"), 0, 0, 0, 0, 0]])).numpy()
    np.testing.assert_allclose(padded, alone, atol=1e-6)


def test_tfds_builder_gives_the_same_split(tmp_path):
    import tensorflow_datasets as tfds

    import pipelines.tfds_builders  # noqa: F401  registers the builder

    builder = tfds.builder("kerasrnn_surnames", data_dir=str(tmp_path))
    builder.download_and_prepare(download_config=pipelines.tfds_builders.NO_GCS)
    test = sorted((ex["surname"].decode(), builder.info.features["nationality"].int2str(ex["nationality"]))
                  for ex in tfds.as_numpy(builder.as_dataset(split="test")))
    assert test == sorted(S.load_surnames()["test"])


def test_rarest_rule_gives_each_surname_one_label(pairs):
    rarest = S.rarest_nationality([("Campbell", "English"), ("Campbell", "Scottish"), ("Smith", "English"),
                                   ("Brown", "English"), ("Brown", "Scottish"), ("Ivanov", "Russian")])
    assert rarest == {"Campbell": "Scottish", "Smith": "English", "Brown": "Scottish", "Ivanov": "Russian"}
    everything, one_each = S.load_surnames(), S.load_surnames(ambiguous="rarest")
    for split in S.SPLITS:
        names = [n for n, _ in one_each[split]]
        assert len(names) == len(set(names)) == len({n for n, _ in everything[split]})
        assert set(one_each[split]) <= set(everything[split])
    assert len(one_each["test"]) == 2617 and len(everything["test"]) == 2685
