/**
 * Mergeable moments of a numeric column (SPEC S2): count, mean, M2 (sum of
 * squared deviations from the mean), min and max.
 *
 * Within a column the update is Welford's (1962) running recurrence
 *   n ← n + 1;  δ = x − mean;  mean ← mean + δ/n;  M2 ← M2 + δ·(x − mean_new),
 * and two states combine with Chan, Golub & LeVeque's (1979) pairwise rule
 *   n = n_a + n_b;  δ = mean_b − mean_a;  mean = mean_a + δ·n_b/n;
 *   M2 = M2_a + M2_b + δ²·n_a·n_b/n,
 * which is exact in real arithmetic, so shard statistics merge into the
 * statistics of the union up to floating rounding. Variance is M2/n
 * (population, as schemas/reward-stats.ts states).
 *
 * Non-finite inputs (NaN, ±Infinity) are rejected with the offending position:
 * one NaN would silently turn every later statistic into NaN.
 */

export interface Moments {
  count: number;
  mean: number;
  m2: number;
  /** +Infinity while empty. */
  min: number;
  /** −Infinity while empty. */
  max: number;
}

export type FloatColumn = Float32Array | Float64Array;

export function emptyMoments(): Moments {
  return { count: 0, mean: 0, m2: 0, min: Infinity, max: -Infinity };
}

/** Thrown for NaN or ±Infinity in a column whose statistics are taken. */
export class NonFiniteValueError extends RangeError {
  constructor(
    readonly index: number,
    readonly value: number,
  ) {
    super(`non-finite value ${value} at row ${index}`);
    this.name = 'NonFiniteValueError';
  }
}

/** Index of the first NaN or ±Infinity, or −1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v || v === Infinity || v === -Infinity) return i;
  }
  return -1;
}

/**
 * Fold `values` into `m` in place with Welford's recurrence; returns `m`.
 * Throws NonFiniteValueError (and leaves `m` unchanged) on NaN/±Infinity.
 */
export function addMoments(m: Moments, values: FloatColumn): Moments {
  let n = m.count;
  let mean = m.mean;
  let m2 = m.m2;
  let min = m.min;
  let max = m.max;
  const len = values.length;
  for (let i = 0; i < len; i++) {
    const x = values[i]!;
    n++;
    const d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
    if (x < min) min = x;
    if (x > max) max = x;
  }
  // A NaN makes mean NaN; an infinity shows in min/max (or makes mean NaN).
  if (len > 0 && (mean !== mean || min === -Infinity || max === Infinity)) {
    const i = firstNonFinite(values);
    throw new NonFiniteValueError(i, values[i]!);
  }
  m.count = n;
  m.mean = mean;
  m.m2 = m2;
  m.min = min;
  m.max = max;
  return m;
}

/** Moments of one column (Welford). */
export function momentsOf(values: FloatColumn): Moments {
  return addMoments(emptyMoments(), values);
}

/** Chan et al.'s pairwise combination: the moments of the union of a and b (new object). */
export function mergeMoments(a: Moments, b: Moments): Moments {
  if (a.count === 0) return { ...b };
  if (b.count === 0) return { ...a };
  const n = a.count + b.count;
  const d = b.mean - a.mean;
  return {
    count: n,
    mean: a.mean + (d * b.count) / n,
    m2: a.m2 + b.m2 + ((d * d * a.count) / n) * b.count,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
  };
}

/** Population variance M2/n (0 when empty). Clamped at 0 against rounding. */
export function momentsVariance(m: Moments): number {
  return m.count > 0 ? Math.max(0, m.m2 / m.count) : 0;
}

export function momentsStd(m: Moments): number {
  return Math.sqrt(momentsVariance(m));
}
