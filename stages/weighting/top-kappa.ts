/**
 * Fixed-κ hard filtering (paper 002, Theorem 4.1 and Eq. 12–13; SPEC S4).
 *
 * The optimistic DRO target keeps the best κ fraction of the batch: examples
 * with r ≥ ν where ν is the (1 − κ)-quantile of the batch rewards. We take ν =
 * the ⌈κN⌉-th largest reward (κN is rounded with a 1e-9 guard so that, e.g.,
 * κ = 0.07, N = 100 keeps 7 and not 8 although 0.07·100 = 7.000000000000001).
 *
 * The same ν minimises the CVaR dual (Eq. 12)
 *   g(ν) = ν + κ⁻¹·mean((r − ν)₊),
 * whose subgradient 1 − #{r > ν}/(κN) changes sign at that order statistic.
 * When κN is an integer k every ν in [r₍ₖ₊₁₎, r₍ₖ₎] minimises g; both
 * functions then return the upper end r₍ₖ₎. `cvarDualThreshold` computes the
 * minimiser independently (sort + suffix sums, evaluating g at every distinct
 * reward) so that the two can be checked against each other.
 *
 * Weights: loss −κ⁻¹·mean((r − ν)₊·log π) (Eq. 13) is −(1/N)·Σ w·log π with
 * w = (r − ν)₊/κ. Rows exactly at ν are kept but have weight 0.
 */
import { checkedSum } from './numeric.js';
import { kthLargest } from './selection.js';
import type { ObjectiveResult } from '../core/objective.js';
import { summariseWeights } from './weight-summary.js';

/** Number of rows in the top κ fraction of N: ⌈κN⌉ (at least 1 when N > 0). */
export function topKappaCount(n: number, kappa: number): number {
  if (n === 0) return 0;
  return Math.min(n, Math.max(1, Math.ceil(kappa * n - 1e-9)));
}

/** ν = the ⌈κN⌉-th largest reward, the (1 − κ)-quantile of Theorem 4.1 (NaN for an empty batch). */
export function topKappaThreshold(r: Float64Array, kappa: number): number {
  checkKappa(kappa);
  if (r.length === 0) return NaN;
  return kthLargest(r, topKappaCount(r.length, kappa));
}

/** The CVaR dual objective g(ν) = ν + κ⁻¹·mean((r − ν)₊) of Eq. 12. */
export function cvarDualObjective(r: Float64Array, kappa: number, nu: number): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) {
    const d = r[i]! - nu;
    if (d > 0) s += d;
  }
  return nu + s / (kappa * r.length);
}

/**
 * Minimise g over ν by evaluating it at every distinct reward (the minimum of a
 * convex piecewise-linear function is attained at a breakpoint), using a sort
 * and suffix sums: O(N log N). Among (numerically) tied minimisers the largest
 * ν is returned. `value` = min g = the optimistic CVaR, the mean of the top κ.
 */
export function cvarDualThreshold(r: Float64Array, kappa: number): { nu: number; value: number } {
  checkKappa(kappa);
  const n = r.length;
  if (n === 0) return { nu: NaN, value: NaN };
  const sorted = r.slice().sort();
  const kN = kappa * n;
  let best = Infinity;
  const gs: number[] = [];
  const vs: number[] = [];
  // Walk from the largest value down: `above` = Σ_{r > v} r, `count` = #{r > v}.
  let above = 0;
  let count = 0;
  let maxAbs = 0;
  let i = n - 1;
  while (i >= 0) {
    const v = sorted[i]!;
    maxAbs = Math.max(maxAbs, Math.abs(v));
    const g = v + (above - count * v) / kN;
    gs.push(g);
    vs.push(v);
    if (g < best) best = g;
    let j = i;
    while (j >= 0 && sorted[j] === v) {
      above += v;
      count++;
      j--;
    }
    i = j;
  }
  const tol = 1e-10 * (1 + maxAbs);
  // vs is in decreasing order: the first value within tolerance of the minimum is the largest minimiser.
  for (let k = 0; k < vs.length; k++) if (gs[k]! <= best + tol) return { nu: vs[k]!, value: gs[k]! };
  return { nu: vs[vs.length - 1]!, value: best };
}

export type ThresholdMethod = 'quantile' | 'cvar_dual';

/** Fixed-κ top-κ weights of one batch, with ν from the quantile or the CVaR dual. */
export function topKappaWeights(r: Float64Array, kappa: number, method: ThresholdMethod = 'quantile'): ObjectiveResult {
  checkedSum(r, 'topk');
  const n = r.length;
  const weight = new Float32Array(n);
  const advantage = new Float32Array(n);
  const kept = new Uint8Array(n);
  const phantomWeight = new Float32Array(n);
  if (n === 0) return { weight, advantage, kept, phantomWeight, diagnostics: { n: 0, kept: 0 } };
  const nu = method === 'quantile' ? topKappaThreshold(r, kappa) : cvarDualThreshold(r, kappa).nu;
  const inv = 1 / kappa;
  let nKept = 0;
  let top = 0;
  let phantom = 0;
  for (let i = 0; i < n; i++) {
    // Branch-free: whether a row is kept is unpredictable row to row.
    const a = r[i]! - nu;
    const k = +(a >= 0);
    advantage[i] = a;
    kept[i] = k;
    nKept += k;
    top += k * a;
    weight[i] = k * a * inv + 0;
    const p = (1 - k) * a * inv;
    phantomWeight[i] = p + 0; // + 0 turns the −0 of 0·(negative) into 0
    phantom -= p;
  }
  return {
    weight,
    advantage,
    kept,
    phantomWeight,
    diagnostics: {
      ...summariseWeights(weight),
      nu,
      kept: nKept,
      kappa,
      // g(ν) = ν + κ⁻¹·mean((r − ν)₊): the optimistic CVaR (mean of the top κ).
      cvar: nu + (top * inv) / n,
      phantom_abs_mean: phantom / n,
    },
  };
}

function checkKappa(kappa: number): void {
  if (!(kappa > 0 && kappa <= 1)) throw new RangeError(`top-κ: κ must be in (0, 1], got ${kappa}`);
}
