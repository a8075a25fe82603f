// BoxText (js/box_text.js): the text the box shows and the completer's operations that follow it, for a
// character model and a Korean keyboard model; random edits leave the completer where typing the text
// from scratch would.
//
//   cd web && npm test

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { Autocompleter, HISTORY } from '../js/autocomplete.js';
import { BoxText } from '../js/box_text.js';
import { Keyboard } from '../js/hangul.js';

const tables = JSON.parse(readFileSync(new URL('./hangul_cases.json', import.meta.url))).tables;
const kb = new Keyboard(tables);
const korean = { vocabulary: ['<unk>', '\n', ' ', 'a', ...tables.keys], specials: ['<unk>'], unk_id: 0,
                 start_text: '\n', input: 'keys-2beolsik', keys: Array.from(tables.keys), keyboard: tables };
const plain = { vocabulary: ['<unk>', '\n', ' ', 'a', 'b', 'c', '😀'], specials: ['<unk>'], unk_id: 0, start_text: '\n' };

/** A stand-in model: a state is the list of tokens read since the zero state (so equal states read alike). */
const model = {
  zeroState: () => [],
  step: async (token, state) => ({ logits: Float64Array.from({ length: 40 }, (_, v) => Math.sin(v + token)),
                                   state: [...state, token] }),
  values: (state) => Float32Array.of(state.length, state.at(-1) ?? 0),
  release: () => {},
};

async function run(completer, ops) {
  for (const op of ops) {
    if (op.reset) await completer.reset();
    else if (op.back) assert.equal(completer.backspace(op.back), op.width);
    else await completer.feed(op.feed);
  }
}

test('a character model: typed, deleted and replaced text', () => {
  const box = new BoxText(null, HISTORY);
  assert.deepEqual(box.change('ab😀c'), [{ feed: 'ab😀c' }]);
  assert.deepEqual(box.change('ab😀'), [{ back: 1, width: 1 }]);
  assert.deepEqual(box.change('ab'), [{ back: 1, width: 1 }]); // the emoji is one character
  assert.deepEqual(box.change('abba'), [{ feed: 'ba' }]);
  assert.deepEqual(box.change('xy'), [{ back: 4, width: 4 }, { feed: 'xy' }]);
  assert.equal(box.text, 'xy');
});

test('a keyboard model: jamo compose, Backspace removes one key, a deleted syllable goes whole', () => {
  const box = new BoxText(kb, HISTORY);
  assert.deepEqual(box.change('ㄱ'), [{ feed: 'ㄱ' }]);
  assert.deepEqual(box.change('ㄱㅣ'), [{ feed: 'ㅣ' }]);
  assert.equal(box.text, '기'); // what the box shows now
  assert.deepEqual(box.change('기억'), [{ feed: 'ㅇㅓㄱ' }]);
  assert.deepEqual(box.backspace(), [{ back: 1, width: 1 }]);
  assert.equal(box.text, '기어');
  assert.deepEqual(box.change('기'), [{ back: 2, width: 2 }]); // 어 deleted whole: both its keys
  assert.deepEqual(box.change('닭'), [{ back: 1, width: 2 }, { feed: 'ㄷㅏㄹㄱ' }]); // 기, committed: whole
  box.backspace();
  assert.equal(box.text, '달');
  box.change('가기');
  box.backspace();
  assert.equal(box.text, '가ㄱ'); // as the keyboard shows it
  assert.deepEqual(box.backspace(), [{ back: 1, width: 1 }]);
  assert.deepEqual(box.backspace(), [{ back: 1, width: 2 }]); // 가, committed: whole
  assert.deepEqual(box.backspace(), []); // nothing left
});

test('beyond the kept states the text is read again', () => {
  const box = new BoxText(kb, 4);
  box.change('기억 속'); // 8 keys, 4 kept
  assert.deepEqual(box.change('기'), [{ reset: true }, { feed: 'ㄱㅣ' }]);
  box.change('가 기억'); // 8 keys, 4 kept
  box.backspace();
  box.backspace();
  box.backspace(); // 가 기: one state kept, and 기 whole takes two
  assert.deepEqual(box.backspace(), [{ reset: true }, { feed: 'ㄱㅏ ' }]);
  assert.equal(box.text, '가 ');
});

test('random edits leave the completer where typing the text from scratch would', async () => {
  let seed = 7;
  const random = () => { seed = (seed * 48271) % 2147483647; return seed / 2147483647; };
  const pool = [...tables.keys, ' ', 'a', '가', '닭', '의'];
  for (const manifest of [korean, plain]) {
    const keyboard = manifest.input ? kb : null;
    for (let session = 0; session < 20; session++) {
      const box = new BoxText(keyboard, HISTORY);
      const completer = new Autocompleter(model, manifest);
      await completer.reset();
      for (let i = 0; i < 30; i++) {
        const r = random();
        let ops;
        if (r < 0.2 && keyboard) {
          ops = box.backspace();
        } else if (r < 0.35) {
          const kept = Array.from(box.text).slice(0, Math.floor(random() * (box.text.length + 1))).join('');
          ops = box.change(kept); // a deletion: whole characters
          assert.equal(box.text, kept);
        } else {
          ops = box.change(box.text + pool[Math.floor(random() * pool.length)]);
        }
        await run(completer, ops);
        if (keyboard) assert.equal(completer.text, box.text);
        const fresh = new Autocompleter(model, manifest);
        await fresh.reset();
        await fresh.feed(keyboard ? box.composer.keys : box.text);
        assert.deepEqual(completer.state, fresh.state); // the same tokens read since the start
        assert.equal(completer.undoable, box.kept);
      }
    }
  }
});
