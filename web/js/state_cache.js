// The personal model's memory of where each word was typed: the RNN's state at the start of the words typed
// lately (a continuous cache, Grave, Joulin and Usunier, ICLR 2017, over whole words). An exact port of
// kerasrnn.ondevice.state_cache: the same integers and the same double operations in the same order, so the
// same numbers bit for bit (tests/ondevice/personal_cases.json, tests/ondevice/test_personal_port.py).
//
// Each entry is a word and the state just before its first token as int8, q = floor(127 h / max|h| + 0.5).
// For the state at the current word's start and its prefix, each entry whose word starts with the prefix
// weighs ((1 + cos) / 2) ** 32, and P_state(w) is the share of w's entries in the sum of those weights (each
// word's sum in entry order, the total over the words in code-point order).

import { compareCodePoints } from './codepoints.js';

export const CAPACITY = 1000; // entries kept (the oldest forgotten first)
export const SQUARINGS = 5; // the kernel is ((1 + cos) / 2) ** (2 ** SQUARINGS)
export const MAX_STATE = 8192; // the largest state a saved entry may hold, in values

/** A state (float32 values) as int8 values: floor(127 h / max|h| + 0.5), all zeros for a zero state. */
export function quantize(state) {
  const h = Float64Array.from(state, Math.fround); // as Python reads it: float32 values
  let top = 0;
  for (const v of h) top = Math.max(top, Math.abs(v));
  const q = new Int8Array(h.length);
  if (top === 0) return q;
  for (let i = 0; i < h.length; i++) q[i] = Math.floor(h[i] * 127 / top + 0.5);
  return q;
}

function squaredNorm(q) {
  let n = 0;
  for (const v of q) n += v * v;
  return n;
}

function toBase64(q) {
  let bytes = '';
  for (const b of new Uint8Array(q.buffer, q.byteOffset, q.length)) bytes += String.fromCharCode(b);
  return btoa(bytes);
}

function fromBase64(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) {
    throw new Error(`a state entry that is not base64: ${String(text).slice(0, 40)}`);
  }
  return Int8Array.from(atob(text), (c) => (c.charCodeAt(0) << 24) >> 24);
}

export class StateCache {
  /**
   * @param {number} [capacity] entries kept (0: none).
   * @param {string} [model] the model whose states these are ('' until bound).
   */
  constructor(capacity = CAPACITY, model = '') {
    this.capacity = capacity;
    this.model = model;
    this.clear();
  }

  /** Forgets every entry. */
  clear() {
    this.words = []; // oldest first
    this.vectors = []; // Int8Array per entry
    this.norms = []; // |q|^2 per entry
  }

  get size() {
    return this.words.length;
  }

  /** Makes this the cache of `model`'s states: the entries of another model's are forgotten. */
  bind(model) {
    if (model !== this.model) {
      this.clear();
      this.model = model;
    }
  }

  /** Keeps `word` with the state at its start (a state of another size than the entries': forgets them). */
  add(word, state) {
    if (this.capacity <= 0) return;
    this.push(word, quantize(state));
  }

  push(word, q) {
    if (this.vectors.length && this.vectors[0].length !== q.length) this.clear();
    if (this.words.length >= this.capacity) {
      this.words.shift();
      this.vectors.shift();
      this.norms.shift();
    }
    this.words.push(word);
    this.vectors.push(q);
    this.norms.push(squaredNorm(q));
  }

  /** P_state(w) for the words of the entries that start with `prefix`, given the state at the current word's
   * start (an empty Map when no entry matches). */
  distribution(prefix, state) {
    const chosen = [];
    this.words.forEach((w, j) => { if (w.startsWith(prefix)) chosen.push(j); });
    if (!chosen.length) return new Map();
    const q = quantize(state);
    if (q.length !== this.vectors[0].length) return new Map();
    const norm = squaredNorm(q);
    const sums = new Map(); // word -> the sum of its entries' weights, oldest first
    for (const j of chosen) {
      const v = this.vectors[j];
      let dot = 0;
      for (let i = 0; i < q.length; i++) dot += v[i] * q[i]; // integers: exact
      const n = this.norms[j];
      const cos = n > 0 && norm > 0 ? dot / Math.sqrt(n * norm) : 0;
      let k = (1 + cos) / 2;
      for (let s = 0; s < SQUARINGS; s++) k *= k;
      sums.set(this.words[j], (sums.get(this.words[j]) ?? 0) + k);
    }
    const words = [...sums.keys()].sort(compareCodePoints);
    let total = 0;
    for (const w of words) total += sums.get(w); // in code-point order, as Python adds them
    if (total === 0) return new Map();
    return new Map(words.map((w) => [w, sums.get(w) / total]));
  }

  /** The save form (Python's to_json): the entries oldest first, [word, base64 of the int8 values]. */
  toJSON() {
    return { model: this.model, entries: this.words.map((w, j) => [w, toBase64(this.vectors[j])]) };
  }

  /**
   * The entries of a save (toJSON, or Python's), checked, or null when they are another model's states.
   *
   * @param {function(string): void} checkWord throws for a word that is not one.
   * @throws {Error} a malformed save.
   */
  read(data, checkWord) {
    if (data === null || typeof data !== 'object' || typeof data.model !== 'string' || !Array.isArray(data.entries)) {
      throw new Error('a personal model with malformed states');
    }
    if (data.model !== this.model || !this.model) return null;
    const out = [];
    let size = null;
    for (const entry of this.capacity > 0 ? data.entries.slice(-this.capacity) : []) {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[1] !== 'string') {
        throw new Error(`a malformed state entry ${JSON.stringify(entry)?.slice(0, 60)}`);
      }
      checkWord(entry[0]);
      const q = fromBase64(entry[1]);
      if (!(q.length > 0 && q.length <= MAX_STATE) || (size !== null && q.length !== size)) {
        throw new Error(`a state entry of ${q.length} values`);
      }
      size = q.length;
      out.push([entry[0], q]);
    }
    return out;
  }

  /** Replaces the entries with those `read` returned (nothing for null). */
  load(entries) {
    this.clear();
    for (const [w, q] of entries ?? []) this.push(w, quantize(q));
  }
}
