import { describe, expect, it } from 'vitest';
import { concatBatches, type Batch } from '../../stages/core/batch.js';
import { generateRecSimWorld } from '../../stages/simulators/recsim-generate.js';
import { POLICY_CODES, RecSimLogger } from '../../stages/simulators/recsim-log.js';
import { recsimLogParams, recsimWorldParams, resolveRecSimOptions, type RecSimOptions } from '../../stages/simulators/recsim-options.js';
import { fitZipfExponent } from '../../stages/simulators/zipf.js';
import type { RecSimWorld } from '../../stages/simulators/recsim-world.js';

const SMALL: Partial<RecSimOptions> = { num_users: 500, num_items: 300, dim: 8, topics: 5, interactions_per_user: 20 };

function simulate(preset: string, over: Partial<RecSimOptions> = {}, seed = 1, batchRows = 4096) {
  const o = resolveRecSimOptions(preset, { ...SMALL, ...over });
  const world = generateRecSimWorld(recsimWorldParams(o, seed));
  const logger = new RecSimLogger(world, recsimLogParams(o, seed));
  const batches = [...logger.batches(batchRows)];
  return { o, world, logger, batches, all: concatBatches(batches) };
}

const col = <T>(b: Batch, name: string) => b.columns[name] as T;

/** |observed share − p| ≤ 4 binomial standard deviations. */
function expectShare(count: number, n: number, p: number): void {
  expect(Math.abs(count / n - p)).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / n) + 1e-12);
}

function policyCounts(b: Batch): number[] {
  const c = [0, 0, 0, 0];
  for (const p of col<Int8Array>(b, 'policy')) c[p]!++;
  return c;
}

describe('RecSim logging policy mixture', () => {
  for (const [preset, mix] of [
    ['medium', [0.1, 0.6, 0.3]],
    ['extreme', [0.05, 0.05, 0.9]],
  ] as const) {
    it(`reproduces the ${preset} preset shares within 4σ (policy column)`, () => {
      const { all } = simulate(preset);
      expect(all.numRows).toBe(10_000);
      expect(col<Int8Array>(all, 'policy')).toBeInstanceOf(Int8Array);
      const c = policyCounts(all);
      mix.forEach((p, code) => expectShare(c[code]!, all.numRows, p));
      expect(c[POLICY_CODES.injected]).toBe(0);
    });
  }

  it('orders the policies by true reward: expert > popularity > random', () => {
    const { logger } = simulate('medium');
    const s = logger.stats;
    const mean = (code: number) => s.latentSum[code]! / s.policyRows[code]!;
    expect(mean(0)).toBeGreaterThan(mean(1) + 0.05);
    expect(mean(1)).toBeGreaterThan(mean(2) + 0.1);
  });

  it('draws expert rows from the user’s best items and popularity rows from the user’s segment', () => {
    const { all, world, o } = simulate('medium', { num_users: 60 });
    const users = col<Int32Array>(all, 'user_id');
    const items = col<Int32Array>(all, 'item_id');
    const policy = col<Int8Array>(all, 'policy');
    const best = new Map<number, Set<number>>();
    for (let i = 0; i < all.numRows; i++) {
      const u = users[i]!;
      if (policy[i] === 0) {
        if (!best.has(u)) best.set(u, new Set(world.bestItems(u, o.expert_pool)));
        expect(best.get(u)!.has(items[i]!)).toBe(true);
      }
      if (policy[i] === 1) expect(world.itemTopics[items[i]!]).toBe(world.userTopics[u]);
    }
  });

  it('logs rewards in [0, 1] that are the latent reward plus zero-mean noise', () => {
    const { all, world } = simulate('medium', { reward_noise: 0.1 });
    const users = col<Int32Array>(all, 'user_id');
    const items = col<Int32Array>(all, 'item_id');
    const reward = col<Float32Array>(all, 'reward');
    const latent = world.trueRewards(users, items);
    let n = 0;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < all.numRows; i++) {
      expect(reward[i]! >= 0 && reward[i]! <= 1).toBe(true);
      // Away from the clip bounds the noise is untouched N(0, 0.1²).
      if (latent[i]! > 0.45 && latent[i]! < 0.55) {
        const e = reward[i]! - latent[i]!;
        s += e;
        s2 += e * e;
        n++;
      }
    }
    expect(n).toBeGreaterThan(200);
    expect(Math.abs(s / n)).toBeLessThan((4 * 0.1) / Math.sqrt(n));
    expect(Math.sqrt(s2 / n)).toBeGreaterThan(0.08);
    expect(Math.sqrt(s2 / n)).toBeLessThan(0.12);
    // σ = 0: the logged reward is R_latent itself (as float32).
    const exact = simulate('medium', { reward_noise: 0, num_users: 30 });
    const lat = exact.world.trueRewards(col(exact.all, 'user_id'), col(exact.all, 'item_id'));
    expect(col<Float32Array>(exact.all, 'reward')).toEqual(Float32Array.from(lat));
  });

  it('emits dense 1-based ids, whole users per batch, timestamps strictly increasing per user', () => {
    const { all, batches, o } = simulate('extreme', {}, 2, 1000);
    expect(batches.length).toBe(10);
    for (const b of batches) expect(b.numRows % o.interactions_per_user).toBe(0);
    const users = col<Int32Array>(all, 'user_id');
    const items = col<Int32Array>(all, 'item_id');
    const ts = col<BigInt64Array>(all, 'timestamp');
    const perUser = new Map<number, number>();
    for (let i = 0; i < all.numRows; i++) {
      expect(items[i]! >= 1 && items[i]! <= o.num_items).toBe(true);
      perUser.set(users[i]!, (perUser.get(users[i]!) ?? 0) + 1);
      if (i > 0 && users[i] === users[i - 1]) expect(ts[i]! > ts[i - 1]!).toBe(true);
    }
    expect([...perUser.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: o.num_users }, (_, i) => i + 1));
    for (const n of perUser.values()) expect(n).toBe(o.interactions_per_user);
  });

  it('carries user signal in histories: the mean history embedding points at the user’s own interest', () => {
    for (const [preset, margin] of [
      ['medium', 0.4],
      ['extreme', 0.1],
    ] as const) {
      const { all, world } = simulate(preset, { num_users: 200, interactions_per_user: 50, dim: 16 });
      const d = world.dim;
      const users = col<Int32Array>(all, 'user_id');
      const items = col<Int32Array>(all, 'item_id');
      const cosTo = (f: Float32Array, u: number) => {
        let s = 0;
        let a = 0;
        let b = 0;
        for (let k = 0; k < d; k++) {
          s += f[k]! * world.userInterests[u * d + k]!;
          a += f[k]! ** 2;
          b += world.userInterests[u * d + k]! ** 2;
        }
        return s / Math.sqrt(a * b);
      };
      let own = 0;
      let other = 0;
      for (let u = 1; u <= world.numUsers; u++) {
        const rows = [...Array(all.numRows).keys()].filter((i) => users[i] === u).slice(0, 40);
        const ctx = { kind: 'list' as const, offsets: Int32Array.of(0, rows.length), values: Int32Array.from(rows, (i) => items[i]!) };
        const f = world.historyFeatures(ctx);
        own += cosTo(f, u);
        other += cosTo(f, (u % world.numUsers) + 1);
      }
      expect(own / world.numUsers).toBeGreaterThan(other / world.numUsers + margin);
    }
  });
});

describe('RecSim item frequency is Zipfian', () => {
  it('fits the configured exponent on popularity rows (one segment, a single chart)', () => {
    for (const s of [0.8, 1.2]) {
      const { logger } = simulate('medium', { topics: 1, num_users: 1000, zipf_exponent: s });
      const fit = fitZipfExponent(logger.stats.popularityItemCounts, { minCount: 10 });
      console.info(`RecSim popularity rows, configured s = ${s}: fitted ${fit.exponent.toFixed(3)} over ${fit.points} items (R² ${fit.r2.toFixed(3)})`);
      expect(Math.abs(fit.exponent - s)).toBeLessThan(0.1);
      expect(fit.r2).toBeGreaterThan(0.95);
    }
  });

  it('matches the exact expected frequencies with several segments, and reports the aggregate exponent', () => {
    const { logger, world, o } = simulate('medium', { topics: 5, num_users: 1000 });
    // Exact expected popularity counts: Σ_users P(pop) · chart_topic(u)(item).
    const usersPerTopic = new Float64Array(world.topics);
    for (let u = 1; u <= world.numUsers; u++) usersPerTopic[world.userTopics[u]!]! += 1;
    const norm = new Float64Array(world.topics);
    for (let a = 1; a < world.numItems; a++) norm[world.itemTopics[a]!]! += world.itemPopularityRank[a]! ** -o.zipf_exponent;
    const expected = new Float64Array(world.numItems);
    for (let a = 1; a < world.numItems; a++) {
      const k = world.itemTopics[a]!;
      expected[a] = usersPerTopic[k]! * o.interactions_per_user * o.policy_mix.popularity * (world.itemPopularityRank[a]! ** -o.zipf_exponent / norm[k]!);
    }
    const want = fitZipfExponent(expected, { minCount: 10 });
    const got = fitZipfExponent(logger.stats.popularityItemCounts, { minCount: 10 });
    expect(Math.abs(got.exponent - want.exponent)).toBeLessThan(0.1);
    expect(want.exponent).toBeGreaterThan(0.7);
    for (const preset of ['medium', 'extreme']) {
      const agg = fitZipfExponent(simulate(preset, { num_users: 1000 }).logger.stats.itemCounts, { minCount: 10 });
      console.info(
        `RecSim ${preset}: aggregate item-frequency exponent ${agg.exponent.toFixed(3)} (R² ${agg.r2.toFixed(3)}); popularity rows alone ${got.exponent.toFixed(3)}`,
      );
    }
  });
});

describe('RecSim determinism and noise injection', () => {
  const columnsOf = (b: Batch) => ['user_id', 'item_id', 'timestamp', 'reward', 'policy'].map((c) => b.columns[c]);

  it('gives identical logs for a seed whatever the batch size, and different logs across seeds', () => {
    const a = simulate('medium', { num_users: 100 }, 7, 4096);
    const b = simulate('medium', { num_users: 100 }, 7, 60);
    const c = simulate('medium', { num_users: 100 }, 8, 4096);
    expect(b.batches.length).toBeGreaterThan(1);
    expect(columnsOf(b.all)).toEqual(columnsOf(a.all));
    expect(b.world.itemEmbeddings).toEqual(a.world.itemEmbeddings);
    expect(c.world.itemEmbeddings).not.toEqual(a.world.itemEmbeddings);
    const ia = col<Int32Array>(a.all, 'item_id');
    const ic = col<Int32Array>(c.all, 'item_id');
    expect(ia.filter((v, i) => v === ic[i]).length).toBeLessThan(ia.length / 5);
  });

  it('replaces the configured fraction of rows by random-policy rows and keeps the mixture of the rest', () => {
    for (const f of [0.2, 0.8]) {
      const { all, world } = simulate('medium', { noise_injection: f }, 3);
      const c = policyCounts(all);
      const n = all.numRows;
      expectShare(c[3]!, n, f);
      const kept = n - c[3]!;
      expectShare(c[0]!, kept, 0.1);
      expectShare(c[1]!, kept, 0.6);
      // Injected rows are uniform over the catalog: their mean true reward matches random rows'.
      const users = col<Int32Array>(all, 'user_id');
      const items = col<Int32Array>(all, 'item_id');
      const policy = col<Int8Array>(all, 'policy');
      const lat = world.trueRewards(users, items);
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < n; i++) {
        if (policy[i] === 2) s2 += lat[i]!;
        if (policy[i] === 3) s3 += lat[i]!;
      }
      expect(Math.abs(s3 / c[3]! - s2 / c[2]!)).toBeLessThan(0.05);
    }
  });

  it('rejects a mixture that does not sum to 1 and unknown presets, naming them', () => {
    expect(() => simulate('medium', { policy_mix: { expert: 0.5, popularity: 0.6, random: 0.3 } })).toThrow(/sum to 1/);
    expect(() => resolveRecSimOptions('nope', {})).toThrow(/unknown recsim preset "nope".*medium/);
    expect(() => resolveRecSimOptions('medium', { dim: 0 })).toThrow(/dim/);
  });
});

export type { RecSimWorld };
