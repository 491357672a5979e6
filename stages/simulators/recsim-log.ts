/**
 * The mixed-strategy logging agent of RecSim (paper 002 App. H.2) and the
 * noise-injection study: the interaction log behind a RecSim world.
 *
 * Each logged interaction of user u is produced by one of
 * - expert (code 0): uniform over the user's `expert_pool` items with the
 *   highest R_latent (items near u*: sparse high-reward signal);
 * - popularity (code 1): a draw from the user's segment popularity chart,
 *   Zipfian with exponent s over the segment's items (weight ∝ rank^(−s)):
 *   on topic but not tailored to the user (medium reward). Summed over
 *   segments the popularity draws are Zipfian over the whole catalog;
 * - random (code 2): uniform over the catalog (low reward);
 * - injected (code 3): a random-policy interaction that replaced the row in
 *   the noise-injection study. With injection fraction f each row is,
 *   independently, injected with probability f, else drawn from the preset
 *   mixture: the log is the preset's log with a fraction f of its rows
 *   replaced by random-policy interactions.
 * with probabilities given by the preset mixture (Medium 10/60/30, Extreme
 * 5/5/90). The logged reward is R_obs of Eq. 49.
 *
 * Policy noise σ_p (paper 002 Table 6, the behaviour policy's quality): an
 * expert row ranks the catalog by cosine to a perturbed interest
 * û + σ_p·ε (û the unit interest), ε ~ N(0, I/d), drawn afresh for the row, and picks
 * uniformly among that ranking's expert_pool best items; σ_p = 0 is the exact
 * expert and draws nothing extra (the log is the one without the option).
 *
 * Rows are independent draws given the user (the contextual-bandit view of
 * App. J.1), so an item may recur in a user's log. Timestamps increase
 * strictly within each user. Every user's rows come from their own random
 * stream (seed, user), so the log does not depend on batch sizes.
 */
import type { Batch } from '../core/batch.js';
import { AliasTable } from './alias-table.js';
import { Rng } from './rng.js';
import { observedReward, rbfReward, type RecSimWorld } from './recsim-world.js';
import { topKIndices, unitRows, dotRows } from './vectors.js';

export const LOGGING_POLICY_NAMES = ['expert', 'popularity', 'random', 'injected'] as const;
export type LoggingPolicyName = (typeof LOGGING_POLICY_NAMES)[number];
export const POLICY_CODES: Record<LoggingPolicyName, number> = { expert: 0, popularity: 1, random: 2, injected: 3 };

export interface PolicyMix {
  expert: number;
  popularity: number;
  random: number;
}

export interface RecSimLogParams {
  /** Shares of the three logging policies; must sum to 1. */
  policyMix: PolicyMix;
  /** Number of best items per user the expert policy draws from. */
  expertPool: number;
  /** Logged interactions per user. */
  interactionsPerUser: number;
  /** Fraction of rows replaced by random-policy interactions (0–1; the paper's study uses 0–0.8). */
  noiseInjection: number;
  /** σ_p of the expert's perturbed view of the user's interest (0 = exact; undefined = 0). */
  policyNoise?: number;
  seed: number;
}

/** First timestamp of the simulated log (2020-09-13, seconds). */
export const RECSIM_T0 = 1_600_000_000;
const STREAM_LOG = 10;

export function checkRecSimLogParams(p: RecSimLogParams): void {
  const { expert, popularity, random } = p.policyMix;
  for (const [k, v] of Object.entries(p.policyMix)) {
    if (!(v >= 0 && v <= 1)) throw new Error(`RecSim parameters: policy_mix.${k} must be in [0, 1], got ${v}`);
  }
  const sum = expert + popularity + random;
  if (Math.abs(sum - 1) > 1e-6) throw new Error(`RecSim parameters: policy_mix shares must sum to 1, got ${expert} + ${popularity} + ${random} = ${sum}`);
  if (!(Number.isInteger(p.expertPool) && p.expertPool >= 1)) throw new Error(`RecSim parameters: expert_pool must be an integer ≥ 1, got ${p.expertPool}`);
  if (!(Number.isInteger(p.interactionsPerUser) && p.interactionsPerUser >= 1)) {
    throw new Error(`RecSim parameters: interactions_per_user must be an integer ≥ 1, got ${p.interactionsPerUser}`);
  }
  if (!(p.noiseInjection >= 0 && p.noiseInjection <= 1)) throw new Error(`RecSim parameters: noise_injection must be in [0, 1], got ${p.noiseInjection}`);
  const pn = p.policyNoise ?? 0;
  if (!(pn >= 0 && Number.isFinite(pn))) throw new Error(`RecSim parameters: policy_noise must be a finite number ≥ 0, got ${pn}`);
}

/** Running totals over the generated log (for the stage's report and tests). */
export interface RecSimLogStats {
  rows: number;
  /** Rows per policy code. */
  policyRows: Float64Array;
  /** Σ R_latent per policy code. */
  latentSum: Float64Array;
  /** Σ R_obs over all rows. */
  observedSum: number;
  /** Rows per item id (index 0 unused). */
  itemCounts: Float64Array;
  /** Rows per item id among popularity-policy rows. */
  popularityItemCounts: Float64Array;
}

export class RecSimLogger {
  readonly stats: RecSimLogStats;
  private readonly topicItems: Int32Array[];
  private readonly topicTables: AliasTable[];
  private readonly pool: number;
  private readonly itemUnit: Float64Array;
  private readonly userUnit: Float64Array;
  private readonly userRewards: Float64Array;

  constructor(
    readonly world: RecSimWorld,
    readonly params: RecSimLogParams,
  ) {
    checkRecSimLogParams(params);
    const K = world.topics;
    const lists: number[][] = Array.from({ length: K }, () => []);
    for (let a = 1; a < world.numItems; a++) lists[world.itemTopics[a]!]!.push(a);
    this.topicItems = lists.map((l) => Int32Array.from(l));
    this.topicTables = this.topicItems.map((items, k) => {
      if (items.length === 0) throw new Error(`RecSim world: topic ${k} has no items, so its popularity chart is empty`);
      return new AliasTable(Array.from(items, (a) => Math.pow(world.itemPopularityRank[a]!, -world.params.zipfExponent)));
    });
    this.pool = Math.min(params.expertPool, world.numItems - 1);
    this.itemUnit = unitRows(world.itemEmbeddings, world.numItems, world.dim);
    this.userUnit = unitRows(world.userInterests, world.numUsers + 1, world.dim);
    this.userRewards = new Float64Array(world.numItems);
    this.stats = {
      rows: 0,
      policyRows: new Float64Array(4),
      latentSum: new Float64Array(4),
      observedSum: 0,
      itemCounts: new Float64Array(world.numItems),
      popularityItemCounts: new Float64Array(world.numItems),
    };
  }

  /** Rows one user contributes. */
  get rowsPerUser(): number {
    return this.params.interactionsPerUser;
  }

  /** The expert_pool best items for user u's interest seen through policy noise σ_p (see the module comment). */
  private noisyExpertPool(u: number, sigma: number, rng: Rng): Int32Array {
    const w = this.world;
    const d = w.dim;
    const view = new Float64Array(d);
    const scale = sigma / Math.sqrt(d);
    for (let k = 0; k < d; k++) view[k] = this.userUnit[u * d + k]! + scale * rng.normal();
    const score = new Float64Array(w.numItems);
    score[0] = -Infinity;
    for (let a = 1; a < w.numItems; a++) score[a] = dotRows(view, 0, this.itemUnit, a * d, d);
    return topKIndices(score, this.pool, 1);
  }

  /** Write user u's rows into the column arrays from `offset`; returns the new offset. */
  private writeUser(
    u: number,
    cols: { user: Int32Array; item: Int32Array; ts: BigInt64Array; reward: Float32Array; policy: Int8Array },
    offset: number,
  ): number {
    const w = this.world;
    const p = this.params;
    const rng = Rng.derive(p.seed, STREAM_LOG, u);
    const d = w.dim;
    const R = this.userRewards;
    for (let a = 1; a < w.numItems; a++) R[a] = rbfReward(dotRows(this.userUnit, u * d, this.itemUnit, a * d, d), w.delta);
    R[0] = -Infinity;
    const expertItems = topKIndices(R, this.pool, 1);
    const topic = w.userTopics[u]!;
    const pe = p.policyMix.expert;
    const pp = p.policyMix.popularity;
    const nReal = w.numItems - 1;
    let t = RECSIM_T0 + rng.int(30 * 86400);
    const st = this.stats;
    for (let j = 0; j < p.interactionsPerUser; j++) {
      let code: number;
      let item: number;
      if (p.noiseInjection > 0 && rng.next() < p.noiseInjection) {
        code = 3;
        item = 1 + rng.int(nReal);
      } else {
        const v = rng.next();
        if (v < pe) {
          code = 0;
          const pool = (p.policyNoise ?? 0) > 0 ? this.noisyExpertPool(u, p.policyNoise!, rng) : expertItems;
          item = pool[rng.int(pool.length)]!;
        } else if (v < pe + pp) {
          code = 1;
          item = this.topicItems[topic]![this.topicTables[topic]!.sample(rng)]!;
        } else {
          code = 2;
          item = 1 + rng.int(nReal);
        }
      }
      const latent = R[item]!;
      const obs = observedReward(latent, w.rewardNoise * rng.normal());
      t += 1 + Math.floor(600 * rng.exponential());
      const i = offset + j;
      cols.user[i] = u;
      cols.item[i] = item;
      cols.ts[i] = BigInt(t);
      cols.reward[i] = obs;
      cols.policy[i] = code;
      st.policyRows[code]! += 1;
      st.latentSum[code]! += latent;
      st.observedSum += obs;
      st.itemCounts[item]! += 1;
      if (code === 1) st.popularityItemCounts[item]! += 1;
    }
    st.rows += p.interactionsPerUser;
    return offset + p.interactionsPerUser;
  }

  /**
   * `interactions` batches (user_id, item_id, timestamp, reward, policy) for
   * users [firstUser, lastUser], whole users per batch, about `batchRows` rows each.
   */
  *batches(batchRows = 65536, firstUser = 1, lastUser = this.world.numUsers): Generator<Batch> {
    const per = this.params.interactionsPerUser;
    const usersPerBatch = Math.max(1, Math.floor(batchRows / per));
    for (let u0 = firstUser; u0 <= lastUser; u0 += usersPerBatch) {
      const u1 = Math.min(lastUser, u0 + usersPerBatch - 1);
      const n = (u1 - u0 + 1) * per;
      const cols = {
        user: new Int32Array(n),
        item: new Int32Array(n),
        ts: new BigInt64Array(n),
        reward: new Float32Array(n),
        policy: new Int8Array(n),
      };
      let off = 0;
      for (let u = u0; u <= u1; u++) off = this.writeUser(u, cols, off);
      yield {
        table: 'interactions',
        numRows: n,
        columns: { user_id: cols.user, item_id: cols.item, timestamp: cols.ts, reward: cols.reward, policy: cols.policy },
        meta: { source: 'simulate_recsim', firstUser: u0, lastUser: u1 },
      };
    }
  }
}
