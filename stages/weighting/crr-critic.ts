/**
 * CRR with a learned critic (Wang et al. 2020; paper 002 baseline; SPEC S10):
 *
 *   A(s, a) = Q(s, a) − (1/m)·Σ_j Q(s, a'_j),   a'_j ~ π(·|s) (the current policy),
 *   w = 1[A > 0] (binary)  or  min(exp(A/β), w_max) (exp).
 *
 * Q is fitted to the logged reward before the policy is trained; the m
 * samples are drawn by the trainer at every step from the policy being
 * trained, so the baseline moves with it. With Q(s, a) = r and the baseline
 * replaced by the batch mean reward this is the `crr` objective (which is why
 * `crr` alone equals AWR: A = r − mean r in both).
 */
import type { Fields } from '../core/config-schema.js';
import { crrBinaryWeights, expAdvantageWeights } from './advantage-weights.js';
import { criticFields, criticOptionsOf, requireCritic } from './critic-request.js';
import { statelessObjective, validateObjectiveConfig, type OfflineObjectiveEntry } from './objective-types.js';

const crrCriticFields: Fields = {
  variant: { type: 'string', enum: ['binary', 'exp'], default: 'exp', doc: 'binary: w = 1[A > 0]; exp: w = min(exp(A/β), w_max).' },
  beta: { type: 'number', exclusiveMin: 0, default: 1, doc: 'Temperature β of exp(A/β) (paper 002 tunes {0.5, 1, 5}).' },
  w_max: { type: 'number', exclusiveMin: 0, max: 3e38, default: 20, doc: 'Clip w_max of the exponential weight (20 in Wang et al.).' },
  samples: {
    type: 'integer',
    min: 1,
    default: 4,
    doc: 'Actions m sampled from the current policy per state for the baseline mean Q(s, a′) (4 in Wang et al.).',
  },
  ...criticFields,
};

interface CrrCriticConfig {
  variant: 'binary' | 'exp';
  beta: number;
  w_max: number;
  samples: number;
}

export const crrCriticEntry: OfflineObjectiveEntry = {
  summary: 'CRR with a learned critic: A = Q(s, a) − mean of Q(s, a′), a′ ~ π; w = 1[A > 0] or min(exp(A/β), w_max) (train_gaussian).',
  doc:
    'Critic-regularised regression (Wang et al. 2020; paper 002 baseline) with its critic: Q(s, a) fitted by MSE to the logged reward before the policy is trained; ' +
    'A(s, a) = Q(s, a) − (1/m)·Σ_j Q(s, a′_j) with a′_j ~ π(·|s) drawn from the current policy at each step; binary w = 1[A > 0] or exponential w = min(exp(A/β), w_max). ' +
    'Reduces to `crr` (A = r − batch mean r) when Q = r and the sampled mean is replaced by the batch mean. The advantage column holds A. Needs a trainer that fits critics (train_gaussian).',
  fields: crrCriticFields,
  inputs: { critic: (c) => criticOptionsOf(c, 0.5, 'policy_mean', c.samples as number) },
  factory(config) {
    const c = validateObjectiveConfig<CrrCriticConfig>('crr_critic', crrCriticFields, config);
    return statelessObjective('crr_critic', (b) => {
      const { q, baseline } = requireCritic(b, 'crr_critic');
      return c.variant === 'binary' ? crrBinaryWeights(q, baseline) : expAdvantageWeights(q, baseline, c.beta, c.w_max);
    });
  },
};
