// The LiteRT.js WebAssembly runtime: loading it once per page, and its heap size.
//
// `loadLiteRt(dir)` (@litertjs/core 2.5.3, dist/index.js `load`, near line 1293) picks one of four
// WASM builds in `dir`: litert_wasm_internal.js when the browser has relaxed SIMD,
// litert_wasm_compat_internal.js when it has not; the threaded and JSPI builds only when asked for
// ({threads: true} / {jspi: true}), which this page never does. So the server ships only the first two
// (a .js loader and its ~9.4 MB .wasm each). The loader adds a <script> tag: the page needs a body.

import { getGlobalLiteRt, loadLiteRt } from '@litertjs/core';

export const WASM_DIR = 'node_modules/@litertjs/core/wasm/';

/**
 * Loads the runtime.
 *
 * @param {string} [wasmDir] URL of the folder with the WASM builds (a trailing slash), or of one
 *     loader .js file (never the .wasm).
 * @returns {Promise<string|null>} the file name of the .wasm build that was fetched.
 */
export async function loadRuntime(wasmDir = WASM_DIR) {
  await loadLiteRt(wasmDir);
  return loadedWasmVariant();
}

/** The file name of the LiteRT .wasm this page fetched (from the Resource Timing entries). */
export function loadedWasmVariant() {
  const wasm = performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.endsWith('.wasm'));
  return wasm.length ? wasm[wasm.length - 1].split('/').pop() : null;
}

/**
 * Bytes of the WASM linear memory. It only grows (the allocator reuses freed blocks), so a figure that
 * stays flat over many steps means the steps free what they allocate.
 */
export function heapBytes() {
  return getGlobalLiteRt().liteRtWasm.HEAPU8.buffer.byteLength;
}
