/**
 * The RecSim generation options (snake_case, as in pipeline files and
 * data/presets/recsim-*.json) and their mapping onto world and log parameters.
 */
import type { Fields } from '../core/config-schema.js';
import type { RecSimWorldParams } from './recsim-world.js';
import type { RecSimLogParams } from './recsim-log.js';
import { readPreset, resolvePresetParams } from './presets.js';

export interface RecSimOptions {
  num_users: number;
  num_items: number;
  dim: number;
  topics: number;
  item_spread: number;
  user_spread: number;
  delta: number;
  reward_noise: number;
  zipf_exponent: number;
  policy_mix: { expert: number; popularity: number; random: number };
  expert_pool: number;
  interactions_per_user: number;
  noise_injection: number;
  policy_noise: number;
}

const share = (doc: string) => ({ type: 'number' as const, min: 0, max: 1, doc });

/** Every generation option; none has a default here: the preset supplies it. */
export const recsimOptionFields: Fields = {
  num_users: { type: 'integer', min: 1, doc: 'Number of users (ids 1..num_users). Default: from the preset.' },
  num_items: { type: 'integer', min: 1, doc: 'Number of items, padding excluded (ids 1..num_items). Default: from the preset.' },
  dim: { type: 'integer', min: 1, doc: 'Embedding dimension d (the paper uses 128 in App. H and 10 in App. J). Default: from the preset.' },
  topics: { type: 'integer', min: 1, doc: 'Number of topics (mixture components; user segments). Default: from the preset.' },
  item_spread: { type: 'number', min: 0, doc: 'Expected distance of an item from its (unit) topic centre. Default: from the preset.' },
  user_spread: { type: 'number', min: 0, doc: "Expected distance of a user's interest u* from the topic centre. Default: from the preset." },
  delta: { type: 'number', exclusiveMin: 0, doc: 'δ of Eq. 48: R_latent = exp(−(1 − cos(e_a, u*))/(2δ²)). Default: from the preset.' },
  reward_noise: { type: 'number', min: 0, doc: 'σ_noise of Eq. 49: R_obs = clip(R_latent + N(0, σ²), 0, 1). Default: from the preset.' },
  zipf_exponent: { type: 'number', min: 0, doc: 'Exponent s of the Zipfian popularity charts (weight ∝ rank^(−s)). Default: from the preset.' },
  policy_mix: {
    type: 'object',
    doc: 'Shares of the logging policies (sum 1): Medium 0.1/0.6/0.3, Extreme 0.05/0.05/0.9. Default: from the preset.',
    fields: {
      expert: share("Share of the expert policy (uniform over the user's expert_pool best items)."),
      popularity: share("Share of the popularity policy (Zipfian chart of the user's segment)."),
      random: share('Share of the random policy (uniform over the catalog).'),
    },
  },
  expert_pool: { type: 'integer', min: 1, doc: 'The expert policy draws uniformly among this many best items of the user. Default: from the preset.' },
  interactions_per_user: { type: 'integer', min: 1, doc: 'Logged interactions per user. Default: from the preset.' },
  noise_injection: {
    type: 'number',
    min: 0,
    max: 1,
    doc: 'Fraction of the log replaced by random-policy interactions (policy code 3); the paper sweeps 0–0.8. Default: from the preset (0).',
  },
  policy_noise: {
    type: 'number',
    min: 0,
    doc: "Policy noise σ_p (paper 002 Table 6: the logging policy's quality): each expert row ranks the catalog by cosine to û + σ_p·ε (û the unit interest), ε ~ N(0, I/d), so the expert picks worse items as σ_p grows; 0 = the exact expert. Default: from the preset, else 0.",
  },
};

/** Preset + explicit options → validated complete options. */
export function resolveRecSimOptions(preset: string, options: Partial<RecSimOptions>, where = 'simulate_recsim'): RecSimOptions {
  // policy_noise came after the presets were written: a preset without it means 0.
  const withNoise = options.policy_noise !== undefined || 'policy_noise' in readPreset('recsim', preset) ? options : { ...options, policy_noise: 0 };
  return resolvePresetParams<RecSimOptions>('recsim', preset, withNoise as Record<string, unknown>, recsimOptionFields, where);
}

export function recsimWorldParams(o: RecSimOptions, seed: number): RecSimWorldParams {
  return {
    numUsers: o.num_users,
    numItems: o.num_items,
    dim: o.dim,
    topics: o.topics,
    itemSpread: o.item_spread,
    userSpread: o.user_spread,
    delta: o.delta,
    rewardNoise: o.reward_noise,
    zipfExponent: o.zipf_exponent,
    seed,
  };
}

export function recsimLogParams(o: RecSimOptions, seed: number): RecSimLogParams {
  return {
    policyMix: { ...o.policy_mix },
    expertPool: o.expert_pool,
    interactionsPerUser: o.interactions_per_user,
    noiseInjection: o.noise_injection,
    policyNoise: o.policy_noise,
    seed,
  };
}
