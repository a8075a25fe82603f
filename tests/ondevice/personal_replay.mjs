// Replays a randomized sequence of personal model calls (written by tests/ondevice/test_personal_port.py)
// on the page's port, web/js/personal.js, and prints what each call returned, as JSON, for Python to compare.
//
//   node tests/ondevice/personal_replay.mjs ops.json

import { readFileSync } from 'node:fs';

import { PersonalModel } from '../../web/js/personal.js';

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const out = cases.map((c) => {
  const options = { maxWords: c.max_words, maxPairs: c.max_pairs, recent: c.recent, bonus: c.bonus,
                    states: c.states, model: 'm' };
  let model = new PersonalModel('characters', options);
  const results = [];
  for (const op of c.ops) {
    if (op[0] === 'learn') {
      model.learn(op[1], op[2], op[3]);
    } else if (op[0] === 'predict') {
      const { words, mu } = model.predict(op[1], op[2], op[3], op[4]);
      results.push([words, mu]);
    } else if (op[0] === 'mix') {
      results.push(model.mix(op[4], op[1], op[2], op[3], op[5], op[6]));
    } else if (op[0] === 'stem') {
      results.push(model.stem(op[1]));
    } else { // reload: the model read back from its save
      const saved = JSON.parse(JSON.stringify(model));
      model = new PersonalModel('characters', options);
      model.loadJSON(saved);
    }
  }
  return { results, saved: model.toJSON() };
});
process.stdout.write(JSON.stringify(out));
