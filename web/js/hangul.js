// Hangul text <-> the keys of the standard Korean keyboard (2-beolsik): a port of the parts of
// kerasrnn/ondevice/hangul.py that the page needs, built from the tables an export's manifest holds
// ("keyboard": initials, medials, finals, two_keys, never_final; see hangul.keyboard_tables()).
//
//   const kb = new Keyboard(manifest.keyboard);
//   kb.textToKeys('기억 속으로')   'ㄱㅣㅇㅓㄱ ㅅㅗㄱㅇㅡㄹㅗ'  (NFC first; other characters unchanged)
//   kb.keysToText('ㄱㅏㄱㅣ')      '가기'  (as the keyboard composes; the last syllable stays open)
//   kb.composer().feed(keys)      the same, one key at a time, with the keyboard's backspace
//
// Keys are Hangul Compatibility Jamo: 19 consonants and 14 vowels; compound vowels and finals are two
// keys ('ㅘ' = ㅗㅏ, 'ㄺ' = ㄹㄱ). Strings are walked by code point, as Python walks them.

export const KEYBOARD = 'keys-2beolsik'; // a manifest's "input" when its tokens are these keys
const SBASE = 0xac00; // syllable = SBASE + (initial * 21 + medial) * 28 + final (final 0: none)
const SCOUNT = 11172;

/** Code points in a string (Python's len). */
export function codePoints(s) {
  return Array.from(s).length;
}

/** The keyboard's tables, checked, with the lookups the composer uses. */
export class Keyboard {
  /**
   * @param {object} tables a manifest's "keyboard" entry.
   * @throws {Error} the tables are not those of a 2-beolsik keyboard.
   */
  constructor(tables) {
    const { initials, medials, finals, two_keys: twoKeys, never_final: neverFinal, keys } = tables ?? {};
    if (![initials, medials, finals, neverFinal, keys].every((t) => typeof t === 'string') ||
        typeof twoKeys !== 'object' || initials.length !== 19 || medials.length !== 21 || finals.length !== 27) {
      throw new Error('the manifest\'s "keyboard" tables are not those of a 2-beolsik keyboard: export the model again');
    }
    this.initials = initials;
    this.medials = medials;
    this.finals = finals; // final i (1..27) is finals[i - 1]
    this.initialIndex = new Map(Array.from(initials, (j, i) => [j, i]));
    this.medialIndex = new Map(Array.from(medials, (j, i) => [j, i]));
    this.finalIndex = new Map(Array.from(finals, (j, i) => [j, i + 1]));
    this.twoKeys = new Map(Object.entries(twoKeys)); // compound jamo -> its two keys
    const compounds = Object.entries(twoKeys);
    this.joinVowels = new Map(compounds.filter(([j]) => this.medialIndex.has(j)).map(([j, k]) => [k, j]));
    this.joinFinals = new Map(compounds.filter(([j]) => this.finalIndex.has(j)).map(([j, k]) => [k, j]));
    this.consonants = new Set(initials);
    this.vowels = new Set(Array.from(medials).filter((v) => !twoKeys[v]));
    this.notFinal = new Set(neverFinal);
    this.keys = initials + [...this.vowels].join('');
    if (keys !== this.keys) {
      throw new Error(`the manifest's keyboard keys ${keys} are not its tables' ${this.keys}: export the model again`);
    }
  }

  /** The keys of one character (a syllable or a compound jamo), or the character itself. */
  charKeys(c) {
    const s = c.codePointAt(0) - SBASE;
    if (s >= 0 && s < SCOUNT) {
      const medial = this.medials[Math.floor((s % 588) / 28)];
      const final = s % 28 ? this.finals[(s % 28) - 1] : '';
      return this.initials[Math.floor(s / 588)] + (this.twoKeys.get(medial) ?? medial) +
             (this.twoKeys.get(final) ?? final);
    }
    return this.twoKeys.get(c) ?? c;
  }

  /** The keys that type `text` (NFC first, so NFD input composes; other characters unchanged). */
  textToKeys(text) {
    let out = '';
    for (const c of text.normalize('NFC')) out += this.charKeys(c);
    return out;
  }

  /** The text a 2-beolsik keyboard shows after `keys`; the last syllable stays open. */
  keysToText(keys) {
    return this.composer().feed(keys).text;
  }

  /** Whether `c` is one of the 33 keys. */
  isKey(c) {
    return this.consonants.has(c) || this.vowels.has(c);
  }

  /** A new composer (see Composer). */
  composer(keep = null) {
    return new Composer(this, keep);
  }
}

/**
 * The 2-beolsik composition automaton, one key at a time, with the keyboard's backspace (Python's
 * hangul.Composer). `text` is the committed text followed by the open syllable (`preedit`); a
 * character that is not a key commits the open syllable and is appended as it is.
 */
export class Composer {
  /**
   * @param {Keyboard} keyboard the tables.
   * @param {number|null} keep committed characters kept (null: all), as Python's `keep`.
   */
  constructor(keyboard, keep = null) {
    this.kb = keyboard;
    this.keep = keep;
    this.done = []; // committed [character, its keys], oldest first
    this.initial = ''; // 0-2 consonant keys (2 only for a lone cluster such as ㄱㅅ -> ㄳ)
    this.vowel = ''; // 0-2 vowel keys
    this.final = ''; // 0-2 consonant keys
  }

  /** The open syllable as the keyboard shows it ('' when nothing is open). */
  get preedit() {
    const { kb, initial, vowel, final } = this;
    if (!vowel) return kb.joinFinals.get(initial) ?? initial; // a lone consonant, or a lone cluster ㄳ
    const medial = kb.joinVowels.get(vowel) ?? vowel;
    if (!initial) return medial; // a lone vowel, possibly compound (ㅘ)
    const f = final ? kb.finalIndex.get(kb.joinFinals.get(final) ?? final) : 0;
    return String.fromCharCode(SBASE + (kb.initialIndex.get(initial) * 21 + kb.medialIndex.get(medial)) * 28 + f);
  }

  /** The keys of the open syllable. */
  get preeditKeys() {
    return this.initial + this.vowel + this.final;
  }

  /** The text that no further key can change. */
  get committed() {
    return this.done.map(([c]) => c).join('');
  }

  /** What the keyboard shows: the committed text followed by the open syllable. */
  get text() {
    return this.committed + this.preedit;
  }

  /** The keys pushed, less those backspace removed (see Python's Composer.keys). */
  get keys() {
    return this.done.map(([, k]) => k).join('') + this.preeditKeys;
  }

  /** Closes the open syllable. */
  commit() {
    if (this.initial || this.vowel) this.append(this.preedit, this.preeditKeys);
    this.initial = this.vowel = this.final = '';
  }

  append(char, keys) {
    this.done.push([char, keys]);
    if (this.keep !== null && this.done.length > this.keep) this.done.shift();
  }

  /** Feeds one character (one code point): a key composes, anything else commits and is appended. */
  push(c) {
    if (this.kb.consonants.has(c)) {
      this.pushConsonant(c);
    } else if (this.kb.vowels.has(c)) {
      this.pushVowel(c);
    } else {
      this.commit();
      this.append(c, c);
    }
  }

  /** Pushes every character of `keys`; returns this. */
  feed(keys) {
    for (const c of keys) this.push(c);
    return this;
  }

  pushConsonant(c) {
    const { kb, initial, vowel, final } = this;
    if (vowel && initial) { // a syllable with a vowel: c may close it
      if (!final && !kb.notFinal.has(c)) {
        this.final = c;
        return;
      }
      if (final.length === 1 && kb.joinFinals.has(final + c)) {
        this.final = final + c; // a compound final ㄺ, ㄳ, ...
        return;
      }
    } else if (!vowel && initial.length === 1 && kb.joinFinals.has(initial + c)) {
      this.initial = initial + c; // a lone cluster: ㄱ ㅅ -> ㄳ
      return;
    }
    this.commit();
    this.initial = c;
  }

  pushVowel(v) {
    const { kb, initial, vowel, final } = this;
    if (final) { // final consonant migration: 각 + ㅣ -> 가기, 닭 + ㅏ -> 달가
      this.final = final.slice(0, -1);
      this.commit();
      this.initial = final.slice(-1);
      this.vowel = v;
    } else if (vowel) {
      if (vowel.length === 1 && kb.joinVowels.has(vowel + v)) {
        this.vowel = vowel + v; // a compound vowel ㅘ, ㅢ, ...
      } else {
        this.commit();
        this.vowel = v;
      }
    } else if (initial.length === 2) { // a lone cluster ㄳ + ㅏ -> ㄱ사
      this.append(initial[0], initial[0]);
      this.initial = initial[1];
      this.vowel = v;
    } else {
      this.vowel = v; // a lone vowel, or initial + vowel
    }
  }

  /**
   * How many keys `count` backspaces remove from `keys`; null when fewer characters remain. Each
   * removes one key of the open syllable while there is one, then a committed character whole.
   */
  backspaceWidth(count = 1) {
    const inOpen = Math.min(count, this.preeditKeys.length);
    const whole = count - inOpen;
    if (whole > this.done.length) return null;
    let width = inOpen;
    for (let i = 0; i < whole; i++) width += codePoints(this.done[this.done.length - 1 - i][1]);
    return width;
  }

  /** The keyboard's backspace (닭 -> 달, 과 -> 고; 가기 -> 가ㄱ); returns the keys removed from `keys`. */
  backspace() {
    const width = this.backspaceWidth() ?? 0;
    const keys = this.preeditKeys;
    if (keys) {
      this.initial = this.vowel = this.final = '';
      for (const c of keys.slice(0, -1)) this.push(c); // a prefix of one syllable's keys is one syllable again
    } else if (this.done.length) {
      this.done.pop();
    }
    return width;
  }
}
