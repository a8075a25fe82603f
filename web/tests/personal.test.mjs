// The personal model port (js/personal.js) against kerasrnn.ondevice.personal: for each case of
// tests/ondevice/personal_cases.json (written by tests/ondevice/make_personal_cases.py), the same pairs
// learned from its text, the same rankings, probabilities and mixing weights bit for bit, the same save; and
// a save read back, a corrupt or foreign one refused whole, the caps on entries.
//
//   cd web && npm test

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { isKoreanWordChar, isWordChar } from '../js/autocomplete.js';
import { OutputAdapter } from '../js/adapter.js';
import { compareCodePoints, PersonalModel, typedWords } from '../js/personal.js';

const data = JSON.parse(readFileSync(new URL('../../tests/ondevice/personal_cases.json', import.meta.url)));
const WORD_CHARS = { english: isWordChar, korean: isKoreanWordChar };

/** The case's model settings (a case with states: its model and the state cache's capacity). */
function options(c) {
  const states = c.state_size ? { model: c.model, states: c.states_capacity } : {};
  return { maxWords: c.max_words, maxPairs: c.max_pairs, weight: c.weight, evidence: c.evidence, recent: c.recent,
           bonus: c.bonus, ...states };
}

function trained(c) {
  const model = new PersonalModel(c.tokens, options(c));
  const learned = typedWords(c.text, WORD_CHARS[c.word_char]);
  learned.forEach(([prev, word], i) => model.learn(word, prev, c.states?.[i] ?? null));
  return { model, learned };
}

test('the fixture has cases of characters, keys and eviction', () => {
  assert.deepEqual(data.cases.map((c) => c.name), ['english', 'korean keys', 'eviction', 'states']);
});

for (const c of data.cases) {
  test(`${c.name}: learns, predicts, mixes and saves as Python`, () => {
    const { model, learned } = trained(c);
    assert.deepEqual(learned, c.learned);
    for (const q of c.queries) {
      const { words, mu } = model.predict(q.prefix, q.prev, q.n, q.extra);
      assert.deepEqual(words, q.expect, `${q.prefix} after ${q.prev}`);
      assert.equal(mu, q.mu); // bit for bit
    }
    for (const [prefix, stem] of c.stems) assert.equal(model.stem(prefix), stem, prefix);
    for (const m of c.mixes) {
      assert.deepEqual(model.mix(m.rnn, m.prefix, m.prev, m.k, m.state ?? null, m.stems), m.expect, m.prefix);
    }
    assert.deepEqual(model.toJSON(), c.saved);
    assert.ok(model.words.size <= c.max_words && model.pairs.size <= c.max_pairs);
    const copy = new PersonalModel(c.tokens, options(c));
    copy.loadJSON(JSON.parse(JSON.stringify(model)), WORD_CHARS[c.word_char]); // as stored and read back
    assert.deepEqual(copy.toJSON(), c.saved);
    for (const q of c.queries) assert.deepEqual(copy.predict(q.prefix, q.prev, q.n, q.extra).words, q.expect);
    for (const m of c.mixes) assert.deepEqual(copy.mix(m.rnn, m.prefix, m.prev, m.k, m.state ?? null, m.stems), m.expect);
  });
}

test("a save of another model's states loads its words without the states; malformed states are refused", () => {
  const c = data.cases.find((x) => x.state_size);
  const saved = JSON.parse(JSON.stringify(trained(c).model));
  const other = new PersonalModel(c.tokens, { ...options(c), model: 'another-model' });
  other.loadJSON(saved, isWordChar);
  assert.equal(other.states.size, 0);
  const { states: _, ...withoutStates } = saved; // eslint-disable-line no-unused-vars
  assert.deepEqual(other.toJSON(), withoutStates);
  const v1 = { ...withoutStates, version: 1 };
  const old = new PersonalModel(c.tokens, options(c));
  old.loadJSON(v1, isWordChar); // a save from before the states
  assert.equal(old.words.size, trained(c).model.words.size);
  const entry = saved.states.entries[0];
  for (const states of [null, [], { model: c.model }, { model: c.model, entries: [[entry[0]]] },
    { model: c.model, entries: [[entry[0], '###']] }, { model: c.model, entries: [['a b', entry[1]]] },
    { model: c.model, entries: [entry, [entry[0], 'AAAA']] }, { model: c.model, entries: [[entry[0], '']] }]) {
    const model = new PersonalModel(c.tokens, options(c));
    assert.throws(() => model.loadJSON({ ...saved, states }, isWordChar), Error, JSON.stringify(states));
    assert.equal(model.words.size, 0, 'nothing changed');
  }
});

test('the adapter learns as Python (to 1e-12), saves as Python, and reads back', () => {
  const a = data.adapter;
  const adapter = new OutputAdapter(a.model, a.rate);
  for (const [logits, state, token] of a.steps) adapter.learn(Float32Array.from(logits), Float32Array.from(state), token);
  const close = (got, want) => got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= 1e-12 * (1 + Math.abs(want[i])),
                                                               `${i}: ${g} vs ${want[i]}`));
  close(Array.from(adapter.logits(a.probe[0], a.probe[1])), a.logits);
  const saved = adapter.toJSON();
  assert.deepEqual([saved.model, saved.rows, saved.columns, saved.steps],
                   [a.saved.model, a.saved.rows, a.saved.columns, a.saved.steps]);
  const python = new OutputAdapter(a.model);
  python.load(python.read(a.saved)); // Python's save, read here
  close(Array.from(python.logits(a.probe[0], a.probe[1])), a.logits);
  close(Array.from(python.weights), Array.from(adapter.weights));
  const other = new OutputAdapter('another-model');
  assert.equal(other.read(a.saved), null); // another model's: not loaded
  for (const bad of [null, [], { ...a.saved, rows: 0 }, { ...a.saved, rows: 1.5 }, { ...a.saved, columns: 3 },
    { ...a.saved, weights: '###' }, { ...a.saved, bias: 'AAAA' }, { ...a.saved, steps: -1 },
    { ...a.saved, bias: btoa(String.fromCharCode(0, 0, 0, 0, 0, 0, 0xf8, 0x7f).repeat(5)) }]) { // NaN
    assert.throws(() => adapter.read(bad), (e) => e instanceof Error && !e.message.includes('\n'), JSON.stringify(bad));
  }
  const model = new PersonalModel('characters', { model: a.model });
  model.loadJSON({ format: 'kerasrnn-personal', version: 3, tokens: 'characters', words: [], pairs: [],
                   adapter: a.saved });
  close(Array.from(model.adapter.logits(a.probe[0], a.probe[1])), a.logits);
  model.forget();
  assert.equal(model.adapter.weights, null);
});

test('a corrupt or foreign save is refused whole, with one line, and changes nothing', () => {
  const { model } = trained(data.cases[0]);
  const before = JSON.stringify(model);
  const good = JSON.parse(before);
  const bad = [null, 7, [], 'x', {}, { ...good, format: 'other' }, { ...good, version: 4 }, { ...good, adapter: { model: 'm' } },
    { ...good, tokens: 'keys-2beolsik' }, { ...good, words: 'x' }, { ...good, words: [['the', 0]] },
    { ...good, words: [['the', 1.5]] }, { ...good, words: [['the', true]] }, { ...good, words: [['', 1]] },
    { ...good, words: [['x'.repeat(33), 1]] }, { ...good, words: [['the', 1], ['the', 2]] },
    { ...good, pairs: [['the', 1]] }, { ...good, words: [['a b', 1]] }, { ...good, words: [['the', 2e6]] }];
  for (const value of bad) {
    assert.throws(() => model.loadJSON(value, isWordChar), (e) => e instanceof Error && !e.message.includes('\n'),
                  JSON.stringify(value)?.slice(0, 80));
    assert.equal(JSON.stringify(model), before);
  }
});

test('the caps hold over many words; code-point order as Python', () => {
  const model = new PersonalModel('characters', { maxWords: 50, maxPairs: 60 });
  let prev = '';
  for (let i = 0; i < 5000; i++) {
    const word = `w${(i * 7919) % 997}`;
    model.learn(word, prev);
    prev = word;
  }
  assert.equal(model.words.size, 50);
  assert.equal(model.pairs.size, 60);
  assert.equal(model.total, [...model.words.values()].reduce((a, b) => a + b, 0));
  assert.equal(compareCodePoints('\uffff', '\u{10000}'), -1); // UTF-16 order says the opposite
  assert.ok('\uffff' > '\u{10000}');
  model.learn('x'.repeat(33));
  assert.ok(!model.words.has('x'.repeat(33))); // too long to be a word
});

test('a stem is the start all matching words share, in whole characters', () => {
  const model = new PersonalModel('characters');
  for (const w of ['debian', 'debianist', 'debians', 'dog', 'x\u{1F600}a', 'x\u{1F601}b', 'y\u{1F600}a', 'y\u{1F600}b']) {
    model.learn(w);
  }
  assert.deepEqual(['d', 'de', 'deb', 'debian', 'debiani', 'do', '', 'q'].map((p) => model.stem(p)),
                   ['', 'debian', 'debian', '', '', '', '', '']);
  assert.equal(model.stem('x'), ''); // the two share half of a character only
  assert.equal(model.stem('y'), 'y\u{1F600}');
});
