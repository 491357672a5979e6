/**
 * The effective sample size of a weight vector, as SPEC S4 states it:
 *
 *   ESS = (Σ w)² / Σ w²
 *
 * n for equal weights, 1 when a single weight carries everything. For signed
 * weights (APG, AsymRe) the numerator is the signed sum, so weights that
 * cancel give a small ESS. 0 when every weight is 0 (or there are none);
 * never NaN.
 *
 * The one definition behind the weighting stream's diagnostics
 * (weighting/weight-summary.ts) and the trainers' `ess` records, from Σw and
 * Σw², which the callers accumulate in their own single pass over the weights.
 */
export function essFromSums(sum: number, sumOfSquares: number): number {
  return sumOfSquares > 0 ? (sum * sum) / sumOfSquares : 0;
}
