"""Character models: one builder for SimpleRNN, LSTM and GRU, and a step model for generation.

The sequence model (training, evaluation):

    tokens (batch, time) int32 -> Embedding or OneHot -> [RNN -> Dropout] x layers
        -> Dense "logits" (batch, time, vocab)

The recurrent layers are Keras' own, or (`rnn_impl="fast"`, the default) their subclasses
from `kerasrnn.models.fast_rnn`, which train faster on a CPU with the same mathematics. They keep
Keras' defaults (tanh, sigmoid gates, no recurrent dropout, no unrolling, biases on, GRU
reset_after=True), which is what makes them eligible for the cuDNN kernels: on a GPU the
same model runs on cuDNN. The first fast layer after an embedding is also given the token ids, so that
its input side works on the embedding's table (`fast_rnn`, point 3); the weights are the same.

The step model shares the sequence model's layers and runs one character at a time
with its state explicit, flattened into one vector:

    token (batch,) int32, state (batch, S) float32 -> logits (batch, vocab), state (batch, S)

S is every layer's state concatenated in layer order (an LSTM layer carries h then c);
a zero state is the start state.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasrnn.core.config import Config
from kerasrnn.models.fast_rnn import FastGRU, FastLSTM, FastSimpleRNN

RNN_LAYERS = {  # --rnn-impl -> --cell name -> layer class
    "keras": {"simplernn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU},
    "fast": {"simplernn": FastSimpleRNN, "lstm": FastLSTM, "gru": FastGRU},
}
LAYER_NAMES = {"simplernn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}  # layer name prefix
STATES_PER_LAYER = {"simplernn": 1, "lstm": 2, "gru": 1}  # state tensors each layer carries


@keras.saving.register_keras_serializable(package="kerasrnn")
class OneHot(keras.layers.Layer):
    """Turns integer ids into one-hot vectors: the input of the classic lecture exercises."""

    def __init__(self, depth: int, **kwargs):
        super().__init__(**kwargs)
        self.depth = depth

    def call(self, ids):
        return ops.one_hot(ids, self.depth, dtype=self.compute_dtype)  # (..., depth)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.depth)

    def get_config(self) -> dict:
        return {**super().get_config(), "depth": self.depth}


class Unmasked(keras.layers.Layer):
    """Passes its input on without a mask: one step reads one real character, never padding."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, x):
        return ops.copy(x)  # a new tensor: the input's mask stays on the input

    def compute_mask(self, inputs, mask=None):
        return None


def rnn_layer_name(config: Config, index: int) -> str:
    """Name of the recurrent layer `index` (0-based), e.g. 'GRU_1'."""
    return f"{LAYER_NAMES[config.cell]}_{index + 1}"


def state_size(config: Config) -> int:
    """Length S of the flat step state: every layer's state vectors concatenated."""
    return config.layers * STATES_PER_LAYER[config.cell] * config.units


def input_layer_name(config: Config) -> str:
    """The name of the model's input layer: "one_hot" or "embedding"."""
    return "one_hot" if config.embedding_dim == 0 else "embedding"


def input_note(config: Config) -> str:
    """The inputs in words, e.g. 'one-hot' or 'embedding 64'."""
    return "one-hot" if config.embedding_dim == 0 else f"embedding {config.embedding_dim}"


def _input_layer(config: Config) -> keras.layers.Layer:
    if config.embedding_dim == 0:
        return OneHot(config.vocab_size, name=input_layer_name(config))
    return keras.layers.Embedding(config.vocab_size, config.embedding_dim, name=input_layer_name(config))


def build_model(config: Config, stateful_batch: int | None = None) -> keras.Model:
    """Builds the sequence model described by `config` (weights seeded by `config.seed`).

    Args:
        config: the model's description.
        stateful_batch: build stateful recurrent layers for this fixed batch size (truncated
            BPTT: each batch continues the state the previous one left).
    Returns:
        A functional model: `tokens` (batch, time) int32 -> logits (batch, time, vocab).
    """
    if config.vocab_size < 1:
        raise ValueError("config.vocab_size must be set before building a model")
    keras.utils.set_random_seed(config.seed)
    rnn = RNN_LAYERS[config.rnn_impl][config.cell]
    if stateful_batch:
        tokens = keras.Input(batch_shape=(stateful_batch, None), dtype="int32", name="tokens")
    else:
        tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    inputs = _input_layer(config)
    x = inputs(tokens)  # (batch, time, features)
    for i in range(config.layers):
        layer = rnn(config.units, return_sequences=True, stateful=bool(stateful_batch), name=rnn_layer_name(config, i))
        if i == 0 and isinstance(inputs, keras.layers.Embedding) and hasattr(layer, "read_table_from"):
            layer.read_table_from(inputs)  # the fast loop projects the ids from the embedding's table
            x = layer(x, ids=tokens)
        else:
            x = layer(x)
        if config.dropout > 0:
            x = keras.layers.Dropout(config.dropout, seed=config.seed + i, name=f"dropout_{i + 1}")(x)
    logits = keras.layers.Dense(config.vocab_size, dtype="float32", name="logits")(x)  # (batch, time, vocab)
    return keras.Model(tokens, logits, name=f"char_{LAYER_NAMES[config.cell]}")


def build_step_model(model: keras.Model, config: Config) -> keras.Model:
    """Builds the one-character step model from the layers (and so the weights) of `model`.

    Args:
        model: a sequence model made by `build_model` (or loaded from a run).
        config: its config.
    Returns:
        A functional model: {"token": (batch,) int32, "state": (batch, S) float32}
        -> {"logits": (batch, vocab), "state": (batch, S)}.
    """
    units, per_layer = config.units, STATES_PER_LAYER[config.cell]
    token = keras.Input(shape=(), dtype="int32", name="token")
    state = keras.Input(shape=(state_size(config),), dtype="float32", name="state")
    x = Unmasked(name="unmasked")(model.get_layer(input_layer_name(config))(token))  # (batch, features)
    new_states = []
    offset = 0
    for i in range(config.layers):
        layer = model.get_layer(rnn_layer_name(config, i))
        cell = layer.cell
        cell.name = f"{layer.name}_cell"  # Keras names every cell alike; a model needs unique names
        states = []
        for _ in range(per_layer):
            states.append(state[:, offset:offset + units])  # (batch, units)
            offset += units
        x, layer_states = cell(x, states)  # (batch, units), list of (batch, units)
        new_states.extend(layer_states)
    logits = model.get_layer("logits")(x)  # (batch, vocab)
    new_state = new_states[0] if len(new_states) == 1 else ops.concatenate(new_states, axis=-1)
    return keras.Model({"token": token, "state": state}, {"logits": logits, "state": new_state},
                       name=f"{model.name}_step")
