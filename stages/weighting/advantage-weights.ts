/**
 * Soft-weighting baselines of paper 002 (§5, Appendix I; SPEC S4), each a weight
 * on −(1/N)·Σ w·log π from the advantage A = r − b, where b is a scalar
 * baseline (batch or global mean reward, or 0) or a per-row value b(s):
 *
 * - AWR (Peng et al. 2019): w = min(exp(A/β), w_max).
 * - AsymRe: w = A for A ≥ 0, neg_factor·A for A < 0 (negative weights).
 * - APG: w = A (negative weights: the unstable baseline that diverges).
 * - CRR (Wang et al. 2020): binary w = 1[A > 0], or exponential w = min(exp(A/β), w_max).
 *
 * The exponential weights are computed as exp(min(A/β, log w_max)): never Inf.
 * Each kernel is one explicit loop writing A and w (a shared loop taking the
 * kernel as a callback would not be inlined by V8 once several kernels use it).
 */
import type { ObjectiveResult } from '../core/objective.js';
import { fastExp } from './numeric.js';
import { summariseWeights } from './weight-summary.js';

/** A scalar baseline, or one value per row. */
export type Baseline = number | Float64Array;

/** The advantage column A = r − b as float32. */
function advantageOf(r: Float64Array, b: Baseline): Float32Array {
  const n = r.length;
  const a = new Float32Array(n);
  if (typeof b === 'number') for (let i = 0; i < n; i++) a[i] = r[i]! - b;
  else for (let i = 0; i < n; i++) a[i] = r[i]! - b[i]!;
  return a;
}

function finish(weight: Float32Array, advantage: Float32Array, extra: Record<string, number> = {}): ObjectiveResult {
  return { weight, advantage, diagnostics: { ...summariseWeights(weight), ...extra } };
}

/** AWR / CRR-exp: w = min(exp(A/β), w_max). */
export function expAdvantageWeights(r: Float64Array, b: Baseline, beta: number, wMax: number): ObjectiveResult {
  const advantage = advantageOf(r, b);
  const n = r.length;
  const weight = new Float32Array(n);
  const invBeta = 1 / beta;
  const cap = Math.log(wMax);
  let clipped = 0;
  const scalar = typeof b === 'number';
  for (let i = 0; i < n; i++) {
    // A in float64 (the float32 column is for output only).
    const e = (r[i]! - (scalar ? (b as number) : (b as Float64Array)[i]!)) * invBeta;
    if (e >= cap) {
      weight[i] = wMax;
      clipped++;
    } else weight[i] = fastExp(e);
  }
  return finish(weight, advantage, { n_clipped: clipped });
}

/** AsymRe: w = A (A ≥ 0), negFactor·A (A < 0). */
export function asymreWeights(r: Float64Array, b: Baseline, negFactor: number): ObjectiveResult {
  const advantage = advantageOf(r, b);
  const n = r.length;
  const weight = new Float32Array(n);
  let neg = 0;
  const scalar = typeof b === 'number';
  for (let i = 0; i < n; i++) {
    const a = r[i]! - (scalar ? (b as number) : (b as Float64Array)[i]!);
    if (a >= 0) weight[i] = a;
    else {
      weight[i] = negFactor * a;
      neg++;
    }
  }
  return finish(weight, advantage, { n_negative: neg });
}

/** APG: w = A. */
export function apgWeights(r: Float64Array, b: Baseline): ObjectiveResult {
  const advantage = advantageOf(r, b);
  let neg = 0;
  for (let i = 0; i < advantage.length; i++) if (advantage[i]! < 0) neg++;
  return finish(advantage.slice(), advantage, { n_negative: neg });
}

/** CRR binary: w = 1[A > 0]. */
export function crrBinaryWeights(r: Float64Array, b: Baseline): ObjectiveResult {
  const advantage = advantageOf(r, b);
  const n = r.length;
  const weight = new Float32Array(n);
  const scalar = typeof b === 'number';
  for (let i = 0; i < n; i++) weight[i] = r[i]! - (scalar ? (b as number) : (b as Float64Array)[i]!) > 0 ? 1 : 0;
  return finish(weight, advantage);
}
