// Word suggestions that follow the text as it is typed: a port of kerasrnn.ondevice.autocomplete's
// Autocompleter. One model step per keystroke; the prefix is never run again.
//
// The model is anything with zeroState(), step(token, state) -> Promise<{logits, state}> and
// release(state): a StepModel in the page, a stand-in in the Node tests. The completer owns every
// state it holds (the current one and those kept for backspace) and releases each exactly once.

import { beamComplete, softmax } from './beam.js';

export const WORD_PUNCTUATION = "'-"; // characters that continue a word besides letters and digits
export const HISTORY = 256; // keystrokes that backspace can undo (as HISTORY in Python)
export const BEAM_WIDTH = 6;
export const MAX_COMPLETION = 16;

const ALNUM = /^[\p{L}\p{N}]$/u; // Python's str.isalnum for one character (letters and numbers)

/** Whether `c` (one character) continues a word. */
export function isWordChar(c) {
  return ALNUM.test(c) || WORD_PUNCTUATION.includes(c);
}

export class Autocompleter {
  /**
   * @param {object} model the step model (see above).
   * @param {object} manifest the export's manifest.json (vocabulary, specials, unk_id, start_text).
   * @param {object} [options] beamWidth, maxLen.
   */
  constructor(model, manifest, options = {}) {
    this.model = model;
    this.manifest = manifest;
    this.tokens = manifest.vocabulary;
    this.unkId = manifest.unk_id;
    const specials = new Set(manifest.specials ?? []);
    this.index = new Map(); // character -> id, specials left out
    this.tokens.forEach((t, i) => { if (!specials.has(t)) this.index.set(t, i); });
    const usable = [...this.index.entries()]; // in id order
    this.wordIds = usable.filter(([t]) => isWordChar(t)).map(([, i]) => i);
    this.endIds = usable.filter(([t]) => !isWordChar(t)).map(([, i]) => i);
    this.beamWidth = options.beamWidth ?? BEAM_WIDTH;
    this.maxLen = options.maxLen ?? MAX_COMPLETION;
    this.history = []; // [{state, logits, word}], oldest first, at most HISTORY
    this.state = null;
    this.logits = null;
    this.word = ''; // the part of the current word typed so far
  }

  /** Character ids, one per code point (unknown characters take the unknown id). */
  encode(text) {
    return Array.from(text, (c) => this.index.get(c) ?? this.unkId);
  }

  /** Forgets all text: back to the state after the manifest's start text. */
  async reset() {
    this.dispose();
    this.state = this.model.zeroState();
    for (const id of this.encode(this.manifest.start_text)) {
      const out = await this.model.step(id, this.state);
      this.model.release(this.state);
      ({ state: this.state, logits: this.logits } = out);
    }
  }

  /** Types `text`: one step per character. */
  async feed(text) {
    for (const c of text) {
      const out = await this.model.step(this.index.get(c) ?? this.unkId, this.state);
      this.history.push({ state: this.state, logits: this.logits, word: this.word }); // now the history's
      if (this.history.length > HISTORY) this.model.release(this.history.shift().state);
      ({ state: this.state, logits: this.logits } = out);
      this.word = isWordChar(c) ? this.word + c : '';
    }
  }

  /** How many characters `backspace` can delete now. */
  get undoable() {
    return this.history.length;
  }

  /** Deletes the last `count` typed characters, restoring the states kept for them. */
  backspace(count = 1) {
    if (count > this.history.length) {
      throw new RangeError(`can only go back ${this.history.length} characters; reset() and feed the text`);
    }
    for (let i = 0; i < count; i++) {
      this.model.release(this.state);
      ({ state: this.state, logits: this.logits, word: this.word } = this.history.pop());
    }
  }

  /**
   * The k most likely completions of the current word, most likely first.
   *
   * @returns {Promise<Array<{word: string, completion: string, prob: number}>>}
   */
  async suggestions(k = 3) {
    const found = await beamComplete((t, s) => this.model.step(t, s), this.state, this.logits,
        this.wordIds, this.endIds, { k, beamWidth: this.beamWidth, maxLen: this.maxLen,
          allowEmpty: this.word.length > 0, release: (s) => this.model.release(s) });
    return found.map(({ ids, prob }) => {
      const completion = ids.map((i) => this.tokens[i]).join('');
      return { word: this.word + completion, completion, prob };
    });
  }

  /**
   * The n likeliest next characters and their probabilities (special tokens left out, as the
   * SavedModel's serving_default does).
   *
   * @returns {Array<{char: string, prob: number}>}
   */
  nextChars(n = 8) {
    const ids = [...this.index.values()];
    const probs = softmax(ids.map((i) => this.logits[i]));
    return ids.map((id, j) => ({ char: this.tokens[id], prob: probs[j] }))
      .sort((a, b) => b.prob - a.prob).slice(0, n);
  }

  /** Releases every state held. */
  dispose() {
    for (const h of this.history) this.model.release(h.state);
    this.history = [];
    if (this.state) this.model.release(this.state);
    this.state = null;
    this.logits = null;
    this.word = '';
  }
}
