import { essFromSums } from '../core/effective-sample-size.js';

/**
 * Per-batch diagnostics of a weight column (SPEC S4): row count, min, mean,
 * max and the effective sample size (Σw)²/Σw² (core/effective-sample-size.ts,
 * the definition the trainers' records use too). ESS is 0 when every weight
 * is 0. An empty batch reports only n = 0 (no NaN is ever emitted).
 */
export function summariseWeights(w: Float32Array): Record<string, number> {
  const n = w.length;
  if (n === 0) return { n: 0 };
  let mn = Infinity;
  let mx = -Infinity;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const v = w[i]!;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
    s += v;
    s2 += v * v;
  }
  return { n, w_min: mn, w_mean: s / n, w_max: mx, ess: essFromSums(s, s2) };
}
