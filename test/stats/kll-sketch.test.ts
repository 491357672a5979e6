import { describe, expect, it } from 'vitest';
import { KllSketch } from '../../stages/stats/kll-sketch.js';
import { radixSortFloat64 } from '../../stages/stats/radix-sort-f64.js';
import { rng } from './helpers.js';

/** Count of values < v and ≤ v in sorted data. */
function rankInterval(sorted: Float64Array, v: number): [number, number] {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (sorted[m]! < v) lo = m + 1;
    else hi = m;
  }
  const below = lo;
  hi = sorted.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (sorted[m]! <= v) lo = m + 1;
    else hi = m;
  }
  return [below, lo];
}

/** Largest normalised distance between q·n and the true rank interval of the returned value. */
function worstQuantileError(sk: KllSketch, sorted: Float64Array): number {
  const n = sorted.length;
  let worst = 0;
  for (let i = 1; i < 100; i++) {
    const q = i / 100;
    const [below, upTo] = rankInterval(sorted, sk.quantile(q));
    const t = q * n;
    const err = t > upTo ? t - upTo : t < below ? below - t : 0;
    worst = Math.max(worst, err / n);
  }
  return worst;
}

function data(n: number, seed: number, kind: 'uniform' | 'ratings' | 'skewed'): Float64Array {
  const u = rng(seed);
  if (kind === 'uniform') return Float64Array.from({ length: n }, () => u() * 10 - 5);
  if (kind === 'ratings') return Float64Array.from({ length: n }, () => 1 + Math.floor(u() * 5));
  return Float64Array.from({ length: n }, () => Math.log(1 - u()) ** 2);
}

describe('radixSortFloat64', () => {
  it('sorts like Float64Array.prototype.sort (negatives, zeros, ties, float32 data, small and large)', () => {
    const u = rng(5);
    for (const n of [0, 1, 2, 63, 64, 65, 1000, 70000]) {
      const x = Float64Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : i % 11 === 0 ? -0 : (u() - 0.5) * 10 ** Math.floor(u() * 8 - 4)));
      const f32 = Float64Array.from(new Float32Array(x));
      // float32 data with one value that is not: must leave the 32-bit fast path.
      const mixed = f32.slice();
      if (n > 0) mixed[n - 1] = 0.1;
      for (const arr of [x, f32, mixed]) {
        const ref = arr.slice().sort();
        const got = radixSortFloat64(arr.slice());
        expect(Array.from(got)).toEqual(Array.from(ref));
      }
    }
  });

  it('leaves the result in the input array when a scratch buffer is given', () => {
    const x = Float64Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 100);
    const scratch = new Float64Array(5000);
    const out = radixSortFloat64(x, x.length, scratch);
    expect(out).toBe(x);
    for (let i = 1; i < x.length; i++) expect(x[i - 1]! <= x[i]!).toBe(true);
  });
});

describe('KllSketch', () => {
  it('is exact below its buffer size (error bound 0)', () => {
    const x = data(3000, 1, 'skewed');
    const sk = new KllSketch({ k: 50, bufferSize: 4096 }).add(x);
    const sorted = x.slice().sort();
    expect(sk.quantileRankError()).toBe(0);
    for (const q of [0, 0.1, 0.5, 0.77, 1]) {
      const want = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
      expect(sk.quantile(q)).toBe(want);
    }
    expect(sk.rank(sorted[1499]!)).toBe(1500);
  });

  for (const kind of ['uniform', 'ratings', 'skewed'] as const) {
    it(`quantiles of ${kind} data stay within the stated rank error`, () => {
      const x = data(200_000, 2, kind);
      const sk = new KllSketch({ k: 200, bufferSize: 2048, seed: 9 });
      for (let s = 0; s < x.length; s += 10_000) sk.add(x.subarray(s, s + 10_000));
      expect(sk.n).toBe(x.length);
      const eps = sk.quantileRankError(0.99);
      expect(eps).toBeGreaterThan(0);
      // The bound is informative (≈ 3.4/k), and the sketch stays small.
      expect(eps).toBeLessThan(5 / 200);
      expect(sk.retained).toBeLessThan(3 * 200 + 2048 + 64);
      const sorted = x.slice().sort();
      expect(worstQuantileError(sk, sorted)).toBeLessThanOrEqual(eps);
      // Rank queries as well.
      const t = sk.rankErrorBound(0.01);
      for (const v of [sorted[1000]!, sorted[100_000]!, sorted[190_000]!]) {
        const [, upTo] = rankInterval(sorted, v);
        expect(Math.abs(sk.rank(v) - upTo)).toBeLessThanOrEqual(t);
      }
    });
  }

  it('merged shards answer within the merged bound, and n adds up', () => {
    const x = data(240_000, 3, 'uniform');
    const shards = [0, 1, 2].map((i) => new KllSketch({ k: 200, bufferSize: 2048, seed: 100 + i }).add(x.subarray(i * 80_000, (i + 1) * 80_000)));
    const merged = new KllSketch({ k: 200, bufferSize: 2048, seed: 7 });
    for (const s of shards) merged.merge(s);
    expect(merged.n).toBe(x.length);
    const eps = merged.quantileRankError(0.99);
    expect(eps).toBeLessThan(5 / 200);
    expect(worstQuantileError(merged, x.slice().sort())).toBeLessThanOrEqual(eps);
    // The shards themselves are unchanged by merging.
    expect(shards.map((s) => s.n)).toEqual([80_000, 80_000, 80_000]);
  });

  it('is deterministic under a seed and does not depend on batch boundaries', () => {
    const x = data(50_000, 4, 'skewed');
    const a = new KllSketch({ k: 64, bufferSize: 1024, seed: 42 }).add(x);
    const b = new KllSketch({ k: 64, bufferSize: 1024, seed: 42 });
    for (let s = 0; s < x.length; s += 333) b.add(x.subarray(s, s + 333));
    expect(JSON.stringify(b.toJSON())).toBe(JSON.stringify(a.toJSON()));
    const c = new KllSketch({ k: 64, bufferSize: 1024, seed: 43 }).add(x);
    expect(JSON.stringify(c.toJSON())).not.toBe(JSON.stringify(a.toJSON()));
  });

  it('round-trips through JSON, including its coin state', () => {
    const x = data(30_000, 5, 'uniform');
    const y = data(30_000, 6, 'uniform');
    const live = new KllSketch({ k: 64, bufferSize: 1024, seed: 1 }).add(x);
    const restored = KllSketch.fromJSON(JSON.parse(JSON.stringify(live.toJSON())));
    expect(restored.quantiles([0.1, 0.5, 0.9])).toEqual(live.quantiles([0.1, 0.5, 0.9]));
    live.add(y);
    restored.add(y);
    expect(restored.toJSON()).toEqual(live.toJSON());
  });

  it('rejects inconsistent states and merges across different k', () => {
    const s = new KllSketch({ k: 16, bufferSize: 64 }).add(data(500, 1, 'uniform')).toJSON();
    expect(() => KllSketch.fromJSON({ ...s, n: s.n + 1 })).toThrow(/levels hold weight/);
    expect(() => new KllSketch({ k: 16 }).merge(new KllSketch({ k: 32 }))).toThrow(/different k/);
    expect(() => new KllSketch({ k: 4 })).toThrow(/k must be/);
    expect(() => new KllSketch().quantile(1.5)).toThrow(/\[0, 1\]/);
    expect(new KllSketch().quantile(0.5)).toBeNaN();
  });
});
