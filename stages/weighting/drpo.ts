/**
 * DRPO's variance-guided adaptive filter (paper 002, Appendix G, Algorithm 1;
 * SPEC S4) and the three objectives built on it: DRPO, DRPO-Exp, Adaptive BC.
 *
 * Per batch, with P carried across batches:
 *   1. σ_batch = std(r); K = floor(N·P); B_top = the K largest rewards.
 *   2. σ_subset = std(r over B_top); if σ_subset < ρ·σ_batch then
 *      P ← min(p_max, up·P) else P ← max(p_min, down·P)   (used from the next batch on).
 *   3. DRPO: ν = min(r over B_top); A = r − ν; Ã = A/(std(A over B_top) + 1e-8);
 *      loss −(1/|B_top|)·Σ_{B_top} Ã·log π.
 *      DRPO-Exp: w = min(exp((r − mean(r over B_top))/β), w_max) on B_top.
 *      Adaptive BC: w = 1 on B_top (times N/K by default, see below).
 *
 * Choices where the algorithm is silent (written down here and in the README):
 * - std is the population std (divide by N).
 * - K = max(1, floor(N·P + 1e-9)) for N > 0: at least one row is kept, and the
 *   1e-9 guard keeps floor(100·0.29) = 29 although 100·0.29 = 28.999999999999996.
 * - Ties at the K-th largest reward are taken in row order, so |B_top| = K exactly.
 * - If std(A) = 0 (all kept rewards equal, e.g. K = 1 or a constant batch) every
 *   Ã is 0/(0 + 1e-8) = 0: DRPO's weights are all 0 for that batch.
 * - If σ_batch = 0 (all rewards equal) then σ_subset = 0 is not < ρ·0, so P shrinks.
 * - An empty batch leaves P unchanged.
 * - The contract's loss is −(1/N)·Σ w·log π, so with `mean_over: kept` weights are
 *   multiplied by N/|B_top| to give Algorithm 1's −(1/|B_top|)·Σ exactly;
 *   `mean_over: batch` leaves them unscaled (w = 1 on B_top for Adaptive BC, a loss scaled by P;
 *   every variant defaults to kept, as Algorithm 1 averages over B_top).
 * - DRPO-Exp clips weights at w_max (default 20), the AWR clip of the objective it
 *   inherits ("variance-guided filtering + AWR", Table 5); SPEC S4 writes no clip,
 *   but without one exp((r − mean)/0.05) overflows float32 for rewards spread beyond ~4.4.
 */
import type { ObjectiveResult } from '../core/objective.js';
import { F32_LOG_MAX, checkedSum, fastExp, popStd } from './numeric.js';
import { topKMask } from './selection.js';
import { summariseWeights } from './weight-summary.js';

export interface DrpoControl {
  /** Target ratio ρ of σ_subset to σ_batch. */
  rho: number;
  pMin: number;
  pMax: number;
  /** Multiplicative rates: relax (expand) and tighten (shrink). */
  rateUp: number;
  rateDown: number;
}

export interface DrpoState {
  /** Fraction P of the batch kept (Algorithm 1's top-P). */
  P: number;
}

export interface DrpoFilter {
  mask: Uint8Array;
  /** |B_top|. */
  K: number;
  /** min(r over B_top). */
  nu: number;
  subsetMean: number;
  sigmaBatch: number;
  sigmaSubset: number;
  /** P for the next batch. */
  nextP: number;
  expanded: boolean;
}

/** Steps 1–2 of Algorithm 1 on one non-empty batch. */
export function drpoFilter(r: Float64Array, P: number, c: DrpoControl): DrpoFilter {
  const n = r.length;
  const sum = checkedSum(r, 'drpo');
  const sigmaBatch = popStd(r, sum / n);
  const K = Math.min(n, Math.max(1, Math.floor(n * P + 1e-9)));
  const { mask, threshold } = topKMask(r, K);
  // Branch-free masked sums (about half the rows are kept, so branches mispredict).
  let s = 0;
  for (let i = 0; i < n; i++) s += mask[i]! * r[i]!;
  const subsetMean = s / K;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = r[i]! - subsetMean;
    ss += mask[i]! * d * d;
  }
  const sigmaSubset = Math.sqrt(ss / K);
  const expanded = sigmaSubset < c.rho * sigmaBatch;
  const nextP = expanded ? Math.min(c.pMax, P * c.rateUp) : Math.max(c.pMin, P * c.rateDown);
  return { mask, K, nu: threshold, subsetMean, sigmaBatch, sigmaSubset, nextP, expanded };
}

export type DrpoVariant = 'drpo' | 'drpo_exp' | 'adaptive_bc';

export interface DrpoParams extends DrpoControl {
  variant: DrpoVariant;
  /** DRPO-Exp temperature β. */
  beta: number;
  /** DRPO-Exp weight clip. */
  wMax: number;
  meanOver: 'kept' | 'batch';
}

/** One batch of DRPO / DRPO-Exp / Adaptive BC: weights and the next state. */
export function drpoStep(r: Float64Array, state: DrpoState, p: DrpoParams): { result: ObjectiveResult; state: DrpoState } {
  const n = r.length;
  if (n === 0) {
    const empty: ObjectiveResult = {
      weight: new Float32Array(0),
      kept: new Uint8Array(0),
      phantomWeight: new Float32Array(0),
      ...(p.variant === 'adaptive_bc' ? {} : { advantage: new Float32Array(0) }),
      diagnostics: { n: 0, P: state.P, kept: 0 },
    };
    return { result: empty, state: { P: state.P } };
  }
  const f = drpoFilter(r, state.P, p);
  const scale = p.meanOver === 'kept' ? n / f.K : 1;
  const weight = new Float32Array(n);
  const phantomWeight = new Float32Array(n);
  let advantage: Float32Array | undefined;
  const extra: Record<string, number> = {};
  if (p.variant === 'drpo') {
    // std(A) over B_top equals σ_subset (A = r − ν is a shift of r).
    const inv = 1 / (f.sigmaSubset + 1e-8);
    advantage = new Float32Array(n);
    const mask = f.mask;
    for (let i = 0; i < n; i++) {
      const a = (r[i]! - f.nu) * inv;
      advantage[i] = a;
      const m = mask[i]!;
      weight[i] = m * a * scale + 0; // + 0 turns −0 (rejected rows below ν) into 0
      phantomWeight[i] = (1 - m) * a * scale;
    }
    extra.adv_std = f.sigmaSubset;
  } else if (p.variant === 'drpo_exp') {
    const invBeta = 1 / p.beta;
    const cap = Math.min(Math.log(p.wMax), F32_LOG_MAX - Math.log(Math.max(1, scale)));
    advantage = new Float32Array(n);
    const mask = f.mask;
    for (let i = 0; i < n; i++) {
      const a = r[i]! - f.subsetMean;
      advantage[i] = a;
      const e = a * invBeta;
      const w = fastExp(e < cap ? e : cap) * scale;
      const m = mask[i]!;
      weight[i] = m * w;
      phantomWeight[i] = (1 - m) * w;
    }
    extra.baseline = f.subsetMean;
  } else {
    const mask = f.mask;
    for (let i = 0; i < n; i++) {
      const m = mask[i]!;
      weight[i] = m * scale;
      phantomWeight[i] = (1 - m) * scale;
    }
  }
  let phantom = 0;
  for (let i = 0; i < n; i++) phantom += Math.abs(phantomWeight[i]!);
  const result: ObjectiveResult = {
    weight,
    kept: f.mask,
    phantomWeight,
    ...(advantage ? { advantage } : {}),
    diagnostics: {
      ...summariseWeights(weight),
      P: state.P,
      next_P: f.nextP,
      nu: f.nu,
      kept: f.K,
      sigma_batch: f.sigmaBatch,
      sigma_subset: f.sigmaSubset,
      expanded: f.expanded ? 1 : 0,
      phantom_abs_mean: phantom / n,
      ...extra,
    },
  };
  return { result, state: { P: f.nextP } };
}
