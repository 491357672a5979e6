/**
 * Exponential reward weights of Exp-RSFT (paper 000, Eq. 10–11; SPEC S3):
 *
 *   w_i = exp((r_i − c) / (λ·s))
 *
 * c is a constant subtracted from every reward. With c = the global maximum
 * reward (S2) every weight lies in (0, 1] and exp never overflows; because c is
 * the same for the whole data set it cancels in the optimal policy
 * π* ∝ π_β·exp(r/λ) (baseline invariance, Observation 3.1). s = 1, or the
 * global reward std σ when rewards are standardised: exp(((r−μ)/σ − (c−μ)/σ)/λ)
 * = exp((r − c)/(λσ)), so standardisation is the reparametrisation λ → λσ and μ
 * cancels against the shift. A per-batch c (the batch maximum) is a different
 * objective — it rescales each batch's weights by its own constant — and is
 * offered only as the named option `shift_mode: batch`.
 *
 * Numerics: the exponent is computed in float64, exponentiated by fastExp
 * (≈ 1e-8 relative error) and the weight stored as float32. Weights below float32's smallest subnormal (≈ 1.4e-45: e.g. r − c =
 * −4 with λ = 1e-3) become exactly 0, which is harmless (no gradient) and never
 * NaN. A reward above c by more than λ·s·88.7 would overflow float32: that
 * means the statistics do not describe this data, and it is an error; so is,
 * with a global shift, any reward above c (a weight above 1).
 */
import { ConfigError } from '../core/config-schema.js';
import { F32_LOG_MAX, checkedSum, fastExp, maxMin, popStd } from './numeric.js';

export interface ExpWeightResult {
  weight: Float32Array;
  /** Rows whose reward exceeds the shift (weight > 1): the stats did not cover them. */
  aboveShift: number;
}

/** w_i = exp((x_i − shift)/temperature) as float32; throws on float32 overflow. */
export function expWeights(x: Float64Array, shift: number, temperature: number, where = 'exp_rsft'): ExpWeightResult {
  if (!(temperature > 0) || !Number.isFinite(temperature))
    throw new RangeError(`${where}: temperature λ·s must be a positive finite number, got ${temperature}`);
  if (!Number.isFinite(shift)) throw new RangeError(`${where}: shift must be finite, got ${shift}`);
  const n = x.length;
  const w = new Float32Array(n);
  const inv = 1 / temperature;
  let above = 0;
  let maxArg = -Infinity;
  let sumArg = 0;
  for (let i = 0; i < n; i++) {
    const a = (x[i]! - shift) * inv;
    if (a > maxArg) maxArg = a;
    sumArg += a;
    w[i] = fastExp(a);
  }
  // A NaN or infinite reward makes the sum non-finite: name the row.
  if (!Number.isFinite(sumArg)) checkedSum(x, where);
  if (n > 0 && !(maxArg <= F32_LOG_MAX)) {
    throw new RangeError(
      `${where}: exp((r − ${shift}) / ${temperature}) overflows float32 (exponent ${maxArg.toFixed(1)} > ${F32_LOG_MAX.toFixed(1)}); ` +
        (where.includes('trajectory')
          ? 'the shift must be at least the largest return R(τ): use statistics of the returns (reward_stats with column: return), pass `shift`, or use shift_mode: batch'
          : 'the shift must be at least the largest reward: compute reward_stats on this data, or use shift_mode: batch'),
    );
  }
  if (maxArg > 0) for (let i = 0; i < n; i++) if (x[i]! > shift) above++;
  return { weight: w, aboveShift: above };
}

/** Where the shift c and the scale s of Exp-RSFT come from. */
export type ShiftMode = 'global' | 'batch';

export interface ExpRsftParams {
  lambda: number;
  shiftMode: ShiftMode;
  standardize: boolean;
  /** Global shift c (shift_mode global). */
  shift?: number;
  /** Global scale s (std) when standardising (shift_mode global). */
  scale?: number;
}

/**
 * Exp-RSFT weights of one batch with the shift and scale of `p`: global values,
 * or the batch's own maximum and std (`batch` mode). A zero or non-finite std
 * means every reward is equal; the scale is then 1 (all weights are exp(0) = 1
 * under the batch shift, and λ alone sets the temperature otherwise).
 */
export function expRsftWeights(x: Float64Array, p: ExpRsftParams, where = 'exp_rsft'): ExpWeightResult & { shift: number; temperature: number } {
  let shift: number;
  let scale = 1;
  if (p.shiftMode === 'batch') {
    const n = x.length;
    const sum = checkedSum(x, where);
    shift = n > 0 ? maxMin(x).max : 0;
    if (p.standardize && n > 0) scale = safeScale(popStd(x, sum / n));
  } else {
    if (p.shift === undefined) throw new Error(`${where}: no global shift resolved`);
    shift = p.shift;
    if (p.standardize) scale = safeScale(p.scale ?? NaN);
  }
  const temperature = p.lambda * scale;
  let result = expWeights(x, shift, temperature, where);
  if (p.shiftMode === 'global' && result.aboveShift > 0) {
    // Rewards are stored as float32: a reward that exceeds c only by float32 rounding (statistics
    // taken on the float64 source values) is the same reward; shift to it so weights stay ≤ 1.
    const top = maxMin(x).max;
    if (top - shift > Math.abs(shift) * FLOAT32_EPSILON) throwAboveShift(x, shift, where);
    shift = top;
    result = expWeights(x, shift, temperature, where);
  }
  return { ...result, shift, temperature };
}

/** float32's machine epsilon (2^-23): the relative rounding of a stored reward. */
const FLOAT32_EPSILON = 2 ** -23;

/**
 * A reward above the global shift c would get a weight above 1: the statistics
 * (a stale `stats_path`, or a `shift` set by hand) do not describe this data.
 * The README promises weights in (0, 1], so this is a configuration error that
 * names the first such row.
 */
function throwAboveShift(x: Float64Array, shift: number, where: string): never {
  let i = 0;
  while (!(x[i]! - shift > Math.abs(shift) * FLOAT32_EPSILON)) i++;
  throw new ConfigError(
    `${where}: the reward ${x[i]} at row ${i} is above the shift c = ${shift} of the statistics, so its weight would exceed 1; ` +
      'the statistics do not describe this data (a stale stats_path? reward_stats covers train rows only unless rows: all, and this stream may hold valid/test rows): ' +
      'recompute reward_stats on it, pass a `shift` ≥ every reward, or use shift_mode: batch',
    ['stats_path'],
  );
}

/** A usable standardisation scale: σ when positive and finite, else 1. */
export function safeScale(sigma: number): number {
  return sigma > 0 && Number.isFinite(sigma) ? sigma : 1;
}
