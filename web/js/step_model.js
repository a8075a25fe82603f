// A kerasrnn "step" model on LiteRT.js at batch 1 (WebAssembly CPU).
//
// The model must be an export's batch-1 file (model_web.tflite / model_web_int8.tflite, written by
// `python -m kerasrnn.export`): LiteRT.js 2.5.3 rejects a [1, S] tensor for an input declared [-1, S].
//
// Memory: every LiteRT Tensor lives in the WASM heap, which JavaScript does not garbage collect. A
// state Tensor returned by `step` or `zeroState` belongs to the caller, who hands it to `release`
// exactly once.

import { loadAndCompile, Tensor } from '@litertjs/core';

const SIGNATURE = 'step';

export class StepModel {
  /**
   * @param {object} compiled a CompiledModel from loadAndCompile.
   * @param {number} stateSize S, from the manifest.
   */
  constructor(compiled, stateSize) {
    this.compiled = compiled;
    this.runner = compiled.signatures[SIGNATURE];
    if (!this.runner) {
      throw new Error(`the model has no '${SIGNATURE}' signature (it has: ${Object.keys(compiled.signatures)})`);
    }
    this.stateSize = stateSize;
    const shapes = Object.fromEntries(this.runner.getInputDetails().map((d) => [d.name, Array.from(d.shape)]));
    if (String(shapes.token) !== '1' || String(shapes.state) !== `1,${stateSize}`) {
      throw new Error(`expected a batch-1 step model (token [1], state [1, ${stateSize}]), got ` +
                      `${JSON.stringify(shapes)}: export the run again with python -m kerasrnn.export`);
    }
    this.tokenTensors = new Map(); // token id -> its [1] int32 Tensor, made once and reused
  }

  /**
   * Compiles a .tflite file's bytes for the WASM CPU path.
   *
   * @param {Uint8Array} bytes the batch-1 .tflite file.
   * @param {number} stateSize S.
   */
  static async compile(bytes, stateSize) {
    // accelerator 'wasm': otherwise a browser with a WebGPU device would compile for WebGPU.
    const compiled = await loadAndCompile(bytes, { accelerator: 'wasm' });
    try {
      return new StepModel(compiled, stateSize);
    } catch (e) {
      compiled.delete();
      throw e;
    }
  }

  /** The start state: a new [1, S] Tensor of zeros (the caller releases it). */
  zeroState() {
    return new Tensor(new Float32Array(this.stateSize), [1, this.stateSize]);
  }

  /**
   * One step.
   *
   * @param {number} token the character id.
   * @param {Tensor} state the [1, S] state; not consumed (still the caller's to release).
   * @returns {Promise<{logits: Float32Array, state: Tensor}>} the next-character logits (a JS copy)
   *     and the new state (a Tensor the caller releases).
   */
  async step(token, state) {
    let tokenTensor = this.tokenTensors.get(token);
    if (!tokenTensor) {
      tokenTensor = new Tensor(Int32Array.of(token), [1]);
      this.tokenTensors.set(token, tokenTensor);
    }
    const out = await this.runner.run({ token: tokenTensor, state }); // records keyed by name, never by position
    const logits = out.logits.toTypedArray(); // a copy out of the WASM heap
    out.logits.delete();
    return { logits, state: out.state };
  }

  /** A state's numbers: a Float32Array copy out of the WASM heap (the state stays the caller's). */
  values(state) {
    return state.toTypedArray();
  }

  /** Frees a state Tensor that `step` or `zeroState` returned. */
  release(state) {
    state.delete();
  }

  /** Frees the model and the cached token tensors. */
  delete() {
    for (const t of this.tokenTensors.values()) t.delete();
    this.tokenTensors.clear();
    this.compiled.delete();
  }
}
