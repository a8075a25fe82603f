import numpy as np
import pytest

from pipelines.vocab import PAD, UNK, Vocabulary


def test_ids_are_stable_and_sorted():
    a = Vocabulary.build("hello world")
    b = Vocabulary.build("world hello")
    assert a.tokens == b.tokens == [UNK, " ", "d", "e", "h", "l", "o", "r", "w"]
    assert a.unk_id == 0 and a.pad_id is None


def test_encode_decode_round_trip():
    v = Vocabulary.build("hello")
    ids = v.encode("hole")
    assert ids.dtype == np.int32
    assert ids.tolist() == [v.id_of("h"), v.id_of("o"), v.id_of("l"), v.id_of("e")]
    assert v.decode(ids) == "hole"


def test_unknown_characters_map_to_unk_with_a_warning(capsys):
    v = Vocabulary.build("abc")
    ids = v.encode("aXb<unk>", warn=True)
    assert ids.tolist() == [v.id_of("a"), 0, v.id_of("b"), 0, 0, 0, 0, 0]
    assert v.decode(ids[:3]) == "a?b"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not in the vocabulary" in err and "X" in err


def test_json_round_trip(tmp_path):
    v = Vocabulary.build("żółw ab", specials=[PAD, UNK])
    path = tmp_path / "vocab.json"
    v.save(str(path))
    w = Vocabulary.load(str(path))
    assert w.tokens == v.tokens and w.pad_id == 0 and w.unk_id == 1
    assert w.encode("żab").tolist() == v.encode("żab").tolist()


def test_vocabulary_needs_unknown_token():
    with pytest.raises(ValueError):
        Vocabulary(tokens=["a", "b"], specials=[])
