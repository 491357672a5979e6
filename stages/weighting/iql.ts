/**
 * IQL (Implicit Q-Learning; Kostrikov et al. 2021; paper 002 Table 1; SPEC
 * S10) as a contextual-bandit baseline: the trainer fits Q(s, a) to r and
 * V(s) by expectile regression of the target Q̄ over the logged actions
 * (stages/train/critic/critic.ts), then the policy is extracted by
 * advantage-weighted regression (IQL Eq. 7):
 *
 *   w = min(exp(β·(Q(s, a) − V(s))), w_max).
 */
import type { Fields } from '../core/config-schema.js';
import { expAdvantageWeights } from './advantage-weights.js';
import { criticFields, criticOptionsOf, requireCritic } from './critic-request.js';
import { statelessObjective, validateObjectiveConfig, type OfflineObjectiveEntry } from './objective-types.js';

const iqlFields: Fields = {
  tau: { type: 'number', exclusiveMin: 0, max: 0.999, default: 0.7, doc: 'Expectile τ of V(s) (paper 002 tunes {0.5, 0.7, 0.9}; 0.5 = the mean).' },
  beta: { type: 'number', exclusiveMin: 0, default: 3, doc: 'Inverse temperature β of exp(β·(Q − V)) (IQL Eq. 7; 3 in Kostrikov et al.).' },
  w_max: { type: 'number', exclusiveMin: 0, max: 3e38, default: 100, doc: 'Clip w_max of the exponential weight (100 in Kostrikov et al.).' },
  ...criticFields,
};

interface IqlConfig {
  tau: number;
  beta: number;
  w_max: number;
}

export const iqlEntry: OfflineObjectiveEntry = {
  summary: 'IQL: w = min(exp(β·(Q − V)), w_max) with a learned Q(s, a) and an expectile V(s) (train_gaussian).',
  doc:
    'Implicit Q-Learning (Kostrikov et al. 2021; paper 002 baseline, τ ∈ {0.5, 0.7, 0.9}) for the one-step bandit: the trainer first fits ' +
    'Q(s, a) by MSE to the logged reward and V(s) by expectile regression L_τ(u) = |τ − 1[u < 0]|·u², u = Q̄(s, a) − V(s), with a Polyak target Q̄; ' +
    'then w = min(exp(β·(Q(s, a) − V(s))), w_max) on the logged rows (Eq. 7). The advantage column holds Q − V. Needs a trainer that fits critics (train_gaussian).',
  fields: iqlFields,
  inputs: { critic: (c) => criticOptionsOf(c, c.tau as number, 'value') },
  factory(config) {
    const c = validateObjectiveConfig<IqlConfig>('iql', iqlFields, config);
    return statelessObjective('iql', (b) => {
      const { q, baseline } = requireCritic(b, 'iql');
      return expAdvantageWeights(q, baseline, 1 / c.beta, c.w_max);
    });
  },
};
