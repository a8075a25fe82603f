"""Surname models: a many-to-one nationality classifier and a (conditioned) surname generator.

The classifier (`--task surnames`):

    tokens (batch, time) int32, 0 = padding -> Embedding(mask_zero) -> [RNN or
        Bidirectional(RNN)] x layers -> Dropout -> Dense "logits" (batch, classes)

The generator (`--task surname-generation`), a character language model over <s> surname </s>:

    tokens (batch, time) int32 -> Embedding(mask_zero) -> [RNN -> Dropout] x layers
        -> Dense "logits" (batch, time, vocab)

With `conditioned`, a second input `nationality` (batch,) int32 picks a row of the
"nationality_state" embedding, which is every recurrent layer's initial state (for an LSTM both
h and c), laid out as the flat step state of `kerasrnn.models.char_model` (layer by layer, h then c). The
generator's layers carry the character model's names, so `char_model.build_step_model` and
`stepping.Stepper` run it one character at a time; its start state for a nationality is
`start_state`, zeros when unconditioned.

The mask makes padding invisible: a name gives the same prediction alone or in a padded batch.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasrnn.core.config import Config
from kerasrnn.models.char_model import LAYER_NAMES, RNN_LAYERS, STATES_PER_LAYER, rnn_layer_name, state_size

STATE_LAYER = "nationality_state"  # the generator's nationality -> initial state embedding


def model_kind(config: Config) -> str:
    """The model's kind for names and printouts, e.g. 'BiGRU' (a bidirectional classifier) or 'LSTM'."""
    bidirectional = config.bidirectional and config.task == "surnames"
    return ("Bi" if bidirectional else "") + LAYER_NAMES[config.cell]


def _embedding(config: Config) -> keras.layers.Layer:
    return keras.layers.Embedding(config.vocab_size, config.embedding_dim, mask_zero=True, name="embedding")


def build_classifier(config: Config, unroll: bool = False) -> keras.Model:
    """Builds the nationality classifier (weights seeded by `config.seed`).

    Args:
        config: the model's description.
        unroll: unroll the recurrent layers over exactly `config.max_len` steps (for TFLite, whose
            builtin ops have no loop over a dynamic batch); the same weights give the same result.
    Returns:
        A functional model: `tokens` (batch, time) int32 -> logits (batch, num_classes).
    """
    if config.vocab_size < 1 or len(config.labels) < 2:
        raise ValueError("config.vocab_size and config.labels must be set before building a model")
    keras.utils.set_random_seed(config.seed)
    rnn = RNN_LAYERS[config.rnn_impl][config.cell]
    tokens = keras.Input(shape=(config.max_len if unroll else None,), dtype="int32", name="tokens")
    x = _embedding(config)(tokens)  # (batch, time, embedding_dim)
    for i in range(config.layers):
        last = i == config.layers - 1
        layer = rnn(config.units, return_sequences=not last, unroll=unroll, name=rnn_layer_name(config, i))
        if config.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"Bi{layer.name}")
        x = layer(x)  # (batch, time, features), or (batch, features) after the last layer
        if config.dropout > 0:
            x = keras.layers.Dropout(config.dropout, seed=config.seed + i, name=f"dropout_{i + 1}")(x)
    logits = keras.layers.Dense(len(config.labels), dtype="float32", name="logits")(x)  # (batch, classes)
    return keras.Model(tokens, logits, name=f"surname_{model_kind(config)}_classifier")


def _initial_states(config: Config, nationality) -> list[list]:
    """Each recurrent layer's initial states, cut from the nationality's flat start state."""
    flat = keras.layers.Embedding(len(config.labels), state_size(config), name=STATE_LAYER)(nationality)  # (batch, S)
    per_layer, units = STATES_PER_LAYER[config.cell], config.units
    return [[flat[:, (i * per_layer + j) * units:(i * per_layer + j + 1) * units] for j in range(per_layer)]
            for i in range(config.layers)]


def build_generator(config: Config) -> keras.Model:
    """Builds the surname generator; `config.conditioned` adds the nationality input.

    Returns:
        A functional model: `tokens` (batch, time) int32 [and `nationality` (batch,) int32]
        -> logits (batch, time, vocab).
    """
    if config.vocab_size < 1:
        raise ValueError("config.vocab_size must be set before building a model")
    keras.utils.set_random_seed(config.seed)
    rnn = RNN_LAYERS[config.rnn_impl][config.cell]
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    inputs = {"tokens": tokens}
    initial = [None] * config.layers
    if config.conditioned:
        inputs["nationality"] = keras.Input(shape=(), dtype="int32", name="nationality")
        initial = _initial_states(config, inputs["nationality"])
    x = _embedding(config)(tokens)  # (batch, time, embedding_dim)
    for i in range(config.layers):
        layer = rnn(config.units, return_sequences=True, name=rnn_layer_name(config, i))
        x = layer(x, initial_state=initial[i]) if initial[i] else layer(x)  # (batch, time, units)
        if config.dropout > 0:
            x = keras.layers.Dropout(config.dropout, seed=config.seed + i, name=f"dropout_{i + 1}")(x)
    logits = keras.layers.Dense(config.vocab_size, dtype="float32", name="logits")(x)  # (batch, time, vocab)
    kind = ("conditioned_" if config.conditioned else "") + LAYER_NAMES[config.cell]
    return keras.Model(inputs, logits, name=f"surname_{kind}_generator")


def start_state(model: keras.Model, config: Config, nationality: np.ndarray) -> np.ndarray:
    """The generator's start state for each requested class id: (batch,) -> (batch, S) float32."""
    nationality = np.asarray(nationality, np.int32)
    if not config.conditioned:
        return np.zeros((len(nationality), state_size(config)), np.float32)
    table = ops.convert_to_numpy(model.get_layer(STATE_LAYER).embeddings)  # (classes, S)
    return table[nationality].astype(np.float32)
