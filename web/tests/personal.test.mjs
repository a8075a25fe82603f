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
import { compareCodePoints, PersonalModel, typedWords } from '../js/personal.js';

const data = JSON.parse(readFileSync(new URL('../../tests/ondevice/personal_cases.json', import.meta.url)));
const WORD_CHARS = { english: isWordChar, korean: isKoreanWordChar };

function trained(c) {
  const model = new PersonalModel(c.tokens, { maxWords: c.max_words, maxPairs: c.max_pairs, weight: c.weight,
                                              evidence: c.evidence, recent: c.recent, bonus: c.bonus });
  const learned = typedWords(c.text, WORD_CHARS[c.word_char]);
  for (const [prev, word] of learned) model.learn(word, prev);
  return { model, learned };
}

test('the fixture has cases of characters, keys and eviction', () => {
  assert.deepEqual(data.cases.map((c) => c.name), ['english', 'korean keys', 'eviction']);
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
    for (const m of c.mixes) assert.deepEqual(model.mix(m.rnn, m.prefix, m.prev, m.k), m.expect, m.prefix);
    assert.deepEqual(model.toJSON(), c.saved);
    assert.ok(model.words.size <= c.max_words && model.pairs.size <= c.max_pairs);
    const copy = new PersonalModel(c.tokens, { maxWords: c.max_words, maxPairs: c.max_pairs, weight: c.weight,
                                               evidence: c.evidence, recent: c.recent, bonus: c.bonus });
    copy.loadJSON(JSON.parse(JSON.stringify(model)), WORD_CHARS[c.word_char]); // as stored and read back
    assert.deepEqual(copy.toJSON(), c.saved);
    for (const q of c.queries) assert.deepEqual(copy.predict(q.prefix, q.prev, q.n, q.extra).words, q.expect);
  });
}

test('a corrupt or foreign save is refused whole, with one line, and changes nothing', () => {
  const { model } = trained(data.cases[0]);
  const before = JSON.stringify(model);
  const good = JSON.parse(before);
  const bad = [null, 7, [], 'x', {}, { ...good, format: 'other' }, { ...good, version: 2 },
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
