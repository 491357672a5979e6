import { describe, expect, it } from 'vitest';
import { exactKl } from '../../stages/eval/kl.js';
import { ItemCounter, PopularityScorer, RandomScorer } from '../../stages/eval/baselines.js';
import { repeatContexts, repeatEach, topItems } from '../../stages/eval/contexts.js';
import { targetRanks } from '../../stages/eval/ranking-metrics.js';
import { MeanTable, RewardMeanBaselines, predictionErrors } from '../../stages/eval/reward-baselines.js';
import { listColumn } from './helpers.js';

const rowsOf = (c: { offsets: Int32Array; values: Int32Array }) =>
  Array.from({ length: c.offsets.length - 1 }, (_v, r) => Array.from(c.values.subarray(c.offsets[r]!, c.offsets[r + 1]!)));

describe('exact KL', () => {
  it('matches the hand value and the direct formula', () => {
    const lp = Float64Array.of(-Infinity, Math.log(0.5), Math.log(0.5));
    const lq = Float64Array.of(-Infinity, Math.log(0.25), Math.log(0.75));
    expect(exactKl(lp, lq, 3)[0]).toBeCloseTo(0.5 * Math.log(2) + 0.5 * Math.log(2 / 3), 14);

    // Random distributions over 30 items, 5 rows: Σ p log(p/q) computed directly from probabilities.
    const n = 30;
    const rows = 5;
    const p = new Float64Array(rows * n);
    const q = new Float64Array(rows * n);
    let s = 99;
    const rnd = () => (s = (Math.imul(s, 48271) >>> 0) % 2147483647) / 2147483647;
    for (let r = 0; r < rows; r++) {
      let zp = 0;
      let zq = 0;
      for (let j = 0; j < n; j++) {
        p[r * n + j] = rnd() + 0.01;
        q[r * n + j] = rnd() + 0.01;
        zp += p[r * n + j]!;
        zq += q[r * n + j]!;
      }
      for (let j = 0; j < n; j++) {
        p[r * n + j]! /= zp;
        q[r * n + j]! /= zq;
      }
    }
    const kl = exactKl(p.map(Math.log), q.map(Math.log), n);
    for (let r = 0; r < rows; r++) {
      let direct = 0;
      for (let j = 0; j < n; j++) direct += p[r * n + j]! * Math.log(p[r * n + j]! / q[r * n + j]!);
      expect(kl[r]).toBeCloseTo(direct, 12);
      expect(kl[r]).toBeGreaterThan(0);
    }
    // KL(p‖p) = 0 and float32 inputs are accepted.
    const f = Float32Array.from(p.map(Math.log));
    expect(Array.from(exactKl(f, f, n))).toEqual(new Array(rows).fill(0));
  });

  it('is infinite where π₀ has no mass but π has', () => {
    const lp = Float64Array.of(-Infinity, Math.log(0.5), Math.log(0.5));
    const lq = Float64Array.of(-Infinity, 0, -Infinity);
    expect(exactKl(lp, lq, 3)[0]).toBe(Infinity);
    expect(() => exactKl(lp, lq.subarray(1), 3)).toThrow(/log-probabilities/);
  });
});

describe('reward-model baselines (paper 000 Table 2)', () => {
  // Train: (u1,i1,4) (u1,i2,2) (u2,i1,5) (u3,i3,1): global 3; users 3, 5, 1; items 4.5, 2, 1.
  const fit = () => new RewardMeanBaselines().fit([1, 1, 2, 3], [1, 2, 1, 3], [4, 2, 5, 1]);
  // Test: (u1,i3,2) (u2,i2,4) (u9 unseen,i1,5) (u3,i9 unseen,3).
  const users = [1, 2, 9, 3];
  const items = [3, 2, 1, 9];
  const target = [2, 4, 5, 3];
  const mse = (p: ArrayLike<number>) => predictionErrors(p, target).squared.reduce((a, b) => a + b, 0) / 4;
  const mae = (p: ArrayLike<number>) => predictionErrors(p, target).absolute.reduce((a, b) => a + b, 0) / 4;

  it('predict the hand-computed means with the global mean as fallback', () => {
    const b = fit();
    expect(b.globalMean).toBe(3);
    expect(Array.from(b.predict('global_mean', users, items))).toEqual([3, 3, 3, 3]);
    expect(Array.from(b.predict('user_mean', users, items))).toEqual([3, 5, 3, 1]);
    expect(Array.from(b.predict('item_mean', users, items))).toEqual([1, 2, 4.5, 3]);
    expect(b.users.unseen(users)).toBe(1);
    expect(b.items.unseen(items)).toBe(1);
  });

  it('have the hand-computed MSE and MAE', () => {
    const b = fit();
    expect(mse(b.predict('global_mean', users, items))).toBe(1.5);
    expect(mae(b.predict('global_mean', users, items))).toBe(1);
    expect(mse(b.predict('user_mean', users, items))).toBe(2.5);
    expect(mae(b.predict('user_mean', users, items))).toBe(1.5);
    expect(mse(b.predict('item_mean', users, items))).toBe(1.3125);
    expect(mae(b.predict('item_mean', users, items))).toBe(0.875);
  });

  it('fit in shards like at once, and refuse to predict without train rows', () => {
    const a = new MeanTable();
    a.add([1, 5], [2, 4]);
    const c = new MeanTable();
    c.add([5, 40], [6, 1]);
    a.merge(c);
    expect(Array.from(a.means([1, 5, 40, 7], -1))).toEqual([2, 5, 1, -1]);
    expect(() => new RewardMeanBaselines().predict('global_mean', [1], [1])).toThrow(/no train rows/);
  });
});

describe('ranking baselines', () => {
  it('popularity scores every context with train counts; ties count against it', async () => {
    const counter = new ItemCounter();
    counter.add([1, 1, 3, 3, 2, 0]);
    expect(counter.extent).toBe(4);
    const pop = new PopularityScorer(counter.counts, 5);
    const contexts = listColumn([[], [1]]);
    const s = await pop.scoreContexts(contexts);
    expect(Array.from(s)).toEqual([0, 2, 1, 2, 0, 0, 2, 1, 2, 0]);
    // Target 1 ties with item 3: rank 2; with history [1]... target 3 after excluding 1: rank 1.
    expect(Array.from(targetRanks(s, 5, Int32Array.of(1, 3), contexts))).toEqual([2, 1]);
  });

  it('random scores depend only on (seed, context, item), lie in [0, 1) and give HR@K ≈ K / candidates', async () => {
    const r = new RandomScorer(101, 5);
    const a = await r.scoreContexts(listColumn([[1, 2], [7]]));
    const b = await r.scoreContexts(listColumn([[9], [7], [1, 2]]));
    expect(Array.from(a.subarray(0, 101))).toEqual(Array.from(b.subarray(202, 303)));
    expect(Array.from(a.subarray(101, 202))).toEqual(Array.from(b.subarray(101, 202)));
    const other = await new RandomScorer(101, 6).scoreContexts(listColumn([[7]]));
    expect(Array.from(other)).not.toEqual(Array.from(a.subarray(101, 202)));
    expect(a.every((v) => v >= 0 && v < 1)).toBe(true);

    const n = 3000;
    const contexts = listColumn(Array.from({ length: n }, (_v, i) => [1 + (i % 100), 1 + ((i * 7) % 100)]));
    const targets = Int32Array.from({ length: n }, (_v, i) => 1 + ((i * 13 + 5) % 100));
    const ranks = targetRanks(await r.scoreContexts(contexts), 101, targets, contexts, { excludeHistory: false });
    const hr10 = ranks.reduce((s, k) => s + (k <= 10 ? 1 : 0), 0) / n;
    expect(Math.abs(hr10 - 0.1)).toBeLessThan(0.03); // std ≈ 0.0055
  });
});

describe('context helpers', () => {
  it('repeat contexts and values in place', () => {
    const c = listColumn([[1, 2], [], [3]]);
    expect(rowsOf(repeatContexts(c, 2))).toEqual([[1, 2], [1, 2], [], [], [3], [3]]);
    expect(Array.from(repeatEach([4, 5], 3))).toEqual([4, 4, 4, 5, 5, 5]);
  });

  it('decode the top item: never padding, history excluded, ties to the lowest id', () => {
    const scores = Float32Array.of(9, 0.2, 0.8, 0.8, 0.1, /* row 2 */ 9, 0.5, NaN, 0.5, 0.9);
    const c = listColumn([[], [4]]);
    expect(Array.from(topItems(scores, 5, c))).toEqual([2, 1]);
    expect(Array.from(topItems(scores, 5, c, false))).toEqual([2, 4]);
    expect(Array.from(topItems(Float32Array.of(0, 1, 2), 3, listColumn([[1, 2]])))).toEqual([-1]);
  });
});
