/**
 * Proxy-quality control (paper 004 App. G): solve the noise scale σ of a
 * controlled proxy r̂ = r* + σ·b(item) (stages/simulators/controlled-proxy.ts)
 * so that its pairwise agreement with the gold reward r* on pilot contexts
 * hits a target.
 *
 * Agreement is measured exactly as `proxy_gold_agreement` is
 * (pairwise-agreement.ts): per context, the fraction of pairs of distinct
 * sampled items that r̂ and r* order the same way; contexts weigh equally. For
 * one pair with gold difference Δg ≠ 0 and bias difference Δb,
 * sign(Δg + σΔb) = sign(Δg) holds for every σ ≥ 0 when Δb/Δg ≥ 0, and
 * otherwise exactly for σ < t = −Δg/Δb. So the agreement is a non-increasing
 * step function of σ with steps at the thresholds t, and the σ that comes
 * closest to the target is found exactly by sorting them (no bisection
 * tolerance): the midpoint of the two thresholds around the chosen step.
 * A pair with Δg = 0 agrees for σ > 0 only when Δb = 0.
 */

/** The pilot pairs reduced to what the agreement depends on. */
export interface AgreementPairs {
  /** Thresholds t > 0 of the pairs that stop agreeing once σ ≥ t, ascending, with their weights. */
  thresholds: Float64Array;
  weights: Float64Array;
  /** Total weight of the pairs that agree for every σ > 0. */
  always: number;
  /** Contexts with at least one pair (the weights sum to 1 over them). */
  contexts: number;
  pairs: number;
}

/** Pairs of distinct items within each context of k consecutive candidates; weight 1/(contexts·pairs of its context). */
export function agreementPairs(items: Int32Array, gold: ArrayLike<number>, bias: ArrayLike<number>, k: number): AgreementPairs {
  if (gold.length !== items.length || bias.length !== items.length)
    throw new RangeError(`agreement pairs: ${items.length} items, ${gold.length} gold and ${bias.length} bias values`);
  const perContext: { t: number[]; always: number; pairs: number }[] = [];
  for (let c = 0; c + k <= items.length; c += k) {
    const t: number[] = [];
    let always = 0;
    let pairs = 0;
    for (let a = c; a < c + k; a++) {
      for (let b = a + 1; b < c + k; b++) {
        if (items[a] === items[b]) continue;
        pairs++;
        const dg = gold[a]! - gold[b]!;
        const db = bias[a]! - bias[b]!;
        if (dg === 0) {
          if (db === 0) always++;
        } else if (db === 0 || db / dg > 0) always++;
        else t.push(-dg / db);
      }
    }
    if (pairs > 0) perContext.push({ t, always, pairs });
  }
  const C = perContext.length;
  const all: { t: number; w: number }[] = [];
  let always = 0;
  let pairs = 0;
  for (const p of perContext) {
    const w = 1 / (C * p.pairs);
    always += p.always * w;
    pairs += p.pairs;
    for (const t of p.t) all.push({ t, w });
  }
  all.sort((x, y) => x.t - y.t);
  return { thresholds: Float64Array.from(all, (x) => x.t), weights: Float64Array.from(all, (x) => x.w), always, contexts: C, pairs };
}

/** The agreement at noise scale σ > 0. */
export function agreementAt(p: AgreementPairs, sigma: number): number {
  let a = p.always;
  for (let i = 0; i < p.thresholds.length; i++) if (sigma < p.thresholds[i]!) a += p.weights[i]!;
  return a;
}

/**
 * The σ > 0 whose agreement is closest to `target` (the smallest such σ's step), and that agreement.
 * Reachable agreements run from `always` (σ → ∞) to always + Σweights (σ → 0⁺).
 */
export function solveNoiseScale(p: AgreementPairs, target: number): { sigma: number; achieved: number } {
  if (!(target > 0 && target <= 1)) throw new RangeError(`proxy quality: target agreement must be in (0, 1], got ${target}`);
  if (p.contexts === 0) throw new RangeError('proxy quality: no pilot context has two distinct candidates');
  const t = p.thresholds;
  if (t.length === 0) return { sigma: 1, achieved: p.always };
  // Distinct thresholds and the agreement just above each.
  let a = p.always;
  for (let i = 0; i < p.weights.length; i++) a += p.weights[i]!;
  let best = { sigma: t[0]! / 2, achieved: a };
  for (let i = 0; i < t.length;) {
    let j = i;
    while (j < t.length && t[j] === t[i]) a -= p.weights[j++]!;
    const sigma = j < t.length ? (t[i]! + t[j]!) / 2 : 2 * t[i]!;
    if (Math.abs(a - target) < Math.abs(best.achieved - target)) best = { sigma, achieved: a };
    i = j;
  }
  return best;
}
