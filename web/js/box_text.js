// What the text box shows, kept in step with the completer at once: each change of the box (and a keyboard
// model's Backspace) becomes the operations that bring the completer from the text before to the text
// after. The page shows the result at once and runs the operations in order, one keystroke after another,
// so keys typed while the model is still busy land where they were typed.
//
// The operations are those of the Python Autocompleter: {reset}, {back: presses, width} (backspace pressed
// `presses` times, going back `width` kept states) and {feed: tokens} (characters, or a keyboard model's keys).

import { codePoints } from './hangul.js';

export class BoxText {
  /**
   * @param {import('./hangul.js').Keyboard|null} keyboard a keyboard model's keyboard (null: characters).
   * @param {number} history keystrokes the completer keeps states for (its HISTORY).
   */
  constructor(keyboard, history) {
    this.keyboard = keyboard;
    this.history = history;
    this.reset();
  }

  /** Back to an empty text, as the completer after reset(). */
  reset() {
    this.composer = this.keyboard?.composer() ?? null; // unbounded: the box holds the whole text
    this.plain = '';
    this.kept = 0; // kept states the completer can go back to (its `undoable`)
  }

  /** The text as shown: what was typed, or what the keyboard composes from its keys. */
  get text() {
    return this.composer ? this.composer.text : this.plain;
  }

  /**
   * The box now holds `value` (typed, pasted, deleted, or composed by an input method): the operations
   * that bring the completer to it. Characters after the part `text` and `value` share are deleted whole
   * (an open syllable by all its keys), then the rest of `value` is typed; beyond the kept states the
   * whole of `value` is read again.
   */
  change(value) {
    const before = this.text;
    let common = 0;
    while (common < before.length && common < value.length && before[common] === value[common]) common++;
    if (common > 0 && /[\uD800-\uDBFF]/.test(before[common - 1])) common--; // never split a surrogate pair
    const removed = codePoints(before.slice(common));
    const open = this.composer ? this.composer.preeditKeys.length : 0;
    const presses = removed > 0 && open > 1 ? removed + open - 1 : removed; // one per key of an open syllable
    const ops = [];
    if (presses) {
      const width = this.composer ? this.composer.backspaceWidth(presses) : presses;
      if (width === null || width > this.kept) {
        this.reset();
        ops.push({ reset: true });
        common = 0;
      } else {
        ops.push(this.press(presses, width));
      }
    }
    return [...ops, ...this.type(value.slice(common))];
  }

  /** A keyboard model's Backspace: one key of the open syllable, else the last character whole. */
  backspace() {
    const width = this.composer.backspaceWidth(1);
    if (width === null) return []; // nothing to delete
    if (width <= this.kept) return [this.press(1, width)];
    this.composer.backspace(); // beyond the kept states: read the text it leaves again
    const text = this.text;
    this.reset();
    return [{ reset: true }, ...this.type(text)];
  }

  press(presses, width) {
    if (this.composer) {
      for (let i = 0; i < presses; i++) this.composer.backspace();
    } else {
      this.plain = Array.from(this.plain).slice(0, -presses).join('');
    }
    this.kept -= width;
    return { back: presses, width };
  }

  type(text) {
    const tokens = this.keyboard ? this.keyboard.textToKeys(text) : text;
    if (!tokens) return [];
    if (this.composer) this.composer.feed(tokens);
    else this.plain += tokens;
    this.kept = Math.min(this.history, this.kept + codePoints(tokens));
    return [{ feed: tokens }];
  }
}
