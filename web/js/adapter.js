// The personal model's correction of the RNN's next-token distribution, learned from every key typed: a port
// of kerasrnn.ondevice.adapter (dynamic evaluation of the output layer, Krause et al. 2018).
//
// The RNN's logits z (V) after the text typed, from its state h (S), become z' = z + W h + b; after each token t
// typed, g = softmax(z') - onehot(t), W -= RATE * outer(g, h), b -= RATE * g. Float64 throughout, as in Python;
// the sums run in index order here (NumPy's in its own), so the two agree to about 1e-12, not bit for bit. The
// adapter belongs to one export (the sha256 of its float file): a save of another model's is not loaded.

export const RATE = 0.002; // the learning rate (as in Python)
export const MAX_VALUES = 1 << 20; // the largest W (V * S values) a save may hold

function toBase64(values) {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat64(i * 8, v, true)); // little-endian, as Python writes them
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

function fromBase64(text, size, name) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) {
    throw new Error(`a personal model whose adapter ${name} is not base64`);
  }
  const raw = atob(text);
  if (raw.length !== size * 8) throw new Error(`a personal model whose adapter ${name} is not ${size} finite numbers`);
  const view = new DataView(Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer);
  const values = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    values[i] = view.getFloat64(i * 8, true);
    if (!Number.isFinite(values[i])) {
      throw new Error(`a personal model whose adapter ${name} is not ${size} finite numbers`);
    }
  }
  return values;
}

export class OutputAdapter {
  /**
   * @param {string} [model] the model whose states and logits these are ('' until bound).
   * @param {number} [rate] the learning rate.
   */
  constructor(model = '', rate = RATE) {
    this.model = model;
    this.rate = rate;
    this.clear();
  }

  /** Forgets what was learned. */
  clear() {
    this.weights = null; // Float64Array (V * S), row-major (null: not learned yet)
    this.bias = null; // Float64Array (V)
    this.rows = 0;
    this.columns = 0;
    this.steps = 0; // tokens learned
  }

  /** Makes this the adapter of `model`: what was learned for another model is forgotten. */
  bind(model) {
    if (model !== this.model) {
      this.clear();
      this.model = model;
    }
  }

  fits(logits, state) {
    return this.weights !== null && this.rows === logits.length && this.columns === state.length;
  }

  /** z' (a Float64Array) for the RNN's logits z from its state values h; z as it is where nothing fits. */
  logits(logits, state) {
    if (!this.fits(logits, state)) return Float64Array.from(logits);
    const out = new Float64Array(this.rows);
    for (let v = 0; v < this.rows; v++) {
      let dot = 0;
      const row = v * this.columns;
      for (let s = 0; s < this.columns; s++) dot += this.weights[row + s] * state[s];
      out[v] = logits[v] + dot + this.bias[v];
    }
    return out;
  }

  /** One step on the token typed after the state values h, whose logits were z (a W of other sizes: forgotten). */
  learn(logits, state, token) {
    if (!this.fits(logits, state)) {
      this.rows = logits.length;
      this.columns = state.length;
      this.weights = new Float64Array(this.rows * this.columns);
      this.bias = new Float64Array(this.rows);
      this.steps = 0;
    }
    const g = this.logits(logits, state);
    let max = -Infinity;
    for (const z of g) if (z > max) max = z;
    let sum = 0;
    for (let v = 0; v < g.length; v++) {
      g[v] = Math.exp(g[v] - max);
      sum += g[v];
    }
    for (let v = 0; v < g.length; v++) g[v] /= sum;
    g[token] -= 1;
    for (let v = 0; v < this.rows; v++) {
      const step = this.rate * g[v];
      const row = v * this.columns;
      for (let s = 0; s < this.columns; s++) this.weights[row + s] -= step * state[s];
      this.bias[v] -= step;
    }
    this.steps++;
  }

  /** The save form (Python's to_json), or null when empty. */
  toJSON() {
    if (this.weights === null || !this.model) return null;
    return { model: this.model, rows: this.rows, columns: this.columns, steps: this.steps,
             weights: toBase64(this.weights), bias: toBase64(this.bias) };
  }

  /**
   * Checks a save (toJSON, or Python's) without changing anything: what `load` takes (null: another model's).
   * @throws {Error} a malformed save (one line).
   */
  read(data) {
    if (data === null || typeof data !== 'object' || Array.isArray(data) || typeof data.model !== 'string') {
      throw new Error('a personal model with a malformed adapter');
    }
    const { rows, columns, steps } = data;
    if (![rows, columns, steps].every(Number.isInteger) || !(rows > 0 && columns > 0 && rows * columns <= MAX_VALUES
                                                             && steps >= 0)) {
      throw new Error('a personal model whose adapter has no valid size');
    }
    const weights = fromBase64(data.weights, rows * columns, 'weights');
    const bias = fromBase64(data.bias, rows, 'bias');
    return data.model === this.model && this.model ? { rows, columns, steps, weights, bias } : null;
  }

  /** Replaces what was learned with what `read` returned (null: empty). */
  load(read) {
    this.clear();
    if (read) Object.assign(this, read);
  }
}
