/**
 * The minimum safe temperature of paper 000 (Eq. 15), as a vertical line of a
 * λ-sweep plot: λ_min = 2ε / log(1 + τ/R_max), ε = σ·√(2·log(2|A|/δ))
 * (theory.ts). Temperatures to its right keep the worst-case value loss of
 * Theorem 4.4 within τ; the paper notes the bound is conservative.
 */
import { minSafeLambda, noiseBound } from '../../weighting/theory.js';
import type { VLine } from './chart.js';

export interface MinSafeLambdaOptions {
  /** σ of the (sub-Gaussian) reward noise, in reward units. */
  sigma: number;
  /** |A|: the catalog size. */
  actions: number;
  /** Failure probability δ. */
  delta: number;
  /** Tolerated value loss τ. */
  tau: number;
  /** Reward bound R_max. */
  rmax: number;
}

/** λ_min, ε and the line marking λ_min. */
export function minSafeLambdaLine(o: MinSafeLambdaOptions): { lambda: number; epsilon: number; line: VLine } {
  const epsilon = noiseBound(o.sigma, o.actions, o.delta);
  const lambda = minSafeLambda(epsilon, o.tau, o.rmax);
  const shown = Number(lambda.toPrecision(3));
  return { lambda, epsilon, line: { id: 'min_safe_lambda', label: `theory: min safe λ = ${shown}`, x: lambda, color: '#000000' } };
}
