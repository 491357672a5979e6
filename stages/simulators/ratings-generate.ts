/**
 * Drawing a ratings world and its log (SPEC S8, sequential ratings simulator).
 *
 * World: b_u ~ N(0, user_bias_sd²); item popularity ranks are a random
 * permutation with popularity ∝ rank^(−s) (Zipf); b_i ~ N(0, item_bias_sd²) +
 * popularity_bias · z_i with z_i the standardised log popularity; factor
 * entries of p_u, q_i ~ N(0, interaction_sd/√rank), so ⟨p_u, q_i⟩ has std
 * interaction_sd. Factors are rounded to float32 before anything uses them.
 *
 * Behaviour policy (who rates what): user u rates n_u items, n_u log-uniform
 * in [ratings_per_user_min, ratings_per_user_max]. The items are n_u draws
 * without replacement from softmax(−s·log rank_i + β·(b_i + ⟨p_u, q_i⟩)): the
 * popularity chart and the user's taste mixed in log space (Plackett–Luce,
 * sampled exactly by adding Gumbel noise to the logits and keeping the top
 * n_u). The ratings follow the world's rating model. The order in time is a
 * uniformly random permutation of the chosen items, so every position of a
 * user's sequence (the held-out last one included) is an exchangeable draw
 * from the same user-specific distribution. Timestamps (seconds) increase
 * strictly within each user, starting in 2000 like MovieLens-1M.
 */
import { Rng } from './rng.js';
import { roundClipRating } from './expected-rating.js';
import { RatingsWorld, type RatingsWorldParams } from './ratings-world.js';
import { dotRows, topKIndices } from './vectors.js';

const STREAM_USERS = 1;
const STREAM_ITEMS = 2;
const STREAM_LOG = 20;

/** First possible timestamp (2000-04-25, the first MovieLens-1M rating). */
export const RATINGS_T0 = 956_703_932;
/** Users start within this many seconds of RATINGS_T0 (about 2.5 years). */
const START_SPAN = 80_000_000;
/** Mean gap between a user's consecutive ratings, seconds. */
const MEAN_GAP = 1800;

export function checkRatingsWorldParams(p: RatingsWorldParams): void {
  const bad = (msg: string) => {
    throw new Error(`ratings simulator parameters: ${msg}`);
  };
  /** The option's name as a pipeline file spells it (numUsers → num_users). */
  const opt = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  for (const k of ['numUsers', 'numItems', 'rank', 'ratingsPerUserMin', 'ratingsPerUserMax'] as const) {
    if (!(Number.isInteger(p[k]) && p[k] >= 1)) bad(`${opt(k)} must be an integer ≥ 1, got ${p[k]}`);
  }
  if (p.ratingsPerUserMax < p.ratingsPerUserMin) bad(`ratings_per_user_max (${p.ratingsPerUserMax}) is below ratings_per_user_min (${p.ratingsPerUserMin})`);
  for (const k of ['userBiasSd', 'itemBiasSd', 'interactionSd', 'noiseSd', 'popularityExponent'] as const) {
    if (!(p[k] >= 0)) bad(`${opt(k)} must be ≥ 0, got ${p[k]}`);
  }
  for (const k of ['globalMean', 'popularityBias', 'tasteStrength'] as const) if (!Number.isFinite(p[k])) bad(`${opt(k)} must be finite`);
}

export function generateRatingsWorld(p: RatingsWorldParams): RatingsWorld {
  checkRatingsWorldParams(p);
  const { numUsers: U, numItems: I, rank: k } = p;
  const factorSd = Math.sqrt(p.interactionSd / Math.sqrt(k));

  const ru = Rng.derive(p.seed, STREAM_USERS);
  const userBias = new Float64Array(U + 1);
  const userFactors = new Float32Array((U + 1) * k);
  for (let u = 1; u <= U; u++) {
    userBias[u] = p.userBiasSd * ru.normal();
    for (let j = 0; j < k; j++) userFactors[u * k + j] = factorSd * ru.normal();
  }

  const ri = Rng.derive(p.seed, STREAM_ITEMS);
  const order = new Int32Array(I);
  for (let i = 0; i < I; i++) order[i] = i + 1;
  ri.shuffle(order);
  const itemPopularityRank = new Int32Array(I + 1);
  order.forEach((item, r) => (itemPopularityRank[item] = r + 1));
  // Standardised log popularity −s·log rank (population moments over the catalog).
  let m = 0;
  for (let r = 1; r <= I; r++) m += Math.log(r);
  m /= I;
  let v = 0;
  for (let r = 1; r <= I; r++) v += (Math.log(r) - m) ** 2;
  const sdLog = Math.sqrt(v / I) || 1;
  const itemBias = new Float64Array(I + 1);
  const itemFactors = new Float32Array((I + 1) * k);
  for (let i = 1; i <= I; i++) {
    const z = -(Math.log(itemPopularityRank[i]!) - m) / sdLog;
    itemBias[i] = p.itemBiasSd * ri.normal() + p.popularityBias * z;
    for (let j = 0; j < k; j++) itemFactors[i * k + j] = factorSd * ri.normal();
  }
  return new RatingsWorld({ params: { ...p }, userBias, itemBias, userFactors, itemFactors, itemPopularityRank });
}

/** One user's ratings in time order. */
export interface UserRatings {
  user: number;
  items: Int32Array;
  ratings: Int8Array;
  /** Seconds since the epoch, strictly increasing. */
  timestamps: Float64Array;
}

/** Number of ratings of a user: log-uniform in [min, max], capped at the catalog size. */
function ratingsCount(rng: Rng, p: RatingsWorldParams): number {
  const lo = Math.log(p.ratingsPerUserMin);
  const hi = Math.log(p.ratingsPerUserMax + 1);
  const n = Math.floor(Math.exp(lo + (hi - lo) * rng.next()));
  return Math.min(p.numItems, Math.max(p.ratingsPerUserMin, Math.min(p.ratingsPerUserMax, n)));
}

/** One user's log, from the user's own random stream (independent of other users). */
export function simulateUserRatings(world: RatingsWorld, user: number): UserRatings {
  const p = world.params;
  const rng = Rng.derive(p.seed, STREAM_LOG, user);
  const n = ratingsCount(rng, p);
  const I = world.numItems;
  const k = world.rank;
  const keys = new Float64Array(I + 1);
  keys[0] = -Infinity;
  for (let i = 1; i <= I; i++) {
    const taste = world.itemBias[i]! + dotRows(world.userFactors, user * k, world.itemFactors, i * k, k);
    keys[i] = -p.popularityExponent * Math.log(world.itemPopularityRank[i]!) + p.tasteStrength * taste + rng.gumbel();
  }
  // Gumbel-top-n = n Plackett–Luce draws without replacement.
  const chosen = topKIndices(keys, n, 1);
  rng.shuffle(chosen);
  const ratings = new Int8Array(n);
  const timestamps = new Float64Array(n);
  let t = RATINGS_T0 + rng.int(START_SPAN);
  for (let j = 0; j < n; j++) {
    const x = world.score(user, chosen[j]!);
    ratings[j] = roundClipRating(x + world.noiseSd * rng.normal());
    t += 1 + Math.floor(MEAN_GAP * rng.exponential());
    timestamps[j] = t;
  }
  return { user, items: chosen, ratings, timestamps };
}
