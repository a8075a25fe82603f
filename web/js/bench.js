// Measurements for the browser tests and `python -m kerasrnn.bench web`, imported into the loaded page
// (`await import('./js/bench.js')`) and given `window.kerasrnn`. The page itself never imports this.

import { Autocompleter, modelId } from './autocomplete.js';
import { PersonalModel } from './personal.js';
import { heapBytes } from './runtime.js';

/**
 * What the Python reference computes, with a completer of its own (the text box is left alone): for
 * each prefix, the top-k suggestions and the next-character logits after it.
 */
export async function complete(app, prefixes, k = 3) {
  const completer = new Autocompleter(app.model, app.manifest);
  const out = {};
  try {
    for (const prefix of prefixes) {
      await completer.reset();
      await completer.feed(prefix);
      out[prefix] = { suggestions: await completer.suggestions(k), logits: Array.from(completer.logits) };
    }
  } finally {
    completer.dispose();
  }
  return out;
}

/**
 * Times `count` single steps at batch 1 (after `warmup`), the state Tensor passed straight back.
 *
 * @returns {{ms: number[], heapBefore: number, heapAfter: number}}
 */
export async function timeSteps(app, text, count, warmup = 50) {
  const { model, completer } = app;
  const ids = completer.encode(text);
  let state = model.zeroState();
  const ms = [];
  const heapBefore = heapBytes();
  for (let i = 0; i < warmup + count; i++) {
    const t0 = performance.now();
    const out = await model.step(ids[i % ids.length], state);
    const t1 = performance.now();
    model.release(state);
    state = out.state;
    if (i >= warmup) ms.push(t1 - t0);
  }
  model.release(state);
  return { ms, heapBefore, heapAfter: heapBytes() };
}

/**
 * Times `count` keystrokes: feed one character of `text` (cycling), then the top-3 suggestions, as the
 * page does on each key, with a personal model of its own learning the words of `text` (the page's own is
 * left alone): a fresh one when `personal` is true, one loaded from `personal` when it is a saved model
 * (PersonalModel.toJSON, e.g. Python's filled one: lookups in a full model), none when it is false.
 * Samples the WASM heap every `every` keystrokes.
 *
 * @returns {{ms: number[], steps: number, heap: Array<[number, number]>, personalEntries: number}} steps:
 *     model steps in all (one per character plus the searches' beams); personalEntries: the personal
 *     model's words and pairs at the end.
 */
export async function timeKeystrokes(app, text, count, every = 100, personal = true) {
  let steps = 0;
  const counted = { // the page's model, counting steps
    zeroState: () => app.model.zeroState(),
    step: (t, s) => { steps++; return app.model.step(t, s); },
    values: (s) => app.model.values(s),
    release: (s) => app.model.release(s),
  };
  const tokens = app.completer.tokenKind;
  let model = null;
  if (personal) {
    model = new PersonalModel(tokens, { model: modelId(app.manifest) });
    if (personal !== true) model.loadJSON(personal);
  }
  const completer = new Autocompleter(counted, app.manifest, { personal: model });
  const chars = Array.from(text);
  const ms = [];
  const heap = [[0, heapBytes()]];
  try {
    await completer.reset();
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await completer.feed(chars[i % chars.length]);
      await completer.suggestions(3);
      ms.push(performance.now() - t0);
      if ((i + 1) % every === 0) heap.push([i + 1, heapBytes()]);
    }
  } finally {
    completer.dispose();
  }
  return { ms, steps, heap, personalEntries: completer.personal?.size ?? 0 };
}

/**
 * The control for the heap check: `count` steps that delete none of their output tensors, to show that
 * heapBytes() sees a leak of one step's tensors per step.
 */
export async function leakySteps(app, count) {
  const { model } = app;
  const state0 = model.zeroState();
  const warm = await model.step(1, state0); // makes (and caches) the token Tensor
  model.release(warm.state);
  const token = model.tokenTensors.get(1);
  const before = heapBytes();
  let state = state0;
  for (let i = 0; i < count; i++) {
    const out = await model.runner.run({ token, state });
    state = out.state; // neither out.logits nor the old state is deleted
  }
  return { before, after: heapBytes() };
}

/** The timer's resolution: the smallest nonzero difference between performance.now() calls. */
export function timerResolutionMs() {
  let smallest = Infinity;
  for (let i = 0; i < 2000; i++) {
    const a = performance.now();
    let b = performance.now();
    while (b === a) b = performance.now();
    smallest = Math.min(smallest, b - a);
  }
  return { smallest, crossOriginIsolated: self.crossOriginIsolated };
}

/** Bytes of the WASM heap now. */
export { heapBytes };
