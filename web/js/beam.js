// Word completion by beam search: a port of kerasrnn.inference.samplers.beam_complete.
//
// Pure JavaScript, no LiteRT: the model is reached only through the `step` callback, so
// the search runs (and is tested) in Node with a stand-in step. Arithmetic is float64
// (JS numbers), as NumPy's log_softmax in the Python original.
//
// One difference from Python: the browser runtime only runs batch 1, so where Python makes
// one batched step call per depth, this makes one call per surviving beam, in the same
// order. The results are the same up to float rounding.

/** log-softmax of a logits vector (any array-like), as a Float64Array. */
export function logSoftmax(logits) {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const logSum = Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - max - logSum;
  return out;
}

/** log(sum(exp(values[ids]))): NumPy's logaddexp.reduce over the picked entries. */
export function logSumExpAt(values, ids) {
  let max = -Infinity;
  for (const i of ids) if (values[i] > max) max = values[i];
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const i of ids) sum += Math.exp(values[i] - max);
  return max + Math.log(sum);
}

/** Softmax probabilities (float64) of a logits vector. */
export function softmax(logits) {
  return logSoftmax(logits).map(Math.exp);
}

/** Whether extension `a` comes before `b`: the higher score, then the lower row, then the lower column. */
function before(a, b) {
  return (b.score - a.score || (a.row - b.row) || (a.col - b.col)) < 0;
}

/**
 * The k most likely ways to finish the current word.
 *
 * A completion is some word characters followed by any word-ending character; its
 * probability is that of its characters times the probability that the word ends there.
 * The search stops when no beam can beat the k-th finished completion.
 *
 * @param {(token: number, state: any) => Promise<{logits: ArrayLike<number>, state: any}>} step
 *     one model step at batch 1; `state` is whatever the caller uses as a state handle
 *     (a LiteRT Tensor in the page).
 * @param {any} state the state after the text so far; never released here (the caller owns it).
 * @param {ArrayLike<number>} logits the next-character logits after the text so far.
 * @param {number[]} wordIds ids that continue a word (letters, digits, apostrophe, hyphen).
 * @param {number[]} endIds ids that end a word; ids in neither list are never used.
 * @param {object} [options]
 * @param {number} [options.k=3] completions to return.
 * @param {number} [options.beamWidth=6] beams kept per step (at least k).
 * @param {number} [options.maxLen=16] most characters to add.
 * @param {boolean} [options.allowEmpty=true] whether adding nothing counts.
 * @param {number} [options.keep=k] return up to this many (at least k): the k best and the next best completions
 *     the same search found on the way (it searches exactly as for k; not always the true next best).
 * @param {(state: any) => void} [options.release] frees a state that `step` returned
 *     (called exactly once for each, when the search no longer needs it).
 * @returns {Promise<Array<{ids: number[], prob: number}>>} up to k (keep), most likely first.
 */
export async function beamComplete(step, state, logits, wordIds, endIds, options = {}) {
  const { k = 3, maxLen = 16, allowEmpty = true, release = () => {} } = options;
  const beamWidth = Math.max(options.beamWidth ?? 6, k);
  const keep = Math.max(options.keep ?? k, k);
  // Each beam: the ids it adds, its log-probability, its next-id log-probabilities, its state.
  let beams = [{ prefix: [], score: 0, logP: logSoftmax(logits), state, own: false }];
  const finished = []; // {prefix, score}, best first, at most keep
  let next = []; // the beams being grown (released too if a step fails half-way)
  try {
    for (let depth = 0; depth <= maxLen; depth++) {
      for (const beam of beams) {
        if (beam.prefix.length > 0 || allowEmpty) {
          finished.push({ prefix: beam.prefix, score: beam.score + logSumExpAt(beam.logP, endIds) });
        }
      }
      finished.sort((a, b) => b.score - a.score); // stable, as Python's list.sort
      finished.length = Math.min(finished.length, keep);
      if (depth === maxLen) break;
      const bar = finished.length >= k ? finished[k - 1].score : -Infinity;
      // The beamWidth best (beam, word id) extensions, best first (as sorting them all would order them: score,
      // then row, then column); a beam below the bar can only fall further.
      const chosen = [];
      for (let row = 0; row < beams.length; row++) {
        const { score, logP } = beams[row];
        for (let col = 0; col < wordIds.length; col++) {
          const g = { row, col, id: wordIds[col], score: score + logP[wordIds[col]] };
          let i = chosen.length;
          while (i > 0 && before(g, chosen[i - 1])) i--;
          if (i < beamWidth) {
            chosen.splice(i, 0, g);
            if (chosen.length > beamWidth) chosen.pop();
          }
        }
      }
      while (chosen.length && !(chosen[chosen.length - 1].score > bar)) chosen.pop();
      if (chosen.length === 0) break;
      next = [];
      for (const g of chosen) {
        const parent = beams[g.row];
        const out = await step(g.id, parent.state);
        next.push({ prefix: [...parent.prefix, g.id], score: g.score, logP: logSoftmax(out.logits),
                    state: out.state, own: true });
      }
      for (const beam of beams) if (beam.own) release(beam.state);
      beams = next;
      next = [];
    }
  } finally {
    for (const beam of [...beams, ...next]) if (beam.own) release(beam.state);
  }
  return finished.map((f) => ({ ids: f.prefix, prob: Math.exp(f.score) }));
}
