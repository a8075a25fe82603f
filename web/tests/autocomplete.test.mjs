// Autocompleter (js/autocomplete.js) with a stand-in model: word tracking, backspace restoring the kept
// state, the next-character distribution, every state released exactly once, and a Korean keyboard
// model (Hangul typed as keys, the keyboard's backspace, suggestions composed).
//
//   cd web && npm test

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { Autocompleter, FOUND, HISTORY, isWordChar } from '../js/autocomplete.js';
import { beamComplete } from '../js/beam.js';

const manifest = { vocabulary: ['<unk>', '\n', ' ', "'", 'a', 'b', 'c', '.'], specials: ['<unk>'], unk_id: 0,
                   start_text: '\n' };

/** A stand-in model whose states are {sum} objects; tracks the live ones. */
function fakeModel(of = manifest) {
  const live = new Set();
  const make = (sum) => { const s = { sum }; live.add(s); return s; };
  return {
    live,
    zeroState: () => make(0),
    step: async (token, state) => {
      assert.ok(live.has(state), 'stepped a released state');
      const logits = Float64Array.from(of.vocabulary, (_, v) => Math.sin(v + state.sum));
      return { logits, state: make(state.sum * 0.9 + token) };
    },
    values: (state) => { assert.ok(live.has(state), 'read a released state'); return Float32Array.of(Math.sin(state.sum), 0.5); },
    release: (state) => assert.ok(live.delete(state), 'released a state twice'),
  };
}

test('isWordChar follows str.isalnum plus apostrophe and hyphen', () => {
  for (const c of ['a', 'Z', '7', "'", '-', 'é', 'ß', 'я', '日', '٣']) assert.ok(isWordChar(c), c);
  for (const c of [' ', '\n', '.', ',', '!', '☃', '😀', '\u0301']) assert.ok(!isWordChar(c), c);
});

test('feed, backspace, suggestions and dispose keep ownership straight', async () => {
  const model = fakeModel();
  const completer = new Autocompleter(model, manifest);
  await completer.reset();
  assert.deepEqual(completer.wordIds, [3, 4, 5, 6]);
  assert.deepEqual(completer.endIds, [1, 2, 7]);
  await completer.feed('ab c');
  assert.equal(completer.word, 'c');
  assert.equal(model.live.size, 1 + 4); // current state + one per typed character
  const stateAfterAb = [...model.live][2];
  completer.backspace(2);
  assert.equal(completer.word, 'ab');
  assert.equal(completer.state, stateAfterAb); // the very state kept, not a recomputed one
  const found = await completer.suggestions(3);
  assert.equal(found.length, 3);
  assert.ok(found.every((s) => s.word.startsWith('ab') && s.prob > 0 && s.prob <= 1));
  assert.equal(model.live.size, 1 + 2, 'the search released its beams');
  assert.throws(() => completer.backspace(3), RangeError);
  completer.dispose();
  assert.equal(model.live.size, 0);
});

test('unknown characters take the unknown id, one step per code point', async () => {
  const model = fakeModel();
  const completer = new Autocompleter(model, manifest);
  assert.deepEqual(completer.encode('a☃😀\n<unk>'), [4, 0, 0, 1, 0, 0, 0, 0, 0]);
  await completer.reset();
  await completer.feed('a😀b');
  assert.equal(completer.undoable, 3);
  assert.equal(completer.word, 'b'); // the emoji ended the word
  completer.dispose();
});

test('nextChars is the softmax over the characters, specials left out', async () => {
  const model = fakeModel();
  const completer = new Autocompleter(model, manifest);
  await completer.reset();
  const next = completer.nextChars(100);
  assert.equal(next.length, 7);
  assert.ok(!next.some((n) => n.char === '<unk>'));
  assert.ok(Math.abs(next.reduce((a, n) => a + n.prob, 0) - 1) < 1e-12);
  assert.ok(next.every((n, i) => i === 0 || next[i - 1].prob >= n.prob));
  const logits = completer.logits; // exp(l_i - l_j) is the ratio of two probabilities
  const [a, b] = next;
  const id = (c) => manifest.vocabulary.indexOf(c);
  assert.ok(Math.abs(a.prob / b.prob - Math.exp(logits[id(a.char)] - logits[id(b.char)])) < 1e-12);
  completer.dispose();
});

test('history is bounded and reset frees it', async () => {
  const model = fakeModel();
  const completer = new Autocompleter(model, manifest);
  await completer.reset();
  await completer.feed('ab '.repeat(100));
  assert.equal(completer.undoable, HISTORY);
  assert.equal(model.live.size, 1 + HISTORY);
  await completer.reset();
  assert.equal(model.live.size, 1);
  assert.equal(completer.undoable, 0);
});

// A keyboard model: the tokens are the 33 keys of the Korean keyboard (tables as Python writes them).
const tables = JSON.parse(readFileSync(new URL('./hangul_cases.json', import.meta.url))).tables;
const korean = { vocabulary: ['<unk>', '\n', ' ', '.', ...tables.keys], specials: ['<unk>'], unk_id: 0,
                 start_text: '\n', input: 'keys-2beolsik', keys: Array.from(tables.keys), keyboard: tables };

/** The states' sums after typing `text` into a fresh completer of `manifest`. */
async function typed(manifest, text) {
  const completer = new Autocompleter(fakeModel(manifest), manifest);
  await completer.reset();
  await completer.feed(text);
  return completer;
}

test('a keyboard model types Hangul as keys and shows what the keyboard composes', async () => {
  const a = await typed(korean, '파일을 기');
  const b = await typed(korean, 'ㅍㅏㅇㅣㄹㅇㅡㄹ ㄱㅣ'); // keys, as a Korean keyboard sends them
  assert.equal(a.state.sum, b.state.sum); // the same tokens read
  assert.equal(a.undoable, 11);
  for (const c of [a, b]) {
    assert.equal(c.text, '파일을 기');
    assert.equal(c.word, '기');
    assert.equal(c.wordTokens, 'ㄱㅣ');
  }
  assert.deepEqual(a.endIds, [1, 2, 3]);
  const found = await a.suggestions(3);
  assert.equal(found.length, 3);
  for (const s of found) {
    assert.ok(Array.from(s.completion).every((k) => tables.keys.includes(k)));
    assert.equal(s.word, a.keyboard.keysToText('ㄱㅣ' + s.completion)); // shown composed
    assert.equal(a.keyboard.textToKeys(s.word), 'ㄱㅣ' + s.completion);
  }
});

test('a keyboard model\'s backspace is the keyboard\'s, back to the kept states', async () => {
  const c = await typed(korean, '닭');
  const kept = c.history.map((h) => h.state);
  c.backspace(); // one key of the open syllable
  assert.equal(c.text, '달');
  assert.equal(c.state, kept[3]);
  const d = await typed(korean, '가기');
  d.backspace(); // 가 was committed when ㅣ came: the keyboard shows 가ㄱ, not 각
  assert.deepEqual([d.text, d.word, d.wordTokens, d.undoable], ['가ㄱ', '가ㄱ', 'ㄱㅏㄱ', 3]);
  const [first] = await d.suggestions(1);
  // as the box shows it once the completion is typed: 가 stays, the keys compose onto the open ㄱ (was: 각...)
  assert.equal(first.word, '가' + d.keyboard.keysToText('ㄱ' + first.completion));
  const e = await typed(korean, '기억 속');
  assert.equal(e.backspace(4), 4); // 속 by its three keys, then the space
  assert.deepEqual([e.text, e.undoable], ['기억', 5]);
  assert.equal(e.backspace(), 3); // nothing open: 억 whole
  assert.throws(() => e.backspace(2), RangeError); // one character left
  e.dispose();
});

test('a keyboard manifest whose keys are not its tables\' is refused', () => {
  assert.throws(() => new Autocompleter(fakeModel(korean), { ...korean, keys: ['ㄱ'] }), /keys/);
  assert.throws(() => new Autocompleter(fakeModel(korean), { ...korean, keyboard: {} }), /2-beolsik/);
});

test('a personal model learns each word as it ends, and its words are mixed into the suggestions', async () => {
  const { PersonalModel } = await import('../js/personal.js');
  const personal = new PersonalModel('characters');
  const model = fakeModel();
  const c = new Autocompleter(model, manifest, { personal });
  await c.reset();
  const plain = new Autocompleter(fakeModel(), manifest); // the same RNN, no personal model
  await plain.reset();
  await c.feed('abc cab. abc c');
  await plain.feed('abc cab. abc c');
  assert.deepEqual(personal.toJSON().words, [['cab', 1], ['abc', 2]]); // 'c' is still being typed
  assert.deepEqual(personal.toJSON().pairs, [['abc', 'cab', 1], ['cab', 'abc', 1]]);
  assert.equal(c.prev, 'abc');
  assert.equal(personal.adapter.steps, 14); // every key typed, where it was typed
  // the RNN's completions from its logits as the adapter corrects them (the same search)
  const logits = personal.adapter.logits(c.logits, model.values(c.state));
  assert.notDeepEqual(Array.from(logits), Array.from(plain.logits));
  const found = await beamComplete((t, s) => model.step(t, s), c.state, logits, c.wordIds, c.endIds,
                                   { k: 3, keep: FOUND, allowEmpty: true, release: (s) => model.release(s) });
  const rnn = found.map(({ ids, prob }) => [ids.map((i) => manifest.vocabulary[i]).join(''), prob]);
  const mixed = await c.suggestions(3);
  assert.deepEqual(mixed.map((s) => [s.completion, s.prob]), personal.mix(rnn, 'c', 'abc', 3));
  assert.ok(mixed.some((s) => s.word === 'cab')); // the word typed after 'abc' before
  c.backspace(2); // back into 'abc': prev restored, nothing unlearned
  assert.deepEqual([c.word, c.prev, personal.words.get('abc')], ['abc', 'cab', 2]);
  await c.reset();
  await c.feed('bb ', false); // text read again after a reset: not learned twice
  assert.ok(!personal.words.has('bb'));
  assert.throws(() => new Autocompleter(model, manifest, { personal: new PersonalModel('keys-2beolsik') }), /personal/);
  c.dispose();
  plain.dispose();
  assert.equal(model.live.size, 0);
});
