/**
 * The truth behind the sequential ratings simulator (SPEC S8): a biased
 * matrix-factorisation world in which the rating of (u, i) is
 *
 *   R_ui = clip(round(μ + b_u + b_i + ⟨p_u, q_i⟩ + ε), 1, 5),  ε ~ N(0, σ²),
 *
 * so the EXPECTED rating E[R_ui] is exact (expected-rating.ts), and so is the
 * true value of any recommendation list.
 *
 * Ids are the simulator's raw ids: users 1..numUsers, items 1..numItems, as
 * written in ratings.dat. After ingest the pipeline works on dense vocabulary
 * indices; dense-truth.ts maps them back.
 *
 * On disk (save/load): <dir>/world.json (μ, σ, sizes, generation parameters),
 * <dir>/users.parquet (user_id int32, factors list<float32>, bias float64),
 * <dir>/items.parquet (item_id int32, factors list<float32>, bias float64,
 * popularity_rank int32). Factors are float32 in memory too, so a loaded
 * world answers exactly what the generating one did.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/parquet.js';
import { expectedRoundedRating, ratingProbabilities } from './expected-rating.js';
import { dotRows } from './vectors.js';
import { intField, numberField, readEntityTable, readWorldJson, writeEntityTable } from './world-files.js';

export const RATINGS_WORLD_FORMAT = 'recpost-ratings-world';

/** Everything that defines a ratings world and its behaviour policy (kept in world.json). */
export interface RatingsWorldParams {
  numUsers: number;
  numItems: number;
  /** Dimension of the latent factors p_u, q_i. */
  rank: number;
  /** μ: global offset of the latent score. */
  globalMean: number;
  /** Std of the user biases b_u. */
  userBiasSd: number;
  /** Std of the item biases b_i (before the popularity term). */
  itemBiasSd: number;
  /** Std of ⟨p_u, q_i⟩ (each factor entry has std √(sd/√rank)). */
  interactionSd: number;
  /** σ: std of the rating noise ε. */
  noiseSd: number;
  /** s: item popularity ∝ rank^(−s) (Zipf). */
  popularityExponent: number;
  /** Added to b_i per standard deviation of log popularity (popular items rate a little higher). */
  popularityBias: number;
  /** β: weight of the user's taste (b_i + ⟨p_u, q_i⟩) in the behaviour policy's logits. */
  tasteStrength: number;
  /** Ratings per user are log-uniform in [min, max] (capped at numItems). */
  ratingsPerUserMin: number;
  ratingsPerUserMax: number;
  seed: number;
}

export interface RatingsWorldData {
  params: RatingsWorldParams;
  /** [numUsers + 1], index 0 unused. */
  userBias: Float64Array;
  /** [numItems + 1], index 0 unused. */
  itemBias: Float64Array;
  /** [(numUsers + 1) × rank], row 0 zero. */
  userFactors: Float32Array;
  /** [(numItems + 1) × rank], row 0 zero. */
  itemFactors: Float32Array;
  /** [numItems + 1]: 1 = most popular; index 0 unused. */
  itemPopularityRank: Int32Array;
}

export interface RecommendationValue {
  /** Mean expected rating of each row's k recommendations. */
  perRow: Float64Array;
  /** Mean over rows. */
  mean: number;
}

export class RatingsWorld {
  /** Users 1..numUsers (raw simulator ids). */
  readonly numUsers: number;
  /** Items 1..numItems (raw simulator ids; no padding counted). */
  readonly numItems: number;
  readonly rank: number;
  readonly globalMean: number;
  readonly noiseSd: number;
  readonly params: RatingsWorldParams;
  readonly userBias: Float64Array;
  readonly itemBias: Float64Array;
  readonly userFactors: Float32Array;
  readonly itemFactors: Float32Array;
  readonly itemPopularityRank: Int32Array;

  constructor(data: RatingsWorldData) {
    const p = data.params;
    const check = (name: string, len: number, want: number) => {
      if (len !== want) throw new Error(`RatingsWorld: ${name} has ${len} values, expected ${want}`);
    };
    check('userBias', data.userBias.length, p.numUsers + 1);
    check('itemBias', data.itemBias.length, p.numItems + 1);
    check('userFactors', data.userFactors.length, (p.numUsers + 1) * p.rank);
    check('itemFactors', data.itemFactors.length, (p.numItems + 1) * p.rank);
    check('itemPopularityRank', data.itemPopularityRank.length, p.numItems + 1);
    if (!(p.noiseSd >= 0)) throw new Error(`RatingsWorld: noiseSd must be ≥ 0, got ${p.noiseSd}`);
    this.params = { ...p };
    this.numUsers = p.numUsers;
    this.numItems = p.numItems;
    this.rank = p.rank;
    this.globalMean = p.globalMean;
    this.noiseSd = p.noiseSd;
    this.userBias = data.userBias;
    this.itemBias = data.itemBias;
    this.userFactors = data.userFactors;
    this.itemFactors = data.itemFactors;
    this.itemPopularityRank = data.itemPopularityRank;
  }

  private checkIds(user: number, item: number): void {
    if (!Number.isInteger(user) || user < 1 || user > this.numUsers) throw new RangeError(`ratings simulator: user id ${user} is outside 1..${this.numUsers}`);
    if (!Number.isInteger(item) || item < 1 || item > this.numItems) throw new RangeError(`ratings simulator: item id ${item} is outside 1..${this.numItems}`);
  }

  /** The noise-free score x_ui = μ + b_u + b_i + ⟨p_u, q_i⟩ (before noise, rounding and clipping). */
  score(user: number, item: number): number {
    this.checkIds(user, item);
    return (
      this.globalMean + this.userBias[user]! + this.itemBias[item]! + dotRows(this.userFactors, user * this.rank, this.itemFactors, item * this.rank, this.rank)
    );
  }

  /** E[clip(round(x_ui + ε), 1, 5)], exact through the normal CDF. */
  expectedRating(user: number, item: number): number {
    return expectedRoundedRating(this.score(user, item), this.noiseSd);
  }

  /** expectedRating for each (users[i], items[i]). */
  expectedRatings(users: Int32Array, items: Int32Array): Float64Array {
    if (users.length !== items.length) throw new Error(`expectedRatings: ${users.length} users but ${items.length} items`);
    const out = new Float64Array(users.length);
    for (let i = 0; i < users.length; i++) out[i] = this.expectedRating(users[i]!, items[i]!);
    return out;
  }

  /** Alias of expectedRatings, so the world serves wherever a true-reward oracle is expected. */
  trueRewards(users: Int32Array, items: Int32Array): Float64Array {
    return this.expectedRatings(users, items);
  }

  /** P(R_ui = r) for r = 1..5 (index r − 1). */
  ratingDistribution(user: number, item: number): Float64Array {
    return ratingProbabilities(this.score(user, item), this.noiseSd);
  }

  /**
   * True value of recommendation lists: `recommendations` is row-major
   * [users.length × k] (raw item ids) and each row's value is the mean
   * expected rating of its k items for that row's user.
   */
  trueValueOfRecommendations(users: Int32Array, recommendations: Int32Array, k: number): RecommendationValue {
    if (!(Number.isInteger(k) && k >= 1)) throw new Error(`trueValueOfRecommendations: k must be an integer ≥ 1, got ${k}`);
    if (recommendations.length !== users.length * k) {
      throw new Error(`trueValueOfRecommendations: ${recommendations.length} recommendations for ${users.length} users × k = ${k}`);
    }
    const perRow = new Float64Array(users.length);
    let total = 0;
    for (let r = 0; r < users.length; r++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += this.expectedRating(users[r]!, recommendations[r * k + j]!);
      perRow[r] = s / k;
      total += perRow[r]!;
    }
    return { perRow, mean: users.length ? total / users.length : NaN };
  }

  /** The k items with the highest expected rating for `user` (raw ids, best first): the oracle's list. */
  bestItems(user: number, k: number): Int32Array {
    const scores = new Float64Array(this.numItems + 1);
    scores[0] = -Infinity;
    for (let i = 1; i <= this.numItems; i++) scores[i] = this.score(user, i);
    const idx = Array.from({ length: this.numItems }, (_, j) => j + 1).sort((a, b) => scores[b]! - scores[a]! || a - b);
    return Int32Array.from(idx.slice(0, Math.min(k, this.numItems)));
  }

  /** Write world.json, users.parquet and items.parquet under `dir` (each atomically). */
  save(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    const p = this.params;
    writeEntityTable(
      path.join(dir, 'users.parquet'),
      { table: 'ratings_users', idColumn: 'user_id', count: p.numUsers, vectorColumn: 'factors', dim: p.rank },
      this.userFactors,
      { bias: this.userBias },
    );
    writeEntityTable(
      path.join(dir, 'items.parquet'),
      { table: 'ratings_items', idColumn: 'item_id', count: p.numItems, vectorColumn: 'factors', dim: p.rank },
      this.itemFactors,
      { bias: this.itemBias, popularity_rank: this.itemPopularityRank },
    );
    const json = {
      format: RATINGS_WORLD_FORMAT,
      version: 1,
      description:
        'Ratings simulator truth: R = clip(round(globalMean + b_u + b_i + <p_u, q_i> + N(0, noiseSd^2)), 1, 5); E[R] = 1 + sum_{k=1..4} Phi((x - k - 0.5) / noiseSd)',
      ...p,
    };
    writeFileAtomic(path.join(dir, 'world.json'), `${JSON.stringify(json, null, 2)}\n`);
  }

  /** Load a world saved by save(); `dir` may also be the simulator's output dir holding truth/. */
  static async load(dir: string): Promise<RatingsWorld> {
    const base = !fs.existsSync(path.join(dir, 'world.json')) && fs.existsSync(path.join(dir, 'truth', 'world.json')) ? path.join(dir, 'truth') : dir;
    const file = path.join(base, 'world.json');
    const json = readWorldJson(file, RATINGS_WORLD_FORMAT);
    const num = (k: string) => numberField(json, k, file);
    const params: RatingsWorldParams = {
      numUsers: intField(json, 'numUsers', file),
      numItems: intField(json, 'numItems', file),
      rank: intField(json, 'rank', file),
      globalMean: num('globalMean'),
      userBiasSd: num('userBiasSd'),
      itemBiasSd: num('itemBiasSd'),
      interactionSd: num('interactionSd'),
      noiseSd: num('noiseSd'),
      popularityExponent: num('popularityExponent'),
      popularityBias: num('popularityBias'),
      tasteStrength: num('tasteStrength'),
      ratingsPerUserMin: intField(json, 'ratingsPerUserMin', file),
      ratingsPerUserMax: intField(json, 'ratingsPerUserMax', file),
      seed: num('seed'),
    };
    const users = await readEntityTable(
      path.join(base, 'users.parquet'),
      { table: 'ratings_users', idColumn: 'user_id', count: params.numUsers, vectorColumn: 'factors', dim: params.rank },
      { bias: 'float64' },
    );
    const items = await readEntityTable(
      path.join(base, 'items.parquet'),
      { table: 'ratings_items', idColumn: 'item_id', count: params.numItems, vectorColumn: 'factors', dim: params.rank },
      { bias: 'float64', popularity_rank: 'int32' },
    );
    return new RatingsWorld({
      params,
      userBias: users.scalars.bias as Float64Array,
      itemBias: items.scalars.bias as Float64Array,
      userFactors: users.matrix,
      itemFactors: items.matrix,
      itemPopularityRank: items.scalars.popularity_rank as Int32Array,
    });
  }
}
