/**
 * Offline-to-online training (paper 002 §5.6, Fig. 4 / Table 3): a fraction
 * `online_ratio` of every minibatch is replaced by fresh interactions with the
 * simulator, collected by the policy being trained. For each replaced row the
 * logged context (its state and user) is kept, the item is drawn from the
 * current policy π(·|s) over the catalog, and the reward is the RecSim
 * world's observed reward R_obs = clip(R_latent + N(0, σ²_noise), 0, 1)
 * (Eqs. 48–49) for that user and item. The offline objective then weighs the
 * mixed batch as it is, so a hard filter decides how much of the fresh data
 * it admits. With online_ratio = 0 nothing is drawn and training is the
 * offline run's, exactly.
 */
import type { RecSimWorld } from '../simulators/recsim-world.js';
import { observedReward } from '../simulators/recsim-world.js';
import type { CatalogSampler } from './gaussian-catalog-sampler.js';
import type { Rng } from './rng.js';

/** Rows replaced in a minibatch of n: round(ratio·n), the first ones of the (already shuffled) batch. */
export function onlineRowCount(n: number, ratio: number): number {
  return Math.min(n, Math.round(ratio * n));
}

export interface OnlineDraw {
  /** How many leading rows of the batch were replaced. */
  count: number;
  items: Int32Array;
  rewards: Float64Array;
}

/** Collect `count` fresh interactions for the leading rows' states and users. */
export function collectOnline(
  world: RecSimWorld,
  sampler: CatalogSampler,
  states: Float32Array,
  users: Int32Array,
  count: number,
  dim: number,
  rng: Rng,
): OnlineDraw {
  const items = sampler.sample(states.subarray(0, count * dim), 1, rng);
  const rewards = new Float64Array(count);
  for (let j = 0; j < count; j++) rewards[j] = observedReward(world.trueReward(users[j]!, items[j]!), world.rewardNoise * rng.normal());
  return { count, items, rewards };
}
