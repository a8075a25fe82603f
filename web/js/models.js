// The exported models the server offers (`models/index.json`, built from each export's manifest.json),
// and a model file fetched and checked against its manifest's sha256 before it is compiled.

import { sha256Hex } from './sha256.js';

export const INDEX_URL = 'models/index.json';

/** An error the page shows as it is (its message names the file and the fix). */
export class ModelError extends Error {}

async function fetchOk(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new ModelError(`cannot fetch ${what}: ${e.message} (is python -m kerasrnn.web still running?)`);
  }
  if (!response.ok) throw new ModelError(`cannot fetch ${what}: HTTP ${response.status} ${response.statusText}`);
  return response;
}

/**
 * The server's model index: {models: [{name, cell, units, layers, parameters, files: {float|int8:
 * {file, bytes, validation_bpc}}}], skipped: [{name, reason}]}.
 */
export async function fetchIndex() {
  return (await fetchOk(INDEX_URL, 'the model index')).json();
}

/** An export's manifest.json. */
export async function fetchManifest(name) {
  const response = await fetchOk(`models/${encodeURIComponent(name)}/manifest.json`, `${name}/manifest.json`);
  try {
    return await response.json();
  } catch (e) {
    throw new ModelError(`${name}/manifest.json is not valid JSON (${e.message}): export the model again`);
  }
}

/**
 * A model file's bytes, checked against the sha256 its manifest lists.
 *
 * @returns {Promise<Uint8Array>}
 * @throws {ModelError} the file is missing, not listed, or does not match its sha256.
 */
export async function fetchVerified(name, manifest, file) {
  const entry = manifest.files?.[file];
  if (!entry?.sha256) throw new ModelError(`${name}/manifest.json lists no ${file}: export the model again`);
  const response = await fetchOk(`models/${encodeURIComponent(name)}/${file}`, `${name}/${file}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const digest = await sha256Hex(bytes);
  if (digest !== entry.sha256) {
    throw new ModelError(`${name}/${file} does not match its sha256 in manifest.json (expected ` +
                         `${entry.sha256.slice(0, 12)}…, got ${digest.slice(0, 12)}…): the file is corrupt ` +
                         'or was replaced; export the model again');
  }
  return bytes;
}
