"""kerasrnn's fast recurrent layers: the same outputs, gradients, training and files as Keras' own."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.core.config import Config
from kerasrnn.models.fast_rnn import FastGRU, FastLSTM, FastSimpleRNN
from kerasrnn.models.char_model import build_model
from kerasrnn.training.fitting import compile_model

PAIRS = {"simplernn": (keras.layers.SimpleRNN, FastSimpleRNN), "lstm": (keras.layers.LSTM, FastLSTM),
         "gru": (keras.layers.GRU, FastGRU)}


def _pair(cell, units=6, **kwargs):
    stock, fast = (cls(units, return_sequences=True, return_state=True, **kwargs) for cls in PAIRS[cell])
    return stock, fast


def _forward_and_grads(layer, x, initial_state, weights):
    with tf.GradientTape() as tape:
        tape.watch([x, *initial_state])
        out, *states = layer(x, initial_state=initial_state, training=True)
        target = tf.cast(tf.reshape(tf.range(tf.size(out)), out.shape), tf.float32) / 100.0
        loss = tf.reduce_sum(tf.sin(out * 3.0) * target) + sum(tf.reduce_sum(s * s) for s in states)
    grads = tape.gradient(loss, [x, *initial_state, *[w.value for w in weights]])
    return [out, *states], grads


@pytest.mark.parametrize("cell", list(PAIRS))
def test_outputs_and_gradients_equal_the_keras_layer(cell):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(4, 9, 5)), tf.float32)  # (batch, time, features)
    stock, fast = _pair(cell)
    stock(x)
    fast(x)
    fast.set_weights([w + 0.3 * rng.normal(size=w.shape) for w in stock.get_weights()])  # non-trivial biases
    stock.set_weights(fast.get_weights())
    assert fast._fast_ok(x, None, True)  # the fast loop is what runs here (CPU, defaults)
    n_states = 2 if cell == "lstm" else 1
    init = [tf.constant(rng.normal(size=(4, 6)) * 0.5, tf.float32) for _ in range(n_states)]
    want_out, want_grads = _forward_and_grads(stock, x, init, stock.trainable_weights)
    got_out, got_grads = _forward_and_grads(fast, x, init, fast.trainable_weights)
    for want, got in zip(want_out, got_out):
        np.testing.assert_allclose(got, want, atol=1e-5)
    assert len(got_grads) == len(want_grads)
    for want, got in zip(want_grads, got_grads):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_masked_input_falls_back_to_the_keras_loop():
    stock, fast = _pair("gru")
    ids = np.array([[3, 1, 2, 0, 0], [1, 1, 1, 1, 2]])
    embed = keras.layers.Embedding(4, 5, mask_zero=True)
    x = embed(ids)
    mask = embed.compute_mask(ids)
    stock(x, mask=mask)
    fast(x, mask=mask)
    fast.set_weights(stock.get_weights())
    assert not fast._fast_ok(x, mask, False)
    np.testing.assert_allclose(fast(x, mask=mask)[0], stock(x, mask=mask)[0], atol=1e-6)


@pytest.mark.parametrize("cell", list(PAIRS))
def test_training_reaches_the_same_loss(cell, tiny_text):
    from pipelines.text import lm_dataset

    ids = np.frombuffer(open(tiny_text, "rb").read()[:6000], np.uint8).astype(np.int32) % 40
    losses = {}
    for impl in ("keras", "fast"):
        config = Config(cell=cell, rnn_impl=impl, units=16, embedding_dim=8, layers=2, dropout=0.0,
                        seq_len=20, batch_size=8, vocab_size=40, learning_rate=1e-2)
        model = build_model(config)  # the same seed, so the same initial weights
        compile_model(model, config, total_steps=30)
        history = model.fit(lm_dataset(ids, 20, 8, shuffle=False).take(30), epochs=1, verbose=0, shuffle=False)
        losses[impl] = history.history["loss"][-1]
    assert losses["fast"] == pytest.approx(losses["keras"], abs=1e-4)


def test_fast_layers_save_and_load_as_keras_files(tmp_path):
    config = Config(cell="lstm", units=8, embedding_dim=4, layers=2, vocab_size=11)
    model = build_model(config)
    assert isinstance(model.get_layer("LSTM_1"), FastLSTM)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    assert type(loaded.get_layer("LSTM_2")) is FastLSTM
    ids = np.arange(22).reshape(2, 11) % 11
    np.testing.assert_array_equal(loaded(ids), model(ids))
    stock = build_model(Config(cell="lstm", rnn_impl="keras", units=8, embedding_dim=4, layers=2, vocab_size=11))
    assert type(stock.get_layer("LSTM_1")) is keras.layers.LSTM
    stock.set_weights(model.get_weights())
    np.testing.assert_allclose(stock(ids), model(ids), atol=1e-6)


@pytest.mark.parametrize("cell", list(PAIRS))
def test_bfloat16_products_stay_close_to_float32(cell):
    """bfloat16 products (8-bit mantissa), float32 state and sums: outputs and gradients near float32's,
    and visibly not equal to them (the products really ran in bfloat16)."""
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(size=(4, 9, 5)), tf.float32)
    _, fast = _pair(cell)
    fast(x)
    n_states = 2 if cell == "lstm" else 1
    init = [tf.constant(rng.normal(size=(4, 6)) * 0.5, tf.float32) for _ in range(n_states)]
    want_out, want_grads = _forward_and_grads(fast, x, init, fast.trainable_weights)
    fast.products = "bfloat16"
    got_out, got_grads = _forward_and_grads(fast, x, init, fast.trainable_weights)
    assert all(g.dtype == tf.float32 for g in [*got_out, *got_grads])
    for want, got in zip([*want_out, *want_grads], [*got_out, *got_grads]):
        scale = float(np.max(np.abs(want))) + 1e-6
        np.testing.assert_allclose(got, want, atol=0.03 * scale)
    assert max(float(np.max(np.abs(g - w))) for g, w in zip(got_grads, want_grads)) > 1e-5


def _tokens_loss_and_grads(model, ids, targets, jit: bool = False):
    def run():
        with tf.GradientTape() as tape:
            logits = model(ids, training=True)
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True))
        grads = tape.gradient(loss, model.trainable_weights)
        assert isinstance(grads[0], tf.IndexedSlices)  # the embedding's, row by row, as Keras' optimizers expect
        return logits, [tf.convert_to_tensor(g) for g in grads]
    return tf.function(run, jit_compile=True)() if jit else run()


@pytest.mark.parametrize("cell", list(PAIRS))
def test_the_embedding_table_path_equals_the_x_path_and_keras(cell, monkeypatch):
    """build_model's first fast layer projects from the embedding's table (the spy sees ids), a clone without the
    link reads x, the stock model is Keras' own: the same logits and gradients (the embedding's too), eager and XLA."""
    from kerasrnn.models import fast_rnn

    seen = []
    project = fast_rnn._project
    monkeypatch.setattr(fast_rnn, "_project", lambda *a, **k: seen.append(k.get("ids", a[4] if len(a) > 4 else None)
                                                                            is not None) or project(*a, **k))
    rng = np.random.default_rng(2)
    ids, targets = (rng.integers(0, 11, size=(4, 9)).astype("int32") for _ in range(2))
    config = Config(cell=cell, units=6, embedding_dim=5, layers=2, dropout=0.0, vocab_size=11)
    fused = build_model(config)
    fused.set_weights([w + rng.normal(size=w.shape) * (1.0 if w.shape == (11, 5) else 0.3) for w in fused.get_weights()])
    unfused = keras.models.clone_model(fused)  # the same graph (ids passed), no link to the embedding
    stock = build_model(Config(**{**config.__dict__, "rnn_impl": "keras"}))
    for other in (unfused, stock):
        other.set_weights(fused.get_weights())
    assert len(stock.weights) == len(fused.weights) and [w.path for w in stock.weights] == [w.path for w in fused.weights]
    want_out, want_grads = _tokens_loss_and_grads(stock, ids, targets)
    for model, jit, fuses in ((fused, False, True), (fused, True, True), (unfused, False, False)):
        seen.clear()
        got_out, got_grads = _tokens_loss_and_grads(model, ids, targets, jit)
        assert seen == [fuses, False]  # the first layer from the table (or x), the second from x
        np.testing.assert_allclose(got_out, want_out, atol=1e-5)
        assert len(got_grads) == len(want_grads) == 1 + 3 * 2 + 2  # embedding, two layers, logits
        for want, got in zip(want_grads, got_grads):
            np.testing.assert_allclose(got, want, atol=1e-5)


def test_the_embedding_table_path_in_bfloat16_stays_close_to_float32():
    rng = np.random.default_rng(3)
    ids, targets = (rng.integers(0, 11, size=(4, 9)).astype("int32") for _ in range(2))
    model = build_model(Config(cell="lstm", units=6, embedding_dim=5, layers=1, dropout=0.0, vocab_size=11))
    model.set_weights([w + rng.normal(size=w.shape) * 0.5 for w in model.get_weights()])
    want_out, want_grads = _tokens_loss_and_grads(model, ids, targets)
    model.get_layer("LSTM_1").products = "bfloat16"
    got_out, got_grads = _tokens_loss_and_grads(model, ids, targets)
    for want, got in zip([want_out, *want_grads], [got_out, *got_grads]):
        np.testing.assert_allclose(got, want, atol=0.03 * (float(np.max(np.abs(want))) + 1e-6))
    assert float(np.max(np.abs(got_grads[0] - want_grads[0]))) > 1e-6  # the table's products ran in bfloat16


def test_a_saved_model_with_the_table_link_loads_and_runs_as_before(tmp_path):
    config = Config(cell="gru", units=8, embedding_dim=4, layers=2, vocab_size=11)
    model = build_model(config)
    first = model.get_layer("GRU_1")
    assert first._table_source() is model.get_layer("embedding")
    assert [w.path for w in first.weights] == ["GRU_1/gru_cell/kernel", "GRU_1/gru_cell/recurrent_kernel",
                                               "GRU_1/gru_cell/bias"]  # the embedding's weights stay its own
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    assert loaded.get_layer("GRU_1")._table_source is None  # not saved: a loaded model reads x
    assert [w.path for w in loaded.weights] == [w.path for w in model.weights]
    ids = np.arange(22).reshape(2, 11) % 11
    np.testing.assert_allclose(loaded(ids, training=True), model(ids, training=True), atol=1e-6)
