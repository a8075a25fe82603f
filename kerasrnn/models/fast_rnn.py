"""Faster SimpleRNN, LSTM and GRU training on the CPU: the same layers, the same mathematics.

`FastSimpleRNN`, `FastLSTM` and `FastGRU` subclass the Keras layers and keep their cells,
weights, configs and GPU (cuDNN) path. Only the CPU sequence loop differs: in two ways that
cuDNN also uses, and a third for the first layer after an embedding:

1. the input projection of every time step is one matrix product before the loop,
   x (batch·time, in) @ W, instead of one small product per step;
2. the backward pass is written out (`tf.custom_gradient`): a reverse loop carries only the
   gradient of the state (one (batch, gates) @ R^T product per step), and the weight
   gradients are then three large products over all steps at once
   (dR = H_prev^T dZ, dW = X^T dZ, db = Σ dZ) instead of one small accumulation per step;
3. the embedding's input side as a table: given the token ids and the Embedding (`build_model` passes
   both to the first layer: `ids=`, `read_table_from`), each step's projection is a row of the
   (vocab, gates) table E @ W + b, and the gate gradients are summed per vocabulary row (dT) first,
   so dW = E^T dT: two of the input side's three products have 65 rows rather than batch·time.

Outputs equal the Keras layers' within float32 round-off (tests: 1e-5 for outputs and one
training step's gradients). The step model and TFLite export use the cells, so exports are
unchanged. The fast loop is used when it applies (TensorFlow backend, no GPU visible, float32,
no mask, default activations, no in-layer dropout, not reversed or unrolled);
otherwise the Keras loop runs.

A layer's `products` ("float32", or "bfloat16" on a CPU with bfloat16 instructions) is the type of the
matrix products of training steps alone: their operands are rounded to bfloat16 and each result comes back
in float32, so the state, the element-wise gate arithmetic, the gradients' sums and the weights stay float32.
A call with `training=False` (validation, evaluation, prediction) multiplies in float32 whatever `products`
says, so a run's validation loss is that of the float32 model it saves. `products` is set by the training
route (`kerasrnn.training.routes`), never saved: a saved or exported model is float32.
"""

from __future__ import annotations

import weakref

import keras
import tensorflow as tf

_tanh, _sigmoid = keras.activations.tanh, keras.activations.sigmoid


PRODUCTS = ("float32", "bfloat16")  # the types the matrix products may run in


def _low(t, products: str):
    """`t` as an operand of a product: float32, or rounded to bfloat16."""
    return t if products == "float32" else tf.cast(t, tf.bfloat16)


def _mm(a, b, products: str = "float32", **kwargs):
    """tf.matmul in `products` (operands cast unless they already are), the result in float32."""
    if products == "float32":
        return tf.matmul(a, b, **kwargs)
    out = tf.matmul(a if a.dtype == tf.bfloat16 else _low(a, products),
                    b if b.dtype == tf.bfloat16 else _low(b, products), **kwargs)
    return tf.cast(out, tf.float32)


def _project(x, kernel, bias, products: str = "float32", ids=None):
    """Input projection of all steps at once -> (time, batch, gates), and what the backward pass needs of the
    input: x (batch, time, in) time-major, or with `ids` (batch, time) the ids time-major, x being then the
    embedding table (vocab, in) whose rows they pick: each step's projection is a row of E @ W + b."""
    if ids is not None:
        steps = tf.transpose(ids)  # (time, batch)
        return steps, tf.gather(_mm(x, kernel, products) + bias, steps)  # rows of a (vocab, gates) table
    xt = tf.transpose(x, [1, 0, 2])  # (time, batch, in)
    z = tf.reshape(_mm(tf.reshape(xt, [-1, tf.shape(x)[2]]), kernel, products),
                   [tf.shape(xt)[0], tf.shape(x)[0], -1])
    return xt, z + bias  # (time, batch, in), (time, batch, gates)


def _input_grads(x, seen, dz_x, kernel, products: str = "float32"):
    """Gradients of W, the input bias and the input from all steps' input-side gate gradients dz_x
    (time, batch, gates); `seen` is what `_project` returned beside the projection.

    With ids, each table row's gate gradients are summed first (dT: vocab, gates) and dW = E^T dT; the
    embedding's gradient stays the one its own lookup gives, each step's row dz_x W^T at its id (IndexedSlices):
    Keras' Adam squares such rows one by one, so the summed dT W^T would train the embedding differently."""
    flat = tf.reshape(dz_x, [-1, tf.shape(dz_x)[2]])  # (time·batch, gates)
    rows = _mm(flat, kernel, products, transpose_b=True)  # (time·batch, in)
    if seen.dtype.is_integer:
        vocab = x.shape[0] if x.shape[0] is not None else tf.shape(x)[0]  # static for XLA
        d_table = tf.math.unsorted_segment_sum(dz_x, seen, vocab)  # (vocab, gates)
        d_input = tf.IndexedSlices(rows, tf.reshape(seen, [-1]), tf.shape(x, out_type=seen.dtype))
        return _mm(x, d_table, products, transpose_a=True), tf.reduce_sum(d_table, 0), d_input
    d_kernel = _mm(tf.reshape(seen, [-1, tf.shape(seen)[2]]), flat, products, transpose_a=True)  # (in, gates)
    return d_kernel, tf.reduce_sum(flat, 0), tf.transpose(tf.reshape(rows, tf.shape(seen)), [1, 0, 2])


def _recurrent_grad(h_prev, dz_h, products: str = "float32"):
    """dR = H_prev^T dZ_h over all steps: (units, gates)."""
    return _mm(tf.reshape(h_prev, [-1, tf.shape(h_prev)[2]]), tf.reshape(dz_h, [-1, tf.shape(dz_h)[2]]),
               products, transpose_a=True)


def _loop(steps, body, state, dtype, stored: int):
    """Runs `body(t, *state) -> (*state, *outputs)` for t in `steps`; returns the final state and stacked outputs."""
    arrays = [tf.TensorArray(dtype, size=tf.size(steps)) for _ in range(stored)]
    n = len(state)

    def step(k, *carry):
        t = steps[k]
        new = body(t, *carry[:n])
        return (k + 1, *new[:n], *[a.write(t, v) for a, v in zip(carry[n:], new[n:])])

    out = tf.while_loop(lambda k, *_: k < tf.size(steps), step, (0, *state, *arrays))
    return out[1:n + 1], [a.stack() for a in out[n + 1:]]


def simple_rnn_sequence(x, kernel, recurrent, bias, h0, products: str = "float32", ids=None):
    """h_t = tanh(x_t W + b + h_{t-1} R). Returns outputs (batch, time, units) and the last h.

    With `ids` (batch, time), x is the embedding table (vocab, in) whose rows they pick (see `_project`)."""

    @tf.custom_gradient
    def run(x, kernel, recurrent, bias, h0):
        seen, zx = _project(x, kernel, bias, products, ids)
        recurrent_p = _low(recurrent, products)  # rounded once, outside the loop
        time = tf.range(tf.shape(seen)[0])
        (h,), (hs,) = _loop(time, lambda t, h: (tf.tanh(zx[t] + _mm(h, recurrent_p, products)),) * 2, (h0,), x.dtype, 1)

        def grad(d_out, d_h):
            d_hs = tf.transpose(d_out, [1, 0, 2])  # (time, batch, units)

            recurrent_t = _low(tf.transpose(recurrent), products)  # a transposed copy once: faster than transpose_b per step

            def back(t, dh_next):
                da = (d_hs[t] + dh_next) * (1 - hs[t] * hs[t])
                return _mm(da, recurrent_t, products), da

            (dh0,), (dz,) = _loop(tf.reverse(time, [0]), back, (d_h,), x.dtype, 1)
            h_prev = tf.concat([h0[None], hs[:-1]], 0)
            dk, db, dx = _input_grads(x, seen, dz, kernel, products)
            dr = _recurrent_grad(h_prev, dz, products)
            return dx, dk, dr, db, dh0

        return (tf.transpose(hs, [1, 0, 2]), h), grad

    return run(x, kernel, recurrent, bias, h0)


def lstm_sequence(x, kernel, recurrent, bias, h0, c0, products: str = "float32", ids=None):
    """Keras' LSTM (gates i, f, c, o). Returns outputs (batch, time, units), the last h and c.

    The forward step stores the factors of the backward step's gate gradients, so that the reverse step
    is one element-wise pass with no tanh to recompute (1-7% faster at the layer level on a Zen 4).
    With `ids`, x is the embedding table whose rows they pick (see `_project`)."""

    @tf.custom_gradient
    def run(x, kernel, recurrent, bias, h0, c0):
        seen, zx = _project(x, kernel, bias, products, ids)
        recurrent_p = _low(recurrent, products)  # rounded once, outside the loop
        time = tf.range(tf.shape(seen)[0])
        units = tf.shape(recurrent)[0]

        def body(t, h, c_prev):
            z = zx[t] + _mm(h, recurrent_p, products)  # (batch, 4 units)
            i, f = tf.sigmoid(z[:, :units]), tf.sigmoid(z[:, units:2 * units])
            g, o = tf.tanh(z[:, 2 * units:3 * units]), tf.sigmoid(z[:, 3 * units:])
            c = f * c_prev + i * g
            tc = tf.tanh(c)
            h = o * tc
            # d loss / d z = [dc, dc, dc, dh] * p[:, :4 units], dc = dh * p[:, 4 units:5 units] + dc_next,
            # and the carried gradient of c_prev is dc * f: (batch, 6 units)
            p = tf.concat([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g), tc * o * (1 - o),
                           o * (1 - tc * tc), f], -1)
            return h, c, h, p

        (h, c), (hs, factors) = _loop(time, body, (h0, c0), x.dtype, 2)

        def grad(d_out, d_h, d_c):
            d_hs = tf.transpose(d_out, [1, 0, 2])
            recurrent_t = _low(tf.transpose(recurrent), products)

            def back(t, dh_next, dc_next):
                p = factors[t]
                dh = d_hs[t] + dh_next
                dc = dh * p[:, 4 * units:5 * units] + dc_next
                dz = tf.concat([dc, dc, dc, dh], -1) * p[:, :4 * units]  # (batch, 4 units)
                return _mm(dz, recurrent_t, products), dc * p[:, 5 * units:], dz

            (dh0, dc0), (dz,) = _loop(tf.reverse(time, [0]), back, (d_h, d_c), x.dtype, 1)
            h_prev = tf.concat([h0[None], hs[:-1]], 0)
            dk, db, dx = _input_grads(x, seen, dz, kernel, products)
            dr = _recurrent_grad(h_prev, dz, products)
            return dx, dk, dr, db, dh0, dc0

        return (tf.transpose(hs, [1, 0, 2]), h, c), grad

    return run(x, kernel, recurrent, bias, h0, c0)


def gru_sequence(x, kernel, recurrent, bias, h0, products: str = "float32", ids=None):
    """Keras' GRU with reset_after=True (gates z, r, h; bias rows: input, recurrent). Returns outputs and the last h.

    With `ids`, x is the embedding table whose rows they pick (see `_project`)."""

    @tf.custom_gradient
    def run(x, kernel, recurrent, bias, h0):
        seen, zx = _project(x, kernel, bias[0], products, ids)
        recurrent_p = _low(recurrent, products)  # rounded once, outside the loop
        time = tf.range(tf.shape(seen)[0])

        def body(t, h):
            xz, xr, xh = tf.split(zx[t], 3, axis=-1)
            rz, rr, rh = tf.split(_mm(h, recurrent_p, products) + bias[1], 3, axis=-1)
            z, r = tf.sigmoid(xz + rz), tf.sigmoid(xr + rr)
            hh = tf.tanh(xh + r * rh)
            h_new = z * h + (1 - z) * hh
            return h_new, h_new, tf.concat([z, r, hh, rh], -1)

        (h,), (hs, saved) = _loop(time, body, (h0,), x.dtype, 2)

        def grad(d_out, d_h):
            d_hs = tf.transpose(d_out, [1, 0, 2])
            h_prev = tf.concat([h0[None], hs[:-1]], 0)
            recurrent_t = _low(tf.transpose(recurrent), products)

            def back(t, dh_next):
                z, r, hh, rh = tf.split(saved[t], 4, axis=-1)
                dh = d_hs[t] + dh_next
                dz = dh * (h_prev[t] - hh) * z * (1 - z)
                da = dh * (1 - z) * (1 - hh * hh)  # pre-activation of hh
                dr = da * rh * r * (1 - r)
                dz_h = tf.concat([dz, dr, da * r], -1)  # gradient of h R + b_rec
                return dh * z + _mm(dz_h, recurrent_t, products), tf.concat([dz, dr, da], -1), dz_h

            (dh0,), (dz_x, dz_h) = _loop(tf.reverse(time, [0]), back, (d_h,), x.dtype, 2)
            dk, db_x, dx = _input_grads(x, seen, dz_x, kernel, products)
            dr, db_h = _recurrent_grad(h_prev, dz_h, products), tf.reduce_sum(dz_h, [0, 1])
            return dx, dk, dr, tf.stack([db_x, db_h]), dh0

        return (tf.transpose(hs, [1, 0, 2]), h), grad

    return run(x, kernel, recurrent, bias, h0)


class _FastLoop:
    """The shared part of the three layers: when to take the fast loop, and how."""

    products = "float32"  # the type of the fast loop's matrix products in training (see the module doc); not saved
    _table_source = None  # a weak reference to the Embedding whose table `ids` index (`read_table_from`); not saved
    _ids = None  # the current call's `ids`, for `inner_loop`

    def read_table_from(self, embedding: keras.layers.Embedding) -> None:
        """Lets a call given `ids` (the tokens `embedding` turns into this layer's input) project them from the
        (vocab, gates) table E @ W (module doc, point 3). A weak reference, not tracked: the embedding's
        weights stay the embedding's alone, and a saved or loaded model has no such link (it takes x)."""
        self._table_source = weakref.ref(embedding)

    def call(self, sequences, initial_state=None, mask=None, training=False, ids=None):
        self._ids = ids  # (batch, time) token ids whose embedding `sequences` is, or None
        try:
            return super().call(sequences, initial_state=initial_state, mask=mask, training=training)
        finally:
            self._ids = None

    def _table(self):
        """The embedding table (vocab, in) that this call's ids index, or None (then the loop reads x)."""
        embedding = self._table_source() if self._table_source is not None else None
        if self._ids is None or embedding is None or len(self._ids.shape) != 2:
            return None
        table = embedding.embeddings  # a variable (a tensor with LoRA)
        if embedding.quantization_mode is not None or keras.backend.standardize_dtype(table.dtype) != "float32":
            return None
        return getattr(table, "value", table)

    def _fast_ok(self, sequences, mask, training) -> bool:
        cell = self.cell
        return (keras.backend.backend() == "tensorflow" and mask is None and not self.go_backwards
                and not self.unroll and cell.use_bias
                and sequences.dtype == tf.float32 and cell.activation is _tanh
                and getattr(cell, "recurrent_activation", _sigmoid) is _sigmoid
                and not ((cell.dropout or cell.recurrent_dropout) and training)
                and getattr(cell, "reset_after", True) and not tf.config.list_logical_devices("GPU"))

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if not self._fast_ok(sequences, mask, training):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        states = [getattr(s, "value", s) for s in states]  # a stateful layer passes its state variables
        cell, table = self.cell, self._table()
        outputs, *new_states = self._sequence(sequences if table is None else table, cell.kernel.value,
                                              cell.recurrent_kernel.value, cell.bias.value, *states,
                                              products=self.products if training else "float32",
                                              ids=None if table is None else self._ids)
        return new_states[0], outputs, new_states


@keras.saving.register_keras_serializable(package="kerasrnn")
class FastSimpleRNN(_FastLoop, keras.layers.SimpleRNN):
    """`keras.layers.SimpleRNN` with the faster CPU training loop (see the module doc)."""

    _sequence = staticmethod(simple_rnn_sequence)


@keras.saving.register_keras_serializable(package="kerasrnn")
class FastLSTM(_FastLoop, keras.layers.LSTM):
    """`keras.layers.LSTM` with the faster CPU training loop (see the module doc)."""

    _sequence = staticmethod(lstm_sequence)


@keras.saving.register_keras_serializable(package="kerasrnn")
class FastGRU(_FastLoop, keras.layers.GRU):
    """`keras.layers.GRU` (reset_after=True) with the faster CPU training loop (see the module doc)."""

    _sequence = staticmethod(gru_sequence)
