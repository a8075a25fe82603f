import keras
import numpy as np
import pytest

from kerasrnn.core.config import CELLS, Config
from kerasrnn.inference.stepping import Stepper
from kerasrnn.models.char_model import build_model, build_step_model, state_size
from kerasrnn.training.fitting import compile_model

VOCAB = 13


def tiny(cell: str, **kw) -> Config:
    base = dict(cell=cell, units=24, layers=2, embedding_dim=8, dropout=0.2, vocab_size=VOCAB, seed=3)
    return Config(**{**base, **kw})


@pytest.mark.parametrize("embedding_dim", [8, 0], ids=["embedding", "one_hot"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_step_by_step_equals_full_pass(cell, layers, embedding_dim):
    config = tiny(cell, layers=layers, embedding_dim=embedding_dim)
    model = build_model(config)
    step = build_step_model(model, config)
    tokens = np.random.default_rng(0).integers(0, VOCAB, size=(3, 25)).astype("int32")
    full = np.asarray(model(tokens, training=False))  # (batch, time, vocab)
    state = np.zeros((3, state_size(config)), "float32")
    for t in range(tokens.shape[1]):
        out = step({"token": tokens[:, t], "state": state}, training=False)
        state = np.asarray(out["state"])
        np.testing.assert_allclose(np.asarray(out["logits"]), full[:, t], atol=1e-5, rtol=0)


def test_chunked_stepper_feed_equals_full_pass():
    config = tiny("lstm")
    model = build_model(config)
    stepper = Stepper(model, config)
    tokens = np.random.default_rng(1).integers(0, VOCAB, size=40).astype("int32")
    full = np.asarray(model(tokens[None], training=False))[0]
    logits, state = stepper.feed(tokens[:17])
    np.testing.assert_allclose(logits, full[16], atol=1e-5)
    logits, _ = stepper.feed(tokens[17:], state)  # carrying the state across chunks
    np.testing.assert_allclose(logits, full[-1], atol=1e-5)


def test_state_size_counts_every_layer():
    assert state_size(tiny("gru", layers=3)) == 72
    assert state_size(tiny("lstm", layers=2)) == 96  # h and c per layer
    assert state_size(tiny("simplernn", layers=1)) == 24


def test_names_and_default_layers_are_cudnn_eligible():
    model = build_model(tiny("gru"))
    assert model.input.name == "tokens"
    assert [l.name for l in model.layers] == ["tokens", "embedding", "GRU_1", "dropout_1", "GRU_2",
                                              "dropout_2", "logits"]
    for layer in (model.get_layer("GRU_1"), model.get_layer("GRU_2")):
        c = layer.cell
        assert (c.activation.__name__, c.recurrent_activation.__name__) == ("tanh", "sigmoid")
        assert c.recurrent_dropout == 0 and c.use_bias and c.reset_after and not layer.unroll
        assert layer.use_cudnn == "auto"


@pytest.mark.parametrize("cell", CELLS)
def test_each_cell_learns(cell):
    config = tiny(cell, layers=1, dropout=0.0, learning_rate=1e-2)
    model = build_model(config)
    compile_model(model, config, total_steps=60)
    rng = np.random.default_rng(0)
    pattern = np.tile(np.arange(6), 40)  # a periodic sequence: learnable
    starts = rng.integers(0, 6, size=32)
    x = np.stack([pattern[s:s + 20] for s in starts]).astype("int32")
    y = np.stack([pattern[s + 1:s + 21] for s in starts]).astype("int32")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=8, epochs=15, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert after < 0.5 * before


@pytest.mark.parametrize("embedding_dim", [0, 8])
def test_keras_file_round_trip(tmp_path, embedding_dim):
    config = tiny("gru", embedding_dim=embedding_dim)
    model = build_model(config)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    tokens = np.arange(10, dtype="int32")[None] % VOCAB
    np.testing.assert_allclose(np.asarray(loaded(tokens)), np.asarray(model(tokens)), atol=1e-6)
