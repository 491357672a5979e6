/**
 * The base budget δ̃₀ of DRRO's dynamic budget, calibrated on pilot contexts
 * (paper 004 §4.5, "The calibration is deliberately pragmatic"): G responses
 * per pilot prompt from the initial policy, scored by the proxy r̂ and the
 * gold reward r*; the promptwise ℓ1 discrepancy is the initial guess for the
 * unscaled budget δ, and δ̃₀ its group-normalised value.
 *
 * Over a catalog of n items the unscaled budget of prompt x is the ℓ1 norm
 * δ_x = Σ_y |r̂(x, y) − r*(x, y)|, estimated from the G samples as
 * n·(1/G)·Σ_k |r̂_k − r*_k|; the sampled implementation scales budgets by
 * G/n (δ̃ = (G/n)·δ, §4.5), so
 *
 *   δ̃₀ = (1/B) Σ_b Σ_{k=1}^{G} |r̂(x_b, y_bk) − r*(x_b, y_bk)|,
 *
 * the mean over the B pilot prompts of the ℓ1 discrepancy over each group.
 */
import { NonFiniteInputError } from './numeric.js';

export function calibrateDelta0(proxy: ArrayLike<number>, gold: ArrayLike<number>, groupSize: number): number {
  if (proxy.length !== gold.length) throw new RangeError(`δ̃₀ calibration: ${proxy.length} proxy and ${gold.length} gold rewards`);
  if (!Number.isInteger(groupSize) || groupSize < 1 || proxy.length % groupSize !== 0)
    throw new RangeError(`δ̃₀ calibration: ${proxy.length} rewards is not a positive multiple of the group size ${groupSize}`);
  if (proxy.length === 0) throw new RangeError('δ̃₀ calibration: no pilot contexts');
  let s = 0;
  for (let i = 0; i < proxy.length; i++) {
    const d = Math.abs(proxy[i]! - gold[i]!);
    if (!Number.isFinite(d))
      throw new NonFiniteInputError('δ̃₀ calibration', Number.isFinite(proxy[i]!) ? 'gold' : 'proxy', i, Number.isFinite(proxy[i]!) ? gold[i]! : proxy[i]!);
    s += d;
  }
  return s / (proxy.length / groupSize);
}
