/**
 * Robustness bounds of Exp-RSFT under σ-sub-Gaussian reward noise (paper 000,
 * Theorems 4.3–4.4 and Eq. 13–15; SPEC S3). With probability ≥ 1 − δ:
 *
 *   ε = σ·√(2·log(2|A|/δ))                       (the uniform noise bound)
 *   V^{π_λ} ≥ V^{π_β} − R_max·(e^{2ε/λ} − 1)      (Theorem 4.4, Eq. 13)
 *   ≥ V^{π_β} − 4·R_max·ε/λ   when λ ≥ 2ε         (Eq. 14)
 *   degradation ≤ τ  ⇐  λ ≥ 2ε / log(1 + τ/R_max)  (Eq. 15)
 */

function positive(name: string, v: number): void {
  if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`${name} must be a positive finite number, got ${v}`);
}

/** ε = σ√(2 log(2|A|/δ)), for noise scale σ ≥ 0, |A| ≥ 1 actions and confidence δ ∈ (0, 1). */
export function noiseBound(sigma: number, actions: number, delta: number): number {
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new RangeError(`σ must be a finite number ≥ 0, got ${sigma}`);
  if (!Number.isInteger(actions) || actions < 1) throw new RangeError(`|A| must be an integer ≥ 1, got ${actions}`);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`δ must be in (0, 1), got ${delta}`);
  return sigma * Math.sqrt(2 * Math.log((2 * actions) / delta));
}

/** Worst-case value loss R_max·(e^{2ε/λ} − 1) of Theorem 4.4 (Infinity when it overflows). */
export function worstCaseValueLoss(epsilon: number, lambda: number, rMax: number): number {
  positive('λ', lambda);
  positive('R_max', rMax);
  if (!(epsilon >= 0)) throw new RangeError(`ε must be ≥ 0, got ${epsilon}`);
  return rMax * Math.expm1((2 * epsilon) / lambda);
}

/** The linearised loss 4·R_max·ε/λ of Eq. 14 (valid when λ ≥ 2ε). */
export function linearisedValueLoss(epsilon: number, lambda: number, rMax: number): number {
  positive('λ', lambda);
  positive('R_max', rMax);
  return (4 * rMax * epsilon) / lambda;
}

/** Minimum safe temperature λ ≥ 2ε / log(1 + τ/R_max) (Eq. 15) for a tolerated value loss τ. */
export function minSafeLambda(epsilon: number, tau: number, rMax: number): number {
  positive('τ', tau);
  positive('R_max', rMax);
  if (!(epsilon >= 0)) throw new RangeError(`ε must be ≥ 0, got ${epsilon}`);
  return (2 * epsilon) / Math.log1p(tau / rMax);
}
