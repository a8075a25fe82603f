"""kerasrnn.training.fitting: the XLA-compiled training step equals TensorFlow's, and is used only where it applies."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.core.config import Config
from kerasrnn.models.char_model import build_model
from kerasrnn.training.fitting import compile_model, uses_xla


def _one_step(config: Config, x: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    """The loss of one training step, the gradients of that step's loss and the weights after the step."""
    model = build_model(config)  # the same seed: the same initial weights
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(jit_compile=config.jit_compile)  # compiled as the training step is, or not
    def gradients():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        return tape.gradient(loss, model.trainable_weights)

    grads = [tf.convert_to_tensor(g).numpy() for g in gradients()]
    compile_model(model, config, total_steps=10)
    assert model.jit_compile is config.jit_compile  # model.fit's step is compiled with XLA, or not
    step_loss = model.train_on_batch(x, y)
    return float(step_loss), grads, [w.numpy() for w in model.weights]


@pytest.mark.parametrize("cell", ["simplernn", "lstm", "gru"])
def test_the_xla_step_equals_tensorflows(cell):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 17, size=(4, 12)).astype(np.int32)  # (batch, time)
    y = rng.integers(0, 17, size=(4, 12)).astype(np.int32)
    results = {}
    for jit in (True, False):
        config = Config(cell=cell, units=12, embedding_dim=6, layers=2, dropout=0.0, vocab_size=17,
                        learning_rate=1e-2, warmup_steps=0, jit_compile=jit)
        assert uses_xla(config) is jit
        results[jit] = _one_step(config, x, y)
    (xla_loss, xla_grads, xla_weights), (tf_loss, tf_grads, tf_weights) = results[True], results[False]
    assert xla_loss == pytest.approx(tf_loss, abs=1e-5)
    for a, b in zip(xla_grads, tf_grads, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for a, b in zip(xla_weights, tf_weights, strict=True):  # weights, optimizer state, step counter
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_xla_is_left_out_where_it_does_not_apply():
    plain = Config(dropout=0.0)
    assert uses_xla(plain)  # a corpus model without dropout on this CPU
    assert not uses_xla(Config(dropout=0.0, jit_compile=False))  # --no-jit-compile
    assert not uses_xla(Config(dropout=0.1))  # XLA's random numbers make dropout slower than TensorFlow's
    assert not uses_xla(Config(task="surnames", dropout=0.0))  # padded batches of many lengths: many compiles
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        assert not uses_xla(plain)  # a tf.distribute strategy keeps TensorFlow's kernels


def test_a_model_trained_with_xla_saves_and_loads_as_before(tmp_path):
    config = Config(cell="gru", units=8, embedding_dim=4, vocab_size=11, dropout=0.0)
    model = build_model(config)
    compile_model(model, config, total_steps=4)
    ids = np.arange(44, dtype=np.int32).reshape(4, 11) % 11
    model.fit(ids, np.roll(ids, -1, axis=1), epochs=1, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    np.testing.assert_array_equal(loaded(ids), model(ids))
