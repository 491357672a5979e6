/**
 * The RecSim world (paper 002, Appendix H): the hidden truth behind a
 * simulated log, kept so evaluation can answer the true reward of any
 * (context, item) later.
 *
 * - Items live in R^d, drawn from a mixture of Gaussians (one component per
 *   topic): e_a = c_k + item_spread · ξ/√d, with unit topic centres c_k.
 * - Each user has a latent interest u* = c_k + user_spread · ξ/√d around the
 *   centre of the user's topic (segment).
 * - The noise-free reward is the RBF of Eq. 48:
 *     R_latent(s, a) = exp(−(1 − cos(e_a, u*)) / (2δ²)),
 *   and the logged reward is Eq. 49: R_obs = clip(R_latent + N(0, σ²_noise), 0, 1).
 *
 * What a "context" is here. A context s is the user's state: the user id
 * together with the history of items the user consumed before (oldest first),
 * as the `examples` table carries it. The reward depends on s only through the
 * user's hidden interest u*, so trueReward(user, item) answers R_latent(s, a)
 * for every context of that user. The user's *observable* features are the
 * mean embedding of the history items (historyFeatures): a dense state in R^d,
 * the paper's "dense latent state representation" (App. J.1), which the
 * Gaussian embedding policy maps to an action embedding μ(s). u* itself is
 * never observable; histories carry its signal through the expert and
 * segment-popularity shares of the logging policy.
 *
 * Ids: items 1..numItems−1 (numItems counts the padding index 0, whose
 * embedding row is zero and whose reward is 0); users 1..numUsers (row 0 of
 * userInterests is zero padding).
 *
 * On disk (save/load): <dir>/world.json (parameters), <dir>/items.parquet
 * (item_id int32, embedding list<float32>, topic int32, popularity_rank int32),
 * <dir>/users.parquet (user_id int32, interest list<float32>, topic int32).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ListColumn } from '../core/batch.js';
import { writeFileAtomic } from '../io/parquet.js';
import { dotRows, topKIndices, unitRows } from './vectors.js';
import { intField, numberField, readEntityTable, readWorldJson, writeEntityTable } from './world-files.js';

export const RECSIM_WORLD_FORMAT = 'recpost-recsim-world';

/** Parameters that define a RecSim world (how it was generated; kept in world.json). */
export interface RecSimWorldParams {
  /** Number of users (ids 1..numUsers). */
  numUsers: number;
  /** Number of real items (ids 1..numItems; the catalog adds padding 0). */
  numItems: number;
  dim: number;
  topics: number;
  /** Std of an item around its topic centre, per unit length (ξ/√d scaling). */
  itemSpread: number;
  /** Std of a user's interest around the user's topic centre. */
  userSpread: number;
  /** δ of Eq. 48 (sensitivity of the RBF reward). */
  delta: number;
  /** σ_noise of Eq. 49. */
  rewardNoise: number;
  /** Exponent s of the Zipfian popularity charts (weight ∝ rank^(−s)). */
  zipfExponent: number;
  seed: number;
}

export interface RecSimWorldData {
  params: RecSimWorldParams;
  /** [topics × dim] unit topic centres. */
  topicCenters: Float32Array;
  /** [(numItems + 1) × dim], row 0 zero. */
  itemEmbeddings: Float32Array;
  /** [numItems + 1]; topic of each item, −1 for padding. */
  itemTopics: Int32Array;
  /** [numItems + 1]; 1-based rank in its topic's popularity chart, 0 for padding. */
  itemPopularityRank: Int32Array;
  /** [(numUsers + 1) × dim], row 0 zero. */
  userInterests: Float32Array;
  /** [numUsers + 1]; the user's topic (segment), −1 for padding. */
  userTopics: Int32Array;
}

/** R_latent of Eq. 48 from a cosine: exp(−(1 − cos)/(2δ²)). */
export function rbfReward(cosine: number, delta: number): number {
  return Math.exp(-(1 - cosine) / (2 * delta * delta));
}

/** R_obs of Eq. 49: clip(R_latent + noise, 0, 1) for a given noise draw. */
export function observedReward(latent: number, noise: number): number {
  const r = latent + noise;
  return r < 0 ? 0 : r > 1 ? 1 : r;
}

export class RecSimWorld {
  /** Number of users; ids run 1..numUsers (0 = padding). */
  readonly numUsers: number;
  /** Catalog size INCLUDING the padding index 0; items run 1..numItems−1. */
  readonly numItems: number;
  readonly dim: number;
  readonly topics: number;
  readonly delta: number;
  readonly rewardNoise: number;
  readonly params: RecSimWorldParams;
  /** Row-major [numItems × dim]; row 0 is all zeros. */
  readonly itemEmbeddings: Float32Array;
  /** Row-major [(numUsers + 1) × dim]; row 0 is all zeros. */
  readonly userInterests: Float32Array;
  readonly topicCenters: Float32Array;
  readonly itemTopics: Int32Array;
  readonly itemPopularityRank: Int32Array;
  readonly userTopics: Int32Array;
  private itemUnitCache?: Float64Array;
  private userUnitCache?: Float64Array;

  constructor(data: RecSimWorldData) {
    const p = data.params;
    const d = p.dim;
    const check = (name: string, len: number, want: number) => {
      if (len !== want) throw new Error(`RecSimWorld: ${name} has ${len} values, expected ${want}`);
    };
    check('itemEmbeddings', data.itemEmbeddings.length, (p.numItems + 1) * d);
    check('userInterests', data.userInterests.length, (p.numUsers + 1) * d);
    check('topicCenters', data.topicCenters.length, p.topics * d);
    check('itemTopics', data.itemTopics.length, p.numItems + 1);
    check('itemPopularityRank', data.itemPopularityRank.length, p.numItems + 1);
    check('userTopics', data.userTopics.length, p.numUsers + 1);
    if (!(p.delta > 0)) throw new Error(`RecSimWorld: delta must be > 0, got ${p.delta}`);
    this.params = { ...p };
    this.numUsers = p.numUsers;
    this.numItems = p.numItems + 1;
    this.dim = d;
    this.topics = p.topics;
    this.delta = p.delta;
    this.rewardNoise = p.rewardNoise;
    this.itemEmbeddings = data.itemEmbeddings;
    this.userInterests = data.userInterests;
    this.topicCenters = data.topicCenters;
    this.itemTopics = data.itemTopics;
    this.itemPopularityRank = data.itemPopularityRank;
    this.userTopics = data.userTopics;
  }

  private get itemUnit(): Float64Array {
    return (this.itemUnitCache ??= unitRows(this.itemEmbeddings, this.numItems, this.dim));
  }

  private get userUnit(): Float64Array {
    return (this.userUnitCache ??= unitRows(this.userInterests, this.numUsers + 1, this.dim));
  }

  private checkUser(user: number): void {
    if (!Number.isInteger(user) || user < 1 || user > this.numUsers) {
      throw new RangeError(`RecSim user id ${user} is outside 1..${this.numUsers}`);
    }
  }

  private checkItem(item: number): void {
    if (!Number.isInteger(item) || item < 0 || item >= this.numItems) {
      throw new RangeError(`RecSim item id ${item} is outside 0..${this.numItems - 1}`);
    }
  }

  /** cos(e_item, u*_user); 0 for the padding item. */
  cosine(user: number, item: number): number {
    this.checkUser(user);
    this.checkItem(item);
    return dotRows(this.userUnit, user * this.dim, this.itemUnit, item * this.dim, this.dim);
  }

  /** Noise-free reward R_latent (Eq. 48) of recommending `item` to `user`; 0 for the padding item. */
  trueReward(user: number, item: number): number {
    if (item === 0) {
      this.checkUser(user);
      return 0;
    }
    return rbfReward(this.cosine(user, item), this.delta);
  }

  /** trueReward for each (users[i], items[i]). */
  trueRewards(users: Int32Array, items: Int32Array): Float64Array {
    if (users.length !== items.length) throw new Error(`trueRewards: ${users.length} users but ${items.length} items`);
    const out = new Float64Array(users.length);
    const uu = this.userUnit;
    const iu = this.itemUnit;
    const d = this.dim;
    for (let i = 0; i < users.length; i++) {
      const u = users[i]!;
      const a = items[i]!;
      this.checkUser(u);
      this.checkItem(a);
      out[i] = a === 0 ? 0 : rbfReward(dotRows(uu, u * d, iu, a * d, d), this.delta);
    }
    return out;
  }

  /** R_latent of every catalog item for one user (index 0, padding, gets 0). */
  rewardsForUser(user: number, out = new Float64Array(this.numItems)): Float64Array {
    this.checkUser(user);
    const uu = this.userUnit;
    const iu = this.itemUnit;
    const d = this.dim;
    out[0] = 0;
    for (let a = 1; a < this.numItems; a++) out[a] = rbfReward(dotRows(uu, user * d, iu, a * d, d), this.delta);
    return out;
  }

  /** The k items with the highest true reward for `user`, best first. */
  bestItems(user: number, k: number): Int32Array {
    return topKIndices(this.rewardsForUser(user), k, 1);
  }

  /** max_a R_latent(user, a): the value of the oracle policy for this user. */
  optimalReward(user: number): number {
    const r = this.rewardsForUser(user);
    let m = 0;
    for (let a = 1; a < r.length; a++) if (r[a]! > m) m = r[a]!;
    return m;
  }

  /**
   * Observable context features: the mean embedding of each context's items
   * (a list column of item ids, as in `examples.context`); a zero vector for
   * an empty history. Row-major [rows × dim].
   */
  historyFeatures(contexts: ListColumn<Int32Array>): Float32Array {
    const rows = contexts.offsets.length - 1;
    const d = this.dim;
    const out = new Float32Array(rows * d);
    const acc = new Float64Array(d);
    for (let r = 0; r < rows; r++) {
      const s = contexts.offsets[r]!;
      const e = contexts.offsets[r + 1]!;
      acc.fill(0);
      let n = 0;
      for (let j = s; j < e; j++) {
        const a = contexts.values[j]!;
        this.checkItem(a);
        if (a === 0) continue;
        for (let k = 0; k < d; k++) acc[k] = acc[k]! + this.itemEmbeddings[a * d + k]!;
        n++;
      }
      if (n > 0) for (let k = 0; k < d; k++) out[r * d + k] = acc[k]! / n;
    }
    return out;
  }

  /**
   * KNN retrieval by inner product (paper 002 App. H.1): for each row of
   * `vectors` ([rows × dim]) the item 1..numItems−1 with the largest ⟨e_a, v⟩.
   */
  nearestItems(vectors: Float32Array | Float64Array): Int32Array {
    const d = this.dim;
    if (vectors.length % d !== 0) throw new Error(`nearestItems: ${vectors.length} values is not a multiple of dim ${d}`);
    const rows = vectors.length / d;
    const out = new Int32Array(rows);
    const E = this.itemEmbeddings;
    for (let r = 0; r < rows; r++) {
      let best = 1;
      let bestScore = -Infinity;
      for (let a = 1; a < this.numItems; a++) {
        const s = dotRows(E, a * d, vectors, r * d, d);
        if (s > bestScore) {
          bestScore = s;
          best = a;
        }
      }
      out[r] = best;
    }
    return out;
  }

  /** Write world.json, items.parquet and users.parquet under `dir` (each atomically). */
  save(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    const p = this.params;
    writeEntityTable(
      path.join(dir, 'items.parquet'),
      { table: 'recsim_items', idColumn: 'item_id', count: p.numItems, vectorColumn: 'embedding', dim: p.dim },
      this.itemEmbeddings,
      { topic: this.itemTopics, popularity_rank: this.itemPopularityRank },
    );
    writeEntityTable(
      path.join(dir, 'users.parquet'),
      { table: 'recsim_users', idColumn: 'user_id', count: p.numUsers, vectorColumn: 'interest', dim: p.dim },
      this.userInterests,
      { topic: this.userTopics },
    );
    const json = {
      format: RECSIM_WORLD_FORMAT,
      version: 1,
      description: 'RecSim world (paper 002 App. H): R_latent = exp(-(1 - cos(e_a, u*)) / (2 delta^2)); R_obs = clip(R_latent + N(0, reward_noise^2), 0, 1)',
      ...p,
      catalogSize: this.numItems,
      topicCenters: Array.from(this.topicCenters),
    };
    writeFileAtomic(path.join(dir, 'world.json'), `${JSON.stringify(json, null, 2)}\n`);
  }

  /** Load a world saved by save(); `dir` may also be a simulator output dir holding world/. */
  static async load(dir: string): Promise<RecSimWorld> {
    const base = !fs.existsSync(path.join(dir, 'world.json')) && fs.existsSync(path.join(dir, 'world', 'world.json')) ? path.join(dir, 'world') : dir;
    const file = path.join(base, 'world.json');
    const json = readWorldJson(file, RECSIM_WORLD_FORMAT);
    const params: RecSimWorldParams = {
      numUsers: intField(json, 'numUsers', file),
      numItems: intField(json, 'numItems', file),
      dim: intField(json, 'dim', file),
      topics: intField(json, 'topics', file),
      itemSpread: numberField(json, 'itemSpread', file),
      userSpread: numberField(json, 'userSpread', file),
      delta: numberField(json, 'delta', file),
      rewardNoise: numberField(json, 'rewardNoise', file),
      zipfExponent: numberField(json, 'zipfExponent', file),
      seed: numberField(json, 'seed', file),
    };
    const centers = json.topicCenters;
    if (!Array.isArray(centers) || centers.length !== params.topics * params.dim) {
      throw new Error(`${file}: field "topicCenters" must hold topics × dim = ${params.topics * params.dim} numbers`);
    }
    const items = await readEntityTable(
      path.join(base, 'items.parquet'),
      { table: 'recsim_items', idColumn: 'item_id', count: params.numItems, vectorColumn: 'embedding', dim: params.dim },
      { topic: 'int32', popularity_rank: 'int32' },
    );
    const users = await readEntityTable(
      path.join(base, 'users.parquet'),
      { table: 'recsim_users', idColumn: 'user_id', count: params.numUsers, vectorColumn: 'interest', dim: params.dim },
      { topic: 'int32' },
    );
    const itemTopics = items.scalars.topic as Int32Array;
    const userTopics = users.scalars.topic as Int32Array;
    itemTopics[0] = -1;
    userTopics[0] = -1;
    return new RecSimWorld({
      params,
      topicCenters: Float32Array.from(centers as number[]),
      itemEmbeddings: items.matrix,
      itemTopics,
      itemPopularityRank: items.scalars.popularity_rank as Int32Array,
      userInterests: users.matrix,
      userTopics,
    });
  }
}
