/**
 * Sampled regret bonuses and GRPO advantages (paper 004 §4.5; SPEC S5), for
 * nGroups contexts × G candidates flattened group-major (candidate k of group
 * g at g·G + k).
 *
 * Everything runs from log-probabilities: π̃_k = π̄_k/Σ_l π̄_l is formed as
 * log π̃_k = log π̄_k − LSE_l(log π̄_l), so completion probabilities of 1e-30
 * (or 1e-300) neither underflow to 0/0 nor lose their ratios.
 */
import { NonFiniteInputError } from './numeric.js';

/** A budget per group, or one for all. */
export type Budget = number | Float64Array;

const budgetAt = (d: Budget, g: number): number => (typeof d === 'number' ? d : d[g]!);

/** Check shapes and finiteness of a grouped input; returns the number of groups. */
export function checkGroups(where: string, groupSize: number, columns: Record<string, Float64Array | undefined>): number {
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new RangeError(`${where}: group size must be a positive integer, got ${groupSize}`);
  let n = -1;
  for (const [name, c] of Object.entries(columns)) {
    if (!c) continue;
    if (n < 0) n = c.length;
    else if (c.length !== n) throw new RangeError(`${where}: ${name} has ${c.length} entries, expected ${n}`);
    let s = 0;
    for (let i = 0; i < c.length; i++) s += c[i]!;
    if (!Number.isFinite(s)) {
      for (let i = 0; i < c.length; i++) if (!Number.isFinite(c[i]!)) throw new NonFiniteInputError(where, name, i, c[i]!);
    }
  }
  if (n < 0) n = 0;
  if (n % groupSize !== 0) throw new RangeError(`${where}: ${n} candidates is not a multiple of the group size ${groupSize}`);
  return n / groupSize;
}

/** log π̃ (Eq. 4.14's group-normalised probabilities) from log π̄, per group. */
export function groupNormalisedLogProbs(logProb: Float64Array, G: number): Float64Array {
  const n = logProb.length;
  const out = new Float64Array(n);
  for (let s = 0; s < n; s += G) {
    let m = -Infinity;
    for (let k = s; k < s + G; k++) if (logProb[k]! > m) m = logProb[k]!;
    let z = 0;
    for (let k = s; k < s + G; k++) z += Math.exp(logProb[k]! - m);
    const lse = m + Math.log(z);
    for (let k = s; k < s + G; k++) out[k] = logProb[k]! - lse;
  }
  return out;
}

/**
 * Hard DRRO bonus (Eq. 4.14): k* = argmax_k (r̂_k − δ̃·π̃_k) (first on ties),
 * r̃_k = r̂_k + δ̃·1[k = k*]. Returns the shaped rewards and each group's k*.
 */
export function hardRegretBonus(proxy: Float64Array, logPt: Float64Array, G: number, delta: Budget): { shaped: Float64Array; winner: Int32Array } {
  const n = proxy.length;
  const shaped = proxy.slice();
  const winner = new Int32Array(n / G);
  for (let s = 0, g = 0; s < n; s += G, g++) {
    const d = budgetAt(delta, g);
    let best = -Infinity;
    let arg = 0;
    for (let k = 0; k < G; k++) {
      const v = proxy[s + k]! - d * Math.exp(logPt[s + k]!);
      if (v > best) {
        best = v;
        arg = k;
      }
    }
    winner[g] = arg;
    shaped[s + arg] = shaped[s + arg]! + d;
  }
  return { shaped, winner };
}

/**
 * Soft DRRO bonus (Eq. 4.15), in log space:
 *   x_k = (r̂_k − δ̃·π̃_k)/τ,  log u_k = x_k − log π̃_k,  w_k = u_k/Σ_l u_l,
 *   r̃_k = r̂_k + δ̃·G·w_k·π̃_k.
 * w is a softmax of log u (max subtracted), so the huge u = exp(…)/π̃ of a
 * tiny π̃ is never materialised; w_k and π̃_k are both ≤ 1.
 */
export function softRegretBonus(proxy: Float64Array, logPt: Float64Array, G: number, delta: Budget, tau: number): Float64Array {
  if (!(tau > 0)) throw new RangeError(`soft regret bonus: τ must be > 0, got ${tau}`);
  const n = proxy.length;
  const shaped = new Float64Array(n);
  const pt = new Float64Array(G);
  const lu = new Float64Array(G);
  const invTau = 1 / tau;
  for (let s = 0, g = 0; s < n; s += G, g++) {
    const d = budgetAt(delta, g);
    let m = -Infinity;
    for (let k = 0; k < G; k++) {
      const p = Math.exp(logPt[s + k]!);
      pt[k] = p;
      // log u_k = x_k − log π̃_k with x_k = (r̂_k − δ̃·π̃_k)/τ.
      const l = (proxy[s + k]! - d * p) * invTau - logPt[s + k]!;
      lu[k] = l;
      if (l > m) m = l;
    }
    let z = 0;
    for (let k = 0; k < G; k++) {
      const e = Math.exp(lu[k]! - m);
      lu[k] = e;
      z += e;
    }
    // w_k·π̃_k = (u_k/Σu)·π̃_k: both factors ≤ 1, so the product neither overflows nor loses its ratio.
    const scale = (d * G) / z;
    for (let k = 0; k < G; k++) shaped[s + k] = proxy[s + k]! + scale * lu[k]! * pt[k]!;
  }
  return shaped;
}

/**
 * Value-robust DRO correction: the promptwise DRO objective is
 * max_π ⟨π, r̂⟩ − δ‖π‖_∞, and a subgradient of ‖π‖_∞ is the indicator of its
 * largest coordinate, so the sampled correction penalises the most probable
 * sampled candidate: r̃_k = r̂_k − δ̃·1[k = argmax_l π̃_l] (first on ties). This
 * is our derivation (SPEC S5); paper 004 states the DRO baseline only as the
 * value-robust objective.
 */
export function droCorrection(proxy: Float64Array, logPt: Float64Array, G: number, delta: Budget): Float64Array {
  const n = proxy.length;
  const shaped = proxy.slice();
  for (let s = 0, g = 0; s < n; s += G, g++) {
    let arg = s;
    for (let k = s + 1; k < s + G; k++) if (logPt[k]! > logPt[arg]!) arg = k;
    shaped[arg] = shaped[arg]! - budgetAt(delta, g);
  }
  return shaped;
}

/**
 * GRPO group advantages (r̃ − mean_g)/(std_g + 1e-8) with the population std.
 * A group whose shaped rewards are all equal (std 0) gets advantages 0.
 */
export function grpoAdvantages(shaped: Float64Array, G: number, eps = 1e-8): { advantage: Float64Array; zeroStdGroups: number } {
  const n = shaped.length;
  const advantage = new Float64Array(n);
  let zero = 0;
  for (let s = 0; s < n; s += G) {
    let m = 0;
    for (let k = s; k < s + G; k++) m += shaped[k]!;
    m /= G;
    let ss = 0;
    for (let k = s; k < s + G; k++) {
      const d = shaped[k]! - m;
      ss += d * d;
    }
    const sd = Math.sqrt(ss / G);
    if (sd === 0) zero++;
    const inv = 1 / (sd + eps);
    for (let k = s; k < s + G; k++) advantage[k] = (shaped[k]! - m) * inv;
  }
  return { advantage, zeroStdGroups: zero };
}
