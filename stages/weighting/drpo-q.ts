/**
 * DRPO-Q (paper 002 §4.3; SPEC S10): DRPO's variance-guided top-P filter and
 * its advantages computed on a learned Q(s, a) instead of the logged reward r
 * ("the immediate reward R can be substituted with a learned Q-value Q_φ(s, a),
 * e.g. via IQL backbones"). The trainer fits Q by MSE to r (and V by expectile
 * regression, unused here) before the policy is trained; each batch then runs
 * DRPO's Algorithm 1 with r := Q(s, a).
 */
import type { Fields } from '../core/config-schema.js';
import { criticFields, criticOptionsOf, requireCritic, withoutCriticFields } from './critic-request.js';
import { drpoEntry } from './filter-objectives.js';
import type { OfflineObjectiveEntry } from './objective-types.js';

const drpoQFields: Fields = { ...drpoEntry.fields, ...criticFields };

export const drpoQEntry: OfflineObjectiveEntry = {
  summary: 'DRPO-Q: the DRPO filter and advantages on a learned Q(s, a) instead of r (train_gaussian).',
  doc: `DRPO with r replaced by a learned Q(s, a) (paper 002 §4.3), fitted by MSE to the logged reward before the policy is trained. ${drpoEntry.doc} Needs a trainer that fits critics (train_gaussian).`,
  fields: drpoQFields,
  inputs: { critic: (c) => criticOptionsOf(c, 0.5, 'value') },
  factory(config, globals) {
    const inner = drpoEntry.factory(withoutCriticFields(config), globals);
    return {
      name: 'drpo_q',
      initialState: () => inner.initialState(),
      weigh: (batch, state) => inner.weigh({ ...batch, reward: requireCritic(batch, 'drpo_q').q }, state),
    };
  },
};
