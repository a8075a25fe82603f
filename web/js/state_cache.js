// The personal model's memory of where each word was typed: the RNN's state at the start of the words typed
// lately (a continuous cache, Grave, Joulin and Usunier, ICLR 2017, over whole words). An exact port of
// kerasrnn.ondevice.state_cache: the same integers and the same double operations in the same order, so the
// same numbers bit for bit (tests/ondevice/personal_cases.json, tests/ondevice/test_personal_port.py).
//
// Each entry is a word and the state just before its first token as int8, q = floor(127 h / max|h| + 0.5).
// For the state at the current word's start and its prefix, each entry whose word starts with the prefix
// weighs ((1 + cos) / 2) ** 32, and P_state(w) is the share of w's entries in the sum of those weights (each
// word's sum in entry order, the total over the words in code-point order).

import { bisect } from './codepoints.js';

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

const LAST = String.fromCodePoint(0x10ffff); // prefix + LAST bounds the words that start with prefix

/** values[o .. o + q.length) . q, for int8 values: every partial sum an integer (exact in any order). */
function intDot(values, o, q) {
  const n = q.length;
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    a += values[o + i] * q[i];
    b += values[o + i + 1] * q[i + 1];
    c += values[o + i + 2] * q[i + 2];
    d += values[o + i + 3] * q[i + 3];
  }
  for (; i < n; i++) a += values[o + i] * q[i];
  return a + b + c + d;
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
    this.count = 0; // entries held
    this.start = 0; // the row of the oldest (rows are reused oldest first)
    this.sorted = []; // the distinct words, in code-point order
    this.entriesOf = new Map(); // word -> how many entries it has
    this.wordOf = []; // row -> its entry's word
    this.rank = null; // Int32Array: row -> the index of its word in sorted
    this.values = null; // Int8Array (capacity * S): the rows' int8 states
    this.norms = null; // Float64Array: row -> |q|^2
    this.width = 0; // S
    this.version = (this.version ?? 0) + 1; // changes with the entries (the weights below are kept for one)
    this.memo = null; // {version, q, weights}: every entry's weight for the last state asked about
  }

  get size() {
    return this.count;
  }

  /** Whether there are entries to compare `state` with (of its size: a save's states of another size are not
   * used, and the next state added replaces them). */
  fits(state) {
    return this.count > 0 && this.width === state.length;
  }

  /** The rows of the entries, oldest first. */
  rows() {
    return Array.from({ length: this.count }, (_, j) => (this.start + j) % this.capacity);
  }

  /** A row's int8 values (a view). */
  row(r) {
    return this.values.subarray(r * this.width, (r + 1) * this.width);
  }

  /** The entries' words, oldest first. */
  get words() {
    return this.rows().map((r) => this.wordOf[r]);
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
    if (this.values && this.width !== q.length) this.clear();
    if (!this.values) {
      this.width = q.length;
      this.values = new Int8Array(this.capacity * q.length);
      this.norms = new Float64Array(this.capacity);
      this.rank = new Int32Array(this.capacity);
      this.wordOf = new Array(this.capacity).fill('');
    }
    let row;
    if (this.count === this.capacity) { // the oldest entry's row is reused
      row = this.start;
      this.start = (this.start + 1) % this.capacity;
      const old = this.wordOf[row];
      this.entriesOf.set(old, this.entriesOf.get(old) - 1);
      if (!this.entriesOf.get(old)) {
        this.entriesOf.delete(old);
        const at = this.rank[row];
        this.sorted.splice(at, 1);
        for (let r = 0; r < this.count; r++) if (this.rank[r] > at) this.rank[r]--;
      }
    } else {
      row = this.count++;
    }
    if (!this.entriesOf.has(word)) {
      this.entriesOf.set(word, 0);
      const at = bisect(this.sorted, word);
      this.sorted.splice(at, 0, word);
      for (let r = 0; r < this.count; r++) if (this.rank[r] >= at) this.rank[r]++;
    }
    this.entriesOf.set(word, this.entriesOf.get(word) + 1);
    this.version++;
    this.values.set(q, row * this.width);
    this.norms[row] = squaredNorm(q);
    this.wordOf[row] = word;
    this.rank[row] = bisect(this.sorted, word);
  }

  /** P_state(w) for the words of the entries that start with `prefix`, given the state at the current word's
   * start (an empty Map when no entry matches). */
  distribution(prefix, state) {
    const lo = bisect(this.sorted, prefix);
    const hi = bisect(this.sorted, prefix + LAST, lo);
    if (lo === hi) return new Map();
    const q = quantize(state);
    if (q.length !== this.width) return new Map();
    const weights = this.weights(q);
    const sums = new Float64Array(hi - lo); // each word's weights, oldest first
    for (let j = 0; j < this.count; j++) {
      const row = (this.start + j) % this.capacity;
      const at = this.rank[row];
      if (at >= lo && at < hi) sums[at - lo] += weights[row];
    }
    let total = 0;
    for (const v of sums) total += v; // in code-point order, as Python adds them
    if (total === 0) return new Map();
    return new Map(this.sorted.slice(lo, hi).map((w, i) => [w, sums[i] / total]));
  }

  /** Every entry's weight ((1 + cos) / 2) ** 32 for the int8 state q, by row. The state at a word's start serves
   * every keystroke of the word: the weights are kept until the entries or q change (the same numbers). */
  weights(q) {
    const memo = this.memo;
    if (memo && memo.version === this.version && memo.q.length === q.length && memo.q.every((v, i) => v === q[i])) {
      return memo.weights;
    }
    const norm = squaredNorm(q);
    const weights = new Float64Array(this.capacity);
    for (let row = 0; row < this.count; row++) {
      const dot = intDot(this.values, row * this.width, q); // an integer: exact
      const n = this.norms[row];
      const cos = n > 0 && norm > 0 ? dot / Math.sqrt(n * norm) : 0;
      let k = (1 + cos) / 2;
      for (let s = 0; s < SQUARINGS; s++) k *= k;
      weights[row] = k;
    }
    this.memo = { version: this.version, q, weights };
    return weights;
  }

  /** The save form (Python's to_json): the entries oldest first, [word, base64 of the int8 values]. */
  toJSON() {
    return { model: this.model, entries: this.rows().map((r) => [this.wordOf[r], toBase64(this.row(r))]) };
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
      if (!(q.length > 0 && q.length <= MAX_STATE)) {
        throw new Error(`a state entry of ${q.length} values (at most ${MAX_STATE})`);
      }
      if (size !== null && q.length !== size) throw new Error(`state entries of ${size} and of ${q.length} values`);
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
