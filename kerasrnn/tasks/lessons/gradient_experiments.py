"""Vanishing and exploding gradients, measured: the work behind `python -m kerasrnn.gradients`.

Three experiments, each a function returning plain numbers (`run_all` runs them, prints and draws them):

- `input_gradient_norms`: ||d loss(last step) / d input_t|| for every earlier step t, for a
  SimpleRNN, an LSTM and a GRU (untrained, or a trained run's model): how far back a loss reaches.
- `long_range_task`: remember the first of T random tokens and output it at step T; for T in
  (10, 20, 50, 100) each cell trains with the same budget, and the accuracy shows where it fails.
- `one_unit`: h_t = tanh(w_x x_t + w_h h_{t-1} + b) with w_h = 3, w_x = 2, b = 1, x_t = 1:
  dh_T/dh_0 = prod_t w_h (1 - h_t^2) shrinks towards zero; and `exploding`: a linear recurrence
  h_t = 1.5 h_{t-1} + x_t trained with SGD, without and with gradient clipping.
"""

from __future__ import annotations

import os
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from kerasrnn.core.config import CELLS, Config
from kerasrnn.core.plots import new_figure, save_figure
from kerasrnn.models.char_model import LAYER_NAMES, RNN_LAYERS, build_model
from pipelines.io import atomic_write_json

Report = Callable[[str, list], None]  # called with a model's name and its gradient norms, as each is measured
SEED = 1337  # every experiment's seed
LONG_RANGE_LENGTHS = (10, 20, 50, 100)  # T of the long-range task


def input_gradient_norms(model: keras.Model, ids: np.ndarray) -> np.ndarray:
    """Norm of the gradient of the last step's loss with respect to each step's input vector.

    Args:
        model: a sequence model from `build_model` (its first layer turns ids into vectors).
        ids: (batch, time + 1) ids: the model reads the first `time`, the loss is on the last target.
    Returns:
        (time,) mean over the batch of ||d loss / d x_t||, t = 0 .. time-1 (the last entry is the nearest step).
    """
    inputs, target = ids[:, :-1], ids[:, -1]
    layers = model.layers[1:]  # after the Input layer
    x = layers[0](inputs)  # (batch, time, features)
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = x
        for layer in layers[1:]:
            h = layer(h, training=False)
        loss = keras.losses.sparse_categorical_crossentropy(target, h[:, -1], from_logits=True)
        loss = tf.reduce_sum(loss)
    grad = tape.gradient(loss, x)  # (batch, time, features)
    return tf.reduce_mean(tf.norm(grad, axis=-1), axis=0).numpy()


def untrained_gradient_norms(length: int = 100, units: int = 64, vocab: int = 32, batch: int = 16,
                             report: Report | None = None) -> dict:
    """`input_gradient_norms` of freshly initialised SimpleRNN, LSTM and GRU models on the same random ids
    (each cell's norms passed to `report` as soon as they are measured).

    The embedding rows are set to unit-variance random vectors (the scale of trained embeddings;
    Keras' own initialiser, uniform in ±0.05, keeps every tanh in its linear range).
    """
    rng = np.random.default_rng(SEED)
    ids = rng.integers(1, vocab, size=(batch, length + 1)).astype(np.int32)
    table = rng.normal(size=(vocab, 16)).astype(np.float32)
    out = {}
    for cell in CELLS:
        config = Config(cell=cell, units=units, embedding_dim=16, dropout=0.0, vocab_size=vocab, seed=SEED)
        model = build_model(config)
        model.get_layer("embedding").set_weights([table])
        out[cell] = input_gradient_norms(model, ids).tolist()
        if report:
            report(cell, out[cell])
    return out


def trained_gradient_norms(run_dirs: list[str], length: int = 100, batch: int = 16,
                           report: Report | None = None) -> dict:
    """`input_gradient_norms` of trained runs, on windows of their validation text (each run's norms passed to
    `report` as soon as they are measured)."""
    from kerasrnn.core.runs import run_data
    from kerasrnn.models.loading import load_run
    from pipelines.text import make_windows

    out = {}
    for run_dir in run_dirs:
        run = load_run(run_dir)
        c = run.config
        ids = run_data(c, run_dir, run.vocab).validation.read(0, batch * (length + 1))  # only what the windows need
        windows = make_windows(ids, length, stride=length + 1)[:batch]  # (batch, length + 1), apart
        name = f"{c.cell} ({run_dir})"
        out[name] = input_gradient_norms(run.model, windows).tolist()
        if report:
            report(name, out[name])
    return out


def _long_range_data(rng: np.random.Generator, length: int, batch: int, symbols: int):
    seqs = rng.integers(1, symbols + 1, size=(batch, length)).astype(np.int32)  # 0 is never used
    return seqs, seqs[:, 0] - 1  # input (batch, length), target: the first token, as a class


def long_range_task(cell: str, length: int, steps: int = 400, units: int = 32, symbols: int = 8,
                    batch: int = 64) -> float:
    """Trains a cell to output, after `length` random tokens, the first one; returns test accuracy.

    Chance is 1/symbols. Every cell gets the same model size, optimiser and number of steps.
    """
    keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    tokens = keras.Input(shape=(length,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(symbols + 1, 8, name="embedding")(tokens)
    x = RNN_LAYERS["fast"][cell](units, name=f"{LAYER_NAMES[cell]}_1")(x)  # many-to-one: the last output
    model = keras.Model(tokens, keras.layers.Dense(symbols, name="logits")(x))
    model.compile(optimizer=keras.optimizers.Adam(3e-3, clipnorm=1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    x_train, y_train = _long_range_data(rng, length, batch * steps, symbols)
    model.fit(x_train, y_train, batch_size=batch, epochs=1, verbose=0, shuffle=False)
    x_test, y_test = _long_range_data(rng, length, 2048, symbols)
    return float(np.mean(np.argmax(model.predict(x_test, batch_size=512, verbose=0), -1) == y_test))


def one_unit(steps: int = 20, w_h: float = 3.0, w_x: float = 2.0, b: float = 1.0, x: float = 1.0) -> dict:
    """dh_T/dh_0 of the one-unit tanh recurrence, by the chain rule and by TensorFlow's autodiff.

    Returns:
        {"h": [h_1..h_T], "chain_rule": [dh_t/dh_0], "autodiff": [dh_t/dh_0]}.
    """
    h, hs, chain, deriv = 0.0, [], [], 1.0
    for _ in range(steps):
        h = float(np.tanh(w_x * x + w_h * h + b))
        deriv *= w_h * (1 - h * h)
        hs.append(h)
        chain.append(deriv)
    h0 = tf.Variable(0.0, dtype=tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        h_t, states = h0, []
        for _ in range(steps):
            h_t = tf.tanh(w_x * x + w_h * h_t + b)
            states.append(h_t)
    auto = [float(tape.gradient(s, h0)) for s in states]
    return {"h": hs, "chain_rule": chain, "autodiff": auto}


def exploding(clipnorm: float | None, steps: int = 30, length: int = 30, w: float = 1.5, lr: float = 0.05) -> list:
    """Trains the linear recurrence h_t = w h_{t-1} + x_t to output the mean of x, with SGD.

    Its gradients grow like w^length; returns the training loss after each step (inf or nan when it blows up).
    """
    keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    layer = keras.layers.SimpleRNN(1, activation=None, use_bias=False, name="linear_RNN",
                                   kernel_initializer=keras.initializers.Constant(1.0),
                                   recurrent_initializer=keras.initializers.Constant(w))
    model = keras.Sequential([keras.Input((length, 1)), layer])
    model.compile(optimizer=keras.optimizers.SGD(lr, clipnorm=clipnorm), loss="mse")
    losses = []
    for _ in range(steps):
        x = rng.normal(size=(32, length, 1)).astype(np.float32)
        with np.errstate(all="ignore"):
            losses.append(float(model.train_on_batch(x, x.mean(axis=1))))
    return losses


def plot_norms(series: dict, path: str, title: str) -> None:
    """Gradient norm against distance from the loss, log scale, one line per model."""
    fig, ax = new_figure(figsize=(7, 4))
    for name, norms in series.items():
        distance = list(range(len(norms) - 1, -1, -1))  # the last input is 0 steps from the loss
        ax.plot(distance, [max(n, 1e-30) for n in norms], label=name)
    ax.set_yscale("log")
    ax.set_xlabel("steps between the input and the loss")
    ax.set_ylabel("|| d loss / d input ||")
    ax.set_title(title)
    save_figure(fig, path, [ax])


def run_all(out: str, length: int = 100, units: int = 64, run_dirs: list[str] | tuple = (),
            long_range_steps: int = 400, skip_long_range: bool = False) -> dict:
    """Runs the experiments, prints their tables, and writes gradients.json, gradient-norms.png and
    one-unit.png into `out`. Returns what gradients.json holds."""
    os.makedirs(out, exist_ok=True)
    print(f"|| d loss(step {length}) / d input || at 1, 10, 50 and {length} steps back:", flush=True)

    def row(kind: str):
        def show(name: str, norms: list) -> None:
            picks = [norms[-k] for k in (1, 10, 50, length) if k <= len(norms)]
            print(f"  {kind:9s} {name:40s} " + "  ".join(f"{n:9.2e}" for n in picks), flush=True)
        return show

    result = {"untrained": untrained_gradient_norms(length, units, report=row("untrained"))}
    if run_dirs:
        result["trained"] = trained_gradient_norms(run_dirs, length, report=row("trained"))
    plot_norms({f"{k} {n}": v for k in ("untrained", "trained") for n, v in result.get(k, {}).items()},
               os.path.join(out, "gradient-norms.png"), "How far back the loss reaches")

    unit = one_unit()
    result["one_unit"] = unit
    print("one unit, h_t = tanh(2 x_t + 3 h_(t-1) + 1), x_t = 1: dh_t/dh_0 for t = 1..8:")
    print("  " + "  ".join(f"{d:.1e}" for d in unit["chain_rule"][:8]))
    plot_norms({"dh_t/dh_0 (one unit)": [abs(d) for d in reversed(unit["chain_rule"])]},
               os.path.join(out, "one-unit.png"), "One tanh unit, w_h = 3: the derivative vanishes")
    result["exploding"] = {"no_clipping": exploding(None), "clipnorm_1": exploding(1.0)}
    for name, losses in result["exploding"].items():
        print(f"  linear h_t = 1.5 h_(t-1) + x_t, SGD, {name:11s}: loss after steps 1-5 "
              + ", ".join(f"{v:.3g}" for v in losses[:5]) + f" ... step {len(losses)}: {losses[-1]:.3g}")

    if not skip_long_range:
        print(f"long-range task (output the first of T tokens; chance 0.125), {long_range_steps} steps:")
        table = {}
        for cell in CELLS:
            table[cell] = {T: long_range_task(cell, T, long_range_steps) for T in LONG_RANGE_LENGTHS}
            print(f"  {cell:10s} " + "  ".join(f"T={T}: {a:.3f}" for T, a in table[cell].items()), flush=True)
        result["long_range"] = {"steps": long_range_steps, "accuracy": table}
    atomic_write_json(os.path.join(out, "gradients.json"), result)
    print(f"wrote {out}/gradients.json, gradient-norms.png, one-unit.png")
    return result
