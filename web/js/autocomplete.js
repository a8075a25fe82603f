// Word suggestions that follow the text as it is typed: a port of kerasrnn.ondevice.autocomplete's
// Autocompleter. One model step per keystroke; the prefix is never run again.
//
// A model whose manifest says "input": "keys-2beolsik" (exported/korean-gru) reads the keys of the Korean
// keyboard, as in Python: `feed` types text as keys (js/hangul.js: '기' = ㄱ ㅣ), `text` and `word` are
// what the keyboard shows (its composition), `backspace` is the keyboard's (one key of the open
// syllable, else the last character whole), and suggestions are shown composed ('ㄱㅣ' + 'ㅇㅓㄱ' -> '기억').
//
// With a personal model (js/personal.js, options.personal), the words typed are learned as each one ends
// and its suggestions are mixed into the RNN's, as in Python.
//
// The model is anything with zeroState(), step(token, state) -> Promise<{logits, state}>, values(state) ->
// Float32Array (a state's numbers, for the personal model's state cache) and release(state): a StepModel in
// the page, a stand-in in the Node tests. The completer owns every
// state it holds (the current one and those kept for backspace) and releases each exactly once.

import { beamComplete, softmax } from './beam.js';
import { KEYBOARD, Keyboard } from './hangul.js';
import { CHARACTERS } from './personal.js';

export const WORD_PUNCTUATION = "'-"; // characters that continue a word besides letters and digits
export const HISTORY = 256; // keystrokes that backspace can undo (as HISTORY in Python)
export const BEAM_WIDTH = 6;
export const MAX_COMPLETION = 16;
export const FOUND = 8; // completions the search hands a personal model to mix (as FOUND in Python)
export const MIN_PROB = 0.0005; // suggestions less likely than this are not offered (as MIN_PROB in Python)

const ALNUM = /^[\p{L}\p{N}]$/u; // Python's str.isalnum for one character (letters and numbers)

/** Whose RNN states a personal model's state cache keeps: the export's float file (as model_id in Python). */
export function modelId(manifest) {
  return manifest.files?.['model.tflite']?.sha256 ?? '';
}

/** Whether `c` (one character) continues a word. */
export function isWordChar(c) {
  return ALNUM.test(c) || WORD_PUNCTUATION.includes(c);
}

/** Whether `c` continues a Korean word: Hangul keys and syllables, letters, digits (str.isalnum). */
export function isKoreanWordChar(c) {
  return ALNUM.test(c);
}

export class Autocompleter {
  /**
   * @param {object} model the step model (see above).
   * @param {object} manifest the export's manifest.json (vocabulary, specials, unk_id, start_text; a
   *     keyboard model's input, keys and keyboard tables).
   * @param {object} [options] beamWidth, maxLen; personal: a PersonalModel of this model's tokens (or null).
   * @throws {Error} a keyboard model's tables are not those of the 2-beolsik keyboard; a personal model of
   *     other tokens.
   */
  constructor(model, manifest, options = {}) {
    this.model = model;
    this.manifest = manifest;
    this.vocabulary = manifest.vocabulary;
    this.unkId = manifest.unk_id;
    this.keyboard = manifest.input === KEYBOARD ? new Keyboard(manifest.keyboard) : null; // tokens are keys
    if (this.keyboard && (manifest.keys ?? []).join('') !== this.keyboard.keys) {
      throw new Error(`the manifest's keys are not its keyboard's ${this.keyboard.keys}: export the model again`);
    }
    this.wordChar = this.keyboard ? isKoreanWordChar : isWordChar; // token -> continues a word
    const specials = new Set(manifest.specials ?? []);
    this.index = new Map(); // character -> id, specials left out
    this.vocabulary.forEach((t, i) => { if (!specials.has(t)) this.index.set(t, i); });
    const usable = [...this.index.entries()]; // in id order
    this.wordIds = usable.filter(([t]) => this.wordChar(t)).map(([, i]) => i);
    this.endIds = usable.filter(([t]) => !this.wordChar(t)).map(([, i]) => i);
    this.beamWidth = options.beamWidth ?? BEAM_WIDTH;
    this.maxLen = options.maxLen ?? MAX_COMPLETION;
    this.tokenKind = this.keyboard ? KEYBOARD : CHARACTERS; // what a personal model's words are made of
    this.personal = options.personal ?? null;
    if (this.personal && this.personal.tokens !== this.tokenKind) {
      throw new Error(`a personal model of ${this.personal.tokens}, but this model reads ${this.tokenKind}`);
    }
    this.personal?.bind(modelId(manifest)); // the states and the adapter of another model are forgotten
    this.history = []; // [{state, logits, wordTokens, prev, start}], oldest first, at most HISTORY
    this.state = null;
    this.logits = null;
    this.wordTokens = ''; // the tokens of the current word typed so far (a keyboard model: its keys)
    this.prev = ''; // the tokens of the word before it ('' at the start)
    this.start = null; // the values of the state before the current word's first token (null before it)
    this.composer = null; // a keyboard model's composition of what was typed
    this.stemMemo = null; // {start, stem, endings}: the RNN's endings of the personal model's stem of a word
  }

  /** What typing `text` sends to the model: its characters, or the keys that type it. */
  tokens(text) {
    return this.keyboard ? this.keyboard.textToKeys(text) : text;
  }

  /** Character ids, one per code point (unknown characters take the unknown id). */
  encode(text) {
    return Array.from(text, (c) => this.index.get(c) ?? this.unkId);
  }

  /** Forgets all text: back to the state after the manifest's start text. */
  async reset() {
    this.dispose();
    this.composer = this.keyboard?.composer(HISTORY) ?? null;
    this.state = this.model.zeroState();
    for (const id of this.encode(this.manifest.start_text)) {
      const out = await this.model.step(id, this.state);
      this.model.release(this.state);
      ({ state: this.state, logits: this.logits } = out);
    }
  }

  /**
   * Types `text`: one step per character, or per key for a keyboard model. A word that ends is learned by
   * the personal model, unless `learn` is false (text read again after reset(), already learned once).
   */
  async feed(text, learn = true) {
    for (const c of this.tokens(text)) {
      const out = await this.model.step(this.index.get(c) ?? this.unkId, this.state);
      this.history.push({ state: this.state, logits: this.logits, wordTokens: this.wordTokens, prev: this.prev,
                          start: this.start });
      const starts = this.wordChar(c) && !this.wordTokens; // the state before a word's first token: its start
      const adapts = learn && this.personal; // the adapter learns the key typed where it was typed
      const values = starts || adapts ? this.model.values(this.state) : null;
      if (starts) this.start = values;
      if (adapts) this.personal.adapter.learn(this.logits, values, this.index.get(c) ?? this.unkId);
      if (this.history.length > HISTORY) this.model.release(this.history.shift().state);
      ({ state: this.state, logits: this.logits } = out);
      if (this.wordChar(c)) {
        this.wordTokens += c;
      } else if (this.wordTokens) { // a word ends: the personal model learns it, with the state at its start
        if (learn) this.personal?.learn(this.wordTokens, this.prev, this.start);
        this.prev = this.wordTokens;
        this.wordTokens = '';
        this.start = null;
      }
      this.composer?.push(c);
    }
  }

  /** The current word as shown (a keyboard model: composed). */
  get word() {
    if (!this.composer) return this.wordTokens;
    const chars = Array.from(this.composer.text);
    let start = chars.length;
    while (start > 0 && this.wordChar(chars[start - 1])) start--;
    return chars.slice(start).join('');
  }

  /** What the keyboard shows, of the last HISTORY characters (a keyboard model only; js/box_text.js keeps
   * the whole text the page shows). */
  get text() {
    return this.composer?.text ?? '';
  }

  /** How many keystrokes (characters, keys) `backspace` can undo now. */
  get undoable() {
    return this.history.length;
  }

  /**
   * Presses backspace `count` times, restoring the states kept for what it removes: one character each,
   * or for a keyboard model what its backspace removes (one key of the open syllable: 닭 -> 달; else the
   * last character whole). Returns how many kept states it went back. What the personal model learned
   * stays learned.
   */
  backspace(count = 1) {
    const width = this.composer ? this.composer.backspaceWidth(count) : count;
    if (width === null || width > this.history.length) {
      throw new RangeError(`can only go back ${this.history.length} keystrokes; reset() and feed the text`);
    }
    for (let i = 0; i < (this.composer ? count : 0); i++) this.composer.backspace();
    for (let i = 0; i < width; i++) {
      this.model.release(this.state);
      ({ state: this.state, logits: this.logits, wordTokens: this.wordTokens, prev: this.prev, start: this.start } =
        this.history.pop());
    }
    return width;
  }

  /**
   * The k most likely completions of the current word, most likely first; with a personal model, the search
   * starts from the logits as its adapter corrects them, and the RNN's completions (its k best and the others its
   * search found, up to FOUND), the RNN's endings of the word's learned stem and the personal model's k best mixed
   * (PersonalModel.mix: `prob` is then the mixed probability); fewer (none at all)
   * where they are less likely than MIN_PROB, as in Python.
   *
   * @returns {Promise<Array<{word: string, completion: string, prob: number}>>}
   */
  async suggestions(k = 3) {
    const values = this.personal ? this.model.values(this.state) : null;
    const logits = this.personal ? this.personal.adapter.logits(this.logits, values) : this.logits;
    const found = await beamComplete((t, s) => this.model.step(t, s), this.state, logits,
        this.wordIds, this.endIds, { k, keep: this.personal ? FOUND : k, beamWidth: this.beamWidth,
          maxLen: this.maxLen, allowEmpty: this.wordTokens.length > 0, release: (s) => this.model.release(s) });
    let ranked = found.map(({ ids, prob }) => [ids.map((i) => this.vocabulary[i]).join(''), prob]);
    if (this.personal) {
      const start = this.wordTokens ? this.start : values; // the state at the current word's start
      ranked = this.personal.mix(ranked, this.wordTokens, this.prev, k, start, await this.stemEndings(k));
    }
    return ranked.filter(([, prob]) => prob >= MIN_PROB)
        .map(([completion, prob]) => ({ word: this.shown(completion), completion, prob }));
  }

  /**
   * The RNN's completions of the personal model's stem of the current word (PersonalModel.stem), as completions
   * of what is typed: [the stem's rest + an ending, the ending's probability after the stem]; [] without a stem.
   * The search from the stem runs once a stem: the keys typed inside it reuse it (Python's _stem_endings).
   */
  async stemEndings(k) {
    const stem = this.wordTokens ? this.personal.stem(this.wordTokens) : '';
    if (!stem) return [];
    if (!this.stemMemo || this.stemMemo.start !== this.start || this.stemMemo.stem !== stem) {
      let state = this.state;
      let logits = this.logits;
      try {
        for (const c of stem.slice(this.wordTokens.length)) {
          const out = await this.model.step(this.index.get(c) ?? this.unkId, state);
          if (state !== this.state) this.model.release(state);
          ({ state, logits } = out);
        }
        const found = await beamComplete((t, s) => this.model.step(t, s), state, logits, this.wordIds, this.endIds,
            { k, keep: FOUND, beamWidth: this.beamWidth, maxLen: this.maxLen, allowEmpty: true,
              release: (s) => this.model.release(s) });
        this.stemMemo = { start: this.start, stem,
                          endings: found.map(({ ids, prob }) => [ids.map((i) => this.vocabulary[i]).join(''), prob]) };
      } finally {
        if (state !== this.state) this.model.release(state);
      }
    }
    const rest = stem.slice(this.wordTokens.length);
    return this.stemMemo.endings.map(([ending, prob]) => [rest + ending, prob]);
  }

  /**
   * The current word as the keyboard would show it with `completion` typed: a keyboard model composes the
   * completion's keys onto the open syllable only, the word's committed characters left as shown (after
   * Backspace into a lone jamo, 기ㅇ + ㄱㅣㅎ shows 기ㅇ깋: its completions read 기ㅇ기...), as the box does.
   */
  shown(completion) {
    if (!this.composer) return this.wordTokens + completion;
    const word = Array.from(this.word);
    const open = Array.from(this.composer.preedit).length;
    return word.slice(0, word.length - open).join('') + this.keyboard.keysToText(this.composer.preeditKeys + completion);
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
    return ids.map((id, j) => ({ char: this.vocabulary[id], prob: probs[j] }))
      .sort((a, b) => b.prob - a.prob).slice(0, n);
  }

  /** Releases every state held. */
  dispose() {
    for (const h of this.history) this.model.release(h.state);
    this.history = [];
    if (this.state) this.model.release(this.state);
    this.state = null;
    this.logits = null;
    this.wordTokens = '';
    this.prev = '';
    this.start = null;
    this.composer = null;
  }
}
