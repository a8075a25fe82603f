// The page: loads the chosen export's batch-1 model into LiteRT.js, then on every keystroke shows the
// top-3 completions of the word being typed, the next-character distribution and the time it took.
//
// Query options: ?model=NAME (an export the server lists) &kind=float|int8 &wasm=URL (a LiteRT loader
// .js, to try the compat build). `window.kerasrnn` holds the page's state for tests and benchmarks:
// ready, error, busy (queued keystrokes), shown (suggestions), next (next characters), last (timings).

import { Autocompleter } from './autocomplete.js';
import { fetchIndex, fetchManifest, fetchVerified, ModelError } from './models.js';
import { loadRuntime } from './runtime.js';
import { StepModel } from './step_model.js';

const SUGGESTIONS = 3;
const NEXT_CHARS = 8;
const KINDS = ['float', 'int8'];

const $ = (id) => document.getElementById(id);
const box = $('text');
const app = { ready: false, error: null, busy: 0, shown: [], next: [], last: null, latencies: [] };
window.kerasrnn = app;

/** Shows an error in place of the page's work (never a blank page). */
function fail(error) {
  app.error = error instanceof ModelError ? error.message : `${error.name ?? 'Error'}: ${error.message ?? error}`;
  $('error').textContent = app.error;
  $('error').hidden = false;
  $('status').textContent = 'not ready';
  box.disabled = true;
  console.error(error);
}

/** The picker: one entry per export and kind; choosing one loads the page with it. */
function fillPicker(index, name, kind) {
  const picker = $('model');
  for (const m of index.models) {
    for (const k of KINDS.filter((k) => k in m.files)) {
      const f = m.files[k];
      const label = `${m.name} · ${m.cell.toUpperCase()} ${m.layers}×${m.units} · ${k} · ` +
                    `${(f.bytes / 1e6).toFixed(2)} MB · ${f.validation_bpc.toFixed(3)} bits/char`;
      picker.add(new Option(label, `${m.name}|${k}`, false, m.name === name && k === kind));
    }
  }
  picker.disabled = false;
  picker.addEventListener('change', () => {
    const [model, chosen] = picker.value.split('|');
    const params = new URLSearchParams(location.search);
    params.set('model', model);
    params.set('kind', chosen);
    location.search = params.toString();
  });
}

async function start() {
  const params = new URLSearchParams(location.search);
  const index = await fetchIndex();
  if (!index.models.length) {
    throw new ModelError('the server offers no model with web files: export one with python -m kerasrnn.export');
  }
  const name = params.get('model') ?? index.models[0].name;
  const kind = params.get('kind') ?? 'float';
  fillPicker(index, name, kind);
  const entry = index.models.find((m) => m.name === name);
  if (!entry) throw new ModelError(`no model '${name}' here: choose one of ${index.models.map((m) => m.name)}`);
  if (!entry.files[kind]) throw new ModelError(`${name} has no ${kind} web file (kinds: ${Object.keys(entry.files)})`);
  const file = entry.files[kind].file;
  const [variant, [manifest, bytes]] = await Promise.all([ // the runtime starts while the model downloads
    loadRuntime(params.get('wasm') ?? undefined).catch((e) => {
      throw new ModelError(`cannot start LiteRT.js: ${e.message}`);
    }),
    fetchManifest(name).then(async (m) => [m, await fetchVerified(name, m, file)]),
  ]);
  const model = await StepModel.compile(bytes, manifest.state_size).catch((e) => {
    throw new ModelError(`cannot load ${name}/${file}: ${e.message}`);
  });
  const completer = new Autocompleter(model, manifest);
  await completer.reset();
  Object.assign(app, { name, kind, file, manifest, model, completer, variant, loadedMs: performance.now() });
}

// Keystrokes are handled one at a time: each waits for the previous one's steps.
let queue = Promise.resolve();
let typed = null; // the text the completer has read (null: unknown, start over)

/** Queues bringing the completer to the text box; `app.busy` counts the queued ones. */
function schedule() {
  app.busy++;
  queue = queue.then(sync).catch((e) => {
    typed = null; // the completer may be half-way: start over next time
    fail(e);
  }).finally(() => { app.busy--; });
  return queue;
}

/** Brings the completer to the text box's text (backspace and feed where it can), then suggests. */
async function sync() {
  const text = box.value;
  const { completer } = app;
  const t0 = performance.now();
  let common = 0;
  if (typed !== null) {
    while (common < typed.length && common < text.length && typed[common] === text[common]) common++;
    if (common > 0 && /[\uD800-\uDBFF]/.test(typed[common - 1])) common--; // never split a surrogate pair
  }
  const removed = typed === null ? Infinity : Array.from(typed.slice(common)).length; // in code points
  const reread = removed > completer.undoable; // more than the kept states: read the whole text again
  if (reread) {
    await completer.reset();
    common = 0;
  } else {
    completer.backspace(removed);
  }
  const added = text.slice(common);
  await completer.feed(added);
  const t1 = performance.now();
  const shown = await completer.suggestions(SUGGESTIONS);
  const t2 = performance.now();
  typed = text;
  app.shown = shown;
  app.next = completer.nextChars(NEXT_CHARS);
  app.last = { feedMs: t1 - t0, suggestMs: t2 - t1, totalMs: t2 - t0, fed: Array.from(added).length,
               back: reread ? 0 : removed };
  app.latencies.push(t2 - t0);
  render();
}

const VISIBLE = { ' ': '␣', '\n': '↵', '\t': '⇥' };

function render() {
  $('suggestions').replaceChildren(...app.shown.map((s) => {
    const item = document.createElement('li');
    item.append(s.word, Object.assign(document.createElement('small'), { textContent: s.prob.toFixed(3) }));
    item.title = `adds "${s.completion}"`;
    item.addEventListener('click', () => accept(s));
    return item;
  }));
  $('next').tBodies[0].replaceChildren(...app.next.map(({ char, prob }) => {
    const row = document.createElement('tr');
    const bar = Object.assign(document.createElement('div'), { className: 'bar' });
    bar.style.width = `${(100 * prob).toFixed(1)}%`;
    const cells = [['char', VISIBLE[char] ?? char], ['barcell', bar], ['prob', prob.toFixed(3)]];
    row.append(...cells.map(([cls, content]) => {
      const cell = Object.assign(document.createElement('td'), { className: cls });
      cell.append(content);
      return cell;
    }));
    return row;
  }));
  const sorted = [...app.latencies].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const { feedMs, suggestMs, totalMs, fed, back } = app.last;
  const plural = (n, what) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const read = [back ? `back ${plural(back, 'character')} to a kept state` : '',
                fed || !back ? `${plural(fed, 'character')} read` : ''].filter(Boolean).join(', ');
  $('latency').textContent = `this keystroke ${totalMs.toFixed(2)} ms (${read} in ${feedMs.toFixed(2)} ms, ` +
    `suggestions in ${suggestMs.toFixed(2)} ms); median of ${sorted.length}: ${median.toFixed(2)} ms`;
}

/** Adds a suggestion's completion at the end of the text (the page completes the last word). */
function accept(suggestion) {
  box.value += suggestion.completion;
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
  return schedule();
}

start().then(async () => {
  box.disabled = false;
  box.addEventListener('input', () => schedule());
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey) {
      e.preventDefault(); // Tab takes a suggestion; Shift+Tab still leaves the box
      queue.then(() => app.shown.length && !app.error && accept(app.shown[0]));
    }
  });
  await schedule();
  app.readyMs = performance.now(); // since navigation start: runtime, model, first suggestions
  box.focus();
  if (!app.error) {
    app.ready = true;
    $('status').textContent = `${app.name} (${app.kind}, ${app.file}) on LiteRT.js ${app.variant ?? ''}: ` +
      `ready in ${app.readyMs.toFixed(0)} ms`;
  }
}).catch(fail);
