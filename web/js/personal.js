// A personal word model learned in this browser from what its user types, mixed into the RNN's suggestions:
// an exact port of kerasrnn.ondevice.personal (a cache language model, Kuhn & De Mori 1990; Witten-Bell
// interpolation of word pairs with single words, the RNN's state where each word was typed: js/state_cache.js, and
// the RNN's endings of a learned stem), with the adapter of the RNN's logits (js/adapter.js, learned from each key).
// Checked number for number against Python's outputs in
// tests/ondevice/personal_cases.json (web/tests/personal.test.mjs).
//
// Words are runs of word tokens: characters, or a Korean keyboard model's keys ('기억' is 'ㄱㅣㅇㅓㄱ'). Lengths
// are in code points and ties are broken in code-point order, as in Python (not UTF-16 order). The page keeps
// the model in its localStorage (js/main.js); it is never sent anywhere.

import { bisect, compareCodePoints, isHighSurrogate } from './codepoints.js';
import { OutputAdapter } from './adapter.js';
import { CAPACITY as STATE_CAPACITY, StateCache } from './state_cache.js';

export { compareCodePoints };

export const FORMAT = 'kerasrnn-personal';
export const VERSION = 3; // 2: with the states; 3: with the adapter (saves of versions 1 and 2 still load)
export const CHARACTERS = 'characters';
export const MAX_WORDS = 4096; // words kept (least recently learned forgotten first)
export const MAX_PAIRS = 8192; // (previous word, word) pairs kept
export const MAX_WORD = 32; // longest word learned, in tokens
export const MAX_COUNT = 1000000; // counts stop growing here
export const WEIGHT = 0.5; // the most weight the personal model gets against the RNN
export const EVIDENCE = 1; // words matching the prefix at which mu is half of WEIGHT (as in Python)
export const RECENT_WORDS = 50; // the distinct words learned last that get the recency bonus
export const RECENT_BONUS = 16; // added to the count of a recent word
export const STATE_WEIGHT = 0.3; // the state cache's share of the personal estimate
export const NEAR = 10; // the words of highest P_state that the personal model scores besides its own best
export const STEM_WEIGHT = 1.0; // the weight of the RNN's endings of a learned stem, times mu

const SEP = '\u0000'; // joins (prev, word) into one Map key (neither holds a NUL: only word tokens)

/** Length in code points (Python's len). */
function length(s) {
  let n = 0;
  for (const _ of s) n++; // eslint-disable-line no-unused-vars
  return n;
}

/** Python's order of (-score, word): higher score first, then the word. */
function before(a, b) {
  return a[0] !== b[0] ? (b[0] > a[0] ? 1 : -1) : compareCodePoints(a[1], b[1]);
}

/** Sorts [score, word] pairs as Python sorts (-score, word): higher score first, then the word. */
function ranked(pairs) {
  return pairs.sort(before);
}

/** [lo, hi): the words of `sorted` (code-point order) that start with `prefix`, or null when they need not be
 * contiguous (a prefix ending in half of a surrogate pair). */
function prefixRange(sorted, prefix) {
  if (prefix && isHighSurrogate(prefix.charCodeAt(prefix.length - 1))) return null;
  const lo = bisect(sorted, prefix);
  let hi = lo;
  while (hi < sorted.length && sorted[hi].startsWith(prefix)) hi++;
  return [lo, hi];
}

/** The words of `sorted` (code-point order) that start with `prefix`, in that order. */
function startingWith(sorted, prefix) {
  const range = prefixRange(sorted, prefix);
  return range ? sorted.slice(range[0], range[1]) : sorted.filter((w) => w.startsWith(prefix));
}

/** The indices of the k highest counts, ties lower index first (Python's stable heapq.nlargest). */
function topIndices(counts, k) {
  if (k >= counts.length) return counts.map((_, i) => i);
  const top = []; // indices, highest count first
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (top.length === k && c <= counts[top[k - 1]]) continue;
    let j = top.length;
    while (j > 0 && counts[top[j - 1]] < c) j--;
    top.splice(j, 0, i);
    if (top.length > k) top.pop();
  }
  return top;
}

/** Adds [score, word] to `best` (Python's order, at most n kept). */
function keepBest(best, p, w, n) {
  if (best.length === n) {
    if (!n) return;
    const last = best[n - 1];
    if (p < last[0] || (p === last[0] && compareCodePoints(w, last[1]) > 0)) return;
  }
  const item = [p, w];
  let j = best.length;
  while (j > 0 && before(item, best[j - 1]) < 0) j--;
  best.splice(j, 0, item);
  if (best.length > n) best.pop();
}

/** The n highest scores of `scored` (a Map; ties: the word in code-point order), then the words of `asked` (all
 * in scored) not among them, in their order: [[word, score]] (Python's best_and_asked). */
function bestAndAsked(scored, n, asked) {
  const best = [];
  for (const [w, p] of scored) keepBest(best, p, w, n);
  const chosen = new Set(best.map(([, w]) => w));
  return [...best.map(([p, w]) => [w, p]), ...asked.filter((w) => !chosen.has(w)).map((w) => [w, scored.get(w)])];
}

export class PersonalModel {
  /**
   * @param {string} tokens what the words are made of: CHARACTERS, or a keyboard model's manifest "input".
   * @param {object} [options] maxWords, maxPairs, weight, evidence, recent, bonus; states (the state cache's
   *     capacity, 0: none) and model (whose states it keeps).
   */
  constructor(tokens = CHARACTERS, options = {}) {
    this.tokens = tokens;
    this.maxWords = options.maxWords ?? MAX_WORDS;
    this.maxPairs = options.maxPairs ?? MAX_PAIRS;
    this.weight = options.weight ?? WEIGHT;
    this.evidence = options.evidence ?? EVIDENCE;
    this.recentWords = options.recent ?? RECENT_WORDS;
    this.bonus = options.bonus ?? RECENT_BONUS;
    this.changes = 0; // counts learn, forget and loadJSON calls (the page stores the model when it changed)
    this.states = new StateCache(options.states ?? STATE_CAPACITY, options.model ?? ''); // where words began
    this.adapter = new OutputAdapter(options.model ?? ''); // the RNN's next-token logits corrected (js/adapter.js)
    this.forget();
  }

  /** Makes the state cache and the adapter those of `model` (what they held for another model is forgotten). */
  bind(model) {
    this.states.bind(model);
    this.adapter.bind(model);
  }

  /** Forgets everything learned. */
  forget() {
    this.changes++;
    this.words = new Map(); // word -> count, least recently learned first
    this.pairs = new Map(); // prev SEP word -> count, least recently learned first
    this.followers = new Map(); // prev -> Map of the words of its pairs to the pair counts
    this.followersSorted = new Map(); // prev -> its followers in code-point order (built when first needed)
    this.sorted = []; // the words in code-point order (prefix ranges by bisection)
    this.contexts = new Map(); // word -> the number of distinct words it follows (pairs held)
    this.total = 0; // sum of the word counts
    this.recent = new Set(); // the recentWords distinct words learned last, least recent first
    this.states.clear();
    this.adapter.clear();
  }

  /** Entries held: words plus pairs. */
  get size() {
    return this.words.size + this.pairs.size;
  }

  /** Counts `word` typed after `prev` ('' at the start), and keeps the RNN's state at its start if given (its
   * values); a word over MAX_WORD tokens is skipped. */
  learn(word, prev = '', state = null) {
    if (!word || length(word) > MAX_WORD) return;
    this.changes++;
    if (state) this.states.add(word, state);
    const count = this.words.get(word) ?? 0;
    if (!count) this.sorted.splice(bisect(this.sorted, word), 0, word);
    this.words.delete(word);
    this.words.set(word, Math.min(count + 1, MAX_COUNT));
    this.total += this.words.get(word) - count;
    this.recent.delete(word);
    this.recent.add(word);
    if (this.recent.size > this.recentWords) this.recent.delete(this.recent.values().next().value);
    while (this.words.size > this.maxWords) this.dropWord(this.words.keys().next().value);
    if (!prev || length(prev) > MAX_WORD) return;
    const key = prev + SEP + word;
    const pairCount = this.pairs.get(key) ?? 0;
    if (!pairCount) this.contexts.set(word, (this.contexts.get(word) ?? 0) + 1);
    this.pairs.delete(key);
    this.pairs.set(key, this.follow(prev, word, Math.min(pairCount + 1, MAX_COUNT)));
    while (this.pairs.size > this.maxPairs) this.dropPair(this.pairs.keys().next().value);
  }

  /** Records `count` as the pair's count among prev's followers; returns it. */
  follow(prev, word, count) {
    let followers = this.followers.get(prev);
    if (!followers) this.followers.set(prev, (followers = new Map()));
    if (!followers.has(word)) this.followersSorted.delete(prev);
    followers.set(word, count);
    return count;
  }

  dropWord(word) {
    this.total -= this.words.get(word);
    this.words.delete(word);
    this.recent.delete(word);
    this.sorted.splice(bisect(this.sorted, word), 1);
  }

  dropPair(key) {
    this.pairs.delete(key);
    const [prev, word] = key.split(SEP);
    const contexts = this.contexts.get(word);
    if (contexts === 1) this.contexts.delete(word);
    else this.contexts.set(word, contexts - 1);
    const followers = this.followers.get(prev);
    followers.delete(word);
    this.followersSorted.delete(prev);
    if (!followers.size) this.followers.delete(prev);
  }

  /**
   * The n most likely words that start with `prefix` after `prev`, and mu (the mixing weight); then any word of
   * `extra` (words starting with prefix) that the model knows and that is not among them (Python's predict).
   *
   * @returns {{words: Array<[string, number]>, mu: number}} [word, P]: the n best first, then the known words of
   *     extra, in its order.
   */
  predict(prefix, prev = '', n = 3, extra = []) {
    const pairCounts = (prev && this.followers.get(prev)) || new Map();
    let followers;
    if (!prefix) {
      followers = pairCounts.keys();
    } else {
      let sorted = this.followersSorted.get(prev);
      if (!sorted && pairCounts.size) {
        sorted = [...pairCounts.keys()].sort(compareCodePoints);
        this.followersSorted.set(prev, sorted);
      }
      followers = sorted ? startingWith(sorted, prefix) : [];
    }
    let n2 = 0;
    let t2 = 0;
    if (!prefix) {
      for (const c of pairCounts.values()) n2 += c;
      t2 = pairCounts.size;
    } else {
      for (const w of followers) n2 += pairCounts.get(w);
      t2 = followers.length;
    }
    let n1;
    let m1;
    const count = (w) => (this.contexts.get(w) ?? 0) + (this.recent.has(w) ? this.bonus : 0);
    const candidates = new Map(); // word -> its count: its contexts plus the recency bonus
    if (prefix) {
      // The words starting with prefix, in code-point order (so ties keep it), with their counts.
      const range = prefixRange(this.sorted, prefix);
      const matching = range ? this.sorted.slice(range[0], range[1]) : this.sorted.filter((w) => w.startsWith(prefix));
      const counts = matching.map((w) => this.contexts.get(w) ?? 0);
      m1 = 0;
      for (const w of matching) m1 += this.words.get(w);
      n1 = 0;
      for (const c of counts) n1 += c;
      for (const w of this.recent) { // at most recentWords: cheaper than testing every matching word
        if (w.startsWith(prefix)) {
          counts[bisect(matching, w)] += this.bonus;
          n1 += this.bonus;
        }
      }
      // Only the n + t2 highest counts can rank among the n best (as in Python).
      for (const i of topIndices(counts, n + t2)) candidates.set(matching[i], counts[i]);
      for (const w of followers) if (!candidates.has(w)) candidates.set(w, count(w));
    } else {
      m1 = this.total;
      n1 = this.pairs.size + this.bonus * this.recent.size; // every word starts with ''
      for (const w of followers) candidates.set(w, count(w)); // (followers: an iterator here)
    }
    const asked = [];
    for (const w of extra) {
      if (!candidates.has(w) && this.words.has(w)) {
        candidates.set(w, count(w));
        asked.push(w);
      }
    }
    if (!candidates.size) return { words: [], mu: 0 };
    const scores = new Map();
    for (const [w, c] of candidates) {
      const p1 = n1 ? c / n1 : 0;
      scores.set(w, n2 ? ((pairCounts.get(w) ?? 0) + t2 * p1) / (n2 + t2) : p1);
    }
    const mu = this.weight * (m1 / (m1 + this.evidence));
    return { words: bestAndAsked(scores, n, asked), mu };
  }

  /**
   * The longest start shared by the learned words that start with `prefix` (the first and the last of them in
   * code-point order) where there are two or more and it is longer than `prefix`; else '' (Python's stem).
   */
  stem(prefix) {
    const range = prefix ? prefixRange(this.sorted, prefix) : null;
    if (!range || range[1] - range[0] < 2) return '';
    const first = this.sorted[range[0]];
    const last = this.sorted[range[1] - 1];
    let n = 0;
    while (n < first.length && first.charCodeAt(n) === last.charCodeAt(n)) n++;
    if (n > 0 && isHighSurrogate(first.charCodeAt(n - 1))) n--; // not half of a character
    return n > prefix.length ? first.slice(0, n) : '';
  }

  /**
   * The RNN's completions of `prefix` ([completion, probability], best first: its k best and any more its search
   * found) mixed with the personal model's: the k best [completion, mixed probability]. The personal model scores
   * its k best and every RNN completion it knows; given the RNN's state at the current word's start (its
   * values), with the state cache; `stems`: the RNN's completions of the learned stem ([completion, P_stem]),
   * asked too and weighted STEM_WEIGHT * mu, as in Python. Without a personal candidate: rnn's first k as they are.
   */
  mix(rnn, prefix, prev = '', k = 3, state = null, stems = []) {
    const theirs = new Map(rnn);
    const stemmed = new Map(stems);
    const asked = [...rnn.map(([c]) => prefix + c), ...stems.filter(([c]) => !theirs.has(c)).map(([c]) => prefix + c)];
    let words;
    let mu;
    if (!state || !this.states.fits(state)) {
      ({ words, mu } = this.predict(prefix, prev, k, asked));
    } else { // P' over the personal model's NEAR best, the NEAR likeliest of the cache and the RNN's
      const near = this.states.distribution(prefix, state);
      const nearest = [];
      for (const [w, p] of near) keepBest(nearest, p, w, NEAR);
      ({ words, mu } = this.predict(prefix, prev, NEAR, [...asked, ...nearest.map(([, w]) => w)]));
      const scored = new Map(words.map(([w, p]) => [w, (1 - STATE_WEIGHT) * p + STATE_WEIGHT * (near.get(w) ?? 0)]));
      words = bestAndAsked(scored, k, asked.filter((w) => scored.has(w)));
    }
    if (!words.length) return rnn.slice(0, k);
    const ours = new Map(words.map(([w, p]) => [w.slice(prefix.length), p]));
    const weight = STEM_WEIGHT * mu;
    const scored = [...new Set([...theirs.keys(), ...ours.keys(), ...stemmed.keys()])]
      .map((c) => [(1 - mu) * (theirs.get(c) ?? 0) + mu * (ours.get(c) ?? 0) + weight * (stemmed.get(c) ?? 0), c]);
    return ranked(scored).slice(0, k).map(([p, c]) => [c, p]);
  }

  /** The save format (Python's to_json): words and pairs with their counts, least recently learned first. */
  toJSON() {
    const data = {
      format: FORMAT, version: VERSION, tokens: this.tokens,
      words: [...this.words].map(([w, c]) => [w, c]),
      pairs: [...this.pairs].map(([key, c]) => [...key.split(SEP), c]),
    };
    if (this.states.model && this.states.size) data.states = this.states.toJSON();
    const adapter = this.adapter.toJSON();
    if (adapter) data.adapter = adapter;
    return data;
  }

  /**
   * Replaces what was learned with a save (toJSON, or Python's file); beyond the caps, oldest forgotten first.
   *
   * @param {function(string): boolean} [wordChar] when given, every token of every word must pass it.
   * @throws {Error} not a personal model, other tokens, or a malformed entry (one line); nothing is changed.
   */
  loadJSON(data, wordChar = null) {
    if (data === null || typeof data !== 'object' || Array.isArray(data) || data.format !== FORMAT) {
      throw new Error('not a personal model');
    }
    if (![1, 2, VERSION].includes(data.version)) {
      throw new Error(`a personal model of another version (${data.version}, not ${VERSION})`);
    }
    if (data.tokens !== this.tokens) throw new Error(`a personal model of ${data.tokens}, not of ${this.tokens}`);
    const { words, pairs } = data;
    if (!Array.isArray(words) || !Array.isArray(pairs)) throw new Error('a personal model without its word lists');
    const wordMap = new Map();
    let total = 0;
    for (const entry of words) {
      check(entry, 1, wordChar);
      if (wordMap.has(entry[0])) throw new Error(`the word ${entry[0]} appears twice`);
      wordMap.set(entry[0], entry[1]);
      total += entry[1];
    }
    const pairMap = new Map();
    for (const entry of pairs) {
      check(entry, 2, wordChar);
      const key = entry[0] + SEP + entry[1];
      if (pairMap.has(key)) throw new Error(`the pair ${entry[0]} ${entry[1]} appears twice`);
      pairMap.set(key, entry[2]);
    }
    const states = 'states' in data ? this.states.read(data.states, (w) => check([w, 1], 1, wordChar)) : null;
    const adapter = 'adapter' in data ? this.adapter.read(data.adapter) : null;
    this.forget();
    this.words = wordMap;
    this.total = total;
    this.sorted = [...wordMap.keys()].sort(compareCodePoints);
    while (this.words.size > this.maxWords) this.dropWord(this.words.keys().next().value);
    this.recent = new Set([...this.words.keys()].slice(Math.max(0, this.words.size - this.recentWords)));
    for (const [key, c] of pairMap) {
      const [prev, word] = key.split(SEP);
      this.pairs.set(key, this.follow(prev, word, c));
      this.contexts.set(word, (this.contexts.get(word) ?? 0) + 1);
    }
    while (this.pairs.size > this.maxPairs) this.dropPair(this.pairs.keys().next().value);
    this.states.load(states);
    this.adapter.load(adapter);
  }
}

function check(entry, nWords, wordChar) {
  const ok = Array.isArray(entry) && entry.length === nWords + 1
    && entry.slice(0, nWords).every((w) => typeof w === 'string' && w.length > 0 && length(w) <= MAX_WORD
                                            && !w.includes(SEP))
    && Number.isInteger(entry[nWords]) && entry[nWords] > 0 && entry[nWords] <= MAX_COUNT;
  if (!ok) throw new Error(`a malformed entry ${JSON.stringify(entry)?.slice(0, 60)}`);
  if (wordChar && !entry.slice(0, nWords).every((w) => Array.from(w).every(wordChar))) {
    throw new Error(`an entry that is not a word: ${JSON.stringify(entry).slice(0, 60)}`);
  }
}

/**
 * The (prev, word) pairs that typing `tokens` teaches (Python's typed_words): each run of word tokens once a
 * non-word token ends it, prev the word before it ('' at first).
 */
export function typedWords(tokens, wordChar, prev = '') {
  const out = [];
  let word = '';
  for (const c of tokens) {
    if (wordChar(c)) {
      word += c;
    } else if (word) {
      out.push([prev, word]);
      prev = word;
      word = '';
    }
  }
  return out;
}
