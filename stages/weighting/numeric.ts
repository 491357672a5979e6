/**
 * Small numeric kernels shared by the objectives: finite-input checks, means
 * and population standard deviations (two-pass, for accuracy), log-sum-exp,
 * and float64 views of numeric columns. All loops are plain indexed loops on
 * typed arrays (no closures per element) because every objective must run at
 * tens of millions of rows per second.
 */
import type { NumericColumn } from '../core/batch.js';

/** Largest x with exp(x) finite in float32 (≈ 88.72). */
export const F32_LOG_MAX = Math.log(3.4028234663852886e38);

/** Error for a non-finite input value, naming the objective, column and row. */
export class NonFiniteInputError extends RangeError {
  constructor(
    readonly where: string,
    readonly columnName: string,
    readonly row: number,
    readonly value: number,
  ) {
    super(`${where}: ${columnName} at row ${row} is ${value}; ${columnName} values must be finite numbers`);
    this.name = 'NonFiniteInputError';
  }
}

/**
 * Sum of a column; throws NonFiniteInputError (with the first bad row) when a
 * value is NaN or ±Infinity. The check costs one comparison per call, not per row.
 */
export function checkedSum(x: Float64Array, where: string, columnName = 'reward'): number {
  let s = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) s += x[i]!;
  if (!Number.isFinite(s)) {
    for (let i = 0; i < n; i++) if (!Number.isFinite(x[i]!)) throw new NonFiniteInputError(where, columnName, i, x[i]!);
    throw new RangeError(`${where}: the sum of ${columnName} overflows (|values| too large)`);
  }
  return s;
}

/** Mean of x (0 for an empty array). */
export function meanOf(x: Float64Array): number {
  const n = x.length;
  if (n === 0) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i]!;
  return s / n;
}

/** Population standard deviation sqrt(mean((x − m)²)) given the mean m (0 for empty). */
export function popStd(x: Float64Array, m: number): number {
  const n = x.length;
  if (n === 0) return 0;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - m;
    ss += d * d;
  }
  return Math.sqrt(ss / n);
}

/** Max and min of x (−Infinity/+Infinity for empty input). */
export function maxMin(x: Float64Array): { max: number; min: number } {
  let mx = -Infinity;
  let mn = Infinity;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    if (v > mx) mx = v;
    if (v < mn) mn = v;
  }
  return { max: mx, min: mn };
}

/** log Σ exp(x[start..end)) computed stably (−Infinity for an empty range). */
export function logSumExp(x: ArrayLike<number>, start = 0, end = x.length): number {
  let m = -Infinity;
  for (let i = start; i < end; i++) if (x[i]! > m) m = x[i]!;
  if (m === -Infinity || !Number.isFinite(m)) return m;
  let s = 0;
  for (let i = start; i < end; i++) s += Math.exp(x[i]! - m);
  return m + Math.log(s);
}

/** A float64 copy (or the array itself when already float64) of a numeric column. */
export function toFloat64(c: NumericColumn): Float64Array {
  if (c instanceof Float64Array) return c;
  if (c instanceof BigInt64Array) {
    const out = new Float64Array(c.length);
    for (let i = 0; i < c.length; i++) out[i] = Number(c[i]!);
    return out;
  }
  // The typed-array constructor converts element types in native code.
  return new Float64Array(c as Exclude<NumericColumn, BigInt64Array>);
}

/** An int32 view or copy of an integer column (group keys). */
export function toInt32(c: NumericColumn, name: string): Int32Array {
  if (c instanceof Int32Array) return c;
  if (c instanceof Float32Array || c instanceof Float64Array) {
    throw new TypeError(`group column "${name}" must hold integers, got ${c.constructor.name}`);
  }
  if (c instanceof BigInt64Array) {
    const out = new Int32Array(c.length);
    for (let i = 0; i < c.length; i++) out[i] = Number(c[i]!);
    return out;
  }
  return new Int32Array(c as Exclude<NumericColumn, BigInt64Array | Float32Array | Float64Array>);
}

/** 2^k for k = −200 … 199, indexed by k + 200. */
const POW2 = Float64Array.from({ length: 400 }, (_, i) => 2 ** (i - 200));

/**
 * exp(v) to ≈ 1e-8 relative error, about twice as fast as Math.exp in V8 hot
 * loops: v = k·ln 2 + r with |r| ≤ ln2/2, a degree-7 Taylor polynomial for
 * e^r and a table for 2^k. The weights are stored as float32 (relative
 * precision 6e-8), so the difference is below their resolution. Arguments are
 * clamped to [−130, 130]: below −103.3 every float32 result is 0 anyway, and
 * callers reject exponents above float32's range (≈ 88.7) before storing.
 * fastExp(0) is exactly 1.
 */
export function fastExp(v: number): number {
  const c = v < -130 ? -130 : v > 130 ? 130 : v;
  const k = (c * Math.LOG2E + 200.5) | 0;
  const r = c - (k - 200) * Math.LN2;
  return (1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r / 5040))))))) * POW2[k]!;
}
