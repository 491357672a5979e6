/**
 * BSPO, behaviour-supported policy optimisation (Dai et al. 2025; paper 004
 * App. G): a candidate outside the behaviour policy's support gets a
 * pessimistic reward instead of the proxy's, so the policy is not rewarded for
 * leaving the data where the proxy extrapolates:
 *
 *   r̃(s, a) = r̂(s, a)   if β(a | s) ≥ ε_β
 *             v_pess    otherwise.
 *
 * Over a finite catalog the support is exact: β(a | s) is the behaviour
 * model's probability of the candidate (the initial BC policy π₀, trained on
 * the logs, as the paper's ScoreLM is), known for every item. The paper's
 * setting is ε_β = 1e-4 and v_pess = −15; the shaped rewards then enter the
 * GRPO group normalisation like any proxy reward.
 */
import { NonFiniteInputError } from './numeric.js';

export interface BspoOptions {
  /** ε_β: the support threshold on β(a | s). */
  threshold: number;
  /** v_pess: the reward of an unsupported candidate. */
  value: number;
}

/** Shaped rewards and the fraction of candidates outside the support. */
export function bspoRewards(proxy: ArrayLike<number>, behaviourLogProb: ArrayLike<number>, opts: BspoOptions): { reward: Float64Array; outOfSupport: number } {
  if (proxy.length !== behaviourLogProb.length)
    throw new RangeError(`BSPO: ${proxy.length} rewards and ${behaviourLogProb.length} behaviour log-probabilities`);
  if (!(opts.threshold >= 0 && opts.threshold <= 1)) throw new RangeError(`BSPO: threshold must be in [0, 1], got ${opts.threshold}`);
  const logThreshold = Math.log(opts.threshold);
  const reward = new Float64Array(proxy.length);
  let out = 0;
  for (let i = 0; i < proxy.length; i++) {
    const lp = behaviourLogProb[i]!;
    if (Number.isNaN(lp)) throw new NonFiniteInputError('BSPO', 'behaviour log-probability', i, lp);
    if (lp < logThreshold) {
      reward[i] = opts.value;
      out++;
    } else reward[i] = proxy[i]!;
  }
  return { reward, outOfSupport: proxy.length ? out / proxy.length : 0 };
}
