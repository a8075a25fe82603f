// sha256Plain (js/sha256.js), the fallback where crypto.subtle is missing, against node:crypto.
//
//   cd web && npm test

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';

import { sha256Hex, sha256Plain } from '../js/sha256.js';

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

test('the plain SHA-256 equals node:crypto on every padding case', () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 300001]) {
    const bytes = randomBytes(n);
    assert.equal(hex(sha256Plain(new Uint8Array(bytes))), createHash('sha256').update(bytes).digest('hex'), `${n}`);
  }
});

test('sha256Hex uses crypto.subtle where there is one', async () => {
  assert.equal(await sha256Hex(new TextEncoder().encode('abc')),
               'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
