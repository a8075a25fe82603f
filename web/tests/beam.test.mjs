// beamComplete (js/beam.js) against kerasrnn.inference.samplers.beam_complete, with a stand-in step.
//
//   cd web && npm test     (expected outputs: tests/beam_cases.json, written by
//                           `python tests/ondevice/test_web_js.py`; a pytest test checks it is current)

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { beamComplete, logSoftmax, logSumExpAt } from '../js/beam.js';

const data = JSON.parse(readFileSync(new URL('./beam_cases.json', import.meta.url)));

// The same function as fake_step in tests/ondevice/test_web_js.py, at batch 1; states are Float32Array(2).
function fakeStep(token, state) {
  const next = Float32Array.from([0, 1], (j) => state[j] * 0.5 + token * 0.25 + 0.1);
  const logits = Float64Array.from({ length: data.vocab },
      (_, v) => 3 * Math.sin(v * 0.7 + next[0] * 1.3) + Math.cos(v * 0.3 + next[1] * 2.1));
  return { logits, state: next };
}

for (const c of data.cases) {
  const name = `start ${c.start} k ${c.k} width ${c.beamWidth} maxLen ${c.maxLen} allowEmpty ${c.allowEmpty}`
      + ` keep ${c.keep}`;
  test(`matches Python: ${name}`, async () => {
    const first = fakeStep(c.start, Float32Array.of(c.start * 0.3, -c.start * 0.2));
    const live = new Set(); // states handed out by step and not yet released
    const step = async (token, state) => {
      const out = fakeStep(token, state);
      live.add(out.state);
      return out;
    };
    const release = (state) => assert.ok(live.delete(state), 'released a state twice or one it did not own');
    const found = await beamComplete(step, first.state, first.logits, data.wordIds, data.endIds,
        { k: c.k, keep: c.keep ?? undefined, beamWidth: c.beamWidth, maxLen: c.maxLen, allowEmpty: c.allowEmpty,
          release });
    assert.equal(live.size, 0, 'every state from step is released');
    assert.deepEqual(found.map((f) => f.ids), c.expected.map((e) => e.ids));
    found.forEach((f, i) => assert.ok(Math.abs(f.prob - c.expected[i].prob) < 1e-12, `prob ${i}`));
  });
}

test('releases every state when a step fails', async () => {
  const live = new Set();
  let calls = 0;
  const step = async (token, state) => {
    if (++calls === 4) throw new Error('boom');
    const out = fakeStep(token, state);
    live.add(out.state);
    return out;
  };
  const first = fakeStep(1, Float32Array.of(0, 0));
  await assert.rejects(beamComplete(step, first.state, first.logits, data.wordIds, data.endIds,
      { release: (s) => live.delete(s) }), /boom/);
  assert.equal(live.size, 0);
});

test('logSoftmax and logSumExpAt', () => {
  const lp = logSoftmax([1, 2, 3]);
  assert.ok(Math.abs(lp.reduce((a, x) => a + Math.exp(x), 0) - 1) < 1e-15);
  assert.ok(Math.abs(logSumExpAt(lp, [0, 1, 2])) < 1e-15);
  assert.equal(logSumExpAt([-Infinity, -Infinity], [0, 1]), -Infinity);
});
