/**
 * Zipf's law helpers: weights ∝ rank^(−s), and the least-squares fit of the
 * exponent on log rank vs log frequency used to check the simulated logs.
 */

/** Unnormalised Zipf weights w_r = r^(−s) for ranks r = 1..n (index r − 1). */
export function zipfWeights(n: number, exponent: number): Float64Array {
  const w = new Float64Array(n);
  for (let r = 1; r <= n; r++) w[r - 1] = Math.pow(r, -exponent);
  return w;
}

export interface ZipfFit {
  /** s in frequency ∝ rank^(−s): minus the slope of log frequency on log rank. */
  exponent: number;
  /** Intercept of the fitted line (log frequency at rank 1). */
  intercept: number;
  /** Coefficient of determination of the log–log fit. */
  r2: number;
  /** Number of (rank, frequency) points in the fit. */
  points: number;
}

/**
 * Fit s by ordinary least squares on (log rank, log count) over the items with
 * count ≥ `minCount` (low counts are dominated by sampling noise and flatten
 * the tail), ranks taken after sorting counts in decreasing order, at most
 * `maxRank` ranks.
 */
export function fitZipfExponent(counts: ArrayLike<number>, opts: { minCount?: number; maxRank?: number } = {}): ZipfFit {
  const minCount = opts.minCount ?? 1;
  const sorted = Float64Array.from(counts).sort().reverse();
  let n = 0;
  while (n < sorted.length && sorted[n]! >= minCount && sorted[n]! > 0) n++;
  if (opts.maxRank !== undefined) n = Math.min(n, opts.maxRank);
  if (n < 2) throw new Error(`fitZipfExponent: need at least 2 items with count ≥ ${minCount}, got ${n}`);
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += Math.log(i + 1);
    sy += Math.log(sorted[i]!);
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = Math.log(i + 1) - mx;
    const dy = Math.log(sorted[i]!) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const slope = sxy / sxx;
  return { exponent: -slope, intercept: my - slope * mx, r2: syy > 0 ? (sxy * sxy) / (sxx * syy) : 1, points: n };
}
