// The page: loads the chosen export's batch-1 model into LiteRT.js, then on every keystroke shows the
// top-3 completions of the word being typed, the next-character distribution and the time it took.
//
// A Korean keyboard model (its manifest says "input": "keys-2beolsik") reads keys: what the user types,
// composed syllables from an input method or jamo one by one, is typed as keys (js/hangul.js), the box
// shows the keys composed as the keyboard composes them, Backspace removes one key of the syllable being
// typed (닭 -> 달), and the suggestions are shown in Hangul.
//
// A personal word model (js/personal.js) learns the words typed and is mixed into the suggestions; it is
// kept in this page's localStorage (one per kind of tokens: characters, or the Korean keyboard's keys), never
// sent anywhere, and the "Forget what I typed" button empties it. A stored value that cannot be read is
// ignored with a notice.
//
// Query options: ?model=NAME (an export the server lists) &kind=float|int8 (default: the index's `default`,
// int8 where the manifest shows it within 0.01 bits/char of float) &wasm=URL (a LiteRT loader
// .js, to try the compat build). `window.kerasrnn` holds the page's state for tests and benchmarks:
// ready, error, busy (queued keystrokes), shown (suggestions), next (next characters), last (timings).

import { Autocompleter, HISTORY, isKoreanWordChar, isWordChar, modelId } from './autocomplete.js';
import { KEYBOARD } from './hangul.js';
import { BoxText } from './box_text.js';
import { fetchIndex, fetchManifest, fetchVerified, ModelError } from './models.js';
import { CHARACTERS, PersonalModel } from './personal.js';
import { loadRuntime } from './runtime.js';
import { StepModel } from './step_model.js';

const SUGGESTIONS = 3;
const NEXT_CHARS = 8;
const STORAGE_PREFIX = 'kerasrnn.personal.'; // + the tokens: this page's localStorage key of the personal model
const MAX_STORED = 4 << 20; // characters of a stored personal model read at most
const SAVE_AFTER_MS = 1000; // a learned word is stored this long after the typing stops (and when the page hides)
const KINDS = ['float', 'int8'];
const KOREAN = { placeholder: '여기에 입력하세요, 예: 기', lang: 'ko',
                 hint: 'Tab takes the first suggestion, a click takes any; Backspace removes one key of the ' +
                       'syllable being typed (닭 → 달), as a Korean keyboard does.' };

const $ = (id) => document.getElementById(id);
const box = $('text');
const app = { ready: false, error: null, busy: 0, shown: [], next: [], last: null, latencies: [], notice: null };
Object.defineProperty(app, 'personal', { enumerable: true, get: () => app.completer?.personal?.toJSON() ?? null });
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

/** Shows a notice about the personal model (a stored value ignored, storage refused), or hides it. */
function notice(text) {
  app.notice = text;
  $('personal-notice').textContent = text ?? '';
  $('personal-notice').hidden = !text;
}

/** localStorage, or null where the browser refuses it (a private window, a policy). */
function storage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** The personal model of this manifest's tokens, read from localStorage (empty when there is none, or when
 * the stored value cannot be read: then with a notice; it is replaced by the next word learned). */
function openPersonal(manifest) {
  const tokens = manifest.input === KEYBOARD ? KEYBOARD : CHARACTERS;
  const personal = new PersonalModel(tokens, { model: modelId(manifest) }); // its states: this model's
  app.storageKey = STORAGE_PREFIX + tokens;
  const store = storage();
  if (!store) {
    notice('This browser keeps no local storage for this page: the words you type are learned until it closes.');
    return personal;
  }
  let raw = null;
  try {
    raw = store.getItem(app.storageKey);
    if (raw !== null) {
      if (raw.length > MAX_STORED) throw new Error(`larger than ${MAX_STORED >> 20} MB`);
      let data;
      try {
        data = JSON.parse(raw);
      } catch (e) {
        throw new Error(`not JSON: ${e.message}`);
      }
      personal.loadJSON(data, tokens === KEYBOARD ? isKoreanWordChar : isWordChar);
    }
    savedChanges = personal.changes; // nothing new to store yet
  } catch (e) {
    personal.forget();
    savedChanges = personal.changes; // the value that could not be read stays until a word is learned
    notice(`The words stored by this page earlier could not be read (${String(e.message).slice(0, 120)}): ` +
           'they were ignored, and learning starts afresh.');
  }
  return personal;
}

let saveTimer = null;
let savedChanges = null; // the personal model's `changes` when last stored (or read)

/** Stores the personal model in localStorage if it learned something since the last time. */
function savePersonal() {
  clearTimeout(saveTimer);
  saveTimer = null;
  const personal = app.completer?.personal;
  const store = storage();
  if (!personal || !store || personal.changes === savedChanges) return;
  try {
    store.setItem(app.storageKey, JSON.stringify(personal));
    savedChanges = personal.changes;
  } catch (e) {
    notice(`The words you type cannot be stored in this browser (${e.name}): they are learned until it closes.`);
  }
}

/** Shows what the personal model holds. */
function renderPersonal() {
  const personal = app.completer?.personal;
  if (!personal) return;
  const n = personal.words.size;
  $('personal').textContent = `Learned from your typing: ${n} word${n === 1 ? '' : 's'}, kept in this browser only ` +
    '(never sent anywhere) and mixed into the suggestions.';
  $('forget').disabled = personal.size === 0;
  if (personal.changes !== savedChanges && saveTimer === null) saveTimer = setTimeout(savePersonal, SAVE_AFTER_MS);
}

/** The "Forget what I typed" button: empties the personal model and its stored copy. */
function forgetPersonal() {
  const personal = app.completer?.personal;
  if (!personal) return;
  personal.forget();
  clearTimeout(saveTimer);
  saveTimer = null;
  try {
    storage()?.removeItem(app.storageKey);
  } catch { /* nothing stored */ }
  savedChanges = personal.changes;
  notice(null);
  schedule([]); // the suggestions without it
}

/** The picker: one entry per export and kind; choosing one loads the page with it. */
function fillPicker(index, name, kind) {
  const picker = $('model');
  for (const m of index.models) {
    for (const k of KINDS.filter((k) => k in m.files)) {
      const f = m.files[k];
      const unit = m.input === 'keys-2beolsik' ? 'key' : 'char';
      const label = `${m.name} · ${m.cell.toUpperCase()} ${m.layers}×${m.units} · ${k}${k === m.default ? ' (default)' : ''} · ` +
                    `${(f.bytes / 1e6).toFixed(2)} MB · ${f.validation_bpc.toFixed(3)} bits/${unit}`;
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
  const entry = index.models.find((m) => m.name === name);
  const kind = params.get('kind') ?? entry?.default ?? 'float'; // int8 where it is as good as float
  fillPicker(index, name, kind);
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
  let completer;
  try {
    completer = new Autocompleter(model, manifest, { personal: openPersonal(manifest) });
  } catch (e) {
    model.delete();
    throw new ModelError(`${name}/manifest.json: ${e.message}`);
  }
  await completer.reset();
  if (completer.keyboard) {
    Object.assign(box, { placeholder: KOREAN.placeholder, lang: KOREAN.lang });
    $('hint').textContent = KOREAN.hint;
  }
  Object.assign(app, { name, kind, file, manifest, model, completer, variant, keyboard: Boolean(completer.keyboard),
                       isDefault: kind === (entry.default ?? 'float'), bytes: entry.files[kind].bytes,
                       loadedMs: performance.now() });
}

// Keystrokes are handled one at a time: each waits for the previous one's steps. The box shows their result
// at once (`boxText`, a keyboard model's composition included); the completer follows in order.
let queue = Promise.resolve();
let boxText = null; // BoxText: the text the box shows, and the operations that bring the completer to it
let composing = false; // an input method is composing in the box: leave its text alone

/** Queues running `ops` on the completer, then suggesting; `app.busy` counts the queued ones. */
function schedule(ops) {
  app.busy++;
  queue = queue.then(() => sync(ops)).catch(fail).finally(() => { app.busy--; });
  return queue;
}

/** Runs the operations (reset, backspaces to kept states, tokens fed), then computes the suggestions. */
async function sync(ops) {
  const { completer } = app;
  const t0 = performance.now();
  let fed = 0;
  let back = 0;
  let reread = false; // after a reset the box's text is read again: its words were learned once already
  for (const op of ops) {
    if (op.reset) {
      await completer.reset();
      back = 0;
      reread = true;
    } else if (op.back) {
      back += completer.backspace(op.back);
    } else {
      await completer.feed(op.feed, !reread);
      fed += Array.from(op.feed).length;
    }
  }
  const t1 = performance.now();
  const shown = await completer.suggestions(SUGGESTIONS);
  const t2 = performance.now();
  app.shown = shown;
  app.next = completer.nextChars(NEXT_CHARS);
  app.last = { feedMs: t1 - t0, suggestMs: t2 - t1, totalMs: t2 - t0, fed, back };
  app.latencies.push(t2 - t0);
  render();
}

/** Shows `text` in the box (a keyboard model's composition), the caret as far from the end as it was. */
function show(text) {
  if (box.value === text) return;
  const fromEnd = box.value.length - box.selectionEnd;
  box.value = text;
  const caret = Math.max(0, text.length - fromEnd);
  box.setSelectionRange(caret, caret);
}

/** The box changed (typing, a paste, a deletion, an input method): queue what brings the completer to it. */
function changed() {
  const ops = boxText.change(box.value);
  if (!composing) show(boxText.text); // an input method's own text stays until it commits
  return schedule(ops);
}

/** A keyboard model's Backspace at the end of the text: the keyboard's, one key of the open syllable. */
function keyboardBackspace(e) {
  const atEnd = box.selectionStart === box.selectionEnd && box.selectionEnd === box.value.length;
  if (!app.keyboard || e.isComposing || composing || !atEnd) return; // elsewhere characters go whole
  e.preventDefault();
  const ops = [...boxText.change(box.value), ...boxText.backspace()]; // (the first: none, unless the box changed unseen)
  show(boxText.text);
  schedule(ops);
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
  const token = app.keyboard ? 'key' : 'character';
  const read = [back ? `back ${plural(back, token)} to a kept state` : '',
                fed || !back ? `${plural(fed, token)} read` : ''].filter(Boolean).join(', ');
  renderPersonal();
  $('latency').textContent = `this keystroke ${totalMs.toFixed(2)} ms (${read} in ${feedMs.toFixed(2)} ms, ` +
    `suggestions in ${suggestMs.toFixed(2)} ms); median of ${sorted.length}: ${median.toFixed(2)} ms`;
}

/** Adds a suggestion's completion at the end of the text (the page completes the last word). */
function accept(suggestion) {
  box.value += suggestion.completion; // a keyboard model's keys: shown composed
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
  return changed();
}

start().then(async () => {
  boxText = new BoxText(app.completer.keyboard, HISTORY);
  box.disabled = false;
  box.addEventListener('input', changed);
  box.addEventListener('compositionstart', () => { composing = true; });
  box.addEventListener('compositionend', () => { composing = false; changed(); });
  $('forget').addEventListener('click', forgetPersonal);
  window.addEventListener('pagehide', savePersonal);
  document.addEventListener('visibilitychange', () => { if (document.hidden) savePersonal(); });
  box.addEventListener('keydown', (e) => {
    const plain = !e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey;
    if (e.key === 'Tab' && plain) {
      e.preventDefault(); // Tab takes a suggestion; Shift+Tab still leaves the box
      queue.then(() => app.shown.length && !app.error && accept(app.shown[0]));
    } else if (e.key === 'Backspace' && plain) {
      keyboardBackspace(e);
    }
  });
  await changed();
  app.readyMs = performance.now(); // since navigation start: runtime, model, first suggestions
  box.focus();
  if (!app.error) {
    app.ready = true;
    $('status').textContent = `Runs ${app.name}/${app.file} (${app.kind}${app.isDefault ? ', the default' : ''}, ` +
      `${(app.bytes / 1e6).toFixed(2)} MB) on LiteRT.js ${app.variant ?? ''}: ready in ${app.readyMs.toFixed(0)} ms`;
  }
}).catch(fail);
