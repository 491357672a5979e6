/**
 * The expected value of a rounded, clipped, noisy rating (SPEC S8):
 *
 *   R = clip(round(x + ε), 1, 5),  ε ~ N(0, σ²)
 *
 * R ≥ k + 1 exactly when x + ε ≥ k + ½ (k = 1..4), so
 *
 *   P(R ≥ k + 1) = Φ((x − k − ½)/σ)   and   E[R] = 1 + Σ_{k=1}^{4} Φ((x − k − ½)/σ),
 *
 * the sum of the tail probabilities over the rounding bins. At σ = 0 it is
 * clip(round(x), 1, 5) with halves rounded up (as Math.round does).
 */
import { normalCdf } from './normal-cdf.js';

export const MIN_RATING = 1;
export const MAX_RATING = 5;

/** The rating a noise-free draw gives: clip(round(x), 1, 5), halves up. */
export function roundClipRating(x: number): number {
  const r = Math.round(x);
  return r < MIN_RATING ? MIN_RATING : r > MAX_RATING ? MAX_RATING : r;
}

/** E[clip(round(x + ε), 1, 5)] with ε ~ N(0, σ²). */
export function expectedRoundedRating(x: number, sigma: number): number {
  if (!(sigma > 0)) return roundClipRating(x);
  let e = MIN_RATING;
  for (let k = MIN_RATING; k < MAX_RATING; k++) e += normalCdf((x - k - 0.5) / sigma);
  return e;
}

/** P(R = r) for r = 1..5 (index r − 1). */
export function ratingProbabilities(x: number, sigma: number): Float64Array {
  const p = new Float64Array(MAX_RATING - MIN_RATING + 1);
  if (!(sigma > 0)) {
    p[roundClipRating(x) - MIN_RATING] = 1;
    return p;
  }
  // tail[k] = P(R ≥ k + 1) for k = 1..4; P(R ≥ 1) = 1, P(R ≥ 6) = 0.
  let above = 1;
  for (let r = MIN_RATING; r <= MAX_RATING; r++) {
    const next = r < MAX_RATING ? normalCdf((x - r - 0.5) / sigma) : 0;
    p[r - MIN_RATING] = above - next;
    above = next;
  }
  return p;
}
