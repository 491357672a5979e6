import { describe, expect, it } from 'vitest';
import { RewardStats } from '../../stages/stats/reward-stats.js';
import { rng } from './helpers.js';

function ratings(n: number, seed: number): Float32Array {
  const u = rng(seed);
  return Float32Array.from({ length: n }, () => 1 + Math.floor(u() * 5) + (u() < 0.2 ? u() * 0.5 : 0));
}

describe('RewardStats', () => {
  it('two shards merged describe the union: moments (tight), histogram (exact), quantiles (within the bound)', () => {
    const x = ratings(150_000, 1);
    const whole = new RewardStats({ sketchK: 200, seed: 1 }).add(x);
    const a = new RewardStats({ sketchK: 200, seed: 2 }).add(x.subarray(0, 60_000));
    const b = new RewardStats({ sketchK: 200, seed: 3 }).add(x.subarray(60_000));
    const m = a.merge(b);
    const sw = whole.summary();
    const sm = m.summary();
    expect(sm.count).toBe(150_000);
    expect(Math.abs(sm.mean - sw.mean)).toBeLessThan(1e-12 * sw.mean);
    expect(Math.abs(sm.variance - sw.variance)).toBeLessThan(1e-10 * sw.variance);
    expect(sm.min).toBe(sw.min);
    expect(sm.max).toBe(sw.max);
    expect(sm.histogram).toEqual(sw.histogram);
    const sorted = Float64Array.from(x).sort();
    for (const { q, value } of sm.quantiles) {
      if (q === 0 || q === 1) continue;
      let upTo = 0;
      while (upTo < sorted.length && sorted[upTo]! <= value) upTo++;
      let below = 0;
      while (below < sorted.length && sorted[below]! < value) below++;
      const t = q * sorted.length;
      expect(upTo).toBeGreaterThanOrEqual(t - sm.quantileRankError * sorted.length);
      expect(below).toBeLessThanOrEqual(t + sm.quantileRankError * sorted.length);
    }
  });

  it('summary: quantiles 0 and 1 are the exact min and max, std is √variance, histogram counts add to count', () => {
    const x = ratings(10_000, 2);
    const s = new RewardStats().add(x).summary();
    const q = new Map(s.quantiles.map((e) => [e.q, e.value]));
    expect(q.get(0)).toBe(s.min);
    expect(q.get(1)).toBe(s.max);
    expect(s.std).toBe(Math.sqrt(s.variance));
    expect(s.histogram.counts.reduce((a, b) => a + b, 0)).toBe(10_000);
    // Below the sketch buffer quantiles are exact: the median of the data.
    const sorted = Float64Array.from(x).sort();
    expect(q.get(0.5)).toBe(sorted[4999]);
    expect(s.quantileRankError).toBe(0);
    for (let i = 1; i < s.quantiles.length; i++) expect(s.quantiles[i]!.value).toBeGreaterThanOrEqual(s.quantiles[i - 1]!.value);
  });

  it('the state round-trips through JSON text, and a restored accumulator continues identically', () => {
    const x = ratings(100_000, 3);
    const y = ratings(90_000, 4);
    const live = new RewardStats({ sketchK: 100, seed: 5, quantiles: [0.1, 0.5, 0.9] }).add(x);
    const restored = RewardStats.fromJSON(JSON.parse(JSON.stringify(live.toJSON())));
    expect(restored.summary()).toEqual(live.summary());
    live.add(y);
    restored.add(y);
    expect(restored.toJSON()).toEqual(live.toJSON());
    expect(restored.summary().quantiles.map((e) => e.q)).toEqual([0.1, 0.5, 0.9]);
  });

  it('an empty accumulator summarises as count 0 with NaN min/max and survives JSON', () => {
    const e = new RewardStats();
    const s = e.summary();
    expect(s.count).toBe(0);
    expect(s.mean).toBe(0);
    expect(s.min).toBeNaN();
    expect(s.quantiles).toEqual([]);
    const r = RewardStats.fromJSON(JSON.parse(JSON.stringify(e.toJSON())));
    r.add(Float64Array.of(2, 4));
    expect(r.summary().min).toBe(2);
    expect(r.summary().mean).toBe(3);
  });

  it('moments alone: no quantiles, no histogram; mixing kinds is refused', () => {
    const m = new RewardStats({ sketch: false, histogram: false }).add(Float64Array.of(1, 2, 3));
    const s = m.summary();
    expect(s.quantiles).toEqual([]);
    expect(s.histogram).toEqual({ edges: [], counts: [] });
    expect(s.variance).toBeCloseTo(2 / 3, 15);
    expect(() => m.merge(new RewardStats())).toThrow(/different parts/);
  });

  it('rejects NaN before changing anything', () => {
    const r = new RewardStats().add(Float64Array.of(1, 2));
    const before = JSON.stringify(r.toJSON());
    expect(() => r.add(Float64Array.of(3, NaN))).toThrow(/row 1/);
    expect(JSON.stringify(r.toJSON())).toBe(before);
  });
});
