// The Hangul port (js/hangul.js) against kerasrnn.ondevice.hangul: hand-written texts and a sample of
// corpus lines typed as keys and composed back, random typing with backspaces, every syllable's keys.
//
//   cd web && npm test     (expected outputs: tests/hangul_cases.json, written by
//                           `python tests/ondevice/test_web_js.py`; a pytest test checks it is current)

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { Keyboard } from '../js/hangul.js';

const data = JSON.parse(readFileSync(new URL('./hangul_cases.json', import.meta.url)));
const kb = new Keyboard(data.tables);
const BACKSPACE = '\b';

test('the tables give the 33 keys', () => {
  assert.equal(kb.keys, data.tables.keys);
  assert.equal(kb.keys.length, 33);
  assert.ok(kb.isKey('ㄱ') && kb.isKey('ㅣ') && !kb.isKey('ㅘ') && !kb.isKey('가') && !kb.isKey('a'));
});

test('text -> keys -> text as Python, on hand-written texts and corpus lines', () => {
  assert.ok(data.texts.length > 200);
  for (const [text, keys, shown] of data.texts) {
    assert.equal(kb.textToKeys(text), keys, text);
    assert.equal(kb.keysToText(keys), shown, keys);
  }
});

test('the lecture example and the keyboard cases', () => {
  assert.equal(kb.textToKeys('기억 속으로'), 'ㄱㅣㅇㅓㄱ ㅅㅗㄱㅇㅡㄹㅗ');
  const keys = kb.textToKeys('기억 속으로');
  const shown = Array.from({ length: 5 }, (_, n) => kb.keysToText(keys.slice(0, n + 1)));
  assert.deepEqual(shown, ['ㄱ', '기', '깅', '기어', '기억']);
  for (const [typed, after] of [['닭', '달'], ['과', '고'], ['각', '가'], ['ㄳ', 'ㄱ'], ['ㄱ', '']]) {
    const c = kb.composer().feed(kb.textToKeys(typed));
    assert.equal(c.backspace(), 1);
    assert.equal(c.text, after, typed);
  }
  const c = kb.composer().feed('ㄱㅏㄱㅣ');
  c.backspace();
  assert.equal(c.text, '가ㄱ'); // 가 was committed when ㅣ moved ㄱ on
  assert.equal(c.keys, 'ㄱㅏㄱ');
  assert.equal(kb.keysToText(c.keys), '각');
});

test('random typing with backspaces is composed as Python composes it', () => {
  for (const steps of data.sessions) {
    const c = kb.composer();
    for (const [op, text, keys, preedit, pressed, width] of steps) {
      const before = c.backspaceWidth(3);
      const got = op === BACKSPACE ? c.backspace() : (c.push(op), null);
      assert.deepEqual([c.text, c.keys, c.preedit, got, before], [text, keys, preedit, pressed, width], op);
    }
  }
});

test('a bounded composer keeps the tail', () => {
  const c = kb.composer(3).feed(kb.textToKeys('가나다라마'));
  assert.equal(c.text, '나다라마');
  assert.equal(c.keys, kb.textToKeys('나다라마'));
});

test('every syllable has Python\'s keys, and every pair of syllables composes back', () => {
  let all = '';
  for (let code = 0xac00; code <= 0xd7a3; code++) all += String.fromCharCode(code);
  assert.equal(createHash('sha256').update(kb.textToKeys(all)).digest('hex'), data.syllableKeysSha256);
  const nexts = Array.from({ length: 19 }, (_, i) => String.fromCharCode(0xac00 + i * 588)); // 가 까 나 ... 하
  for (const s of all) {
    for (const n of nexts) assert.equal(kb.keysToText(kb.textToKeys(s + n)), s + n);
  }
});

test('tables that are not the keyboard\'s are refused', () => {
  assert.throws(() => new Keyboard(undefined), /not those of a 2-beolsik keyboard/);
  assert.throws(() => new Keyboard({ ...data.tables, initials: 'ㄱㄴ' }), /not those of a 2-beolsik keyboard/);
  assert.throws(() => new Keyboard({ ...data.tables, keys: 'ㄱ' }), /keyboard keys/);
});
