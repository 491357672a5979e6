/**
 * In-place ascending sort of finite float64 values by an LSD radix sort on
 * their bit patterns: the sketch's hot path (every value passes through one
 * level-0 sort) and about 2× faster than Float64Array.prototype.sort here.
 *
 * Order-preserving key: for x ≥ 0 set the sign bit, for x < 0 flip every bit;
 * unsigned order of the keys is then numeric order (−0 sorts before +0).
 * Six passes of 11/11/10 bits per 32-bit word; all six digit histograms are
 * counted in one read, and a pass whose digit is the same for every value is
 * skipped (float32 data widened to float64 has 29 zero low bits, so about half
 * the passes vanish). NaN must not be present (callers reject it).
 *
 * Fast path: when every value is exactly a float32 (rewards stored as
 * float32, the usual case), the values are sorted as 32-bit keys instead:
 * three 11/11/10-bit passes over half the bytes, about twice as fast.
 */

const SHIFTS = [0, 11, 22, 0, 11, 22] as const;
const WORDS = [0, 0, 0, 1, 1, 1] as const;
const MASKS = [2047, 2047, 1023, 2047, 2047, 1023] as const;
const counts = new Uint32Array(6 * 2048);

/**
 * Sort `values[0..n)` ascending. `scratch` must hold at least n values; it is
 * overwritten. Returns `values` (the result is always left there).
 */
export function radixSortFloat64(values: Float64Array, n: number = values.length, scratch?: Float64Array): Float64Array {
  if (n < 2) return values;
  if (n <= 64) {
    values.subarray(0, n).sort();
    return values;
  }
  const tmp = scratch && scratch.length >= n ? scratch : new Float64Array(n);
  if (sortIfFloat32(values, n, tmp)) return values;
  let a = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  let b = new Uint32Array(tmp.buffer, tmp.byteOffset, 2 * n);
  counts.fill(0);
  for (let i = 0; i < n; i++) {
    let lo = a[2 * i]!;
    let hi = a[2 * i + 1]!;
    if (hi & 0x80000000) {
      hi = ~hi >>> 0;
      lo = ~lo >>> 0;
    } else hi = (hi | 0x80000000) >>> 0;
    a[2 * i] = lo;
    a[2 * i + 1] = hi;
    counts[lo & 2047]!++;
    counts[2048 + ((lo >>> 11) & 2047)]!++;
    counts[4096 + (lo >>> 22)]!++;
    counts[6144 + (hi & 2047)]!++;
    counts[8192 + ((hi >>> 11) & 2047)]!++;
    counts[10240 + (hi >>> 22)]!++;
  }
  for (let p = 0; p < 6; p++) {
    const base = p * 2048;
    const shift = SHIFTS[p]!;
    const mask = MASKS[p]!;
    const word = WORDS[p]!;
    let sum = 0;
    let trivial = false;
    for (let d = 0; d <= mask; d++) {
      const c = counts[base + d]!;
      if (c === n) trivial = true;
      counts[base + d] = sum;
      sum += c;
    }
    if (trivial) continue;
    for (let i = 0; i < n; i++) {
      const lo = a[2 * i]!;
      const hi = a[2 * i + 1]!;
      const d = ((word === 0 ? lo : hi) >>> shift) & mask;
      const j = counts[base + d]!++;
      b[2 * j] = lo;
      b[2 * j + 1] = hi;
    }
    const t = a;
    a = b;
    b = t;
  }
  if (a.buffer !== values.buffer || a.byteOffset !== values.byteOffset) {
    new Uint32Array(values.buffer, values.byteOffset, 2 * n).set(a);
    a = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  }
  for (let i = 0; i < n; i++) {
    const hi = a[2 * i + 1]!;
    if (hi & 0x80000000) a[2 * i + 1] = hi & 0x7fffffff;
    else {
      a[2 * i + 1] = ~hi;
      a[2 * i] = ~a[2 * i]!;
    }
  }
  return values;
}

const counts32 = new Uint32Array(3 * 2048);

/**
 * Sort through 32-bit keys if every value is float32-exact; returns false
 * (values untouched) as soon as one is not. `tmp` (≥ n float64) provides the
 * two key buffers.
 */
function sortIfFloat32(values: Float64Array, n: number, tmp: Float64Array): boolean {
  let a = new Uint32Array(tmp.buffer, tmp.byteOffset, n);
  let b = new Uint32Array(tmp.buffer, tmp.byteOffset + 4 * n, n);
  const f = new Float32Array(a.buffer, a.byteOffset, n);
  counts32.fill(0);
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    f[i] = x;
    if (f[i] !== x) return false;
    let k = a[i]!;
    k = k & 0x80000000 ? ~k >>> 0 : (k | 0x80000000) >>> 0;
    a[i] = k;
    counts32[k & 2047]!++;
    counts32[2048 + ((k >>> 11) & 2047)]!++;
    counts32[4096 + (k >>> 22)]!++;
  }
  for (let p = 0; p < 3; p++) {
    const base = p * 2048;
    const shift = 11 * p;
    const mask = p === 2 ? 1023 : 2047;
    let sum = 0;
    let trivial = false;
    for (let d = 0; d <= mask; d++) {
      const c = counts32[base + d]!;
      if (c === n) trivial = true;
      counts32[base + d] = sum;
      sum += c;
    }
    if (trivial) continue;
    for (let i = 0; i < n; i++) {
      const k = a[i]!;
      b[counts32[base + ((k >>> shift) & mask)]!++] = k;
    }
    const t = a;
    a = b;
    b = t;
  }
  const fa = new Float32Array(a.buffer, a.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const k = a[i]!;
    a[i] = k & 0x80000000 ? k & 0x7fffffff : ~k;
    values[i] = fa[i]!;
  }
  return true;
}
