/**
 * The ratings simulator's generation options (snake_case, as in pipeline
 * files and data/presets/ratings-*.json) and their mapping onto world parameters.
 */
import type { Fields } from '../core/config-schema.js';
import type { RatingsWorldParams } from './ratings-world.js';
import { resolvePresetParams } from './presets.js';

export interface RatingsOptions {
  num_users: number;
  num_items: number;
  rank: number;
  global_mean: number;
  user_bias_sd: number;
  item_bias_sd: number;
  interaction_sd: number;
  noise_sd: number;
  popularity_exponent: number;
  popularity_bias: number;
  taste_strength: number;
  ratings_per_user_min: number;
  ratings_per_user_max: number;
}

/** Every generation option; none has a default here: the preset supplies it. */
export const ratingsOptionFields: Fields = {
  num_users: { type: 'integer', min: 1, doc: 'Number of users (raw ids 1..num_users). Default: from the preset.' },
  num_items: { type: 'integer', min: 1, doc: 'Number of items (raw ids 1..num_items). Default: from the preset.' },
  rank: { type: 'integer', min: 1, doc: 'Dimension of the latent factors p_u, q_i. Default: from the preset.' },
  global_mean: { type: 'number', doc: 'μ, the global offset of the latent score μ + b_u + b_i + ⟨p_u, q_i⟩. Default: from the preset.' },
  user_bias_sd: { type: 'number', min: 0, doc: 'Std of the user biases b_u. Default: from the preset.' },
  item_bias_sd: { type: 'number', min: 0, doc: 'Std of the item biases b_i (before the popularity term). Default: from the preset.' },
  interaction_sd: { type: 'number', min: 0, doc: 'Std of the taste term ⟨p_u, q_i⟩. Default: from the preset.' },
  noise_sd: { type: 'number', min: 0, doc: 'σ of the rating noise ε before rounding and clipping to 1..5. Default: from the preset.' },
  popularity_exponent: { type: 'number', min: 0, doc: 'Zipf exponent s of item popularity (∝ rank^(−s)). Default: from the preset.' },
  popularity_bias: { type: 'number', doc: 'Added to b_i per std of log popularity (popular items rate higher when > 0). Default: from the preset.' },
  taste_strength: {
    type: 'number',
    doc: "β: weight of the user's taste b_i + ⟨p_u, q_i⟩ against log popularity in the behaviour policy's logits. Default: from the preset.",
  },
  ratings_per_user_min: { type: 'integer', min: 1, doc: 'Fewest ratings per user (ratings per user are log-uniform in [min, max]). Default: from the preset.' },
  ratings_per_user_max: { type: 'integer', min: 1, doc: 'Most ratings per user (capped at num_items). Default: from the preset.' },
};

/** Preset + explicit options → validated complete options. */
export function resolveRatingsOptions(preset: string, options: Partial<RatingsOptions>, where = 'simulate_ratings'): RatingsOptions {
  return resolvePresetParams<RatingsOptions>('ratings', preset, options as Record<string, unknown>, ratingsOptionFields, where);
}

export function ratingsWorldParams(o: RatingsOptions, seed: number): RatingsWorldParams {
  return {
    numUsers: o.num_users,
    numItems: o.num_items,
    rank: o.rank,
    globalMean: o.global_mean,
    userBiasSd: o.user_bias_sd,
    itemBiasSd: o.item_bias_sd,
    interactionSd: o.interaction_sd,
    noiseSd: o.noise_sd,
    popularityExponent: o.popularity_exponent,
    popularityBias: o.popularity_bias,
    tasteStrength: o.taste_strength,
    ratingsPerUserMin: o.ratings_per_user_min,
    ratingsPerUserMax: o.ratings_per_user_max,
    seed,
  };
}
