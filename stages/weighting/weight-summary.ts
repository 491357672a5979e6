/**
 * Per-batch diagnostics of a weight column (SPEC S4): row count, min, mean,
 * max and the effective sample size (Σ|w|)² / Σw² (Kish). For non-negative
 * weights this is the usual (Σw)²/Σw²; absolute values keep it meaningful for
 * the signed weights of APG and AsymRe. ESS is 0 when every weight is 0.
 * An empty batch reports only n = 0 (no NaN is ever emitted).
 */
export function summariseWeights(w: Float32Array): Record<string, number> {
  const n = w.length;
  if (n === 0) return { n: 0 };
  let mn = Infinity;
  let mx = -Infinity;
  let s = 0;
  let sa = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const v = w[i]!;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
    s += v;
    sa += Math.abs(v);
    s2 += v * v;
  }
  return { n, w_min: mn, w_mean: s / n, w_max: mx, ess: s2 > 0 ? (sa * sa) / s2 : 0 };
}
