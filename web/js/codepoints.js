// Python's string order in JavaScript: code-point order, which UTF-16 code-unit order is not above the
// surrogates (the personal model and its state cache break ties and sort words as Python does).

/** Python's str comparison: code-point order (-1, 0, 1). Plain code-unit comparison where it is the same (the
 * first differing units are not surrogates), code point by code point otherwise. */
export function compareCodePoints(a, b) {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) {
    if (!i || !isHighSurrogate(a.charCodeAt(i - 1))) return a.length < b.length ? -1 : 1;
  } else {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if ((x & 0xf800) !== 0xd800 && (y & 0xf800) !== 0xd800) return x < y ? -1 : 1;
  }
  return compareSlowly(a, b);
}

export function isHighSurrogate(unit) {
  return (unit & 0xfc00) === 0xd800;
}

function compareSlowly(a, b) {
  const x = a[Symbol.iterator]();
  const y = b[Symbol.iterator]();
  for (;;) {
    const p = x.next();
    const q = y.next();
    if (p.done || q.done) return p.done && q.done ? 0 : (p.done ? -1 : 1);
    const d = p.value.codePointAt(0) - q.value.codePointAt(0);
    if (d) return d < 0 ? -1 : 1;
  }
}

/** The first index of `sorted` (code-point order) from `lo` on whose word is not below `word` (Python's
 * bisect_left). */
export function bisect(sorted, word, lo = 0) {
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareCodePoints(sorted[mid], word) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
