/**
 * Layer normalisation over the last axis of x [rows, n] on typed arrays, in
 * one pass per row each way (the elementwise formulation is five passes
 * forward and nine backward over [rows, n]). Row statistics and the
 * parameter-gradient sums are accumulated in float64.
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
    let sum = 0;
    for (let j = 0; j < n; j++) sum += x[o + j]!;
    const mean = sum / n;
    let sq = 0;
    for (let j = 0; j < n; j++) {
      const c = x[o + j]! - mean;
      sq += c * c;
    }
    const rs = 1 / Math.sqrt(sq / n + eps);
    rstd[r] = rs;
    for (let j = 0; j < n; j++) {
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
    let sumG = 0;
    let sumGX = 0;
    for (let j = 0; j < n; j++) {
      const d = dy[o + j]!;
      const h = xhat[o + j]!;
      const g = d * gamma[j]!;
      sumG += g;
      sumGX += g * h;
      dGamma[j] = dGamma[j]! + d * h;
      dBeta[j] = dBeta[j]! + d;
    }
    const meanG = sumG / n;
    const meanGX = sumGX / n;
    const rs = rstd[r]!;
    for (let j = 0; j < n; j++) dx[o + j] = rs * (dy[o + j]! * gamma[j]! - meanG - xhat[o + j]! * meanGX);
  }
}
